#!/usr/bin/env bash
# `make bench`: the load runs of README "Performance" in one go, on a fresh stack, with the
# CPU of every process — one markdown table.
#
#   scripts/bench.sh
#
#   1. scripts/deps.sh run; Kafka + osmem (scripts/infra.sh: a broker this run starts keeps
#      its data in .run/kafka-bench, wiped first; one already answering is reused and never
#      stopped); the databases digit_bench and digit_bench_ifms dropped, then
#      `scripts/stack.sh up` on them (STACK_PROFILE, default release) with a fresh
#      PERSISTER_GROUP_ID.
#   2. pgr-load 10 and 50 users on the empty database, pgr-load --seed, the same two runs at
#      that size; program-load disbursements on 100 sanctions (10 and 50 in flight) and
#      program-load --round-trip (10 in flight); then the stack is stopped (infra kept) and
#      persister-load runs (single, group commit, -batch; pgbench with 1 and 100 messages
#      per transaction).
#      Before each run the outboxes of both domains are drained (settle), so one run's
#      forwards through the exchanges do not flow through the next.
#   3. Meanwhile a sampler reads utime+stime of every process from /proc/<pid>/stat and the
#      machine's busy time from /proc/stat every BENCH_SAMPLE_SECONDS; each run's timed
#      window (from the tools' --summary-json) gives CPU % of one core per process group
#      (postgres, kafka, osmem, each service, the load tool, other), the machine's busy %
#      and Postgres CPU ms per operation.
#
# Output: the table on stdout and in target/bench/bench-<UTC stamp>.md; the tools' JSON
# summaries and logs, the CPU samples (cpu.jsonl) and, when Postgres preloads it, the top
# statements of pg_stat_statements per run in target/bench/bench-<stamp>/.
#
# Variables: STACK_PROFILE (release; debug shares the test build), BENCH_QUICK=1 (small counts
# to check the script), BENCH_LIFECYCLES (1000, 10 users), BENCH_LIFECYCLES_50 (3000),
# BENCH_SEED (1000000), BENCH_DISBURSEMENTS (3000), BENCH_ROUND_TRIPS (500),
# BENCH_PERSISTER_MESSAGES (20000), BENCH_PGBENCH_SECONDS (20), BENCH_PGBENCH_CLIENTS (8),
# BENCH_SAMPLE_SECONDS (0.5), BENCH_KEEP_INFRA=1 (leave the Kafka/osmem this run started),
# BENCH_DB_NAME (digit_bench), BENCH_DRAIN_SECONDS (600); every scripts/stack.sh variable (STACK_SKIP_BUILD, ports, …).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

export STACK_PROFILE="${STACK_PROFILE:-release}"
BENCH_DB_NAME="${BENCH_DB_NAME:-digit_bench}"
if [[ ${BENCH_QUICK:-0} == 1 ]]; then
    defaults=(100 100 10000 300 50 2000 5)
else
    defaults=(1000 3000 1000000 3000 500 20000 20)
fi
LIFECYCLES_10="${BENCH_LIFECYCLES:-${defaults[0]}}"
LIFECYCLES_50="${BENCH_LIFECYCLES_50:-${defaults[1]}}"
SEED="${BENCH_SEED:-${defaults[2]}}"
DISBURSEMENTS="${BENCH_DISBURSEMENTS:-${defaults[3]}}"
ROUND_TRIPS="${BENCH_ROUND_TRIPS:-${defaults[4]}}"
PERSISTER_MESSAGES="${BENCH_PERSISTER_MESSAGES:-${defaults[5]}}"
PGBENCH_SECONDS="${BENCH_PGBENCH_SECONDS:-${defaults[6]}}"
PGBENCH_CLIENTS="${BENCH_PGBENCH_CLIENTS:-8}"
SAMPLE_SECONDS="${BENCH_SAMPLE_SECONDS:-0.5}"

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT_ROOT="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/bench"
OUT="$OUT_ROOT/bench-$STAMP"
REPORT="$OUT_ROOT/bench-$STAMP.md"
BIN="${STACK_BIN_DIR:-${CARGO_TARGET_DIR:-$REPO_ROOT/target}/$STACK_PROFILE}"
PID_DIR="$DIGIT_RUN_DIR/pids"
mkdir -p "$OUT" "$PID_DIR"

