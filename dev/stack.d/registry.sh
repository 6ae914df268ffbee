# dev/stack.d/registry.sh — Apicurio Registry with its Confluent-compatible API (sourced by dev/stack).
# shellcheck shell=bash
#
# Storage is Apicurio's in-memory (H2) kind pointed at a file in .stack/registry/data,
# so a restarted registry still knows the schema ids Kafka records refer to.

REGISTRY_PORT="${CDC_STACK_REGISTRY_PORT:-18081}"
REGISTRY_HEAP_OPTS="${CDC_STACK_REGISTRY_HEAP_OPTS:--Xms64m -Xmx384m}"
REGISTRY_SRC="$SCRIPT_DIR/registry"

REGISTRY_DIR="$STACK/registry"
REGISTRY_DIST="$REGISTRY_DIR/dist"
REGISTRY_APP="$REGISTRY_DIR/app"
REGISTRY_LOG="$REGISTRY_DIR/registry.log"
REGISTRY_PID="$REGISTRY_DIR/registry.pid"
REGISTRY_CCOMPAT_PATH=/apis/ccompat/v7

registry_version() { sed -n 's:.*<apicurio.version>\(.*\)</apicurio.version>.*:\1:p' "$REGISTRY_SRC/pom.xml" | head -n1; }
registry_runner() { echo "$REGISTRY_APP/apicurio-registry-app-$(registry_version)-runner.jar"; }

registry_port() { echo "$REGISTRY_PORT"; }
registry_log() { echo "$REGISTRY_LOG"; }
registry_error_log() { echo "$REGISTRY_LOG"; }
registry_pid() { pid_of "$REGISTRY_PID"; }
registry_check_ports() { check_port_free registry "$REGISTRY_PORT" CDC_STACK_REGISTRY_PORT; }

registry_prepare() {
    [[ -n "$(java_cmd)" ]] || die "registry: java not found (install a JDK 17+)"
    mkdir -p "$REGISTRY_DIR/data"
    maven_fetch registry "Apicurio Registry $(registry_version)" "$REGISTRY_SRC/pom.xml" "$REGISTRY_DIST"
    local tarball stamp
    tarball="$(ls "$REGISTRY_DIST"/apicurio-registry-app-*-all.tar.gz 2>/dev/null | head -n1)"
    [[ -n "$tarball" ]] || die "registry: no apicurio-registry-app tarball in $REGISTRY_DIST"
    stamp="$(cat "$REGISTRY_DIST.sha256")"
    if [[ ! -f "$(registry_runner)" || "$(cat "$REGISTRY_APP.sha256" 2>/dev/null)" != "$stamp" ]]; then
        rm -rf "$REGISTRY_APP" && mkdir -p "$REGISTRY_APP"
        tar -xzf "$tarball" -C "$REGISTRY_APP" || die "registry: cannot unpack $tarball"
        echo "$stamp" >"$REGISTRY_APP.sha256"
    fi
}

registry_running() { pid_alive "$REGISTRY_PID" "$(registry_runner)"; }
registry_healthy() { registry_running && probe http "http://$HOST:$REGISTRY_PORT$REGISTRY_CCOMPAT_PATH/subjects"; }

registry_start() {
    registry_running && return 0
    registry_check_ports
    say "registry: starting Apicurio Registry $(registry_version) on $HOST:$REGISTRY_PORT"
    rm -f "$REGISTRY_PID"
    : >"$REGISTRY_LOG"
    # shellcheck disable=SC2086
    spawn "$REGISTRY_PID" "$REGISTRY_LOG" env REGISTRY_DATASOURCE_URL="jdbc:h2:file:$REGISTRY_DIR/data/registry" \
        "$(java_cmd)" $REGISTRY_HEAP_OPTS -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -Dquarkus.http.host="$HOST" -Dquarkus.http.port="$REGISTRY_PORT" \
        -Dquarkus.datasource.jdbc.initial-size=2 -Dquarkus.datasource.jdbc.min-size=2 \
        -Dquarkus.datasource.jdbc.max-size=10 \
        -jar "$(registry_runner)"
}

registry_stop() {
    if registry_running; then
        say "registry: stopping (pid $(pid_of "$REGISTRY_PID"))"
        stop_pid registry "$(pid_of "$REGISTRY_PID")" 20
    fi
    rm -f "$REGISTRY_PID"
}
