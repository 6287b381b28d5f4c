#!/usr/bin/env bash
# Installs QEMU's x86 system emulator (Debian's qemu-system-x86) when qemu-system-x86_64 is
# missing, for the conformance tests that drive QEMU's NVMe controller. Does nothing when it
# is already there. Runs apt-get as root, or through sudo when not root.
set -euo pipefail

if command -v qemu-system-x86_64 >/dev/null 2>&1; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "install-qemu: qemu-system-x86_64 is missing and neither root nor sudo is available;" >&2
    echo "install-qemu: install Debian's qemu-system-x86 package by hand." >&2
    exit 1
fi

echo "== installing qemu-system-x86 (qemu-system-x86_64 is missing)"
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends qemu-system-x86
command -v qemu-system-x86_64 >/dev/null
