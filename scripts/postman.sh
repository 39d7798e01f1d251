#!/usr/bin/env bash
# Run the Postman collection with newman against a running stack (`make up`).
#
#   scripts/postman.sh [ENVIRONMENT_JSON]      default tests/postman/local.postman_environment.json
#
# When digitctl is built (target/<profile>/digitctl), a dev token is minted with JWT_SECRET
# and passed as the authToken variable for requests that need one.
# Extra newman options: NEWMAN_OPTS="--verbose".
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

env_file=${1:-tests/postman/local.postman_environment.json}
collection=tests/postman/digit-rs.postman_collection.json
newman=$(newman_bin)
[[ -x $newman ]] || die "newman not found; run scripts/deps.sh newman"

args=(run "$collection" -e "$env_file" --timeout-request 10000 --color off)
digitctl="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/${STACK_PROFILE:-debug}/digitctl"
if [[ -x $digitctl ]]; then
    if token=$("$digitctl" token --user-uuid 11111111-1111-1111-1111-111111111111 \
        --user-type EMPLOYEE --roles GRO,CSR,EMPLOYEE --tenant pg.citya \
        --secret "${JWT_SECRET:-digit-dev-secret-change-me}" 2>/dev/null) && [[ -n $token ]]; then
        args+=(--env-var "authToken=$token")
    else
        log "digitctl could not mint a token; running without authToken"
    fi
fi
# Wait until the workflow configs are loaded (lib.sh).
if [[ -n ${token:-} ]]; then
    wait_for_pgr_workflow "$token"
fi
# shellcheck disable=SC2206
args+=(${NEWMAN_OPTS:-})
log "$newman run $collection -e $env_file"
exec "$newman" "${args[@]}"
