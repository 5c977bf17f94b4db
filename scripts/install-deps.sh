#!/usr/bin/env bash
# Install what bpfstub needs to build, test and demo on Debian 12 (run as root).
# Idempotent: packages already present are left alone, and apt is only
# consulted when something is missing.
set -euo pipefail

PKGS=(
	build-essential make pkg-config clang # build-essential: gcc, binutils (nm for scripts/layers.py)
	libbpf-dev libelf-dev libdw-dev zlib1g-dev
	libdebuginfod-dev debuginfod # client library (stub/program/debuginfo.c); the server, for its test
	gdb gdbserver lldb python3-lldb-14
	golang-go
	libclang-rt-14-dev
	procps python3 curl babeltrace2
	systemtap-sdt-dev
	libcapstone-dev
	openssh-server openssh-client libcap2-bin passwd util-linux
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: everything is installed"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages (${missing[*]}); run as root" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
