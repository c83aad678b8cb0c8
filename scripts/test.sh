#!/usr/bin/env bash
# Runs every test of the repository: the root module and each nested Go module (instrumentation packages that
# applications import live in modules of their own so they do not pull in the server's dependencies).
# Tests that need a real Prometheus or Chromium use /usr/bin/prometheus and /usr/bin/chromium; they skip
# when those are absent, except under CI=true, where they fail instead (see .ci/run, which installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for mod in $(git ls-files '*go.mod' 2>/dev/null || find . -name go.mod); do
  dir=$(dirname "$mod")
  echo "== go test in ${dir}"
  (cd "$dir" && go vet ./... && go test -count=1 -timeout 20m "$@" ./...) || status=1
done
exit $status