# The CPU sampler and the report, in Python (python3 comes with scripts/deps.sh run).
# shellcheck disable=SC2016
PY='
import json, os, signal, sys, time

def proc_stat():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return sum(v[:8]) - idle, sum(v[:8])

def pidfiles(d):
    out = {}
    try:
        names = os.listdir(d)
    except OSError:
        return out
    for n in names:
        if n.endswith(".pid"):
            try:
                with open(os.path.join(d, n)) as f:
                    p = f.read().split()
                out[(int(p[0]), p[1] if len(p) > 1 else None)] = n[:-4]
            except (OSError, ValueError, IndexError):
                pass
    return out

SERVICES = {"pgr", "persister", "program", "digit-exchange", "ifms-adapter", "indexer", "gateway",
            "sor-rates", "jit-simulator", "mukta-simulator"}

def group(pid, comm, start, named):
    for (p, s), name in named.items():
        if p == pid and (s is None or s == start):
            return name
    if comm == "postgres" or comm.startswith("postgres:"):
        return "postgres"
    if comm == "java":
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                if b"kafka.Kafka" in f.read():
                    return "kafka"
        except OSError:
            pass
        return "java"
    if comm.startswith("osmem"):
        return "osmem"
    if comm in SERVICES or comm.endswith("-load") or comm == "pgbench":
        return comm
    return "other"

def sample(out, interval, piddir):
    me = os.getpid()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    seen = {}  # (pid, start) -> [group, baseline, last]
    first = True
    with open(out, "a") as f:
        while True:
            named = pidfiles(piddir)
            for d in os.listdir("/proc"):
                if not d.isdigit():
                    continue
                pid = int(d)
                try:
                    with open("/proc/%s/stat" % d) as s:
                        raw = s.read()
                except OSError:
                    continue
                comm = raw[raw.index("(") + 1:raw.rindex(")")]
                fields = raw[raw.rindex(")") + 2:].split()
                ticks, start = int(fields[11]) + int(fields[12]), fields[19]
                key = (pid, start)
                if key not in seen:
                    g = "bench" if pid == me else group(pid, comm, start, named)
                    seen[key] = [g, ticks if first else 0, ticks]
                else:
                    seen[key][2] = ticks
            busy, total = proc_stat()
            groups = {}
            for g, base, last in seen.values():
                groups[g] = groups.get(g, 0) + last - base
            f.write(json.dumps({"t": int(time.time() * 1000), "busy": busy, "total": total, "g": groups}) + "\n")
            f.flush()
            first = False
            if stop:
                return
            time.sleep(interval)

def load_samples(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]

def at(samples, t):
    """Every counter at Unix ms t, interpolated between the samples around it."""
    if t <= samples[0]["t"]:
        a = b = samples[0]
    elif t >= samples[-1]["t"]:
        a = b = samples[-1]
    else:
        i = next(i for i, s in enumerate(samples) if s["t"] >= t)
        a, b = samples[i - 1], samples[i]
    w = 0.0 if b["t"] == a["t"] else (t - a["t"]) / (b["t"] - a["t"])
    mix = lambda x, y: x + (y - x) * w
    groups = {g: mix(a["g"].get(g, 0), b["g"].get(g, 0)) for g in set(a["g"]) | set(b["g"])}
    return mix(a["busy"], b["busy"]), mix(a["total"], b["total"]), groups

def cpu(samples, window, tck):
    t0, t1 = window
    secs = max((t1 - t0) / 1000.0, 0.001)
    b0, tot0, g0 = at(samples, t0)
    b1, tot1, g1 = at(samples, t1)
    pct = {g: (g1.get(g, 0) - g0.get(g, 0)) / tck / secs * 100 for g in g1}
    busy = 100.0 * (b1 - b0) / (tot1 - tot0) if tot1 > tot0 else 0.0
    return pct, busy, secs

def lat(v):
    if not v or not v.get("n"):
        return "—"
    f = lambda x: ("%.0f" % x) if x >= 10 else ("%.1f" % x)
    return "/".join(f(v[k]) for k in ("p50_ms", "p95_ms", "p99_ms"))

