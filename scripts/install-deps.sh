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
	python3.11-minimal # /usr/bin/python3.11: a distribution binary's USDT probes (test_usdt_distro)
	systemtap-sdt-dev
	libcapstone-dev
	libc6-dbg llvm-14 # test_symbols: libc's DWARF (clock_nanosleep), llvm-dwp for a DWARF 5 .dwp
	openssh-server openssh-client libcap2-bin passwd util-linux
	lld # the layout tests' clang -fuse-ld=lld target (gold is binutils')
)

# The Rust test target (tests/targets/rustvalues.rs): rustup's rustc where the
# machine has one, else Debian's.
if ! command -v rustc >/dev/null 2>&1 && [ ! -x "${HOME:-/root}/.cargo/bin/rustc" ] &&
	[ ! -x /root/.cargo/bin/rustc ]; then
	PKGS+=(rustc)
fi

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
