# shellcheck shell=bash
# Shared helpers for scripts/*.sh. Source it; it defines functions and variables only.
#
# Everything here can be overridden from the environment, so CI, a developer and `make`
# agree on one set of names:
#   DIGIT_CACHE_DIR   where downloaded/installed tools live (default ~/.cache/digit-rs)
#   DIGIT_RUN_DIR     pid files and logs of what the scripts start (default <repo>/.run)
#   OSMEM_BIN, NEWMAN_BIN   use these binaries instead of the cached ones
#   CHROMIUM_BIN      the headless browser of the dashboard test (default: chromium on PATH)
#   KAFKA_HOST/KAFKA_PORT, ES_HOST/ES_PORT, PG_HOST/PG_PORT   where infra listens
#   KAFKA_CONTROLLER_PORT (9093), KAFKA_DATA_DIR (<run dir>/kafka), KAFKA_HEAP_OPTS

REPO_ROOT="${REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
DIGIT_CACHE_DIR="${DIGIT_CACHE_DIR:-$HOME/.cache/digit-rs}"
DIGIT_RUN_DIR="${DIGIT_RUN_DIR:-$REPO_ROOT/.run}"
CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"

# Pinned versions (bump deliberately; see DESIGN.md "Infrastructure on these machines").
# Apache Kafka (org.apache.kafka:kafka_2.13 from Maven Central, scripts/kafka/pom.xml).
KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
OSMEM_VERSION="${OSMEM_VERSION:-0.1.6}"
NEWMAN_VERSION="${NEWMAN_VERSION:-6.2.2}"
HELM_SDK_VERSION="${HELM_SDK_VERSION:-0.2.2}"
PYYAML_VERSION="${PYYAML_VERSION:-6.0.3}"
MOTO_VERSION="${MOTO_VERSION:-5.2.5}"
FLASK_VERSION="${FLASK_VERSION:-3.1.3}"
FLASK_CORS_VERSION="${FLASK_CORS_VERSION:-6.0.5}"
SCHEMATHESIS_VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"

PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"
KAFKA_HOST="${KAFKA_HOST:-127.0.0.1}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
ES_HOST="${ES_HOST:-127.0.0.1}"
ES_PORT="${ES_PORT:-9200}"

OSMEM_VENV="$DIGIT_CACHE_DIR/venv"
# The broker's jars (outside the repo, shared by every checkout on the machine).
KAFKA_HOME="${KAFKA_HOME:-$DIGIT_CACHE_DIR/kafka-$KAFKA_VERSION}"
NEWMAN_PREFIX="$DIGIT_CACHE_DIR/npm"
# schemathesis (contract fuzzing) in its own venv: its pins stay out of the tools venv.
SCHEMATHESIS_VENV="$DIGIT_CACHE_DIR/schemathesis-venv"

_script_name="$(basename "${0:-digit}" .sh)"

