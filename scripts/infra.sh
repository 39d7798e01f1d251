#!/usr/bin/env bash
# Local infrastructure for tests and `make up`: the Tansu Kafka-protocol broker and the
# osmem-server Elasticsearch/OpenSearch API, in the background.
#
#   scripts/infra.sh start|stop|status
#
# Pid files: .run/pids/{tansu,osmem}.pid   logs: .run/logs/{tansu,osmem}.log
# Postgres is not started here: scripts/deps.sh makes sure it answers on 127.0.0.1:5432.
#
# When a port is already taken by a process these scripts did not start (another checkout,
# another developer's broker), that process is used as is and never stopped.
#
# Variables: KAFKA_HOST/KAFKA_PORT (127.0.0.1:9092), ES_HOST/ES_PORT (127.0.0.1:9200),
# TANSU_STORAGE (memory://tansu/), INFRA_WAIT_SECONDS (60), TANSU_BIN, OSMEM_BIN.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PID_DIR="$DIGIT_RUN_DIR/pids"
LOG_DIR="$DIGIT_RUN_DIR/logs"
WAIT_SECONDS="${INFRA_WAIT_SECONDS:-60}"
# Tansu 0.6.0 built with the dynostore feature has two storage engines: memory:// and s3://.
# Neither keeps data on local disk without an S3 endpoint, so local runs use memory (topics
# and offsets are lost when the broker stops; tests create their own topics anyway).
TANSU_STORAGE="${TANSU_STORAGE:-memory://tansu/}"

start_one() {
    local name=$1 host=$2 port=$3
    shift 3
    local pidfile="$PID_DIR/$name.pid" logfile="$LOG_DIR/$name.log"
    if pid_alive "$pidfile"; then
        if wait_port "$host" "$port" "$WAIT_SECONDS" "$(pidfile_pid "$pidfile")"; then
            log "$name: already running (pid $(pidfile_pid "$pidfile")) on $host:$port"
            return 0
        fi
        log "$name: pid $(pidfile_pid "$pidfile") alive but $host:$port does not answer; restarting"
        stop_pidfile "$pidfile" "$name"
    fi
    rm -f "$pidfile"
    if port_open "$host" "$port"; then
        log "$name: $host:$port already answers (not started by these scripts); using it"
        return 0
    fi
    [[ -x $1 ]] || die "$name: $1 not found; run scripts/deps.sh first"
    log "$name: $*"
    start_bg "$pidfile" "$logfile" "$@"
    if ! wait_port "$host" "$port" "$WAIT_SECONDS" "$(pidfile_pid "$pidfile")"; then
        log "$name: did not answer on $host:$port within ${WAIT_SECONDS}s; last lines of $logfile:"
        tail -n 30 "$logfile" >&2 || true
        stop_pidfile "$pidfile" "$name" 5
        return 1
    fi
    log "$name: up on $host:$port (pid $(pidfile_pid "$pidfile"), log $logfile)"
}

start_tansu() {
    local url="tcp://$KAFKA_HOST:$KAFKA_PORT"
    # Run from the log directory: tansu reads a .env file from its working directory.
    (
        cd "$LOG_DIR"
        export RUST_LOG="${TANSU_RUST_LOG:-warn}"
        start_one tansu "$KAFKA_HOST" "$KAFKA_PORT" \
            "$(tansu_bin)" broker \
            --listener-url "$url" \
            --advertised-listener-url "$url" \
            --storage-engine "$TANSU_STORAGE"
    )
}

start_osmem() {
    # --no-stdin-watch: the server otherwise exits when its stdin closes.
    start_one osmem "$ES_HOST" "$ES_PORT" \
        "$(osmem_bin)" --addr "$ES_HOST:$ES_PORT" --no-stdin-watch
}

status_one() {
    local name=$1 host=$2 port=$3 pidfile="$PID_DIR/$1.pid" state
    if pid_alive "$pidfile"; then
        state="running (pid $(pidfile_pid "$pidfile"))"
    elif port_open "$host" "$port"; then
        state="answering (not started by these scripts)"
    else
        state="stopped"
    fi
    printf '%-16s %-34s %s\n' "$name" "$host:$port" "$state"
}

cmd=${1:-}
case $cmd in
    start)
        mkdir -p "$PID_DIR" "$LOG_DIR"
        start_tansu
        start_osmem
        ;;
    stop)
        stop_pidfile "$PID_DIR/osmem.pid" osmem
        stop_pidfile "$PID_DIR/tansu.pid" tansu
        ;;
    status)
        status_one postgres "$PG_HOST" "$PG_PORT"
        status_one tansu "$KAFKA_HOST" "$KAFKA_PORT"
        status_one osmem "$ES_HOST" "$ES_PORT"
        ;;
    *)
        echo "usage: $0 start|stop|status" >&2
        exit 2
        ;;
esac
