# dev/stack.d/postgres.sh — PostgreSQL from the OS packages, logical decoding on (sourced by dev/stack).
# shellcheck shell=bash
#
# PostgreSQL refuses to run as root. When run as root, the server runs as the
# `postgres` system user (created if missing); its files live in .stack/pg,
# owned by that user. If that user cannot reach .stack/pg (e.g. the project is
# under a root-only directory such as /root), .stack/pg becomes a symlink to
# /tmp/cdc-stack-pg-<hash of project path>, which is always reachable.

PG_PORT="${CDC_STACK_PG_PORT:-15432}"
PG_SUPERUSER=postgres
PG_DIR="$STACK/pg"           # may be a symlink (see header)
PG_LOG="$PG_DIR/postgres.log"

PG_BIN=""
PG_OS_USER=""

postgres_port() { echo "$PG_PORT"; }
postgres_log() { echo "$PG_LOG"; }
postgres_error_log() { echo "$PG_LOG"; }
postgres_pid() { pid_of "$(pg_pidfile)"; }
postgres_check_ports() { check_port_free postgres "$PG_PORT" CDC_STACK_PG_PORT; }

pg_find_bin() {
    local d ver=""
    [[ -r "$PG_DIR/data/PG_VERSION" ]] && ver="$(cat "$PG_DIR/data/PG_VERSION")"
    PG_BIN=""
    # Prefer the version that created the existing data dir, then the newest.
    if [[ -n "$ver" && -x "/usr/lib/postgresql/$ver/bin/pg_ctl" ]]; then
        PG_BIN="/usr/lib/postgresql/$ver/bin"
    else
        for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
            if [[ -x "$d/pg_ctl" && -x "$d/initdb" && -x "$d/postgres" ]]; then PG_BIN="$d"; break; fi
        done
    fi
    if [[ -z "$PG_BIN" ]] && command -v pg_ctl >/dev/null 2>&1; then
        d="$(dirname "$(readlink -f "$(command -v pg_ctl)")")"
        [[ -x "$d/initdb" && -x "$d/postgres" ]] && PG_BIN="$d"
    fi
    [[ -n "$PG_BIN" ]]
}

pg_install() {
    [[ $EUID -eq 0 ]] || die "postgres: PostgreSQL server binaries not found; install them (e.g. 'sudo apt-get install postgresql')"
    need_cmd apt-get postgres "only Debian/Ubuntu installs are automated"
    mkdir -p "$STACK"
    local log="$STACK/pg-apt.log"
    say "postgres: installing PostgreSQL from Debian packages (apt-get) ..."
    # Don't let the package create and start a system cluster on 5432.
    if [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
        mkdir -p /etc/postgresql-common
        echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
    fi
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -q &&
           DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql; } >"$log" 2>&1; then
        fail_with_log postgres "$log" "apt-get install postgresql failed"
    fi
}

# as_pg CMD... — run as the PostgreSQL OS user, from a directory it can enter.
as_pg() {
    if [[ $EUID -eq 0 ]]; then
        (cd / && setpriv --reuid="$PG_OS_USER" --regid="$PG_OS_USER" --init-groups -- "$@") 9>&-
    else
        "$@" 9>&-
    fi
}

pg_setup_user_and_dir() {
    if [[ $EUID -eq 0 ]]; then
        PG_OS_USER=postgres
        if ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
            say "postgres: creating system user '$PG_OS_USER'"
            useradd --system --user-group --home-dir /var/lib/postgresql --no-create-home \
                --shell /usr/sbin/nologin "$PG_OS_USER" || die "postgres: could not create user '$PG_OS_USER'"
        fi
        need_cmd setpriv postgres "util-linux"
    else
        PG_OS_USER="$(id -un)"
    fi

    if [[ ! -e "$PG_DIR" ]]; then
        mkdir -p "$PG_DIR"
        [[ $EUID -eq 0 ]] && chown "$PG_OS_USER:" "$PG_DIR"
        if ! as_pg test -w "$PG_DIR" -a -x "$PG_DIR"; then
            # The OS user cannot traverse a parent (e.g. project under /root):
            # keep the data in a /tmp folder named after the project path.
            local hash alt
            hash="$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
            alt="/tmp/cdc-stack-pg-$hash"
            say "postgres: user '$PG_OS_USER' cannot reach $PG_DIR; using $alt (symlinked as .stack/pg)"
            rmdir "$PG_DIR"
            mkdir -p "$alt"
            chown "$PG_OS_USER:" "$alt"
            chmod 700 "$alt"
            ln -sfn "$alt" "$PG_DIR"
        fi
    fi
    as_pg test -w "$(readlink -f "$PG_DIR")" || die "postgres: user '$PG_OS_USER' cannot write $PG_DIR (remove it and retry)"
}