log() { printf '[%s] %s\n' "$_script_name" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$_script_name" "$*" >&2; exit 1; }

# port_open HOST PORT — true when something accepts TCP connections there (1 s bound).
port_open() {
    timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# wait_port HOST PORT SECONDS [PID] — wait until the port answers; fail early if PID dies.
wait_port() {
    local host=$1 port=$2 secs=$3 pid=${4:-} i
    for ((i = 0; i < secs * 4; i++)); do
        port_open "$host" "$port" && return 0
        if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
            return 1
        fi
        sleep 0.25
    done
    return 1
}

# proc_start PID — the process's start time in clock ticks since boot (field 22 of
# /proc/PID/stat), which tells a live process from a recycled pid.
proc_start() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    local -a fields
    # Fields after "pid (comm) ", comm may contain spaces; starttime is the 20th of them.
    # shellcheck disable=SC2206
    fields=(${stat##*) })
    echo "${fields[19]}"
}

# pidfile_pid FILE — the pid recorded in FILE ("PID STARTTIME").
pidfile_pid() {
    local pid _start
    read -r pid _start <"$1" 2>/dev/null || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    echo "$pid"
}

# pid_alive FILE — true when FILE names a process that is still running and is the same
# process that was started (not a later process that got the same pid).
pid_alive() {
    local f=$1 pid start
    [[ -f $f ]] || return 1
    read -r pid start <"$f" 2>/dev/null || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    [[ -z $start || $(proc_start "$pid") == "$start" ]]
}

# stop_pidfile FILE NAME [SECONDS] — TERM the process (and its process group when it leads
# one), wait up to SECONDS (default 15), then KILL; remove the pid file. Only ever touches
# the pid recorded in FILE, i.e. something these scripts started.
stop_pidfile() {
    local f=$1 name=$2 secs=${3:-15} pid i
    if ! pid_alive "$f"; then
        rm -f "$f"
        return 0
    fi
    pid=$(pidfile_pid "$f")
    log "stopping $name (pid $pid)"
    # The scripts start every background process with setsid, so it leads its own group:
    # signal the group to take any children with it.
    if [[ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" == "$pid" ]]; then
        kill -TERM -- "-$pid" 2>/dev/null || true
    else
        kill -TERM "$pid" 2>/dev/null || true
    fi
    for ((i = 0; i < secs * 4; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name did not stop in ${secs}s; killing"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
    fi
    rm -f "$f"
}

# start_bg PIDFILE LOGFILE CMD... — start CMD detached in its own session, stdin from
# /dev/null, output appended to LOGFILE, pid written to PIDFILE.
start_bg() {
    local pidfile=$1 logfile=$2
    shift 2
    mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
    printf '\n===== %s: %s\n' "$(date -u +%FT%TZ)" "$*" >>"$logfile"
    rm -f "$pidfile"
    # The child records its own pid (after setsid, before exec), so the pid file names the
    # real process whether or not setsid had to fork.
    # shellcheck disable=SC2016
    setsid bash -c 's=$(</proc/$$/stat); f=(${s##*) }); echo "$$ ${f[19]}" >"$0"; exec "$@"' \
        "$pidfile" "$@" </dev/null >>"$logfile" 2>&1 &
    local i
    for ((i = 0; i < 40; i++)); do
        [[ -s $pidfile ]] && return 0
        sleep 0.05
    done
    die "could not start $1"
}

# Tool locations ---------------------------------------------------------------------------

# kafka_installed — true when $KAFKA_HOME holds the complete jar set of $KAFKA_VERSION
# (deps.sh writes the .complete marker last, so an interrupted copy is redone).
kafka_installed() {
    [[ -f $KAFKA_HOME/.complete && -f $KAFKA_HOME/libs/kafka_2.13-$KAFKA_VERSION.jar ]]
}

java_bin() {
    if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then echo "$JAVA_HOME/bin/java"; return; fi
    command -v java 2>/dev/null || echo /usr/bin/java
}

osmem_bin() {
    if [[ -n ${OSMEM_BIN:-} ]]; then echo "$OSMEM_BIN"; return; fi
    # The wheel bundles a static binary but installs no console script; ask the package.
    if [[ -x $OSMEM_VENV/bin/python ]]; then
        "$OSMEM_VENV/bin/python" -c 'import osmem_server; print(osmem_server.resolve_binary())' 2>/dev/null && return
    fi
    command -v osmem-server 2>/dev/null || echo "$OSMEM_VENV/bin/osmem-server"
}

newman_bin() {
    if [[ -n ${NEWMAN_BIN:-} ]]; then echo "$NEWMAN_BIN"; return; fi
    if [[ -x $NEWMAN_PREFIX/node_modules/.bin/newman ]]; then echo "$NEWMAN_PREFIX/node_modules/.bin/newman"; return; fi
    command -v newman 2>/dev/null || echo "$NEWMAN_PREFIX/node_modules/.bin/newman"
}

# chromium_bin — the Chromium binary (CHROMIUM_BIN, else chromium or chromium-browser on
# PATH), or nothing when there is none.
chromium_bin() {
    if [[ -n ${CHROMIUM_BIN:-} ]]; then echo "$CHROMIUM_BIN"; return; fi
    command -v chromium 2>/dev/null || command -v chromium-browser 2>/dev/null || true
}

# compose_cmd — prints the docker compose command available here (v1 or v2), or nothing.
compose_cmd() {
    if command -v docker-compose >/dev/null 2>&1; then
        echo docker-compose
    elif command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
        echo "docker compose"
    fi
}

# The suite answers /health before the workflow has loaded configs/workflow through the
# persister (a fresh database): waits (up to POSTMAN_READY_SECONDS, 120) until the PGR business
# service is readable with its actions (the business service, its states and its actions are
# separate rows: the first can be readable before the others). $1: a token.
wait_for_pgr_workflow() {
    local token=$1 i
    local url="http://127.0.0.1:${PGR_PORT:-8081}/egov-workflow-v2/egov-wf/businessservice/_search?tenantId=pg.citya&businessServices=PGR"
    for i in $(seq 1 "${POSTMAN_READY_SECONDS:-120}"); do
        if curl -s --max-time 5 -H 'content-type: application/json' \
            -d "{\"RequestInfo\":{\"authToken\":\"$token\"}}" "$url" | grep -q '"action":"APPLY"'; then
            return 0
        fi
        sleep 1
    done
    log "the PGR workflow was not readable after $i s"
}
