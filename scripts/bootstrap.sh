#!/usr/bin/env bash
# Installs everything the build, the tests and the benchmarks need on a fresh Debian 12 machine.
# Idempotent: when everything is present it only checks, which takes well under a second.
set -euo pipefail

# bubblewrap, util-linux (setpriv, prlimit) and libc-bin (ldd): the sandbox; e2fsprogs: `nex rootfs --ext4`.
# libjavascriptcoregtk-4.1-dev: JS and Wasm functions. wasi-libc, libclang-rt-14-dev-wasm32, wabt: Wasm test
# guests (built with the toolchain's clang; Debian's `clang` package must not be installed: it shadows it).
APT_PACKAGES=(nats-server libsodium-dev libnats-dev pkg-config openssl ca-certificates python3 python3-pip gcc libc6-dev
  bubblewrap util-linux libc-bin e2fsprogs libjavascriptcoregtk-4.1-dev wasi-libc libclang-rt-14-dev-wasm32 wabt)
PIP_PACKAGES=(nats-py nkeys pynacl)

missing_apt=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing_apt+=("$pkg")
  fi
done
if ((${#missing_apt[@]})); then
  echo "bootstrap: installing apt packages: ${missing_apt[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing_apt[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import nats, nkeys, nacl' 2>/dev/null; then
  echo "bootstrap: installing pip packages: ${PIP_PACKAGES[*]}"
  "$PYTHON" -m pip install -q "${PIP_PACKAGES[@]}" 2>/dev/null \
    || "$PYTHON" -m pip install -q --break-system-packages "${PIP_PACKAGES[@]}"
fi
