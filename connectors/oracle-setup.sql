-- Oracle preparation for the Debezium Oracle connector (LogMiner), as in
-- Debezium's Oracle documentation. Multitenant layout: container FREE, pluggable
-- database FREEPDB1, captured table APP.CRASIVTTST, connector user C##DBZUSER
-- (the names connectors/oracle-crasivttst.json uses). Run as SYSDBA; adjust paths,
-- sizes and the password. On Amazon RDS use rdsadmin.rdsadmin_util instead of
-- the ALTER DATABASE / ALTER SYSTEM steps.

-- 1. ARCHIVELOG mode (in the root container; needs a restart into MOUNT).
--    LogMiner reads archived redo: without it, changes are lost at log switches.
ALTER SYSTEM SET db_recovery_file_dest_size = 10G;
ALTER SYSTEM SET db_recovery_file_dest = '/opt/oracle/oradata/recovery_area' SCOPE = SPFILE;
SHUTDOWN IMMEDIATE
STARTUP MOUNT
ALTER DATABASE ARCHIVELOG;
ALTER DATABASE OPEN;
ALTER PLUGGABLE DATABASE ALL OPEN;
-- Check: "Database log mode: Archive Mode"
ARCHIVE LOG LIST

-- 2. Database-level minimal supplemental logging (root container).
ALTER DATABASE ADD SUPPLEMENTAL LOG DATA;

-- 3. A tablespace for LogMiner's working tables, in the root and in the PDB.
CREATE TABLESPACE logminer_tbs DATAFILE '/opt/oracle/oradata/FREE/logminer_tbs.dbf'
  SIZE 25M REUSE AUTOEXTEND ON MAXSIZE UNLIMITED;
ALTER SESSION SET CONTAINER = FREEPDB1;
CREATE TABLESPACE logminer_tbs DATAFILE '/opt/oracle/oradata/FREE/FREEPDB1/logminer_tbs.dbf'
  SIZE 25M REUSE AUTOEXTEND ON MAXSIZE UNLIMITED;

-- 4. Table-level supplemental logging of all columns: every change carries the
--    full row, so the consumer gets complete before/after images.
ALTER TABLE APP.CRASIVTTST ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS;
ALTER SESSION SET CONTAINER = CDB$ROOT;

-- 5. The connector's common user and its privileges (in every container).
CREATE USER c##dbzuser IDENTIFIED BY "change-me"
  DEFAULT TABLESPACE logminer_tbs QUOTA UNLIMITED ON logminer_tbs CONTAINER = ALL;

GRANT CREATE SESSION TO c##dbzuser CONTAINER = ALL;
GRANT SET CONTAINER TO c##dbzuser CONTAINER = ALL;
GRANT LOGMINING TO c##dbzuser CONTAINER = ALL;
-- Reading the captured tables, also as of the snapshot's SCN.
GRANT SELECT ANY TABLE TO c##dbzuser CONTAINER = ALL;
GRANT FLASHBACK ANY TABLE TO c##dbzuser CONTAINER = ALL;
GRANT LOCK ANY TABLE TO c##dbzuser CONTAINER = ALL;
-- The data dictionary, open transactions and LogMiner's packages.
GRANT SELECT_CATALOG_ROLE TO c##dbzuser CONTAINER = ALL;
GRANT EXECUTE_CATALOG_ROLE TO c##dbzuser CONTAINER = ALL;
GRANT SELECT ANY TRANSACTION TO c##dbzuser CONTAINER = ALL;
GRANT SELECT ANY DICTIONARY TO c##dbzuser CONTAINER = ALL;
GRANT EXECUTE ON DBMS_LOGMNR TO c##dbzuser CONTAINER = ALL;
GRANT EXECUTE ON DBMS_LOGMNR_D TO c##dbzuser CONTAINER = ALL;
-- The connector keeps its flush table (LOG_MINING_FLUSH) in its own schema.
GRANT CREATE TABLE TO c##dbzuser CONTAINER = ALL;
GRANT CREATE SEQUENCE TO c##dbzuser CONTAINER = ALL;
-- The views LogMiner sessions are built from.
GRANT SELECT ON V_$DATABASE TO c##dbzuser CONTAINER = ALL;
GRANT SELECT ON V_$LOG TO c##dbzuser CONTAINER = ALL;
GRANT SELECT ON V_$LOG_HISTORY TO c##dbzuser CONTAINER = ALL;
GRANT SELECT ON V_$LOGFILE TO c##dbzuser CONTAINER = ALL;
GRANT SELECT ON V_$ARCHIVED_LOG TO c##dbzuser CONTAINER = ALL;
GRANT SELECT ON V_$ARCHIVE_DEST_STATUS TO c##dbzuser CONTAINER = ALL;
GRANT SELECT ON V_$LOGMNR_LOGS TO c##dbzuser CONTAINER = ALL;
GRANT SELECT ON V_$LOGMNR_CONTENTS TO c##dbzuser CONTAINER = ALL;
GRANT SELECT ON V_$LOGMNR_PARAMETERS TO c##dbzuser CONTAINER = ALL;
GRANT SELECT ON V_$TRANSACTION TO c##dbzuser CONTAINER = ALL;
GRANT SELECT ON V_$MYSTAT TO c##dbzuser CONTAINER = ALL;
GRANT SELECT ON V_$STATNAME TO c##dbzuser CONTAINER = ALL;
