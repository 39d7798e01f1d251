#!/usr/bin/env bash
# `make test`: dependencies → build → infra → the workspace tests → static checks.
#
#   1. scripts/deps.sh           Postgres, Apache Kafka's jars (Maven Central), osmem-server, moto,
#                                docker-compose, helm engine (each skipped when present)
#   2. build the tests           cargo nextest run --no-run (cargo test --no-run without nextest)
#   3. scripts/infra.sh start    Apache Kafka on 127.0.0.1:9092, osmem on 127.0.0.1:9200 (left
#                                alone when already running; stopped again at the end only if
#                                this run started it, unless INFRA_KEEP=1). A broker this run
#                                starts keeps its data in .run/kafka-test, wiped first, so every
#                                run begins with no topics and no group offsets.
#   4. cargo nextest run --workspace --all-targets --no-fail-fast, then the doctests, with
#      TEST_DATABASE_URL, TEST_KAFKA_BROKERS, TEST_ELASTICSEARCH_URL set
#   4b. the Postman collection (tests/postman) with newman against the suite started by
#      scripts/stack.sh on database digit_test, through the gateway (TEST_POSTMAN=0 skips it),
#      then upstream's collections (scripts/postman-upstream-gateway.sh, postman-upstream.sh),
#      then the OpenAPI documents against docs/openapi (scripts/openapi.sh check) and
#      schemathesis over every operation (scripts/fuzz.sh; TEST_FUZZ=0 skips it)
#   5. scripts/compose-check.sh  docker-compose.yml is valid (no engine needed);
#      scripts/helm-check.sh     helm/digit-rs lints and renders
#   6. when CI=true (or TEST_LINT=1): cargo fmt --check and cargo clippy -D warnings.
#      Skipped by default locally: clippy type-checks every dependency a second time (a few
#      minutes on a cold 2-core machine, about half a debug build); `make lint` runs it.
#
# Every step runs even when an earlier one failed; the exit code is non-zero if any failed,
# and the test runner's summary line is printed again last.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

PID_DIR="$DIGIT_RUN_DIR/pids"
LOG_DIR="$DIGIT_RUN_DIR/logs"
mkdir -p "$PID_DIR" "$LOG_DIR"

lint=${TEST_LINT:-}
if [[ -z $lint ]]; then
    [[ ${CI:-} == true || ${CI:-} == 1 ]] && lint=1 || lint=0
fi

declare -a failures=()
step_name="" step_start=$SECONDS
step_end() {
    if [[ -n $step_name ]]; then
        printf '[test] <== %s: %ss\n' "$step_name" "$((SECONDS - step_start))" >&2
    fi
    step_name=""
}
step() {
    step_end
    step_name=$*
    step_start=$SECONDS
    printf '\n[test] ==> %s\n' "$*" >&2
}

# Runs a command with its output teed to a log; returns the command's exit status.
run_logged() {
    local logfile=$1 rc
    shift
    set +e
    "$@" 2>&1 | tee "$logfile"
    rc=${PIPESTATUS[0]}
    set -e
    return "$rc"
}

have_nextest=0
cargo nextest --version >/dev/null 2>&1 && have_nextest=1
nextest_args=(--workspace --all-targets --no-fail-fast --no-tests=warn
    --tool-config-file "digit-rs:$REPO_ROOT/scripts/nextest.toml")

t0=$SECONDS

# --- 1. dependencies ---------------------------------------------------------------------
step "dependencies"
scripts/deps.sh base postgres kafka osmem s3 schemathesis compose helm chromium || failures+=("deps")

# --- 2. build ----------------------------------------------------------------------------
if [[ $have_nextest == 1 ]]; then
    step "build: cargo nextest run --no-run"
    # Errors show again in step 4.
    cargo nextest run --workspace --all-targets --no-run || true
else
    step "build: cargo test --no-run"
    cargo test --workspace --all-targets --no-run || true
fi

# --- 3. infra ----------------------------------------------------------------------------
step "infra"
started_kafka=0 started_osmem=0
pid_alive "$PID_DIR/kafka.pid" || started_kafka=1
pid_alive "$PID_DIR/osmem.pid" || started_osmem=1
cleanup() {
    [[ ${INFRA_KEEP:-0} == 1 ]] && return 0
    # Only what this run started; a stack from `make up` keeps its broker.
    if [[ $started_osmem == 1 ]]; then stop_pidfile "$PID_DIR/osmem.pid" osmem; fi
    if [[ $started_kafka == 1 ]]; then stop_pidfile "$PID_DIR/kafka.pid" kafka 30; fi
    started_osmem=0 started_kafka=0
}
trap cleanup EXIT
# A broker started here gets an empty data directory of its own (a `make up` broker keeps
# its .run/kafka; its old messages would otherwise replay into the Postman suite's new group).
KAFKA_DIR="$DIGIT_RUN_DIR/kafka-test" KAFKA_FRESH=$started_kafka scripts/infra.sh start || failures+=("infra")
# A port answering without our pid file belongs to someone else: never stop it.
pid_alive "$PID_DIR/kafka.pid" || started_kafka=0
pid_alive "$PID_DIR/osmem.pid" || started_osmem=0

