#!/usr/bin/env bash
# Lint (ESLint: typescript-eslint, react-hooks) and type-check the mobile client, run every
# JavaScript test (jest: protocol + app; then the browser e2e) and print one plain line
# "N passed, N failed" summing them, for CI to read. A lint or type error fails the run.
# Needs: node_modules (npm ci), the project's .venv with aronanet, /usr/bin/chromium.
set -uo pipefail
cd "$(dirname "$0")/.."

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT

npx eslint --max-warnings 0 .
lint_status=$?
npx tsc --noEmit
types_status=$?
npx jest --ci --json --outputFile="$results/unit.json"
unit_status=$?
npx jest --ci --config jest.e2e.config.js --json --outputFile="$results/e2e.json"
e2e_status=$?

node -e '
  const fs = require("fs");
  let passed = 0, failed = 0;
  for (const file of process.argv.slice(1)) {
    if (!fs.existsSync(file)) { failed += 1; continue; }  // a runner that crashed counts as a failure
    const report = JSON.parse(fs.readFileSync(file, "utf8"));
    passed += report.numPassedTests;
    failed += report.numFailedTests + (report.numRuntimeErrorTestSuites || 0);
  }
  console.log(`${passed} passed, ${failed} failed`);
' "$results/unit.json" "$results/e2e.json"

if [ "$lint_status" -ne 0 ]; then echo "lint failed (npx eslint .)"; fi
if [ "$types_status" -ne 0 ]; then echo "type check failed (npx tsc --noEmit)"; fi
if [ "$lint_status" -ne 0 ] || [ "$types_status" -ne 0 ] || [ "$unit_status" -ne 0 ] || [ "$e2e_status" -ne 0 ]; then exit 1; fi
