#!/usr/bin/env bash
# Contract fuzzing: schemathesis against every OpenAPI document of the running suite.
#
#   scripts/fuzz.sh [NAME ...]     all documents of `scripts/openapi.sh list`, or these
#
# Every operation of every document, through the gateway (GATEWAY_PORT, 8080), with a dev
# token that holds every role of the seed (minted by digitctl with JWT_SECRET): the examples,
# coverage (boundary and malformed values) and fuzzing phases, positive and negative data.
# A run fails on any 5xx, any response that does not match its documented schema, status or
# content type, and any request slower than FUZZ_MAX_RESPONSE_S (5) or hanging past
# FUZZ_TIMEOUT_S (10). Bounded: FUZZ_MAX_EXAMPLES (8) cases per operation and phase;
# FUZZ_JOBS (2) documents at a time.
# FUZZ_SEED (fixed by default, so a CI failure reproduces) picks the data.
# Logs: .run/logs/fuzz-<name>.log; reproductions: .run/fuzz/<name>/.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

st="$SCHEMATHESIS_VENV/bin/st"
[[ -x $st ]] || die "schemathesis not found; run scripts/deps.sh schemathesis"
base="http://127.0.0.1:${GATEWAY_PORT:-8080}"
digitctl="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/${STACK_PROFILE:-debug}/digitctl"
[[ -x $digitctl ]] || die "digitctl not built ($digitctl); cargo build -p digit-cli"

# Every role the seed's role-actions name, at the state level and in the demo city.
roles=$(grep -rhoE '"rolecode": *"[A-Z_]+"' configs | sed -E 's/.*"([A-Z_]+)"$/\1/' | sort -u |
    awk '{ printf "%s%s@pg,%s@pg.citya", (NR > 1 ? "," : ""), $1, $1 }')
token=$("$digitctl" token --user-uuid 11111111-1111-1111-1111-111111111111 --user-name fuzzer \
    --user-type EMPLOYEE --tenant pg.citya --roles "$roles" \
    --secret "${JWT_SECRET:-digit-dev-secret-change-me}")

LOG_DIR="$DIGIT_RUN_DIR/logs"
mkdir -p "$LOG_DIR" "$DIGIT_RUN_DIR/fuzz"
results="$DIGIT_RUN_DIR/fuzz/results"
: >"$results"

# One document: its log, a result line "name rc operations cases outcome" in $results.
fuzz_one() {
    local name=$1 context=$2 log_file="$LOG_DIR/fuzz-$1.log" report_dir="$DIGIT_RUN_DIR/fuzz/$1"
    local start=$SECONDS rc=0 ops cases outcome
    rm -rf "$report_dir"
    # One worker per process: schemathesis' threads trip a CPython 3.11 compiler bug
    # ("AST constructor recursion depth mismatch"); documents run side by side instead.
    "$st" run "$base$context/openapi.json" --url "$base" --no-color \
        -H "Authorization: Bearer $token" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
        --mode all --phases examples,coverage,fuzzing \
        --max-examples "${FUZZ_MAX_EXAMPLES:-8}" --seed "${FUZZ_SEED:-20261203}" \
        --max-response-time "${FUZZ_MAX_RESPONSE_S:-5}" --request-timeout "${FUZZ_TIMEOUT_S:-10}" \
        --workers 1 --suppress-health-check all --generation-database none \
        --report junit,pytest --report-dir "$report_dir" >"$log_file" 2>&1 || rc=$?
    ops=$(grep -oE 'Tested: [0-9]+' "$log_file" | grep -oE '[0-9]+' | tail -1 || true)
    cases=$(grep -oE '[0-9]+ generated' "$log_file" | grep -oE '[0-9]+' | tail -1 || true)
    outcome=$(grep -E '^Test cases:' -A1 "$log_file" | tail -1 | sed -E 's/^ +//' || true)
    if ((rc != 0)); then
        log "$name ($context): FAILED in $((SECONDS - start))s — ${ops:-?} operations, ${outcome:-no summary}"
        sed -n '/= FAILURES =/,/= WARNINGS =/p' "$log_file" | head -80 >&2
        grep -E 'Error|error' "$log_file" | grep -v '^ *-' | head -5 >&2 || true
    else
        log "$name ($context): ${ops:-?} operations, $outcome, in $((SECONDS - start))s"
    fi
    printf '%s %s %s %s\n' "$name" "$rc" "${ops:-0}" "${cases:-0}" >>"$results"
}

names=("$@")
jobs_max=${FUZZ_JOBS:-2}
while read -r name context; do
    if ((${#names[@]} > 0)) && [[ " ${names[*]} " != *" $name "* ]]; then continue; fi
    while (($(jobs -rp | wc -l) >= jobs_max)); do wait -n || true; done
    fuzz_one "$name" "$context" &
done < <(scripts/openapi.sh list)
wait
failed=$(awk '$2 != 0 { printf "%s ", $1 }' "$results")
read -r total_ops total_cases documents < <(awk '{ o += $3; c += $4; n++ } END { print o + 0, c + 0, n + 0 }' "$results")
log "fuzz: documents $documents, operations $total_ops, test cases $total_cases, documents failed $(wc -w <<<"$failed")${failed:+ ($failed)}"
[[ -z $failed ]]
