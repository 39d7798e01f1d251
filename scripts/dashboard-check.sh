#!/usr/bin/env bash
# The indexer's dashboard on the running suite, after the Postman run put end-to-end data in
# (PGR lifecycles, the iFIX flow, the IFMS story): headless Chromium loads
# /egov-indexer/dashboard, every chart renders, and each chart's total in the DOM equals the
# figure the summary API answers from Elasticsearch; a screenshot is kept as an artifact
# ($DIGIT_RUN_DIR/artifacts/dashboard-e2e.png). Also checks the figures are not empty: the
# Postman data must be there.
#
#   scripts/dashboard-check.sh            (INDEXER_PORT, CHROMIUM_BIN honoured)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

base="http://127.0.0.1:${INDEXER_PORT:-8087}/egov-indexer"
bin=$(chromium_bin)
[[ -n $bin ]] || die "chromium not found; run scripts/deps.sh chromium"
out="$DIGIT_RUN_DIR/artifacts"
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

curl -sf --max-time 20 -H 'Content-Type: application/json' -d '{}' "$base/dashboard/v1/_summary" >"$work/summary.json" ||
    die "dashboard: the summary API did not answer"
flags=(--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars
    --user-data-dir="$work/profile" --virtual-time-budget=15000)
"$bin" "${flags[@]}" --dump-dom "$base/dashboard" >"$work/dom.html" 2>"$work/chromium.log" ||
    { tail -20 "$work/chromium.log" >&2; die "dashboard: chromium failed"; }
"$bin" "${flags[@]}" --window-size=1400,2600 --screenshot="$out/dashboard-e2e.png" "$base/dashboard" \
    >/dev/null 2>>"$work/chromium.log" || { tail -20 "$work/chromium.log" >&2; die "dashboard: screenshot failed"; }

python3 - "$work/summary.json" "$work/dom.html" <<'PY'
import json, re, sys
summary = json.load(open(sys.argv[1]))
dom = open(sys.argv[2]).read()
fail = []
if 'data-state="ready"' not in dom:
    fail.append("the page did not reach data-state=ready")
totals = dict(re.findall(r'<span data-total="([^"]+)">([^<]*)</span>', dom))
c, pi, d, f, x = (summary[k] for k in ("complaints", "paymentInstructions", "disbursements", "funds", "exchange"))
want = {
    "complaintsByStatus": c["total"], "complaintsByWard": c["total"], "complaintsOverTime": c["overTime"]["total"],
    "citizens": c["citizens"], "slaBreaches": c["sla"]["breaches"],
    "paymentInstructionsByStatus": pi["count"], "disbursementsByStatus": d["count"],
    "fundsByProgramAndHead": f["sanctions"], "exchangeMessagesPerDay": x["total"],
}
def same(a, b):
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a) == str(b)
for chart, value in want.items():
    if chart not in totals:
        fail.append(f"chart {chart} has no total in the page")
    elif not same(totals[chart], value):
        fail.append(f"chart {chart}: page shows {totals[chart]}, API answers {value}")
for what, value in (("complaints", c["total"]), ("payment instructions", pi["count"]),
                    ("disbursements", d["count"]), ("sanctions", f["sanctions"]), ("exchange messages", x["total"])):
    if not value:
        fail.append(f"no {what} in Elasticsearch: the end-to-end data did not get indexed")
cards = dom.count('<section class="card"')
if cards != 9:
    fail.append(f"{cards} charts rendered, 9 expected")
if fail:
    print("[dashboard-check] FAILED:\n  " + "\n  ".join(fail), file=sys.stderr)
    sys.exit(1)
print(f"[dashboard-check] 9 charts, totals match the API: complaints {c['total']}, PIs {pi['count']}, "
      f"disbursements {d['count']}, sanctions {f['sanctions']}, exchange messages {x['total']}")
PY
log "screenshot: $out/dashboard-e2e.png"
