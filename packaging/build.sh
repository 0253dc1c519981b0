#!/usr/bin/env bash
# Builds kwdesk's desktop app (one folder, PyInstaller) into build/dist/kwdesk, then checks
# it with packaging/smoke.sh. Linux x86-64, CPU build:
#
#     bash packaging/build.sh
#
# The result is self-contained (Python, torch, Qt, llama.cpp, the bundled model) and runs
# on x86-64 CPUs without AVX-512 too: the llama.cpp library is the wheel scripts/setup.sh
# compiled with -DGGML_NATIVE=OFF.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pip install -q "pyinstaller>=6.10,<7"
start=$(date +%s)
.venv/bin/pyinstaller --noconfirm --log-level WARN --distpath build/dist --workpath build/pyinstaller packaging/kwdesk.spec
# What a desktop needs to list the app, laid out as under /usr (copy share/ there, or to
# ~/.local/share, and put bin/kwdesk on the PATH).
app=build/dist/kwdesk
mkdir -p "$app/share/applications" "$app/share/metainfo"
cp packaging/app.kwdesk.Kwdesk.desktop "$app/share/applications/"
cp packaging/app.kwdesk.Kwdesk.metainfo.xml "$app/share/metainfo/"
for png in resources/icons/kwdesk-*.png; do
    size=$(basename "$png" .png); size=${size#kwdesk-}
    mkdir -p "$app/share/icons/hicolor/${size}x${size}/apps"
    cp "$png" "$app/share/icons/hicolor/${size}x${size}/apps/app.kwdesk.Kwdesk.png"
done
mkdir -p "$app/share/icons/hicolor/scalable/apps"
cp resources/icons/kwdesk.svg "$app/share/icons/hicolor/scalable/apps/app.kwdesk.Kwdesk.svg"
echo "built $app in $(( $(date +%s) - start )) s: $(du -sh "$app" | cut -f1)"
bash packaging/smoke.sh "$app"
