#!/usr/bin/env bash
# Run the whole suite locally: infra (scripts/infra.sh) plus the seven services, the
# treasury side of iFIX (a second program service and exchange: the IFMS domain) and the
# JIT treasury simulator the IFMS adapter talks to (dev only).
#
#   scripts/stack.sh up       build once (cargo build --bins), start what is not running,
#                             wait until every /<ctx>/health says UP, print the URLs
#   scripts/stack.sh down     stop the services and the infra these scripts started
#   scripts/stack.sh status   what runs where
#
# Logs: .run/logs/<svc>.log   pid files: .run/pids/<svc>.pid
#
# Variables (all optional):
#   STACK_PROFILE=debug|release   cargo profile to build and run (debug; shares the test build)
#   STACK_SKIP_BUILD=1            do not run cargo build (use what is in target/)
#   STACK_BIN_DIR=dir             run binaries from here instead of target/<profile>
#   STACK_WAIT_SECONDS=180        how long `up` waits for all health checks
#   STACK_KEEP_INFRA=1            `down` stops the services only
#   STACK_DB_NAME=digit           database of the default DB_URL (`make test` uses digit_test)
#   PGR_PORT SOR_RATES_PORT PROGRAM_PORT DIGIT_EXCHANGE_PORT IFMS_ADAPTER_PORT
#   PERSISTER_PORT INDEXER_PORT   per-service host ports (8081..8087)
#   PROGRAM_IFMS_PORT DIGIT_EXCHANGE_IFMS_PORT   the treasury side's (8093, 8094)
#   JIT_SIMULATOR_PORT            the JIT simulator's (8095; health on /health, no context)
#   GATEWAY_PORT                  the entry point (8080; health on /health): every context path
#                                 of the department side, forwarded to its service
#   and every service setting (DB_URL, KAFKA_BOOTSTRAP_SERVERS, JWT_SECRET, RUST_LOG, ...)
#   which is passed through to all services; see README.md "Configuration".
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PID_DIR="$DIGIT_RUN_DIR/pids"
LOG_DIR="$DIGIT_RUN_DIR/logs"
STACK_PROFILE="${STACK_PROFILE:-debug}"
STACK_WAIT_SECONDS="${STACK_WAIT_SECONDS:-180}"
STACK_DB_NAME="${STACK_DB_NAME:-digit}"

# name  port  context path  [binary]  (start order: the consumers first, then the APIs).
# Two iFIX domains: the department (MUKTA: program + digit-exchange, database $STACK_DB_NAME,
# topics as upstream names them) and the treasury (IFMS: program-ifms + digit-exchange-ifms,
# database ${STACK_DB_NAME}_ifms, topics prefixed `ifms-`), each exchange holding the other's
# public key (configs/exchange/registry-*.json). The IFMS adapter is the treasury's: it
# shares the treasury database and topic prefix and talks to the JIT simulator (started
# before it; context `/`, its health is /health).
SERVICES=(
    "persister            ${PERSISTER_PORT:-8086}             /common-persist"
    "indexer              ${INDEXER_PORT:-8087}               /egov-indexer"
    "pgr                  ${PGR_PORT:-8081}                   /pgr-services"
    "sor-rates            ${SOR_RATES_PORT:-8082}             /sor-rates"
    "program              ${PROGRAM_PORT:-8083}               /program-service"
    "digit-exchange       ${DIGIT_EXCHANGE_PORT:-8084}        /digit-exchange"
    "jit-simulator        ${JIT_SIMULATOR_PORT:-8095}         /"
    "mukta-simulator      ${MUKTA_SIMULATOR_PORT:-8096}       /"
    "ifms-adapter         ${IFMS_ADAPTER_PORT:-8085}          /ifms"
    "program-ifms         ${PROGRAM_IFMS_PORT:-8093}          /program-service  program"
    "digit-exchange-ifms  ${DIGIT_EXCHANGE_IFMS_PORT:-8094}   /digit-exchange   digit-exchange"
    "gateway              ${GATEWAY_PORT:-8080}               /"
)

# The two domains' addresses (participant ids are `program@<exchange URL>`).
mukta_exchange() { echo "http://127.0.0.1:${DIGIT_EXCHANGE_PORT:-8084}/digit-exchange"; }
ifms_exchange() { echo "http://127.0.0.1:${DIGIT_EXCHANGE_IFMS_PORT:-8094}/digit-exchange"; }

