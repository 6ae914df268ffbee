# dev/stack.d/prometheus.sh — Debian's Prometheus with cdc-sync's alert rules (sourced by dev/stack).
# shellcheck shell=bash
#
# Only when named (`dev/stack up prometheus`). It loads deploy/prometheus/*.rules.yml and any
# extra rule file a test drops in .stack/prometheus/rules.d/ (then POST /-/reload), and scrapes
# the targets listed in .stack/prometheus/targets/*.json (file-based service discovery: a test
# writes one file per service it starts, as job "cdc-sync"). Scrapes and rule evaluations run
# every second, so tests see alerts move in seconds.

PROMETHEUS_PORT="${CDC_STACK_PROMETHEUS_PORT:-19090}"
PROMETHEUS_DIR="$STACK/prometheus"
PROMETHEUS_CONFIG="$PROMETHEUS_DIR/prometheus.yml"
PROMETHEUS_TARGETS="$PROMETHEUS_DIR/targets"
PROMETHEUS_RULES="$PROMETHEUS_DIR/rules.d"
PROMETHEUS_LOG="$PROMETHEUS_DIR/prometheus.log"
PROMETHEUS_PID="$PROMETHEUS_DIR/prometheus.pid"

prometheus_port() { echo "$PROMETHEUS_PORT"; }
prometheus_log() { echo "$PROMETHEUS_LOG"; }
prometheus_error_log() { echo "$PROMETHEUS_LOG"; }
prometheus_pid() { pid_of "$PROMETHEUS_PID"; }
prometheus_check_ports() { check_port_free prometheus "$PROMETHEUS_PORT" CDC_STACK_PROMETHEUS_PORT; }

prometheus_prepare() {
    command -v prometheus >/dev/null 2>&1 || "$ROOT/dev/lib/apt-ensure" prometheus:prometheus
    need_cmd prometheus prometheus "install Debian's prometheus package"
    mkdir -p "$PROMETHEUS_DIR/data" "$PROMETHEUS_TARGETS" "$PROMETHEUS_RULES"
    cat >"$PROMETHEUS_CONFIG" <<CONF
# Written by dev/stack at every start.
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $ROOT/deploy/prometheus/*.rules.yml
  - $PROMETHEUS_RULES/*.yml
scrape_configs:
  - job_name: cdc-sync
    file_sd_configs:
      - files: ["$PROMETHEUS_TARGETS/*.json"]
CONF
}

prometheus_running() { pid_alive "$PROMETHEUS_PID" "$PROMETHEUS_CONFIG"; }
prometheus_healthy() { prometheus_running && probe http "http://$HOST:$PROMETHEUS_PORT/-/ready"; }

prometheus_start() {
    prometheus_running && return 0
    prometheus_check_ports
    say "prometheus: starting $(prometheus --version 2>&1 | head -n1) on $HOST:$PROMETHEUS_PORT"
    rm -f "$PROMETHEUS_PID"
    : >"$PROMETHEUS_LOG"
    spawn "$PROMETHEUS_PID" "$PROMETHEUS_LOG" prometheus \
        --config.file="$PROMETHEUS_CONFIG" \
        --storage.tsdb.path="$PROMETHEUS_DIR/data" \
        --storage.tsdb.retention.time=1d \
        --web.listen-address="$HOST:$PROMETHEUS_PORT" \
        --web.enable-lifecycle
}

prometheus_stop() {
    if prometheus_running; then
        say "prometheus: stopping (pid $(pid_of "$PROMETHEUS_PID"))"
        stop_pid prometheus "$(pid_of "$PROMETHEUS_PID")" 15
    fi
    rm -f "$PROMETHEUS_PID"
}
