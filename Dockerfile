# syntax=docker/dockerfile:1
#
# One multi-stage build for the whole suite.
#
#   build    compiles every binary of the workspace once (release profile); the stage does
#            not depend on SERVICE, so building the seven service images reuses it
#   runtime  one small image per service:  --target runtime --build-arg SERVICE=pgr
#            (also SERVICE=jit-simulator: the JIT treasury stand-in, development only)
#
#   docker build --target runtime --build-arg SERVICE=persister -t digit-rs/persister .
#
# Migrations are embedded in the binaries (sqlx) and applied on start when DB_MIGRATE=true;
# configs/ (persister/indexer YAML, MDMS, workflow, localization) is copied to /app/configs.

ARG RUST_VERSION=1
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS build
# rdkafka builds its bundled librdkafka (Debian's 2.0.2 cannot talk to every broker we use):
# it needs a C/C++ toolchain, make/cmake, pkg-config and zlib headers.
RUN apt-get update \
    && apt-get install -y --no-install-recommends cmake g++ make pkg-config zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bins \
    && mkdir -p /out \
    && for bin in pgr sor-rates program digit-exchange ifms-adapter jit-simulator mukta-simulator persister indexer gateway digitctl; do \
         cp "target/release/$bin" /out/; \
       done

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
ARG SERVICE=pgr
# ca-certificates for TLS to remote DIGIT services; curl for the container healthcheck.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin digit
WORKDIR /app
COPY configs/ /app/configs/
COPY --from=build /out/${SERVICE} /usr/local/bin/${SERVICE}
# digitctl (dev token minting etc.) ships in every image: `docker compose exec pgr digitctl token ...`
COPY --from=build /out/digitctl /usr/local/bin/digitctl
ENV SERVICE=${SERVICE} \
    SERVER_PORT=8080 \
    MDMS_CONFIG_PATH=/app/configs/mdms \
    WORKFLOW_CONFIG_PATH=/app/configs/workflow \
    USER_CONFIG_PATH=/app/configs/users \
    LOG_FORMAT=json
USER 10001
EXPOSE 8080
# The binaries handle SIGTERM themselves (graceful shutdown within SHUTDOWN_TIMEOUT_SECONDS).
STOPSIGNAL SIGTERM
# exec: the service itself becomes PID 1 and receives SIGTERM directly.
ENTRYPOINT ["/bin/sh", "-c", "exec \"/usr/local/bin/$SERVICE\" \"$@\"", "--"]