pg_paths() {
    PG_REAL="$(readlink -f "$PG_DIR")"
    PG_DATA="$PG_REAL/data"
    PG_SOCK="$PG_REAL/run"
    # Unix socket paths are limited to ~107 bytes.
    if (( ${#PG_SOCK} + 20 > 100 )); then
        PG_SOCK="/tmp/cdc-stack-pgsock-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
    fi
}

postgres_prepare() {
    if ! pg_find_bin; then
        pg_install
        pg_find_bin || die "postgres: PostgreSQL installed but pg_ctl/initdb not found under /usr/lib/postgresql/*/bin"
    fi
    pg_setup_user_and_dir
    pg_paths
    if [[ ! -s "$PG_DATA/PG_VERSION" ]]; then
        say "postgres: initdb in $PG_DATA ($("$PG_BIN/postgres" --version))"
        rm -rf "$PG_DATA"
        if ! as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U "$PG_SUPERUSER" -E UTF8 --locale=C \
                --auth-local=trust --auth-host=trust >"$STACK/pg-initdb.log" 2>&1; then
            fail_with_log postgres "$STACK/pg-initdb.log" "initdb failed"
        fi
        echo "include_if_exists = 'cdc_stack.conf'" | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
    fi
    as_pg mkdir -p "$PG_SOCK"
    # Settings rendered at every start so port overrides apply.
    as_pg tee "$PG_DATA/cdc_stack.conf" >/dev/null <<CONF
# Written by dev/stack at every start.
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
wal_level = logical
max_replication_slots = 10
max_wal_senders = 10
max_connections = 200
fsync = off
CONF
}

pg_pidfile() { echo "$(readlink -f "$PG_DIR")/data/postmaster.pid"; }
postgres_running() {
    local pf
    [[ -e "$PG_DIR" ]] || return 1
    pf="$(pg_pidfile)"
    pid_alive "$pf" "postgres"
}
pg_isready_cmd() {
    local isready="${PG_BIN:+$PG_BIN/}pg_isready"
    [[ -n "$PG_BIN" ]] || { pg_find_bin || true; isready="${PG_BIN:+$PG_BIN/}pg_isready"; }
    "$isready" -q -h "$HOST" -p "$PG_PORT" -U "$PG_SUPERUSER" -d postgres -t 2 >/dev/null 2>&1
}
postgres_healthy() { postgres_running && pg_isready_cmd; }

postgres_start() {
    if postgres_running; then
        return 0
    fi
    postgres_check_ports
    say "postgres: starting PostgreSQL on $HOST:$PG_PORT"
    as_pg touch "$PG_REAL/postgres.log"
    if ! as_pg "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$PG_REAL/postgres.log" -W -s >/dev/null 2>>"$PG_LOG"; then
        fail_with_log postgres "$PG_LOG" "pg_ctl start failed"
    fi
}

postgres_stop() {
    if postgres_running; then
        pg_find_bin || true
        local pf pid
        pf="$(pg_pidfile)"
        pid="$(pid_of "$pf")"
        say "postgres: stopping (pid $pid)"
        PG_OS_USER="$(stat -c %U "$pf")"
        if [[ -n "$PG_BIN" ]]; then
            as_pg "$PG_BIN/pg_ctl" stop -D "$(dirname "$pf")" -m fast -w -t 30 -s >/dev/null 2>&1 || true
        fi
        kill -0 "$pid" 2>/dev/null && stop_pid postgres "$pid" 10
    fi
    return 0
}