def rows_of(label, users, summary):
    """(run, users, throughput, writes, search, ops, window) rows of one tool summary."""
    tool, out = summary.get("tool"), []
    if tool == "pgr-load":
        c = summary["calls"]
        failed = " (%d failed)" % summary["failed"] if summary["failed"] else ""
        writes = ", ".join("%s %s" % (n, lat(c.get(n))) for n in ("create", "assign", "resolve"))
        out.append((label, users, "%.1f lifecycles/s%s" % (summary["lifecycles_per_s"], failed), writes,
                    lat(c.get("search")), summary["ok"], "lifecycle", summary["window_unix_ms"]))
    elif tool == "pgr-load-seed":
        s = summary["seed"]
        out.append((label, "—", "%.0f complaints/s (3 rows each; %.0f s)" % (s["complaints"] / s["seconds"], s["seconds"]),
                    "—", "—", s["complaints"], "complaint", s["window_unix_ms"]))
    elif tool == "program-load" and summary["mode"] == "disbursements":
        bad = summary["refused"] + summary["failed"]
        note = "both ledgers exact" if summary["ledger"]["exact"] else "LEDGER MISMATCH"
        if bad:
            note += ", %d refused/failed" % bad
        out.append((label, users, "%.1f disbursements/s accepted, %.1f/s held by the treasury (%s)"
                    % (summary["disbursements_per_s"], summary["end_to_end_per_s"], note),
                    "disburse %s" % lat(summary["latency"]), "—", summary["accepted"], "disbursement",
                    summary["window_unix_ms"]))
    elif tool == "program-load":
        failed = ", %d failed" % summary["failed"] if summary["failed"] else ""
        out.append((label, users, "%.1f round trips/s (%.1f messages/s%s)" % (summary["round_trips_per_s"],
                    summary["messages_per_s"], failed), "create → code back %s" % lat(summary["latency"]), "—",
                    summary["ok"], "round trip", summary["window_unix_ms"]))
    elif tool == "persister-load":
        what = {"single": "1 transaction per message", "group": "group commit %d" % summary["batch_size"],
                "batch": "-batch topic, %d per transaction" % summary["batch_size"]}
        for m in summary["modes"]:
            ratio = "; %.2f× pgbench" % m["ratio_to_pgbench"] if m.get("ratio_to_pgbench") else ""
            out.append(("persister %s (%s)" % (m["mode"], what.get(m["mode"], m["mode"])), "1 consumer",
                        "%.0f messages/s (%.0f rows/s%s)" % (m["messages_per_s"], m["rows_per_s"], ratio),
                        "—", "—", m["timed_messages"], "message", m["window_unix_ms"]))
        for p in summary["pgbench"]:
            out.append(("pgbench, %d message(s) per transaction" % p["messages_per_txn"], "%d clients" % p["clients"],
                        "%.0f messages/s (%.1f tps)" % (p["messages_per_s"], p["tps"]), "—", "—",
                        p["transactions"] * p["messages_per_txn"], "message", p["window_unix_ms"]))
    return out

SHORT = {"postgres": "pg", "persister": "persister", "digit-exchange": "exchange",
         "digit-exchange-ifms": "exchange-ifms"}

def report(outdir, manifest, tck, header):
    samples = load_samples(os.path.join(outdir, "cpu.jsonl"))
    lines = [header, "",
             "| run | users | throughput | writes p50/p95/p99 ms | search p50/p95/p99 ms | CPU % of one core | machine busy | Postgres CPU ms/op |",
             "|---|---|---|---|---|---|---|---|"]
    with open(manifest) as f:
        entries = [l.rstrip("\n").split("|", 2) for l in f if l.strip()]
    for label, users, path in entries:
        try:
            with open(path) as f:
                summary = json.load(f)
        except (OSError, ValueError):
            lines.append("| %s | %s | failed (no summary; see %s) | | | | | |" % (label, users, os.path.basename(path)[:-5] + ".log"))
            continue
        for run, u, thr, writes, search, ops, unit, window in rows_of(label, users, summary):
            pct, busy, _ = cpu(samples, window, tck)
            shown = sorted(((v, g) for g, v in pct.items() if v >= 1.0), reverse=True)
            cell = ", ".join("%s %.0f" % (SHORT.get(g, g), v) for v, g in shown) or "—"
            pg_ms = (pct.get("postgres", 0) / 100.0 * (window[1] - window[0])) / ops if ops else 0
            lines.append("| %s | %s | %s | %s | %s | %s | %.0f%% | %.2f ms/%s |" % (
                run, u, thr, writes, search, cell, busy, pg_ms, unit))
    return "\n".join(lines) + "\n"

