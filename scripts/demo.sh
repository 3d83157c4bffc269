#!/usr/bin/env bash
# Set up, load demo data, and serve the portal on http://127.0.0.1:5000/
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh

.venv/bin/flask --app portal setup
# `flask demo` checks its own marker and does nothing when demo data is loaded.
.venv/bin/flask --app portal demo

exec .venv/bin/flask --app portal run --host 127.0.0.1 --port 5000
