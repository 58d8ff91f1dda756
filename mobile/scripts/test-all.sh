#!/usr/bin/env bash
# Run every JavaScript test of the mobile client (jest: protocol + app; then the browser e2e)
# and print one plain line "N passed, N failed" summing them, for CI to read.
# Needs: node_modules (npm ci), the project's .venv with aronanet, /usr/bin/chromium.
set -uo pipefail
cd "$(dirname "$0")/.."

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT

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

if [ "$unit_status" -ne 0 ] || [ "$e2e_status" -ne 0 ]; then exit 1; fi
