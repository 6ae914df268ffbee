# dev/stack.d/common.sh — paths and helpers shared by every component (sourced by dev/stack).
# shellcheck shell=bash

STACK="${CDC_STACK_DIR:-$ROOT/.stack}"
PROBE="$SCRIPT_DIR/lib/probe.py"
HOST=127.0.0.1
TIMEOUT="${CDC_STACK_TIMEOUT:-90}"

say()  { printf 'dev/stack: %s\n' "$*" >&2; }
die()  { printf 'dev/stack: ERROR: %s\n' "$*" >&2; exit 1; }

# fail_with_log COMPONENT LOGFILE MESSAGE — one-line error, log tail, error again.
fail_with_log() {
    local comp="$1" log="$2" msg="$3"
    printf 'dev/stack: ERROR: %s: %s (log: %s)\n' "$comp" "$msg" "$log" >&2
    if [[ -s "$log" ]]; then
        printf -- '---- last 20 lines of %s ----\n' "$log" >&2
        tail -n 20 "$log" >&2
        printf -- '---- end of log ----\n' >&2
        printf 'dev/stack: ERROR: %s: %s (log: %s)\n' "$comp" "$msg" "$log" >&2
    fi
    exit 1
}

need_cmd() { command -v "$1" >/dev/null 2>&1 || die "$2: required command '$1' not found${3:+ ($3)}"; }

probe() { python3 "$PROBE" "$@"; }

port_open() { probe port "$HOST" "$1"; }

# check_port_free LABEL PORT VARIABLE — die if something else listens there.
check_port_free() {
    local comp="$1" port="$2" var="$3" who
    if port_open "$port"; then
        who="$(probe who "$port" 2>/dev/null || true)"
        die "$comp: port $port on $HOST is already in use by another process${who:+: $who}; stop it or set $var"
    fi
}

# pid_alive PIDFILE MARKER — true if the pid in PIDFILE runs and its command
# line contains MARKER (guards against recycled pids).
pid_alive() {
    local pidfile="$1" marker="$2" pid
    [[ -r "$pidfile" ]] || return 1
    pid="$(head -n1 "$pidfile" 2>/dev/null | tr -dc '0-9')"
    [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker"
}

pid_of() { head -n1 "$1" 2>/dev/null | tr -dc '0-9'; }

# stop_pid COMPONENT PID GRACE_SECONDS — TERM, wait, then KILL.
stop_pid() {
    local comp="$1" pid="$2" grace="$3" i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < grace * 5; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
    say "$comp: did not stop within ${grace}s, killing pid $pid"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 25; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
}

# spawn PIDFILE LOGFILE CMD... — start CMD detached (own session, no tty, no
# inherited stdout so `eval "$(dev/stack up)"` returns), pid into PIDFILE.
spawn() {
    local pidfile="$1" logfile="$2"
    shift 2
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" \
        </dev/null >>"$logfile" 2>&1 9>&- &
    disown 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do
        [[ -s "$pidfile" ]] && return 0
        sleep 0.05
    done
}

lock_stack() {
    mkdir -p "$STACK" || die "cannot create $STACK"
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$STACK/.lock"
        flock -w 120 9 || die "another 'dev/stack' is running (lock $STACK/.lock)"
    fi
}

java_cmd() {
    if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
        echo "$JAVA_HOME/bin/java"
    else
        command -v java 2>/dev/null || true
    fi
}

# maven_fetch COMPONENT WHAT POM DEST_DIR — the POM's dependencies from Maven
# Central into DEST_DIR, cached per POM hash (DEST_DIR.sha256 holds it).
maven_fetch() {
    local comp="$1" what="$2" pom="$3" dest="$4" pom_hash log
    pom_hash="$(sha256sum "$pom" | cut -d' ' -f1)"
    [[ -d "$dest" && "$(cat "$dest.sha256" 2>/dev/null)" == "$pom_hash" ]] && return 0
    need_cmd mvn "$comp" "install Maven"
    log="$dest.mvn.log"
    say "$comp: fetching $what from Maven Central (mvn) ..."
    rm -rf "$dest" "$dest.sha256"
    mkdir -p "$(dirname "$dest")"
    if ! mvn -q -B -f "$pom" dependency:copy-dependencies \
            -DoutputDirectory="$dest" >"$log" 2>&1; then
        rm -rf "$dest"
        fail_with_log "$comp" "$log" "downloading jars with mvn dependency:copy-dependencies failed"
    fi
    echo "$pom_hash" >"$dest.sha256"
}