export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@$PG_HOST:$PG_PORT/postgres}"
export TEST_KAFKA_BROKERS="${TEST_KAFKA_BROKERS:-$KAFKA_HOST:$KAFKA_PORT}"
export TEST_ELASTICSEARCH_URL="${TEST_ELASTICSEARCH_URL:-http://$ES_HOST:$ES_PORT}"
log "TEST_DATABASE_URL=$TEST_DATABASE_URL TEST_KAFKA_BROKERS=$TEST_KAFKA_BROKERS TEST_ELASTICSEARCH_URL=$TEST_ELASTICSEARCH_URL"
# The filestore's S3 test starts its own moto server with this interpreter (scripts/deps.sh s3).
export TEST_S3_PYTHON="${TEST_S3_PYTHON:-$OSMEM_VENV/bin/python}"

# --- 4. tests ----------------------------------------------------------------------------
out="$LOG_DIR/test-output.log"
summary=""
if [[ $have_nextest == 1 ]]; then
    step "cargo nextest run --workspace --all-targets --no-fail-fast"
    run_logged "$out" cargo nextest run "${nextest_args[@]}" || failures+=("nextest (exit $?)")
    summary=$(grep -E '^[[:space:]]*Summary \[' "$out" | tail -n 1 || true)

    step "cargo test --workspace --doc (nextest does not run doctests)"
    doc_log="$LOG_DIR/test-doc-output.log"
    if ! run_logged "$doc_log" cargo test --workspace --doc --no-fail-fast; then
        # A workspace without any library target makes `--doc` fail with "no library targets".
        grep -q 'no library targets found' "$doc_log" || failures+=("doctests")
    fi
else
    step "cargo-nextest not found: cargo test --workspace --all-targets --no-fail-fast"
    run_logged "$out" cargo test --workspace --all-targets --no-fail-fast || failures+=("cargo test (exit $?)")
    # One plain closing line for the whole run: "tests: N passed, N failed, N skipped".
    summary=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) {
            if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
        END { printf "tests: %d passed, %d failed, %d skipped", p, f, s }' "$out")
fi

# --- 4b. the Postman collection against the running suite --------------------------------
# newman from npm (cached under DIGIT_CACHE_DIR); the suite from scripts/stack.sh on its own
# database (digit_test). A suite that is already up (`make up`) is used as it is and left running.
if [[ ${TEST_POSTMAN:-1} == 1 ]]; then
    step "postman: suite up + newman run tests/postman"
    stack_started=0
    if ! curl -sf --max-time 2 "http://127.0.0.1:${PGR_PORT:-8081}/pgr-services/health" >/dev/null 2>&1; then
        stack_started=1
    fi
    if ! scripts/deps.sh newman; then
        failures+=("postman: newman install")
    elif [[ $stack_started == 1 ]] && ! {
        # A fresh database and consumer group each run: no state from an earlier suite. (On a
        # broker that outlived earlier `make up` runs, a fresh group replays their messages;
        # `make down` first, so this run starts its own empty broker.)
        psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -qc 'DROP DATABASE IF EXISTS digit_test WITH (FORCE)' >/dev/null &&
            PERSISTER_GROUP_ID="digit-test-$$-$RANDOM" STACK_DB_NAME=digit_test LOG_FORMAT=json scripts/stack.sh up
    }; then
        failures+=("postman: suite did not come up")
    else
        scripts/postman.sh || failures+=("postman")
        # The dashboard on the end-to-end data just indexed (headless Chromium).
        scripts/dashboard-check.sh || failures+=("dashboard-check")
        # Upstream's platform collections through the gateway.
        scripts/postman-upstream-gateway.sh || failures+=("postman: upstream collections through the gateway")
        # Upstream's own program-service collection, on an open-access instance of ours.
        STACK_DB_NAME=digit_test scripts/postman-upstream.sh || failures+=("postman: upstream Program Service collection")
        # The OpenAPI documents as served equal the committed docs/openapi/ copies; then
        # schemathesis attacks every operation of every document (last: it leaves junk data).
        scripts/openapi.sh check || failures+=("openapi: served documents differ from docs/openapi")
        if [[ ${TEST_FUZZ:-1} == 1 ]]; then
            scripts/fuzz.sh || failures+=("fuzz: schemathesis found failures")
        fi
    fi
    if [[ $stack_started == 1 ]]; then
        STACK_KEEP_INFRA=1 scripts/stack.sh down || true
    fi
fi

# --- 5. static checks --------------------------------------------------------------------
step "compose-check"
scripts/compose-check.sh || failures+=("compose-check")

step "helm-check"
scripts/helm-check.sh || failures+=("helm-check")

# --- 6. lint (CI) ------------------------------------------------------------------------
if [[ $lint == 1 ]]; then
    step "lint: cargo fmt --all -- --check"
    cargo fmt --all -- --check --color never || failures+=("cargo fmt --check")
    step "lint: cargo clippy --workspace --all-targets -- -D warnings"
    cargo clippy --workspace --all-targets -- -D warnings || failures+=("clippy")
fi

step_end
cleanup
trap - EXIT
printf '\n[test] finished in %ss\n' "$((SECONDS - t0))" >&2
if ((${#failures[@]} > 0)); then
    printf '[test] FAILED: %s\n' "${failures[*]}" >&2
fi
[[ -n $summary ]] && printf '%s\n' "$summary"
((${#failures[@]} == 0))
