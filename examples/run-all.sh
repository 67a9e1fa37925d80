#!/usr/bin/env bash
# Runs every example with its small inputs, stopping at the first failure.
# Uses the `node` on PATH: `npm run examples` puts the project's Node 24 (node_modules/.bin) first.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 19) ? 0 : 1)'; then
  echo "run-all.sh: node $(node --version) cannot run .ts files; use 'npm run examples' or put node_modules/.bin first on PATH" >&2
  exit 1
fi

examples=(primes mandelbrot threads-vs-processes speedup-report io-extractions sleepy-threads joblib-grid snowfall-matrices plot-files monte-carlo manager-sum producer-consumer processes http-service)
for name in "${examples[@]}"; do
  echo
  echo "=== examples/$name.ts --small ==="
  node "examples/$name.ts" --small
done

# The cluster example needs a Postgres server (bash scripts/postgres.sh start; CI starts one): the one of
# EFFECT_PARALLEL_PG_URL, else the script's default. Without one it is skipped, and says so.
echo
echo "=== examples/cluster/mandelbrot.ts --small ==="
pg_url="${EFFECT_PARALLEL_PG_URL:-postgres://postgres@127.0.0.1:54329/postgres}"
if node -e '
  const u = new URL(process.argv[1])
  const s = require("node:net").connect({ host: u.hostname, port: Number(u.port || 5432), timeout: 2000 })
  s.once("connect", () => process.exit(0)).once("error", () => process.exit(1)).once("timeout", () => process.exit(1))
' "$pg_url"; then
  node examples/cluster/mandelbrot.ts --small --postgres="$pg_url"
  ran=$(( ${#examples[@]} + 1 ))
  echo
  echo "All $ran examples passed."
else
  echo "skipped: no Postgres at $pg_url (start one with: bash scripts/postgres.sh start)"
  echo
  echo "All ${#examples[@]} examples passed (cluster/mandelbrot skipped: no Postgres)."
fi
