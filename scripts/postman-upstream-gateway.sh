#!/usr/bin/env bash
# Run upstream's platform collections — copied unchanged into tests/postman/upstream/ — with
# newman against the running suite through its one entry point (the gateway, :8080), as
# upstream runs them against its Kong gateway:
#
#   digit-core-validation   health of every platform service + smoke searches
#                           (expectations: tests/postman/upstream/core-validation-expected.json)
#   complaints-demo         employee login → MDMS ServiceDefs → PGR create → assign → resolve
#                           → rate & close → search, upstream's own assertions
#   CCRS-Demo               employee login → MDMS ServiceDefs (its flow then names a request
#                           it does not have, "PGR Create", and stops — upstream's too); then
#                           all its requests but the file upload, with their own scripts and
#                           assertions, in the order tests/postman/upstream/ccrs-demo-order.json
#                           gives and explains (scripts/postman-ordered-run.js): citizen OTP
#                           login, reject, citizen reopen, assign, re-assign, resolve, search,
#                           citizen rate & close
#
# The PGR collections run with newman itself and only our environment file
# (tests/postman/upstream/pgr-demo.postman_environment.json: base URL, tenant, CI-ADMIN).
#
#   scripts/postman-upstream-gateway.sh        needs `make up` (or the suite `make test` starts)
#
# scripts/postman-upstream-run.js points each request at the gateway, sends a dev token and
# checks the status (and error codes) the expectations file names, with the reason.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

base="http://127.0.0.1:${GATEWAY_PORT:-8080}"
curl -sf --max-time 2 "$base/health" >/dev/null || die "the gateway does not answer on $base (make up)"
digitctl="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/${STACK_PROFILE:-debug}/digitctl"
[[ -x $digitctl ]] || die "$digitctl not found (cargo build --bins)"
token=$("$digitctl" token --user-uuid 11111111-1111-4111-8111-000000000001 --user-type EMPLOYEE \
    --roles GRO,EMPLOYEE --tenant pg.citya --secret "${JWT_SECRET:-digit-dev-secret-change-me}")
# Right after `make up` the workflow configs may still be on their way (lib.sh).
wait_for_pgr_workflow "$token"
run_dir="$DIGIT_RUN_DIR/postman-upstream-gateway"
mkdir -p "$run_dir"
rc=0
for pair in "digit-core-validation:core-validation-expected.json"; do
    c=${pair%%:*} expected=${pair#*:}
    log "newman (library) run upstream '$c.postman_collection.json' through $base"
    NEWMAN_PREFIX="$NEWMAN_PREFIX" node scripts/postman-upstream-run.js \
        "tests/postman/upstream/$c.postman_collection.json" "tests/postman/upstream/$expected" \
        "$base" "$token" "$run_dir/newman-$c.json" >"$run_dir/newman-$c.txt" 2>&1 || rc=1
    tail -n 25 "$run_dir/newman-$c.txt" >&2
done
newman=$(newman_bin)
for spec in complaints-demo:7 CCRS-Demo:2; do
    c=${spec%%:*} min_requests=${spec#*:}
    log "$newman run upstream '$c.postman_collection.json' -e pgr-demo.postman_environment.json"
    report="$run_dir/newman-$c.json"
    "$newman" run "tests/postman/upstream/$c.postman_collection.json" \
        -e tests/postman/upstream/pgr-demo.postman_environment.json --color off --timeout-request 15000 \
        --reporters cli,json --reporter-json-export "$report" >"$run_dir/newman-$c.txt" 2>&1 || rc=1
    tail -n 22 "$run_dir/newman-$c.txt" >&2
    # A run that stopped early would pass with nothing checked: it must have gone the whole way.
    python3 - "$report" "$c" "$min_requests" <<'PY' || rc=1
import json, sys
run = json.load(open(sys.argv[1]))["run"]
s = run["stats"]
print(f"[postman-upstream] {sys.argv[2]}: requests {s['requests']['total']}, assertions {s['assertions']['total']}, "
      f"failed {s['assertions']['failed']}, request errors {s['requests']['failed']}", file=sys.stderr)
sys.exit(0 if s["requests"]["total"] >= int(sys.argv[3]) and s["assertions"]["failed"] == 0 and s["requests"]["failed"] == 0 else 1)
PY
done
log "newman (library) run upstream 'CCRS-Demo.postman_collection.json' in the order of ccrs-demo-order.json"
NEWMAN_PREFIX="$NEWMAN_PREFIX" node scripts/postman-ordered-run.js \
    tests/postman/upstream/CCRS-Demo.postman_collection.json \
    tests/postman/upstream/pgr-demo.postman_environment.json \
    tests/postman/upstream/ccrs-demo-order.json "$run_dir/ordered-CCRS-Demo.json" \
    >"$run_dir/ordered-CCRS-Demo.txt" 2>&1 || rc=1
grep '^\[postman-ordered\]' "$run_dir/ordered-CCRS-Demo.txt" >&2 || tail -n 30 "$run_dir/ordered-CCRS-Demo.txt" >&2
exit $rc
