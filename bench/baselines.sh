#!/usr/bin/env bash
# A separate environment for the extraction baselines of bench/bench_extraction.py:
# pymupdf4llm 1.28.2 (the last release that works with pymupdf 1.x; 2.x is an empty
# package that moves it into pymupdf 2) with its layout model; and pysbd, the sentence
# splitter bench/bench_sentences.py compares. Kept out of kwdesk's own environment: it
# pins pymupdf and brings onnxruntime.
set -euo pipefail
VENV="${KWDESK_BENCH_VENV:-$HOME/.cache/kwdesk/bench-venv}"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q "pymupdf4llm==1.28.2" "pymupdf==1.28.2" "pysbd==0.3.4"
echo "$VENV"
