#!/usr/bin/env bash
# Render and lint helm/digit-rs.
#
# With a `helm` binary on PATH: helm lint --strict + helm template.
# Without one (no registry here ships helm itself): the Helm v4 engine from PyPI's
# helm-python-sdk (a wheel bundling Helm's Go library), installed into the tools venv by
# scripts/deps.sh helm; every rendered manifest must parse as YAML and carry kind/metadata.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
CHART=helm/digit-rs

if command -v helm >/dev/null 2>&1; then
    log "helm lint --strict $CHART"
    helm lint --strict "$CHART"
    log "helm template $CHART"
    helm template digit "$CHART" >/dev/null
    helm template digit "$CHART" --set config.authMode=jwt --set jwt.create=true \
        --set jwt.secret=x --set config.useEgovConfig=true >/dev/null
    log "chart renders"
    exit 0
fi

scripts/deps.sh helm
"$OSMEM_VENV/bin/python" - "$CHART" <<'PY' 2> >(grep -v 'found symbolic link' >&2)
import json, sys
import yaml
from helm_python.chart import Chart, lint

path = sys.argv[1]
cases = {
    "defaults": None,
    "jwt+egov-config": {
        "config": {"authMode": "jwt", "useEgovConfig": True, "mdmsHost": "http://egov-mdms-service:8080/",
                   "extra": {"EGOV_WORKFLOW_HOST": "http://egov-workflow-v2:8080/"}},
        "jwt": {"create": True, "secret": "dev", "publicKey": "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----"},
        "dbSecret": {"create": True, "password": "pw"},
        "services": {"pgr": {"replicas": 2, "env": [{"name": "EGOV_USER_HOST", "value": "http://egov-user:8080/"}]},
                     "indexer": {"enabled": False}},
    },
    # The services that are not built yet, switched on by hand.
    "all-enabled": {"services": {n: {"enabled": True} for n in ("program", "digit-exchange", "ifms-adapter", "indexer")}},
    # Upstream's cron contract instead of the adapter's internal scheduler.
    "ifms-cronjobs": {"ifms": {"cronJobs": {"enabled": True, "timeZone": "Asia/Kolkata"},
                               "jit": {"hostname": "https://jit.example.org", "clientId": "c"},
                               "mukta": {"billHost": "http://expense:8080/", "bankAccountHost": "http://bankaccount-service:8080/",
                                         "individualHost": "http://individual:8080/", "organisationHost": "http://org-services:8080/",
                                         "auditLogHost": "http://audit-service:8080/"}}},
}
IFMS_POLLERS = {"PA", "VA", "PIS", "PAG", "PD", "FD", "FTPS", "FTFPS"}
MUKTA_HOSTS = {"EGOV_BILL_HOST": "http://expense:8080/", "EGOV_BANK_ACCOUNT_HOST": "http://bankaccount-service:8080/",
               "EGOV_INDIVIDUAL_HOST": "http://individual:8080/", "EGOV_ORGANISATION_HOST": "http://org-services:8080/",
               "EGOV_AUDIT_LOG_HOST": "http://audit-service:8080/"}
# By default only what is built is deployed: a `helm install` into a DIGIT cluster must not
# replace egov-indexer (or program-service, ...) with a service that answers only /health.
# The Ingress routes every context path of the suite to the Service that serves it.
DEFAULT_INGRESS = {"/pgr-services": "pgr-services", "/egov-workflow-v2": "pgr-services", "/egov-mdms-service": "pgr-services",
                   "/mdms-v2": "pgr-services", "/egov-idgen": "pgr-services", "/boundary-service": "pgr-services",
                   "/egov-location": "pgr-services", "/user": "pgr-services", "/user-otp": "pgr-services", "/localization": "pgr-services", "/filestore": "pgr-services",
                   "/sor-rates": "sor-rates", "/program-service": "program-service", "/ifix-master-data": "program-service",
                   "/adapter-master-data": "program-service", "/ifix-department-entity": "program-service",
                   "/digit-exchange": "digit-exchange", "/ifms": "ifms-adapter", "/ifms-adapter": "ifms-adapter",
                   "/common-persist": "egov-persister", "/egov-indexer": "egov-indexer"}
