#!/usr/bin/env bash
# Run upstream's own "Program Service" Postman collection (byte-identical, under
# ../shared/upstream/ifix/postman/, copied into tests/postman/upstream/) with newman against a
# program service started for it in the documented open mode (PROGRAM_OPEN_ACCESS=true:
# upstream's collection carries no token), on a fresh database of its own and the suite's broker.
#
#   scripts/postman-upstream.sh            needs the suite's Postgres and Kafka (make up / make test)
#
# The instance uses the collection's identities: it is `https://unified-qa.digit.org` (the
# collection's senderId, the receiver of program/_create), and MDMS `exchange.ExchangeServers`
# MUKTA is `https://unified-dev.digit.org` (the receiver of every on-* reply), from a copy of
# configs/mdms with that row changed. Requests whose expectation upstream itself cannot meet are
# listed in tests/postman/upstream/expected-failures.txt with the reason; any other failure, or
# an expected failure that now passes, fails the run.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

port=${PROGRAM_UPSTREAM_PORT:-8193}
collection="tests/postman/upstream/Program Service.postman_collection.json"
expected=tests/postman/upstream/expected-failures.txt
newman=$(newman_bin)
[[ -x $newman ]] || die "newman not found; run scripts/deps.sh newman"
bin="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/${STACK_PROFILE:-debug}/program"
[[ -x $bin ]] || die "$bin not found (cargo build --bins)"

run_dir="$DIGIT_RUN_DIR/postman-upstream"
rm -rf "$run_dir" && mkdir -p "$run_dir"
cp -r configs/mdms "$run_dir/mdms"
python3 - "$run_dir/mdms" <<'PY'
import json, pathlib, sys
p = pathlib.Path(sys.argv[1]) / "pg/exchange/ExchangeServers.json"
doc = json.loads(p.read_text())
for row in doc["ExchangeServers"]:
    if row["code"] == "MUKTA":
        row["hostUrl"] = "https://unified-dev.digit.org"
p.write_text(json.dumps(doc, indent=2))
PY

# A database of its own: its idgen codes must not meet the two-domain suite's programs.
db="${STACK_DB_NAME:-digit}_postman_upstream"
psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -qc "CREATE DATABASE \"$db\"" >/dev/null

pidfile="$run_dir/program.pid"
logfile="$DIGIT_RUN_DIR/logs/program-upstream-postman.log"
cleanup() { stop_pidfile "$pidfile" program-upstream || true; }
trap cleanup EXIT
log "program (open access) on :$port for upstream's collection"
start_bg "$pidfile" "$logfile" env \
    -u SERVER_CONTEXTPATH -u SERVER_SERVLET_CONTEXT_PATH \
    SERVER_PORT="$port" SERVER_CONTEXT_PATH=/program-service \
    DB_URL="postgres://postgres@$PG_HOST:$PG_PORT/$db" \
    KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-$KAFKA_HOST:$KAFKA_PORT}" \
    JWT_SECRET="${JWT_SECRET:-digit-dev-secret-change-me}" \
    PROGRAM_PII_KEYS="${PROGRAM_PII_KEYS:-dev:ZGlnaXQtcnMtZGV2LXBpaS1rZXktMzItYnl0ZXMhISE=}" \
    PROGRAM_OPEN_ACCESS=true \
    EXCHANGE_SERVICE_EXTERNAL_URL=https://unified-qa.digit.org \
    MDMS_CONFIG_PATH="$run_dir/mdms" \
    "$bin"
for _ in $(seq 1 60); do
    curl -sf --max-time 2 "http://127.0.0.1:$port/program-service/health" >/dev/null 2>&1 && break
    sleep 1
done
curl -sf --max-time 2 "http://127.0.0.1:$port/program-service/health" >/dev/null ||
    { log_tail "$logfile"; die "program (open access) did not come up on :$port"; }

report="$run_dir/newman.json"
log "$newman run upstream '$(basename "$collection")'"
"$newman" run "$collection" --color off --timeout-request 10000 \
    --env-var "base_url=http://127.0.0.1:$port" --env-var "base_url_2=http://127.0.0.1:$port" \
    --env-var "tenantId=pg.citya" \
    --reporters cli,json --reporter-json-export "$report" >"$run_dir/newman.txt" 2>&1 || true
tail -n 25 "$run_dir/newman.txt" >&2

python3 - "$report" "$expected" <<'PY'
import json, sys
report, expected_file = sys.argv[1], sys.argv[2]
run = json.load(open(report))["run"]
expected = {}
for line in open(expected_file, encoding="utf-8"):
    line = line.strip()
    if line and not line.startswith("#"):
        name, _, reason = line.partition("\t")
        expected[name.strip()] = reason.strip()
failed = {}
for e in run["executions"]:
    name = e["item"]["name"]
    for a in e.get("assertions", []) or []:
        if a.get("error"):
            failed.setdefault(name, []).append(a["assertion"])
    if e.get("requestError"):
        failed.setdefault(name, []).append("request error: %s" % e["requestError"].get("message"))
stats = run["stats"]
print(f"[postman-upstream] requests {stats['requests']['total']}, assertions {stats['assertions']['total']}, "
      f"failed assertions {stats['assertions']['failed']} in {len(failed)} requests "
      f"({len(expected)} expected to fail)", file=sys.stderr)
bad = False
for name, asserts in sorted(failed.items()):
    if name not in expected:
        bad = True
        print(f"[postman-upstream] UNEXPECTED failure: {name}: {asserts}", file=sys.stderr)
for name in sorted(expected):
    if name not in failed:
        bad = True
        print(f"[postman-upstream] now passes, remove from {expected_file}: {name}", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
