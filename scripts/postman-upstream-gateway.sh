#!/usr/bin/env bash
# Run upstream's platform collections — copied unchanged into tests/postman/upstream/ — with
# newman against the running suite through its one entry point (the gateway, :8080), as
# upstream runs them against its Kong gateway:
#
#   digit-core-validation   health of every platform service + smoke searches
#                           (expectations: tests/postman/upstream/core-validation-expected.json)
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
exit $rc
