#!/usr/bin/env bash
# Lint + tests. Extra arguments go to pytest (e.g. scripts/test.sh -k regions).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh

status=0

echo "== ruff check ."
if ! .venv/bin/ruff check .; then
    status=1
fi

echo "== pytest -q $*"
rc=0
.venv/bin/pytest -q "$@" || rc=$?
if ((rc == 5)); then
    echo "test.sh: pytest collected no tests; treating that as a failure" >&2
    status=1
elif ((rc != 0)); then
    status=1
fi

exit "$status"