# Settings of one instance beyond the common ones, into the array INSTANCE_ENV.
instance_env() {
    INSTANCE_ENV=()
    case $1 in
        pgr)
            # The filestore's files (complaint attachments), beside the stack's other state.
            INSTANCE_ENV=(
                FILESTORE_PATH="${FILESTORE_PATH:-$DIGIT_RUN_DIR/filestore}"
                FILESTORE_URL_BASE="http://127.0.0.1:${GATEWAY_PORT:-8080}"
                # Development stack only: citizens may also log in with upstream's fixed OTP
                # 123456 (real OTPs still go out on the SMS topic). The binary, compose and
                # Helm leave it off; STACK_FIXED_OTP=false turns it off here too.
                CITIZEN_LOGIN_PASSWORD_OTP_FIXED_ENABLED="${STACK_FIXED_OTP:-true}"
                CITIZEN_LOGIN_PASSWORD_OTP_FIXED_VALUE="${STACK_FIXED_OTP_VALUE:-123456}"
            )
            ;;
        program)
            INSTANCE_ENV=(
                EXCHANGE_SERVICE_EXTERNAL_URL="$(mukta_exchange)"
                EXCHANGE_HOST="http://127.0.0.1:${DIGIT_EXCHANGE_PORT:-8084}/"
                # The department's local adapter is MUKTA's mukta-ifix-adapter: the
                # treasury's on-disburse answers end there (the MUKTA simulator records them).
                ADAPTER_HOST="http://127.0.0.1:${MUKTA_SIMULATOR_PORT:-8096}/"
                ADAPTER_PATH="mukta-ifix-adapter/v1/"
                PROGRAM_OUTBOUND_TOKEN="${STACK_PROGRAM_TOKEN:-}"
            )
            ;;
        digit-exchange)
            INSTANCE_ENV=(
                SERVICE_HOST_URL="$(mukta_exchange)"
                APP_RECEIVER_ENDPOINTS="{\"program\":\"http://127.0.0.1:${PROGRAM_PORT:-8083}/program-service/v1/\"}"
                APP_AUTH_PRIVATE_KEY_PATH="$REPO_ROOT/configs/exchange/sample_private_key1.pem"
                EXCHANGE_REGISTRY_SEED="$REPO_ROOT/configs/exchange/registry-department.json"
                EXCHANGE_OUTBOUND_TOKEN="${STACK_EXCHANGE_TOKEN:-}"
            )
            ;;
        program-ifms)
            INSTANCE_ENV=(
                DB_URL="$IFMS_DB_URL"
                KAFKA_TOPIC_PREFIX=ifms
                EXCHANGE_SERVICE_EXTERNAL_URL="$(ifms_exchange)"
                EXCHANGE_HOST="http://127.0.0.1:${DIGIT_EXCHANGE_IFMS_PORT:-8094}/"
                ADAPTER_HOST="http://127.0.0.1:${IFMS_ADAPTER_PORT:-8085}/"
                PROGRAM_OUTBOUND_TOKEN="${STACK_PROGRAM_TOKEN:-}"
                # The iFIX master data live with the department's program service (the
                # suite's persister writes only the department's database).
                IFIX_MASTERS_ENABLED=false
            )
            ;;
        indexer)
            # Upstream's configs name cluster hosts; they map onto pgr, which serves the
            # workflow, MDMS (v1 and the mdms-v2 path) and boundary APIs. The indexer's service
            # token reads workflow history (role INDEXER).
            local pgr="http://127.0.0.1:${PGR_PORT:-8081}"
            INSTANCE_ENV=(
                EGOV_INDEXER_YML_REPO_PATH="$REPO_ROOT/configs/indexer"
                INDEXER_TEMPLATES_PATH="$REPO_ROOT/configs/indexer/templates"
                INDEXER_HOST_REWRITE="http://egov-workflow-v2.egov:8080=$pgr,http://boundary-service.egov:8080=$pgr,http://mdms-v2.egov:8080=$pgr,http://egov-mdms-service.egov:8080=$pgr"
                EGOV_MDMS_HOST="$pgr/"
                EGOV_SERVICE_HOST="$pgr/"
                INDEXER_OUTBOUND_TOKEN="${STACK_INDEXER_TOKEN:-}"
            )
            ;;
        gateway)
            # One entry point for the department's side (the treasury's program service and
            # exchange share context paths with the department's: they keep their ports).
            local pgr="http://127.0.0.1:${PGR_PORT:-8081}" program="http://127.0.0.1:${PROGRAM_PORT:-8083}"
            local routes="/pgr-services=$pgr,/egov-workflow-v2=$pgr,/egov-mdms-service=$pgr,/mdms-v2=$pgr"
            routes+=",/egov-idgen=$pgr,/boundary-service=$pgr,/egov-location=$pgr,/user=$pgr,/user-otp=$pgr,/localization=$pgr,/filestore=$pgr"
            routes+=",/sor-rates=http://127.0.0.1:${SOR_RATES_PORT:-8082}"
            routes+=",/program-service=$program,/ifix-master-data=$program,/adapter-master-data=$program,/ifix-department-entity=$program"
            routes+=",/digit-exchange=http://127.0.0.1:${DIGIT_EXCHANGE_PORT:-8084}"
            routes+=",/ifms=http://127.0.0.1:${IFMS_ADAPTER_PORT:-8085},/ifms-adapter=http://127.0.0.1:${IFMS_ADAPTER_PORT:-8085}"
            routes+=",/common-persist=http://127.0.0.1:${PERSISTER_PORT:-8086},/egov-indexer=http://127.0.0.1:${INDEXER_PORT:-8087}"
            INSTANCE_ENV=(GATEWAY_ROUTES="$routes")
            ;;
        mukta-simulator)
            # MUKTA's expense, bank account, individual, organisation and audit-log services
            # (configs/mukta/README.md); payments it creates go to expense-payment-create.
            INSTANCE_ENV=(
                MUKTA_SIMULATOR_PORT="${MUKTA_SIMULATOR_PORT:-8096}"
            )
            ;;
        jit-simulator)
            # Its defaults: configs/ifms/jit-scenario.json, the dev key pair of configs/ifms/,
            # client digit-rs-dev / digit-rs-dev-secret (configs/ifms/README.md).
            INSTANCE_ENV=(
                JIT_SIMULATOR_PORT="${JIT_SIMULATOR_PORT:-8095}"
            )
            ;;
        ifms-adapter)
            # Only the treasury has an adapter: its topic keeps upstream's name
            # (ifms-pi-index-enrich), without the treasury's `ifms` prefix.
            INSTANCE_ENV=(
                DB_URL="$IFMS_DB_URL"
                IFMS_JIT_HOSTNAME="http://127.0.0.1:${JIT_SIMULATOR_PORT:-8095}"
                IFMS_JIT_CLIENT_ID="${JIT_SIMULATOR_CLIENT_ID:-digit-rs-dev}"
                IFMS_JIT_CLIENT_SECRET="${JIT_SIMULATOR_CLIENT_SECRET:-digit-rs-dev-secret}"
                IFMS_JIT_PUBLIC_KEY_PATH="$REPO_ROOT/configs/ifms/jit-simulator-public.pem"
                # Dev-only key for beneficiary accounts at rest; production supplies its own.
                IFMS_PII_KEYS="${IFMS_PII_KEYS:-dev:ZGlnaXQtcnMtZGV2LWlmbXMtcGlpLWtleS0zMmJ5dCE=}"
                EGOV_PROGRAM_SERVICE_HOST="http://127.0.0.1:${PROGRAM_IFMS_PORT:-8093}/"
                IFMS_OUTBOUND_TOKEN="${STACK_ADAPTER_TOKEN:-}"
                EGOV_BILL_HOST="http://127.0.0.1:${MUKTA_SIMULATOR_PORT:-8096}/"
                EGOV_BANK_ACCOUNT_HOST="http://127.0.0.1:${MUKTA_SIMULATOR_PORT:-8096}/"
                EGOV_INDIVIDUAL_HOST="http://127.0.0.1:${MUKTA_SIMULATOR_PORT:-8096}/"
                EGOV_ORGANISATION_HOST="http://127.0.0.1:${MUKTA_SIMULATOR_PORT:-8096}/"
                EGOV_AUDIT_LOG_HOST="http://127.0.0.1:${MUKTA_SIMULATOR_PORT:-8096}/"
            )
            ;;
        digit-exchange-ifms)
            INSTANCE_ENV=(
                DB_URL="$IFMS_DB_URL"
                KAFKA_TOPIC_PREFIX=ifms
                EXCHANGE_KAFKA_GROUP_ID=digit-exchange-ifms
                SERVICE_HOST_URL="$(ifms_exchange)"
                APP_RECEIVER_ENDPOINTS="{\"program\":\"http://127.0.0.1:${PROGRAM_IFMS_PORT:-8093}/program-service/v1/\"}"
                APP_AUTH_PRIVATE_KEY_PATH="$REPO_ROOT/configs/exchange/sample_private_key-2.pem"
                EXCHANGE_REGISTRY_SEED="$REPO_ROOT/configs/exchange/registry-treasury.json"
                EXCHANGE_OUTBOUND_TOKEN="${STACK_EXCHANGE_TOKEN:-}"
            )
            ;;
    esac
}

