#!/usr/bin/env bash
# Optional system packages that tests exercise: Tesseract (OCR of scanned pages), the
# validators of the desktop entry and AppStream metainfo (packaging/), and the
# X libraries that Qt's xcb platform needs, with Xvfb to run the window on a virtual
# screen. Installed with apt-get when running as root; otherwise the script says what is
# missing and the tests that need it are skipped.
set -euo pipefail

PACKAGES=(tesseract-ocr xvfb desktop-file-utils appstream libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0
    libxcb-render-util0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 libxcb-shape0
    libxcb-randr0 libegl1)

missing=()
for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "kwdesk: installing system packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "kwdesk: optional system packages missing (tests that need them are skipped): ${missing[*]}" >&2
fi
