#!/usr/bin/env bash
# Runs the backend suites against servers already running (docker compose up -d): the harness
# sees KEYWAY_TEST_<NAME>_ENDPOINT and starts no process. Override any endpoint from the shell.
# The suites and their endpoints come from the backend manifest (backends.json: `containers`).
set -euo pipefail
cd "$(dirname "$0")/.."
export KEYWAY_TEST_TOXIPROXY_ENDPOINT="${KEYWAY_TEST_TOXIPROXY_ENDPOINT:-http://127.0.0.1:8474}"
# One line per variable (NAME=default), then one line of --project arguments.
manifest="$(node -e '
  const { backends } = JSON.parse(require("fs").readFileSync("backends.json", "utf8"));
  const suites = backends.filter((b) => (b.servers ?? []).length > 0);
  for (const b of suites) for (const [name, value] of Object.entries(b.containers ?? {})) console.log(`${name}=${value}`);
  console.log(suites.map((b) => `--project backend-${b.type}`).join(" "));
')"
projects="$(tail -n 1 <<<"$manifest")"
while IFS='=' read -r name value; do
  [[ -n "${!name:-}" ]] || export "$name=$value"
done < <(sed '$d' <<<"$manifest")
# shellcheck disable=SC2086 # $projects is a list of arguments
exec npx vitest run $projects "$@"