# Service identities on both sides: the program services' token for their exchange and the
# IFMS adapter (role IFIX_PROGRAM_SERVICE), the exchanges' for their program service
# (IFIX_EXCHANGE), the adapter's for the treasury's program service (IFIX_ADAPTER) and the
# indexer's for the workflow history it puts in PGR documents (INDEXER), minted
# with the dev JWT secret. A caller's own values win.
mint_service_tokens() {
    local digitctl
    digitctl="$(bin_dir)/digitctl"
    [[ -x $digitctl ]] || { log "digitctl not built: iFIX services start without service tokens"; return 0; }
    if [[ -z ${STACK_PROGRAM_TOKEN:-} ]]; then
        STACK_PROGRAM_TOKEN=$("$digitctl" token --user-uuid 66666666-6666-4666-8666-000000000001 \
            --user-type SYSTEM --roles IFIX_PROGRAM_SERVICE --tenant pg --secret "$JWT_SECRET" --ttl-seconds 31536000)
    fi
    if [[ -z ${STACK_EXCHANGE_TOKEN:-} ]]; then
        STACK_EXCHANGE_TOKEN=$("$digitctl" token --user-uuid 66666666-6666-4666-8666-000000000002 \
            --user-type SYSTEM --roles IFIX_EXCHANGE --tenant pg --secret "$JWT_SECRET" --ttl-seconds 31536000)
    fi
    if [[ -z ${STACK_INDEXER_TOKEN:-} ]]; then
        STACK_INDEXER_TOKEN=$("$digitctl" token --user-uuid 66666666-6666-4666-8666-000000000004 \
            --user-type SYSTEM --roles INDEXER --tenant pg --secret "$JWT_SECRET" --ttl-seconds 31536000)
    fi
    if [[ -z ${STACK_ADAPTER_TOKEN:-} ]]; then
        STACK_ADAPTER_TOKEN=$("$digitctl" token --user-uuid 66666666-6666-4666-8666-000000000003 \
            --user-type SYSTEM --roles IFIX_ADAPTER --tenant pg --secret "$JWT_SECRET" --ttl-seconds 31536000)
    fi
}

