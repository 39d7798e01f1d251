#!/usr/bin/env bash
# Local infrastructure for tests and `make up`: a single-node Apache Kafka broker (KRaft)
# and the osmem-server Elasticsearch/OpenSearch API, in the background.
#
#   scripts/infra.sh start|stop|status
#
# Pid files: .run/pids/{kafka,osmem}.pid   logs: .run/logs/{kafka,osmem}.log
# Postgres is not started here: scripts/deps.sh makes sure it answers on 127.0.0.1:5432.
#
# When a port is already taken by a process these scripts did not start (another checkout,
# another developer's broker), that process is used as is and never stopped.
#
# Kafka keeps its data in KAFKA_DATA_DIR (default .run/kafka/data): storage is formatted once
# (cluster id in .run/kafka/cluster-id) and topics, messages and group offsets survive a
# broker restart. KAFKA_FRESH=1 wipes that directory before starting (`make test` does so for
# a broker it starts itself, in its own .run/kafka-test, so every test run begins empty).
#
# Variables: KAFKA_HOST/KAFKA_PORT (127.0.0.1:9092), KAFKA_CONTROLLER_PORT (9093),
# KAFKA_DIR (.run/kafka), KAFKA_FRESH (0), KAFKA_HEAP_OPTS (-Xms128m -Xmx512m),
# ES_HOST/ES_PORT (127.0.0.1:9200), INFRA_WAIT_SECONDS (60), OSMEM_BIN.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PID_DIR="$DIGIT_RUN_DIR/pids"
LOG_DIR="$DIGIT_RUN_DIR/logs"
WAIT_SECONDS="${INFRA_WAIT_SECONDS:-60}"
KAFKA_DIR="${KAFKA_DIR:-$DIGIT_RUN_DIR/kafka}"
KAFKA_DATA_DIR="${KAFKA_DATA_DIR:-$KAFKA_DIR/data}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}"

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

# kafka_prepare — server.properties from scripts/kafka/server.properties, and the storage
# formatted once (KRaft needs a cluster id in meta.properties before the first start).
kafka_prepare() {
    kafka_installed || die "kafka: Apache Kafka $KAFKA_VERSION not installed; run scripts/deps.sh kafka"
    if [[ ${KAFKA_FRESH:-0} == 1 ]]; then
        log "kafka: KAFKA_FRESH=1, wiping $KAFKA_DATA_DIR"
        rm -rf "$KAFKA_DATA_DIR"
    fi
    mkdir -p "$KAFKA_DIR" "$KAFKA_DATA_DIR"
    sed -e "s|@KAFKA_HOST@|$KAFKA_HOST|g" -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
        -e "s|@KAFKA_CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" -e "s|@KAFKA_DATA_DIR@|$KAFKA_DATA_DIR|g" \
        "$REPO_ROOT/scripts/kafka/server.properties" >"$KAFKA_DIR/server.properties"
    if [[ ! -f $KAFKA_DATA_DIR/meta.properties ]]; then
        local java cluster_id
        java=$(java_bin)
        cluster_id=$("$java" -cp "$KAFKA_HOME/libs/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
        [[ -n $cluster_id ]] || die "kafka: could not generate a cluster id"
        log "kafka: formatting $KAFKA_DATA_DIR (cluster id $cluster_id)"
        "$java" -Dlog4j2.configurationFile="$REPO_ROOT/scripts/kafka/log4j2.yaml" -cp "$KAFKA_HOME/libs/*" \
            kafka.tools.StorageTool format --ignore-formatted -t "$cluster_id" -c "$KAFKA_DIR/server.properties" >&2 \
            || die "kafka: formatting $KAFKA_DATA_DIR failed"
        echo "$cluster_id" >"$KAFKA_DIR/cluster-id"
    fi
}

start_kafka() {
    if ! pid_alive "$PID_DIR/kafka.pid" && ! port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
        kafka_prepare
    fi
    # shellcheck disable=SC2086 # KAFKA_HEAP_OPTS is a list of JVM flags.
    start_one kafka "$KAFKA_HOST" "$KAFKA_PORT" \
        "$(java_bin)" $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$REPO_ROOT/scripts/kafka/log4j2.yaml" \
        -cp "$KAFKA_HOME/libs/*" kafka.Kafka "$KAFKA_DIR/server.properties"
    # The listener opens before the broker has caught up with its metadata log; wait for the
    # "started" line of this start (after the ===== marker start_bg wrote) when we started it.
    if pid_alive "$PID_DIR/kafka.pid"; then
        local logfile="$LOG_DIR/kafka.log" i
        for ((i = 0; i < WAIT_SECONDS * 4; i++)); do
            if tac "$logfile" | sed '/^===== /q' | grep -q 'Kafka Server started'; then
                return 0
            fi
            pid_alive "$PID_DIR/kafka.pid" || break
            sleep 0.25
        done
        log "kafka: no 'Kafka Server started' line within ${WAIT_SECONDS}s; last lines of $logfile:"
        tail -n 30 "$logfile" >&2 || true
        return 1
    fi
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
        start_kafka
        start_osmem
        ;;
    stop)
        stop_pidfile "$PID_DIR/osmem.pid" osmem
        stop_pidfile "$PID_DIR/kafka.pid" kafka 30
        ;;
    status)
        status_one postgres "$PG_HOST" "$PG_PORT"
        status_one kafka "$KAFKA_HOST" "$KAFKA_PORT"
        status_one osmem "$ES_HOST" "$ES_PORT"
        ;;
    *)
        echo "usage: $0 start|stop|status" >&2
        exit 2
        ;;
esac
