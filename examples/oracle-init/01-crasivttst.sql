-- The example table of examples/cdc-sync.toml, with a few rows, for docker-compose.yml.
-- Oracle Free's image runs this once, as SYSDBA, after creating the APP user.
ALTER SESSION SET CONTAINER = FREEPDB1;

CREATE TABLE APP.CRASIVTTST (
  ID            NUMBER(10)     PRIMARY KEY,
  CASE_NO       VARCHAR2(32)   NOT NULL,
  TITLE         VARCHAR2(400),
  STATUS        VARCHAR2(16),
  DEL_YN        CHAR(1)        DEFAULT 'N' NOT NULL,
  MODIFIED_DATE DATE           DEFAULT SYSDATE NOT NULL
);

INSERT INTO APP.CRASIVTTST (ID, CASE_NO, TITLE, STATUS) VALUES (1, 'C-0001', 'Water leak in basement', 'OPEN');
INSERT INTO APP.CRASIVTTST (ID, CASE_NO, TITLE, STATUS) VALUES (2, 'C-0002', 'Broken street light', 'OPEN');
INSERT INTO APP.CRASIVTTST (ID, CASE_NO, TITLE, STATUS) VALUES (3, 'C-0003', 'Noise complaint', 'CLOSED');
COMMIT;
