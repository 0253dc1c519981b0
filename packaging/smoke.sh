#!/usr/bin/env bash
# Checks a built kwdesk app as a new user would meet it, in a fresh home, offline:
#     bash packaging/smoke.sh build/dist/kwdesk
# It starts the window (offscreen), imports a PDF, and exports a trained model (which runs
# the fork server, the PDF workers and llama.cpp's converter from the packaged executable).
set -euo pipefail
app=$(cd "$1" && pwd)
bin="$app/kwdesk"
home=$(mktemp -d)
export HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share" XDG_CACHE_HOME="$home/.cache"
export XDG_STATE_HOME="$home/.local/state" QT_QPA_PLATFORM=offscreen HF_HUB_OFFLINE=1
ws="$home/ws"
pdf="$home/handbook.pdf"
repo=$(cd "$(dirname "$0")/.." && pwd)
"$repo/.venv/bin/python" -c "import sys, pathlib; sys.path.insert(0, '$repo/tests'); from docgen import facts_pdf; facts_pdf(pathlib.Path('$pdf'))"

"$bin" --version
"$bin" doctor | head -n 12
set +e
timeout 30 "$bin" --workspace "$ws"
status=$?
set -e
[ "$status" = 124 ] || { echo "smoke: the window did not stay up (exit $status)"; exit 1; }
echo "smoke: the window started and ran 30 s"
"$bin" --workspace "$ws" import "$pdf"
"$bin" --workspace "$ws" docs
"$bin" --workspace "$ws" generate --strategy qa --json | tail -n 3
"$bin" --workspace "$ws" train --preset quick-try --max-steps 4 --replay-ratio 0 --json | tail -n 3
"$bin" --workspace "$ws" export --quant Q8_0 --json | tail -n 3
"$bin" --workspace "$ws" chat --once "How high is the Larkspur Dam?"
echo "smoke: passed"
rm -rf "$home"
