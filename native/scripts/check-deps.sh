#!/bin/sh
# Fails with one clear line per missing build dependency.
# Usage: check-deps.sh CC
CC=${1:-cc}
missing=""
if ! command -v "$CC" >/dev/null 2>&1; then
	echo "native: C compiler '$CC' not found (apt-get install clang)" >&2
	exit 1
fi
probe() { # header lib package
	printf '#include <%s>\nint main(void){return 0;}\n' "$1" |
		"$CC" -x c - -o /dev/null "$2" >/dev/null 2>&1 || missing="$missing $3"
}
probe pcap/pcap.h -lpcap libpcap-dev
probe bpf/libbpf.h -lbpf libbpf-dev
probe libelf.h -lelf libelf-dev
probe capstone/capstone.h -lcapstone libcapstone-dev
command -v clang >/dev/null 2>&1 || missing="$missing clang"
command -v ${BPFTOOL:-bpftool} >/dev/null 2>&1 || missing="$missing bpftool"
if [ -n "$missing" ]; then
	echo "native: missing build dependencies:$missing" >&2
	echo "native: install them with: apt-get install -y$missing" >&2
	exit 1
fi