if __name__ == "__main__":
    if sys.argv[1] == "sample":
        sample(sys.argv[2], float(sys.argv[3]), sys.argv[4])
    elif sys.argv[1] == "report":
        sys.stdout.write(report(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.stdin.read().rstrip("\n")))
'

stack_started=0 started_infra=() sampler_pid="" failures=()
cleanup() {
    local rc=$?
    if [[ -n $sampler_pid ]]; then
        kill -TERM "$sampler_pid" 2>/dev/null || true
        wait "$sampler_pid" 2>/dev/null || true
        sampler_pid=""
    fi
    if [[ $stack_started == 1 ]]; then
        STACK_KEEP_INFRA=1 scripts/stack.sh down || true
        stack_started=0
    fi
    if [[ ${BENCH_KEEP_INFRA:-0} != 1 ]]; then
        local name
        for name in "${started_infra[@]+"${started_infra[@]}"}"; do
            stop_pidfile "$PID_DIR/$name.pid" "$name" 30
        done
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. dependencies, infra, the stack ------------------------------------------------------
scripts/deps.sh run
command -v python3 >/dev/null 2>&1 || die "python3 not found (scripts/deps.sh osmem installs it)"
command -v psql >/dev/null 2>&1 || die "psql not found; run scripts/deps.sh postgres"
if port_open 127.0.0.1 "${PGR_PORT:-8081}"; then
    die "something answers on :${PGR_PORT:-8081} already: stop that stack first (scripts/stack.sh down), the bench needs its own"
fi
infra_note=""
port_open "$KAFKA_HOST" "$KAFKA_PORT" || started_infra+=(kafka)
port_open "$ES_HOST" "$ES_PORT" || started_infra+=(osmem)
if [[ " ${started_infra[*]-} " != *" kafka "* ]]; then
    infra_note="Kafka on $KAFKA_HOST:$KAFKA_PORT was already running and is reused (its topics may hold earlier messages)."
    log "$infra_note"
fi
KAFKA_DIR="${KAFKA_DIR:-$DIGIT_RUN_DIR/kafka-bench}" KAFKA_FRESH=1 scripts/infra.sh start

psql_admin=(psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -Atq)
for db in "$BENCH_DB_NAME" "${BENCH_DB_NAME}_ifms"; do
    "${psql_admin[@]}" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"
done
export STACK_DB_NAME="$BENCH_DB_NAME"
unset DB_URL IFMS_DB_URL
DB_URL_BENCH="postgres://postgres@$PG_HOST:$PG_PORT/$BENCH_DB_NAME"
export PERSISTER_GROUP_ID="persister-bench-$STAMP"
export JWT_SECRET="${JWT_SECRET:-digit-dev-secret-change-me}"
stack_started=1
scripts/stack.sh up
token=$("$BIN/digitctl" token --user-uuid 11111111-1111-1111-1111-111111111111 --user-type EMPLOYEE \
    --roles GRO,CSR,EMPLOYEE --tenant pg.citya --secret "$JWT_SECRET")
wait_for_pgr_workflow "$token"

pgss=0
if [[ $("${psql_admin[@]}" -c "show shared_preload_libraries") == *pg_stat_statements* ]] &&
    psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d "$BENCH_DB_NAME" -Atqc "create extension if not exists pg_stat_statements" >/dev/null 2>&1; then
    pgss=1
    pgss_note="pg_stat_statements: top statements per run in bench-$STAMP/pgss-<run>.json."
else
    pgss_note="pg_stat_statements not used: Postgres does not preload it (scripts/deps.sh sets shared_preload_libraries on a cluster it starts; one already running is left alone)."
fi
log "$pgss_note"
pgss() {
    ((pgss == 1)) || return 0
    local q=(psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d "$BENCH_DB_NAME" -Atq)
    if [[ $1 == reset ]]; then
        "${q[@]}" -c "select pg_stat_statements_reset()" >/dev/null || true
    else
        # The view is cluster-wide: only the statements of this run's databases.
        "${q[@]}" -c "select coalesce(json_agg(s), '[]') from (select d.datname as database, calls,
            round(total_exec_time::numeric, 1) as total_ms, round(mean_exec_time::numeric, 3) as mean_ms, rows,
            left(query, 300) as query from pg_stat_statements p join pg_database d on d.oid = p.dbid
            where d.datname in ('$BENCH_DB_NAME', '${BENCH_DB_NAME}_ifms', '${3:-$BENCH_DB_NAME}')
            order by total_exec_time desc limit 15) s" >"$OUT/pgss-$2.json" || true
    fi
}

