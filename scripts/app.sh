#!/usr/bin/env bash
# Sets kwdesk up (idempotent) and opens the app on the default workspace.
# Arguments go to kwdesk, for example: scripts/app.sh --workspace ~/contracts
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/kwdesk "$@"
