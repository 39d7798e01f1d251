#!/usr/bin/env bash
# The OpenAPI documents the running suite serves, against the committed copies.
#
#   scripts/openapi.sh check     every document equals docs/openapi/<name>.json (make test)
#   scripts/openapi.sh write     rewrites docs/openapi/ from the running suite
#   scripts/openapi.sh list      prints "<name> <context>" per document (used by fuzz.sh)
#
# Each document is generated from the handlers' types and served at <context>/openapi.json
# (Swagger UI at <context>/docs); all are fetched through the gateway (GATEWAY_PORT, 8080).
# A difference means the API changed: review it, then `scripts/openapi.sh write`.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

base="http://127.0.0.1:${GATEWAY_PORT:-8080}"
dir="$REPO_ROOT/docs/openapi"

# name context — one line per document (a document served at several context paths is
# listed once, at its first).
documents() {
    cat <<'LIST'
pgr-services /pgr-services
egov-workflow-v2 /egov-workflow-v2
user /user
filestore /filestore
egov-mdms-service /egov-mdms-service
egov-idgen /egov-idgen
localization /localization
sor-rates /sor-rates
program-service /program-service
ifix-masters /ifix-master-data
digit-exchange /digit-exchange
ifms-adapter /ifms
egov-indexer /egov-indexer
persister /common-persist
LIST
}

fetch() { # context file
    curl -sf --max-time 10 "$base$1/openapi.json" -o "$2" ||
        { log "GET $base$1/openapi.json failed"; return 1; }
}

# Canonical form for comparison: parsed JSON, keys in their order, two-space indent.
canonical() { python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), indent=2, ensure_ascii=False))' "$1"; }

cmd=${1:-check}
case $cmd in
    list) documents ;;
    write)
        mkdir -p "$dir"
        while read -r name context; do
            tmp=$(mktemp)
            fetch "$context" "$tmp"
            canonical "$tmp" >"$dir/$name.json"
            rm -f "$tmp"
            log "wrote docs/openapi/$name.json ($(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(len(v) for v in d.get("paths",{}).values()))' "$dir/$name.json") operations)"
        done < <(documents)
        ;;
    check)
        failed=0 total=0 ops=0
        while read -r name context; do
            total=$((total + 1))
            tmp=$(mktemp)
            if ! fetch "$context" "$tmp"; then
                failed=$((failed + 1)); rm -f "$tmp"; continue
            fi
            if [[ ! -f $dir/$name.json ]]; then
                log "$name: docs/openapi/$name.json is missing (scripts/openapi.sh write)"
                failed=$((failed + 1))
            elif ! diff -u "$dir/$name.json" <(canonical "$tmp") >"$tmp.diff"; then
                log "$name: served document differs from docs/openapi/$name.json (first lines):"
                head -40 "$tmp.diff" >&2
                failed=$((failed + 1))
            else
                ops=$((ops + $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(len(v) for v in d.get("paths",{}).values()))' "$tmp")))
            fi
            rm -f "$tmp" "$tmp.diff"
        done < <(documents)
        log "documents: $total, equal to the committed copy: $((total - failed)), operations: $ops"
        ((failed == 0))
        ;;
    *) die "usage: scripts/openapi.sh check|write|list" ;;
esac