CLK_TCK=$(getconf CLK_TCK)
python3 -c "$PY" sample "$OUT/cpu.jsonl" "$SAMPLE_SECONDS" "$PID_DIR" &
sampler_pid=$!
MANIFEST="$OUT/manifest"
: >"$MANIFEST"

# settle — waits (up to BENCH_DRAIN_SECONDS, 600) until the outboxes of both domains have held
# no message due for delivery at three checks in a row, 2 s apart: the exchanges deliver single
# file, so the forwards of one program run (and the replies they cause, which reach an outbox
# only after a trip through an exchange's topic) otherwise still flow through the next run.
settle() {
    [[ $stack_started == 1 ]] || return 0
    local deadline=$((SECONDS + ${BENCH_DRAIN_SECONDS:-600})) due db n quiet=0
    while ((quiet < 3)); do
        due=0
        for db in "$BENCH_DB_NAME" "${BENCH_DB_NAME}_ifms"; do
            n=$(psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d "$db" -Atqc \
                "select count(*) from digit_outbox where status = 'pending'
                   and next_attempt_at <= (extract(epoch from now()) * 1000)::bigint + 1000" 2>/dev/null || echo 0)
            due=$((due + n))
        done
        if ((due == 0)); then
            quiet=$((quiet + 1))
        else
            quiet=0
            log "waiting for $due outbox messages to be delivered"
        fi
        if ((SECONDS >= deadline)); then
            log "outboxes still hold $due due messages after ${BENCH_DRAIN_SECONDS:-600} s; going on"
            break
        fi
        sleep 2
    done
}

# run NAME LABEL USERS TOOL ARGS… — one load run: its JSON summary, its output in NAME.log.
run() {
    local name=$1 label=$2 users=$3 tool=$4
    shift 4
    settle
    log "==> $label ($users): $tool $*"
    pgss reset
    if "$BIN/$tool" "$@" --summary-json "$OUT/$name.json" 2>&1 | tee "$OUT/$name.log"; then
        :
    else
        log "$label: $tool failed (see $OUT/$name.log)"
        failures+=("$label")
    fi
    pgss dump "$name" "${PGSS_DB:-}"
    echo "$label|$users|$OUT/$name.json" >>"$MANIFEST"
}

# --- 2. the runs ----------------------------------------------------------------------------
run pgr-empty-10 "PGR, empty database" "10 users" pgr-load --users 10 --lifecycles "$LIFECYCLES_10"
run pgr-empty-50 "PGR, empty database" "50 users" pgr-load --users 50 --lifecycles "$LIFECYCLES_50"
log "==> seeding $SEED complaints"
pgss reset
if "$BIN/pgr-load" --seed "$SEED" --db-url "$DB_URL_BENCH" --users 1 --lifecycles 1 \
    --summary-json "$OUT/seed.tmp.json" 2>&1 | tee "$OUT/seed.log"; then
    # The seed's own row: the same summary under another tool name.
    python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); s["tool"]="pgr-load-seed"; json.dump(s, open(sys.argv[2],"w"))' \
        "$OUT/seed.tmp.json" "$OUT/seed.json"
    rm -f "$OUT/seed.tmp.json"
