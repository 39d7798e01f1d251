#!/usr/bin/env bash
# Validate docker-compose.yml without a Docker engine: `docker-compose config -q`
# (Debian's docker-compose package, v1 on bookworm; `docker compose` v2 when that is what is
# installed). Installs Debian's docker-compose when neither is present.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

cmd=$(compose_cmd)
if [[ -z $cmd ]]; then
    scripts/deps.sh compose
    cmd=$(compose_cmd)
fi
[[ -n $cmd ]] || die "no docker-compose found"
log "$cmd -f docker-compose.yml config -q"
# shellcheck disable=SC2086
$cmd -f docker-compose.yml config -q
log "docker-compose.yml is valid ($($cmd version --short 2>/dev/null || $cmd version | head -1))"
