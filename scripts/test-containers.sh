#!/usr/bin/env bash
# Runs the backend suites against servers already running (docker compose up -d): the harness
# sees KEYWAY_TEST_<NAME>_ENDPOINT and starts no process. Override any endpoint from the shell.
set -euo pipefail
export KEYWAY_TEST_MOTO_ENDPOINT="${KEYWAY_TEST_MOTO_ENDPOINT:-http://127.0.0.1:4566}"
export KEYWAY_TEST_OPENBAO_ENDPOINT="${KEYWAY_TEST_OPENBAO_ENDPOINT:-http://127.0.0.1:8200}"
export KEYWAY_TEST_OPENBAO_ROOT_TOKEN="${KEYWAY_TEST_OPENBAO_ROOT_TOKEN:-root}"
export KEYWAY_TEST_LOWKEY_ENDPOINT="${KEYWAY_TEST_LOWKEY_ENDPOINT:-https://127.0.0.1:8443}"
export KEYWAY_TEST_LOWKEY_TOKEN_ENDPOINT="${KEYWAY_TEST_LOWKEY_TOKEN_ENDPOINT:-http://127.0.0.1:8080}"
export KEYWAY_TEST_GCP_ENDPOINT="${KEYWAY_TEST_GCP_ENDPOINT:-127.0.0.1:9090}"
export KEYWAY_TEST_TOXIPROXY_ENDPOINT="${KEYWAY_TEST_TOXIPROXY_ENDPOINT:-http://127.0.0.1:8474}"
exec npx vitest run --project backend-aws --project backend-vault --project backend-azure --project backend-gcp "$@"