else
    failures+=("seed")
fi
pgss dump seed
echo "seed $SEED complaints (pgr-load --seed)|—|$OUT/seed.json" >>"$MANIFEST"
run pgr-seeded-10 "PGR, $SEED complaints" "10 users" pgr-load --users 10 --lifecycles "$LIFECYCLES_10"
run pgr-seeded-50 "PGR, $SEED complaints" "50 users" pgr-load --users 50 --lifecycles "$LIFECYCLES_50"
run program-10 "program disbursements, 100 sanctions" "10 in flight" program-load --sanctions 100 --users 10 --disbursements "$DISBURSEMENTS"
run program-50 "program disbursements, 100 sanctions" "50 in flight" program-load --sanctions 100 --users 50 --disbursements "$DISBURSEMENTS"
run round-trip-10 "program round trips (two domains)" "10 in flight" program-load --round-trip --users 10 --disbursements "$ROUND_TRIPS"

log "stopping the stack (infra kept) for persister-load"
STACK_KEEP_INFRA=1 scripts/stack.sh down
stack_started=0
# --keep: its database must outlive it for pg_stat_statements; dropped here afterwards.
PGSS_DB=persister_load_bench
run persister persister-load "—" persister-load --persister-bin "$BIN/persister" --messages "$PERSISTER_MESSAGES" \
    --pgbench-clients "$PGBENCH_CLIENTS" --pgbench-seconds "$PGBENCH_SECONDS" --database "$PGSS_DB" --keep \
    --kafka "$KAFKA_HOST:$KAFKA_PORT" --db-admin-url "postgres://postgres@$PG_HOST:$PG_PORT/postgres"
"${psql_admin[@]}" -c "DROP DATABASE IF EXISTS \"$PGSS_DB\" WITH (FORCE)" || true
unset PGSS_DB
# What --keep left in the temp dir (the persister's logs, configs, pgbench scripts): beside the rest.
kept=$(sed -n 's/^persister-load: kept database .* and //p' "$OUT/persister.log" | tail -n 1)
if [[ -n $kept && -d $kept ]]; then
    mv "$kept" "$OUT/persister-load-files"
fi

kill -TERM "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
sampler_pid=""

# --- 3. the table ---------------------------------------------------------------------------
commit=$(git rev-parse --short HEAD 2>/dev/null || echo "?")
[[ -z $(git status --porcelain --untracked-files=no 2>/dev/null) ]] || commit+=" (uncommitted changes)"
cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem_gb=$(awk '/MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)
pg_version=$("${psql_admin[@]}" -c "show server_version" | cut -d' ' -f1)
quick_note=""
[[ ${BENCH_QUICK:-0} != 1 ]] || quick_note=", BENCH_QUICK=1 (small counts: not figures to publish)"
header="## Benchmark $STAMP

\`scripts/bench.sh\` at $commit; STACK_PROFILE=$STACK_PROFILE$quick_note; $(nproc) vCPU $cpu_model, $mem_gb GB RAM; Postgres $pg_version, Apache Kafka $KAFKA_VERSION, osmem $OSMEM_VERSION.
Counts: $LIFECYCLES_10 lifecycles at 10 users, $LIFECYCLES_50 at 50; $DISBURSEMENTS disbursements; $ROUND_TRIPS round trips; $PERSISTER_MESSAGES persister messages per mode; pgbench $PGBENCH_CLIENTS clients × $PGBENCH_SECONDS s.
CPU: utime+stime from /proc every ${SAMPLE_SECONDS} s over each run's timed window, % of one core (pg = every Postgres process; other = everything else on the machine); machine busy = % of all $(nproc) cores. Postgres CPU ms per operation over the same window.
$pgss_note${infra_note:+
$infra_note}"
python3 -c "$PY" report "$OUT" "$MANIFEST" "$CLK_TCK" <<<"$header" >"$REPORT"
cat "$REPORT"
log "report: $REPORT (raw: $OUT/)"
if ((${#failures[@]} > 0)); then
    log "failed runs: ${failures[*]}"
    exit 1
fi
