#!/usr/bin/env bash
# Idempotent installers for everything `make` needs beyond the Rust toolchain.
#
#   scripts/deps.sh [all|test|run|base|postgres|kafka|osmem|s3|newman|schemathesis|compose|helm|chromium ...]
#
# all      = base postgres kafka osmem s3 newman schemathesis compose helm chromium (default)
# test     = what `make test` needs: base postgres kafka osmem s3 schemathesis compose helm chromium
# run      = what `make up` needs: base postgres kafka osmem
#
# Every installer skips when its tool is already present at the pinned version, prints what
# it does and how long it took. Only the package registries are used: Debian (apt-get),
# Maven Central (mvn), PyPI (pip), npm.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install $* by hand"
    local sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    if [[ $APT_UPDATED -eq 0 ]]; then
        log "apt-get update"
        "${sudo[@]}" apt-get update -qq
        APT_UPDATED=1
    fi
    log "apt-get install -y $*"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

timed() {
    local name=$1 start=$SECONDS
    shift
    "$@"
    log "$name: done in $((SECONDS - start))s"
}

# --- small tools the scripts use ----------------------------------------------------------
dep_base() {
    local missing=()
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    command -v setsid >/dev/null 2>&1 || missing+=(util-linux)
    command -v make >/dev/null 2>&1 || missing+=(make)
    if ((${#missing[@]} == 0)); then
        log "base: curl, setsid, make present, skip"
        return 0
    fi
    apt_install "${missing[@]}"
}

# --- PostgreSQL ---------------------------------------------------------------------------
# Something already answering on $PG_HOST:$PG_PORT wins. Otherwise start the local cluster
# on that port (installing Debian's postgresql first when there is none) and trust loopback
# TCP logins in its pg_hba.conf, so the tests connect as user postgres without a password.
# A cluster these scripts start is a development cluster: the trust lines are added to it
# whether or not this run installed the package (a machine may come with postgresql
# installed but stopped, as Debian leaves it after apt-get without an init system).
dep_postgres() {
    if port_open "$PG_HOST" "$PG_PORT"; then
        log "postgres: answering on $PG_HOST:$PG_PORT, skip"
        command -v psql >/dev/null 2>&1 || apt_install postgresql-client
        return 0
    fi
    if ! command -v pg_lsclusters >/dev/null 2>&1 || [[ -z $(pg_lsclusters -h 2>/dev/null) ]]; then
        log "postgres: nothing on $PG_HOST:$PG_PORT and no cluster; installing Debian's postgresql"
        apt_install postgresql postgresql-client
    fi
    [[ -n $(pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3 == p') ]] ||
        die "postgres: no cluster on port $PG_PORT (pg_lsclusters); create one or set PG_PORT"
    local ver cluster port status
    while read -r ver cluster port status _; do
        [[ $port == "$PG_PORT" ]] || continue
        local hba="/etc/postgresql/$ver/$cluster/pg_hba.conf"
        # pg_stat_statements for `make bench` (its per-statement table): a preload needs a
        # (re)start, so it is set once, before the start below or with a restart now.
        local preload="/etc/postgresql/$ver/$cluster/conf.d/digit-rs.conf"
        if [[ ! -f $preload ]]; then
            log "postgres: preloading pg_stat_statements ($preload)"
            mkdir -p "$(dirname "$preload")"
            {
                echo '# digit-rs: added by scripts/deps.sh (make bench reads pg_stat_statements)'
                echo "shared_preload_libraries = 'pg_stat_statements'"
            } >"$preload"
            if [[ $status == online* ]]; then
                pg_ctlcluster "$ver" "$cluster" restart
            fi
        fi
        if [[ $status != online* ]]; then
            log "postgres: pg_ctlcluster $ver $cluster start"
            pg_ctlcluster "$ver" "$cluster" start
        fi
        if ! grep -q '^# digit-rs: trust loopback' "$hba"; then
            log "postgres: trusting 127.0.0.1/32 and ::1/128 in $hba"
            local tmp
            tmp=$(mktemp)
            {
                echo '# digit-rs: trust loopback TCP (added by scripts/deps.sh for local dev and tests)'
                echo 'host    all    all    127.0.0.1/32    trust'
                echo 'host    all    all    ::1/128         trust'
                cat "$hba"
            } >"$tmp"
            cat "$tmp" >"$hba"
            rm -f "$tmp"
            pg_ctlcluster "$ver" "$cluster" reload
        fi
    done < <(pg_lsclusters -h)
    wait_port "$PG_HOST" "$PG_PORT" 30 || die "postgres did not answer on $PG_HOST:$PG_PORT"
    psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -Atqc 'select 1' >/dev/null \
        || die "postgres answers on $PG_HOST:$PG_PORT but user postgres cannot log in without a password"
    log "postgres: ready on $PG_HOST:$PG_PORT"
}

# --- Apache Kafka (KRaft broker) -----------------------------------------------------------
# The broker's jars from Maven Central: Maven resolves scripts/kafka/pom.xml into ~/.m2 and
# copies the runtime classpath to $KAFKA_HOME/libs (~45 MB, about 20 s the first time).
# Java 17 runs it (scripts/infra.sh); Debian's JRE and Maven are installed when missing.
dep_kafka() {
    if kafka_installed; then
        log "kafka: Apache Kafka $KAFKA_VERSION jars in $KAFKA_HOME, skip"
        return 0
    fi
    command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
    command -v mvn >/dev/null 2>&1 || apt_install maven
    log "kafka: mvn dependency:copy-dependencies (org.apache.kafka:kafka_2.13:$KAFKA_VERSION) -> $KAFKA_HOME/libs"
    rm -rf "$KAFKA_HOME"
    mkdir -p "$KAFKA_HOME"
    # Maven's output goes to a log (even -q -B prints colour codes); shown when it fails.
    local mvn_log="$KAFKA_HOME/mvn.log"
    if ! mvn -B -q -f "$REPO_ROOT/scripts/kafka/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
        dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_HOME/libs" \
        >"$mvn_log" 2>&1; then
        cat "$mvn_log" >&2
        die "kafka: Maven could not resolve org.apache.kafka:kafka_2.13:$KAFKA_VERSION"
    fi
    [[ -f $KAFKA_HOME/libs/kafka_2.13-$KAFKA_VERSION.jar ]] || die "kafka: kafka_2.13-$KAFKA_VERSION.jar missing after the copy"
    touch "$KAFKA_HOME/.complete"
    log "kafka: $(find "$KAFKA_HOME/libs" -name '*.jar' | wc -l) jars in $KAFKA_HOME/libs"
}

# --- osmem-server (in-memory Elasticsearch/OpenSearch API for tests) -----------------------
dep_osmem() {
    if [[ -x $OSMEM_VENV/bin/python ]] &&
        [[ $("$OSMEM_VENV/bin/python" -c 'import osmem_server; print(osmem_server.__version__)' 2>/dev/null) == "$OSMEM_VERSION" ]]; then
        log "osmem: osmem-server $OSMEM_VERSION in $OSMEM_VENV, skip"
        return 0
    fi
    command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
    if [[ ! -x $OSMEM_VENV/bin/python ]]; then
        log "osmem: python3 -m venv $OSMEM_VENV"
        mkdir -p "$DIGIT_CACHE_DIR"
        if ! python3 -m venv "$OSMEM_VENV" 2>/dev/null; then
            rm -rf "$OSMEM_VENV"
            apt_install python3-venv
            python3 -m venv "$OSMEM_VENV"
        fi
    fi
    log "osmem: pip install osmem-server==$OSMEM_VERSION"
    "$OSMEM_VENV/bin/pip" install -q --disable-pip-version-check "osmem-server==$OSMEM_VERSION"
    "$(osmem_bin)" -version >/dev/null || die "osmem-server binary not runnable"
}

# --- moto (S3-compatible server for the filestore's S3 test) --------------------------------
# PyPI's moto with request authentication (scripts/s3-test-server.py); same tools venv.
dep_s3() {
    if [[ -x $OSMEM_VENV/bin/python ]] &&
        [[ $("$OSMEM_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null) == "$MOTO_VERSION" ]] &&
        "$OSMEM_VENV/bin/python" -c 'import boto3, flask, flask_cors' 2>/dev/null; then
        log "s3: moto $MOTO_VERSION in $OSMEM_VENV, skip"
        return 0
    fi
    [[ -x $OSMEM_VENV/bin/python ]] || dep_osmem
    log "s3: pip install moto[s3]==$MOTO_VERSION flask==$FLASK_VERSION flask-cors==$FLASK_CORS_VERSION"
    "$OSMEM_VENV/bin/pip" install -q --disable-pip-version-check "moto[s3]==$MOTO_VERSION" \
        "flask==$FLASK_VERSION" "flask-cors==$FLASK_CORS_VERSION"
}

# --- schemathesis (contract fuzzing of the OpenAPI documents, scripts/fuzz.sh) ----------
dep_schemathesis() {
    if [[ -x $SCHEMATHESIS_VENV/bin/st ]] &&
        [[ $("$SCHEMATHESIS_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null) == "$SCHEMATHESIS_VERSION" ]]; then
        log "schemathesis: $SCHEMATHESIS_VERSION in $SCHEMATHESIS_VENV, skip"
        return 0
    fi
    command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
    [[ -x $SCHEMATHESIS_VENV/bin/python ]] || python3 -m venv "$SCHEMATHESIS_VENV" ||
        { apt_install python3-venv && python3 -m venv "$SCHEMATHESIS_VENV"; }
    log "schemathesis: pip install schemathesis==$SCHEMATHESIS_VERSION"
    "$SCHEMATHESIS_VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
}

# --- newman (Postman CLI) ------------------------------------------------------------------
dep_newman() {
    local bin
    bin=$(newman_bin)
    if [[ -x $bin ]]; then
        log "newman: $("$bin" --version 2>/dev/null) at $bin, skip"
        return 0
    fi
    command -v npm >/dev/null 2>&1 || apt_install nodejs npm
    log "newman: npm install --prefix $NEWMAN_PREFIX newman@$NEWMAN_VERSION"
    mkdir -p "$NEWMAN_PREFIX"
    npm install --prefix "$NEWMAN_PREFIX" --no-audit --no-fund --loglevel=error "newman@$NEWMAN_VERSION" >/dev/null
    "$(newman_bin)" --version >/dev/null || die "newman not runnable"
}

# --- Helm engine for `make helm-check` (only when no helm binary is on PATH) ----------------
# No registry we can use ships the helm CLI; PyPI's helm-python-sdk bundles Helm's Go
# library (lint + offline render). Goes into the same tools venv as osmem-server.
dep_helm() {
    if command -v helm >/dev/null 2>&1; then
        log "helm: $(helm version --short 2>/dev/null) on PATH, skip"
        return 0
    fi
    if [[ -x $OSMEM_VENV/bin/python ]] &&
        "$OSMEM_VENV/bin/python" -c 'import helm_python, yaml' 2>/dev/null &&
        [[ $("$OSMEM_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("helm-python-sdk"))' 2>/dev/null) == "$HELM_SDK_VERSION" ]]; then
        log "helm: helm-python-sdk $HELM_SDK_VERSION in $OSMEM_VENV, skip"
        return 0
    fi
    [[ -x $OSMEM_VENV/bin/python ]] || dep_osmem
    log "helm: pip install helm-python-sdk==$HELM_SDK_VERSION pyyaml==$PYYAML_VERSION"
    "$OSMEM_VENV/bin/pip" install -q --disable-pip-version-check \
        "helm-python-sdk==$HELM_SDK_VERSION" "pyyaml==$PYYAML_VERSION"
}

# --- docker-compose (only to validate docker-compose.yml; no engine needed) ----------------
dep_compose() {
    local cmd
    cmd=$(compose_cmd)
    if [[ -n $cmd ]]; then
        log "compose: $($cmd version 2>/dev/null | head -1), skip"
        return 0
    fi
    # Debian bookworm ships compose v1 as docker-compose; newer releases ship v2 as
    # docker-compose (and docker-compose-v2 on Ubuntu). Both run `config` without an engine.
    apt_install docker-compose
}

# --- Chromium (headless, for the indexer dashboard test) -----------------------------------
# Debian's chromium package; the test loads /egov-indexer/dashboard with --headless=new,
# checks the DOM and keeps a screenshot (services/indexer/tests/dashboard.rs).
dep_chromium() {
    local bin
    bin=$(chromium_bin)
    if [[ -n $bin ]]; then
        log "chromium: $("$bin" --version 2>/dev/null | head -1) at $bin, skip"
        return 0
    fi
    apt_install chromium
    bin=$(chromium_bin)
    [[ -n $bin ]] || die "chromium: installed, but no chromium binary on PATH"
    log "chromium: $("$bin" --version 2>/dev/null | head -1) at $bin"
}

main() {
    local targets=("$@") t
    [[ ${#targets[@]} -gt 0 ]] || targets=(all)
    local expanded=()
    for t in "${targets[@]}"; do
        case $t in
            all) expanded+=(base postgres kafka osmem s3 newman schemathesis compose helm chromium) ;;
            test) expanded+=(base postgres kafka osmem s3 schemathesis compose helm chromium) ;;
            run) expanded+=(base postgres kafka osmem) ;;
            base | postgres | kafka | osmem | s3 | newman | schemathesis | compose | helm | chromium) expanded+=("$t") ;;
            *) die "unknown dependency '$t' (all|test|run|base|postgres|kafka|osmem|s3|newman|schemathesis|compose|helm|chromium)" ;;
        esac
    done
    local total=$SECONDS
    for t in "${expanded[@]}"; do
        timed "$t" "dep_$t"
    done
    log "all done in $((SECONDS - total))s"
}

main "$@"
