#!/usr/bin/env bash
# Runs every example with its small inputs, stopping at the first failure.
# Uses the `node` on PATH: `npm run examples` puts the project's Node 24 (node_modules/.bin) first.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 18) ? 0 : 1)'; then
  echo "run-all.sh: node $(node --version) cannot run .ts files; use 'npm run examples' or put node_modules/.bin first on PATH" >&2
  exit 1
fi

examples=(primes mandelbrot threads-vs-processes speedup-report io-extractions sleepy-threads joblib-grid snowfall-matrices plot-files monte-carlo manager-sum producer-consumer)
for name in "${examples[@]}"; do
  echo
  echo "=== examples/$name.ts --small ==="
  node "examples/$name.ts" --small
done
echo
echo "All ${#examples[@]} examples passed."
