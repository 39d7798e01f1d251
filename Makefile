# digit-rs developer entry points. Everything installs from Debian, crates.io, Maven Central, PyPI or npm;
# see scripts/*.sh for the details and README.md for the variables.
#
#   make up        build, start infra + the seven services, wait for /health     (make down)
#   make test      deps → infra → cargo nextest → compose/helm checks (+ lint when CI=true)

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

CARGO ?= cargo
NEWMAN_ENV ?= tests/postman/local.postman_environment.json

.PHONY: help up down status test deps infra infra-stop lint fmt compose-check helm-check \
        postman clean token bench

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

up: ## build the binaries, start Apache Kafka, osmem, the seven services, the treasury side and the JIT simulator; wait until healthy
	@scripts/deps.sh run
	@scripts/stack.sh up

down: ## stop the services and the infra that `make up`/`make infra` started
	@scripts/stack.sh down

status: ## show what runs where
	@scripts/stack.sh status

test: ## deps, infra, all tests (nextest), compose + helm checks; lint too when CI=true
	@scripts/test.sh

deps: ## install Postgres, Kafka (Maven Central jars), osmem-server, newman, docker-compose, helm engine (skips what is there)
	@scripts/deps.sh all

infra: ## start Apache Kafka (127.0.0.1:9092) and osmem-server (127.0.0.1:9200) in the background
	@scripts/deps.sh run
	@scripts/infra.sh start

infra-stop: ## stop the Kafka/osmem started by `make infra`
	@scripts/infra.sh stop

lint: ## cargo fmt --check and clippy with warnings as errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## format the workspace
	$(CARGO) fmt --all

compose-check: ## validate docker-compose.yml (docker-compose config -q; no engine needed)
	@scripts/compose-check.sh

helm-check: ## lint and render helm/digit-rs
	@scripts/helm-check.sh

postman: ## run tests/postman against a running stack (make up first)
	@scripts/deps.sh newman
	@scripts/postman.sh $(NEWMAN_ENV)

bench: ## load runs of README "Performance" on a fresh release stack with CPU per process → one markdown table in target/bench/ (BENCH_QUICK=1: small counts)
	@scripts/bench.sh

token: ## print a dev JWT (EMPLOYEE GRO,CSR on pg.citya); override with ARGS="..."
	@$(CARGO) run -q -p digit-cli --bin digitctl -- token --secret "$${JWT_SECRET:-digit-dev-secret-change-me}" \
		$(or $(ARGS),--user-uuid 11111111-1111-1111-1111-111111111111 --user-type EMPLOYEE --roles GRO,CSR,EMPLOYEE --tenant pg.citya)

clean: down ## stop everything, remove .run/ and cargo's target/
	rm -rf .run
	$(CARGO) clean
