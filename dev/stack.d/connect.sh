# dev/stack.d/connect.sh — Kafka Connect distributed worker with Debezium (sourced by dev/stack).
# shellcheck shell=bash
#
# The worker runs connectors/connect-worker.properties with local addresses
# appended (later keys win). Plugins: one Maven manifest per plugin in
# dev/connect/plugins/, each copied into its own folder of plugin.path.
# Connector configs may read secrets from .stack/connect/secrets through the
# worker's file config provider.

CONNECT_PORT="${CDC_STACK_CONNECT_PORT:-18083}"
CONNECT_HEAP_OPTS="${CDC_STACK_CONNECT_HEAP_OPTS:--Xms128m -Xmx768m}"
CONNECT_SRC="$SCRIPT_DIR/connect"
CONNECT_WORKER_CONFIG="$ROOT/connectors/connect-worker.properties"

CONNECT_DIR="$STACK/connect"
CONNECT_LIBS="$CONNECT_DIR/libs"
CONNECT_PLUGINS="$CONNECT_DIR/plugins"
CONNECT_SECRETS="$CONNECT_DIR/secrets"
CONNECT_LOGS="$CONNECT_DIR/logs"
CONNECT_LOG="$CONNECT_LOGS/connect.log"
CONNECT_OUT="$CONNECT_LOGS/connect.out"
CONNECT_CONF="$CONNECT_DIR/config/worker.properties"
CONNECT_PID="$CONNECT_DIR/connect.pid"

connect_version() { sed -n 's:.*<connect.version>\(.*\)</connect.version>.*:\1:p' "$CONNECT_SRC/pom.xml" | head -n1; }

connect_port() { echo "$CONNECT_PORT"; }
connect_log() { echo "$CONNECT_LOG"; }
connect_pid() { pid_of "$CONNECT_PID"; }
connect_check_ports() { check_port_free connect "$CONNECT_PORT" CDC_STACK_CONNECT_PORT; }
connect_error_log() {
    if [[ -s "$CONNECT_OUT" ]] && ! connect_running; then echo "$CONNECT_OUT"; else echo "$CONNECT_LOG"; fi
}

connect_prepare() {
    [[ -n "$(java_cmd)" ]] || die "connect: java not found (install a JDK 17+)"
    mkdir -p "$CONNECT_DIR/config" "$CONNECT_PLUGINS" "$CONNECT_SECRETS" "$CONNECT_LOGS"
    maven_fetch connect "Kafka Connect $(connect_version) jars" "$CONNECT_SRC/pom.xml" "$CONNECT_LIBS"
    local pom name
    for pom in "$CONNECT_SRC"/plugins/*.xml; do
        name="$(basename "$pom" .xml)"
        maven_fetch connect "plugin $name" "$pom" "$CONNECT_PLUGINS/$name/lib"
        connect_service_manifests "$name"
    done
    # Plugins whose manifest is gone are removed, so the worker never loads them.
    for name in "$CONNECT_PLUGINS"/*/; do
        name="$(basename "$name")"
        [[ -f "$CONNECT_SRC/plugins/$name.xml" ]] || rm -rf "${CONNECT_PLUGINS:?}/$name"
    done
    cp "$CONNECT_SRC/log4j2.xml" "$CONNECT_DIR/config/log4j2.xml"
    {
        cat "$CONNECT_WORKER_CONFIG"
        cat <<PROPS

# ---- appended by dev/stack at every start: local addresses and folders ----
bootstrap.servers=$HOST:$KAFKA_PORT
listeners=http://$HOST:$CONNECT_PORT
rest.advertised.host.name=$HOST
rest.advertised.port=$CONNECT_PORT
plugin.path=$CONNECT_PLUGINS
config.providers.file.param.allowed.paths=$CONNECT_SECRETS
offset.flush.interval.ms=1000
# Plugins found through their ServiceLoader manifests, not a class scan (30 s
# faster here); dev/connect/plugins/*.services add the manifests a plugin lacks.
plugin.discovery=service_load
PROPS
    } >"$CONNECT_CONF"
}

# connect_service_manifests PLUGIN — pack dev/connect/plugins/PLUGIN.services
# ("<interface> <class>" lines) into PLUGIN/service-manifests.jar.
connect_service_manifests() {
    local spec="$CONNECT_SRC/plugins/$1.services" jar="$CONNECT_PLUGINS/$1/service-manifests.jar"
    [[ -f "$spec" ]] || return 0
    python3 - "$spec" "$jar" <<'PY' || die "connect: cannot write $jar"
import collections, sys, zipfile
entries = collections.defaultdict(list)
for line in open(sys.argv[1]):
    if line.strip() and not line.startswith("#"):
        interface, cls = line.split()
        entries[interface].append(cls)
with zipfile.ZipFile(sys.argv[2], "w") as jar:
    for interface, classes in sorted(entries.items()):
        jar.writestr(f"META-INF/services/{interface}", "\n".join(classes) + "\n")
PY
}

connect_running() { pid_alive "$CONNECT_PID" "$CONNECT_CONF"; }
connect_healthy() { connect_running && probe http "http://$HOST:$CONNECT_PORT/health"; }

connect_start() {
    connect_running && return 0
    connect_check_ports
    say "connect: starting Kafka Connect $(connect_version) on $HOST:$CONNECT_PORT (plugins: $(ls "$CONNECT_PLUGINS" | paste -sd ' '))"
    rm -f "$CONNECT_PID"
    : >"$CONNECT_OUT"
    # shellcheck disable=SC2086
    spawn "$CONNECT_PID" "$CONNECT_OUT" "$(java_cmd)" $CONNECT_HEAP_OPTS \
        -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
        -Djava.awt.headless=true \
        -Dconnect.logs.dir="$CONNECT_LOGS" \
        -Dlog4j2.configurationFile="$CONNECT_DIR/config/log4j2.xml" \
        -cp "$CONNECT_LIBS/*" org.apache.kafka.connect.cli.ConnectDistributed "$CONNECT_CONF"
}

connect_stop() {
    if connect_running; then
        say "connect: stopping (pid $(pid_of "$CONNECT_PID"))"
        stop_pid connect "$(pid_of "$CONNECT_PID")" 30
    fi
    rm -f "$CONNECT_PID"
}