DEFAULT_DEPLOYMENTS = {"pgr-services", "sor-rates", "program-service", "digit-exchange", "ifms-adapter", "egov-persister", "egov-indexer"}
failed = False
for name, values in cases.items():
    report = lint(path, values, strict=True)
    for m in report.get("messages", []):
        if m.get("severity", 0) >= 2:
            print(f"[helm-check] {name}: lint: {m.get('path')}: {m.get('error')}", file=sys.stderr)
            failed = True
    for e in report.get("errors", []):
        print(f"[helm-check] {name}: lint error: {e}", file=sys.stderr)
        failed = True
    manifests = Chart.load(path).render(values, name="digit", namespace="egov")
    kinds = []
    deployments = set()
    cronjobs = {}
    adapter_env = {}
    ingress = {}
    notes = ""
    for tpl, text in sorted(manifests.items()):
        if tpl.endswith("NOTES.txt"):
            notes = text
            continue
        for doc in yaml.safe_load_all(text):
            if not doc:
                continue
            if not isinstance(doc, dict) or "kind" not in doc or "metadata" not in doc:
                print(f"[helm-check] {name}: {tpl}: not a Kubernetes object", file=sys.stderr)
                failed = True
                continue
            kinds.append(doc["kind"])
            if doc["kind"] == "CronJob":
                c = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
                env = {e["name"]: e.get("value") for e in c["env"]}
                body = json.loads(env["REQUEST_BODY"])
                if "RequestInfo" not in body or not env["ADAPTER_URL"].endswith("/ifms"):
                    print(f"[helm-check] {name}: {doc['metadata']['name']}: bad request {env}", file=sys.stderr)
                    failed = True
                cronjobs[env["SERVICE_ID"]] = doc["spec"]["schedule"]
            if doc["kind"] == "Ingress":
                for rule in doc["spec"]["rules"]:
                    for p in rule["http"]["paths"]:
                        ingress[p["path"]] = p["backend"]["service"]["name"]
            if doc["kind"] == "Deployment":
                deployments.add(doc["metadata"]["name"])
                if doc["metadata"]["name"] == "ifms-adapter":
                    c = doc["spec"]["template"]["spec"]["containers"][0]
                    adapter_env = {e["name"]: e.get("value") for e in c["env"]}
                for c in doc["spec"]["template"]["spec"]["containers"]:
                    live = c["livenessProbe"]["httpGet"]["path"]
                    ready = c["readinessProbe"]["httpGet"]["path"]
                    if not (live.endswith("/health") and ready == live + "/ready"):
                        print(f"[helm-check] {name}: {doc['metadata']['name']}: probes {live} / {ready}", file=sys.stderr)
                        failed = True
    counts = {k: kinds.count(k) for k in sorted(set(kinds))}
    print(f"[helm-check] {name}: rendered {json.dumps(counts)}", file=sys.stderr)
    if counts.get("Deployment", 0) == 0 or counts.get("Service", 0) == 0:
        print(f"[helm-check] {name}: no Deployment/Service rendered", file=sys.stderr)
        failed = True
    # CronJobs only when asked for, one per poller, and then the internal schedules are off.
    want_cron = name == "ifms-cronjobs"
    off = {k for k, v in adapter_env.items() if k.startswith("IFMS_SCHEDULE_") and v == "off"}
    if want_cron != bool(cronjobs) or (want_cron and (set(cronjobs) != IFMS_POLLERS
            or off != {f"IFMS_SCHEDULE_{p}" for p in IFMS_POLLERS} or cronjobs["VA"] != "0 8 * * *")):
        print(f"[helm-check] {name}: ifms CronJobs {cronjobs}, adapter schedules off {sorted(off)}", file=sys.stderr)
        failed = True
    if "IFMS_JIT_PUBLIC_KEY_PATH" not in adapter_env and "ifms-adapter" in deployments:
        print(f"[helm-check] {name}: ifms-adapter without IFMS_JIT_PUBLIC_KEY_PATH", file=sys.stderr)
        failed = True
    # The MUKTA services: set → passed through; unset → not passed and NOTES.txt warns.
    mukta = {k: v for k, v in adapter_env.items() if k in MUKTA_HOSTS}
    warned = "MUKTA services NOT SET" in notes
    if "ifms-adapter" in deployments and ((name == "ifms-cronjobs") != (mukta == MUKTA_HOSTS)
            or (name != "ifms-cronjobs") != (not mukta) or (not mukta) != warned):
        print(f"[helm-check] {name}: ifms-adapter MUKTA hosts {mukta}, NOTES warning {warned}", file=sys.stderr)
        failed = True
    if name == "defaults" and ingress != DEFAULT_INGRESS:
        print(f"[helm-check] defaults: ingress {ingress}, want {DEFAULT_INGRESS}", file=sys.stderr)
        failed = True
    if name == "defaults" and deployments != DEFAULT_DEPLOYMENTS:
        print(f"[helm-check] defaults: deployments {sorted(deployments)}, want {sorted(DEFAULT_DEPLOYMENTS)}", file=sys.stderr)
        failed = True
sys.exit(1 if failed else 0)
PY
log "chart lints and renders (helm-python-sdk engine)"