bin_dir() {
    if [[ -n ${STACK_BIN_DIR:-} ]]; then
        echo "$STACK_BIN_DIR"
    else
        echo "${CARGO_TARGET_DIR:-$REPO_ROOT/target}/$STACK_PROFILE"
    fi
}

# The last lines the service wrote since its latest start (start_bg writes a ===== marker).
log_tail() {
    [[ -f $1 ]] || return 0
    { tac "$1" | sed '/^===== /q' | tac | tail -n "${2:-40}" >&2; } || true
}

# A context path of `/` (the JIT simulator) has its health at /health.
health_url() { echo "http://127.0.0.1:$1${2%/}/health"; }

healthy() {
    local body
    body=$(curl -s --max-time 2 "$(health_url "$1" "$2")" 2>/dev/null) || return 1
    [[ $body =~ \"status\"[[:space:]]*:[[:space:]]*\"UP\" ]]
}

# Settings shared by every service. A value already in the environment wins.
export_common_env() {
    export DB_URL="${DB_URL:-postgres://postgres@$PG_HOST:$PG_PORT/$STACK_DB_NAME}"
    IFMS_DB_URL="${IFMS_DB_URL:-postgres://postgres@$PG_HOST:$PG_PORT/${STACK_DB_NAME}_ifms}"
    export DB_MAX_CONNECTIONS="${DB_MAX_CONNECTIONS:-5}"
    export DB_MIGRATE="${DB_MIGRATE:-true}"
    export KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-$KAFKA_HOST:$KAFKA_PORT}"
    export AUTH_MODE="${AUTH_MODE:-jwt}"
    # Dev-only secret; `digitctl token` uses the same default. Never use it outside a laptop.
    export JWT_SECRET="${JWT_SECRET:-digit-dev-secret-change-me}"
    # Dev-only key for disbursement PII at rest (program); production supplies its own.
    export PROGRAM_PII_KEYS="${PROGRAM_PII_KEYS:-dev:ZGlnaXQtcnMtZGV2LXBpaS1rZXktMzItYnl0ZXMhISE=}"
    export MDMS_CONFIG_PATH="${MDMS_CONFIG_PATH:-$REPO_ROOT/configs/mdms}"
    export WORKFLOW_CONFIG_PATH="${WORKFLOW_CONFIG_PATH:-$REPO_ROOT/configs/workflow}"
    export USER_CONFIG_PATH="${USER_CONFIG_PATH:-$REPO_ROOT/configs/users}"
    export EGOV_PERSIST_YML_REPO_PATH="${EGOV_PERSIST_YML_REPO_PATH:-$REPO_ROOT/configs/persister}"
    export STATE_LEVEL_TENANT_ID="${STATE_LEVEL_TENANT_ID:-pg}"
    export ELASTICSEARCH_URL="${ELASTICSEARCH_URL:-http://$ES_HOST:$ES_PORT}"
    export LOG_FORMAT="${LOG_FORMAT:-pretty}"
    export SHUTDOWN_TIMEOUT_SECONDS="${SHUTDOWN_TIMEOUT_SECONDS:-10}"
}

ensure_database() {
    # Only for the default URLs: a DB_URL given by the caller is the caller's business.
    command -v psql >/dev/null 2>&1 || die "psql not found; run scripts/deps.sh postgres"
    local psql=(psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -Atq) db
    for db in "$STACK_DB_NAME" "${STACK_DB_NAME}_ifms"; do
        [[ $DB_URL == "postgres://postgres@$PG_HOST:$PG_PORT/$STACK_DB_NAME" || $db != "$STACK_DB_NAME" ]] || continue
        [[ $IFMS_DB_URL == "postgres://postgres@$PG_HOST:$PG_PORT/${STACK_DB_NAME}_ifms" || $db == "$STACK_DB_NAME" ]] || continue
        if [[ $("${psql[@]}" -c "select 1 from pg_database where datname = '$db'") != 1 ]]; then
            log "creating database $db"
            "${psql[@]}" -c "create database \"$db\"" ||
                [[ $("${psql[@]}" -c "select 1 from pg_database where datname = '$db'") == 1 ]]
        fi
    done
}

build() {
    if [[ ${STACK_SKIP_BUILD:-0} == 1 || -n ${STACK_BIN_DIR:-} ]]; then
        return 0
    fi
    local args=(build --bins)
    [[ $STACK_PROFILE == release ]] && args+=(--release)
    [[ $STACK_PROFILE == debug || $STACK_PROFILE == release ]] || args+=(--profile "$STACK_PROFILE")
    log "cargo ${args[*]}"
    (cd "$REPO_ROOT" && cargo "${args[@]}")
}

start_service() {
    local name=$1 port=$2 ctx=$3 binary=${4:-$1}
    local pidfile="$PID_DIR/$name.pid" logfile="$LOG_DIR/$name.log" bin
    bin="$(bin_dir)/$binary"
    [[ -x $bin ]] || die "$name: $bin not found (did cargo build --bins succeed?)"
    if pid_alive "$pidfile"; then
        if [[ $bin -nt $pidfile ]]; then
            log "$name: binary rebuilt since start; restarting"
            stop_pidfile "$pidfile" "$name"
        elif healthy "$port" "$ctx"; then
            log "$name: already running (pid $(pidfile_pid "$pidfile")), healthy"
            return 0
        else
            log "$name: already running (pid $(pidfile_pid "$pidfile")), not healthy yet"
            return 0
        fi
    fi
    rm -f "$pidfile"
    if port_open 127.0.0.1 "$port"; then
        local var=${name^^}
        die "$name: port $port is taken by a process these scripts did not start (set ${var//-/_}_PORT?)"
    fi
    log "$name: starting on :$port$ctx"
    instance_env "$name"
    # The service's own port and context path; aliases unset so they cannot disagree.
    (
        cd "$REPO_ROOT"
        start_bg "$pidfile" "$logfile" env \
            -u SERVER_CONTEXTPATH -u SERVER_SERVLET_CONTEXT_PATH \
            SERVER_PORT="$port" SERVER_CONTEXT_PATH="$ctx" \
            "${INSTANCE_ENV[@]+"${INSTANCE_ENV[@]}"}" \
            "$bin"
    )
}

wait_healthy() {
    local deadline=$((SECONDS + STACK_WAIT_SECONDS)) pending=("${SERVICES[@]}") still failed=0 line name port ctx
    while ((${#pending[@]} > 0)); do
        still=()
        for line in "${pending[@]}"; do
            read -r name port ctx _ <<<"$line"
            if healthy "$port" "$ctx"; then
                log "$name: UP"
            elif ! pid_alive "$PID_DIR/$name.pid"; then
                log "$name: exited before becoming healthy; last lines of $LOG_DIR/$name.log:"
                log_tail "$LOG_DIR/$name.log"
                failed=1
            else
                still+=("$line")
            fi
        done
        pending=("${still[@]+"${still[@]}"}")
        ((${#pending[@]} > 0)) || break
        if ((SECONDS >= deadline)); then
            for line in "${pending[@]}"; do
                read -r name port ctx _ <<<"$line"
                log "$name: not healthy after ${STACK_WAIT_SECONDS}s ($(health_url "$port" "$ctx")); last lines of $LOG_DIR/$name.log:"
                log_tail "$LOG_DIR/$name.log"
            done
            failed=1
            break
        fi
        sleep 1
    done
    return $failed
}

print_urls() {
    local line name port ctx
    printf '\n%-16s %-8s %s\n' SERVICE PID "HEALTH URL"
    for line in "${SERVICES[@]}"; do
        read -r name port ctx _ <<<"$line"
        printf '%-16s %-8s %s\n' "$name" "$(pidfile_pid "$PID_DIR/$name.pid" || echo -)" "$(health_url "$port" "$ctx")"
    done
    printf '\nKafka %s   Elasticsearch %s   Postgres %s\n' "$KAFKA_BOOTSTRAP_SERVERS" "$ELASTICSEARCH_URL" "${DB_URL%%\?*}"
    printf 'Logs: %s/<service>.log   Token: cargo run -q -p digit-cli --bin digitctl -- token --help\n\n' "$LOG_DIR"
}

cmd_up() {
    command -v curl >/dev/null 2>&1 || die "curl not found (apt-get install curl)"
    mkdir -p "$PID_DIR" "$LOG_DIR"
    export_common_env
    build
    "$REPO_ROOT/scripts/infra.sh" start
    ensure_database
    mint_service_tokens
    local line name port ctx binary
    for line in "${SERVICES[@]}"; do
        read -r name port ctx binary <<<"$line"
        start_service "$name" "$port" "$ctx" "$binary"
    done
    if ! wait_healthy; then
        log "some services are not healthy; see the logs above (scripts/stack.sh down stops everything)"
        return 1
    fi
    print_urls
}

cmd_down() {
    local line name _port _ctx
    # Two waves, each in parallel: the APIs first (their in-flight writes wait on the
    # persister), then the consumers (persister, indexer).
    for line in "${SERVICES[@]}"; do
        read -r name _port _ctx _ <<<"$line"
        [[ $name == persister || $name == indexer ]] && continue
        stop_pidfile "$PID_DIR/$name.pid" "$name" "${STACK_STOP_SECONDS:-40}" &
    done
    wait
    for name in indexer persister; do
        stop_pidfile "$PID_DIR/$name.pid" "$name" "${STACK_STOP_SECONDS:-40}" &
    done
    wait
    # `make test` stops only the services it started; the infra is its own business.
    [[ ${STACK_KEEP_INFRA:-0} == 1 ]] || "$REPO_ROOT/scripts/infra.sh" stop
}

cmd_status() {
    local line name port ctx state
    printf '%-16s %-34s %s\n' SERVICE ADDRESS STATE
    for line in "${SERVICES[@]}"; do
        read -r name port ctx _ <<<"$line"
        if pid_alive "$PID_DIR/$name.pid"; then
            state="running (pid $(pidfile_pid "$PID_DIR/$name.pid"))"
        elif port_open 127.0.0.1 "$port"; then
            state="port taken by another process"
        else
            state="stopped"
        fi
        if healthy "$port" "$ctx"; then state+=", UP"; fi
        printf '%-16s %-34s %s\n' "$name" "127.0.0.1:$port$ctx" "$state"
    done
    "$REPO_ROOT/scripts/infra.sh" status
}

case ${1:-} in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    *)
        echo "usage: $0 up|down|status" >&2
        exit 2
        ;;
esac
