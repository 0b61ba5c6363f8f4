#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Boot a Debian kernel package in QEMU with bmtrace, its workloads and tests/vm/tests.sh in
# an initramfs (no disk image), and report the tests' results from the serial console.
#
#   vm.sh PACKAGE   e.g. linux-image-6.1.0-57-cloud-amd64 (make vmtest picks Debian 12's
#                   current cloud kernel)
#
# Environment: BMTRACE, WORKLOADS (the built workloads), JFLAT (tests/vm/jflat.c built), OUT
# (a scratch dir: the kernel package is downloaded and unpacked there once, with apt-get
# download and dpkg-deb -x, never installed), ACCEL (auto, kvm or tcg), VM_TIMEOUT (seconds,
# the whole run), KVM_PROBE (seconds a KVM guest gets to reach the test script before auto
# falls back to TCG), VMTEST_ONLY (names of tests of tests.sh to run, default all).
#
# The guest runs with mitigations=off: under TCG, page-table isolation costs a TLB flush per
# fault and system call (119 s of tests became 100 s), and no accounting depends on it.
#
# Exit 0 when every test passed; 1 when one failed, or the VM did not get to the end (the
# serial log is printed in full then).
set -euo pipefail
pkg=${1:?usage: vm.sh PACKAGE}
: "${BMTRACE:?}" "${WORKLOADS:?}" "${JFLAT:?}" "${OUT:?}"
ACCEL=${ACCEL:-auto}
VM_TIMEOUT=${VM_TIMEOUT:-300}
KVM_PROBE=${KVM_PROBE:-20}
here=$(cd "$(dirname "$0")" && pwd)

say() { echo "vmtest: $*" >&2; }

# The kernel: the package's vmlinuz, unpacked under $OUT/PACKAGE.
kernel_of() {
	local dir=$OUT/$pkg deb
	if ! ls "$dir"/boot/vmlinuz-* >/dev/null 2>&1; then
		rm -rf "$dir" && mkdir -p "$dir"
		(cd "$OUT" && rm -f "$pkg"_*.deb && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2) ||
			{ say "cannot download $pkg (apt-get update? a package of this release?)"; exit 1; }
		deb=$(ls "$OUT/$pkg"_*.deb)
		dpkg-deb -x "$deb" "$dir"
		rm -f "$deb"
	fi
	ls "$dir"/boot/vmlinuz-*
}

# Copy FILE to DEST under root, and the shared libraries it needs (ldd) to their own paths.
# Never to FILE's own path: the checkout may be under /tmp, which the guest's init mounts over.
with_libs() {
	local root=$1 f=$2 dest=$3 lib
	mkdir -p "$root$(dirname "$dest")"
	cp -L "$f" "$root$dest"
	for lib in $(ldd "$f" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

# The initramfs: busybox, /init, and under /bmt the binaries and the test script.
initramfs() {
	local root=$OUT/root img=$OUT/initramfs.cpio.gz f
	rm -rf "$root"
	mkdir -p "$root"/{bin,bmt/workloads,dev,proc,sys,tmp}
	cp /bin/busybox "$root/bin/busybox"
	cp "$here/init" "$root/init"
	cp "$here/tests.sh" "$root/bmt/tests.sh"
	chmod 755 "$root/init"
	with_libs "$root" "$BMTRACE" /bmt/bmtrace
	with_libs "$root" "$JFLAT" /bmt/jflat
	for f in "$WORKLOADS"/*; do
		with_libs "$root" "$f" "/bmt/workloads/$(basename "$f")"
	done
	(cd "$root" && find . | busybox cpio -o -H newc -R 0:0 2>/dev/null) | gzip -1 >"$img"
	echo "$img"
}

# boot ACCEL LOG: run the VM; 0 when it got to the test script (and on, to its end or the
# timeout), 2 when a KVM guest did not reach it within KVM_PROBE seconds (killed).
boot() {
	local accel=$1 log=$2 cpu qpid tpid t=0 rc=0
	case $accel in
	kvm) cpu=host ;;
	tcg) cpu=max ;;
	esac
	: >"$log"
	timeout "$VM_TIMEOUT" qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -smp 2 -m 2G \
		-kernel "$kernel" -initrd "$img" -nographic -no-reboot -net none \
		-append "console=ttyS0 panic=-1 loglevel=4 mitigations=off -- ${VMTEST_ONLY:-}" >"$log" 2>&1 &
	qpid=$!
	tail -n +1 -f --pid=$qpid "$log" | grep -a --line-buffered '^VMTEST' &
	tpid=$!
	if [ "$accel" = kvm ]; then
		# not at the start of its line: the firmware's last escape codes come before it
		while ! grep -aq 'VMTEST BOOT' "$log" && kill -0 $qpid 2>/dev/null; do
			if [ $t -ge $((KVM_PROBE * 10)) ]; then
				kill $qpid
				wait $qpid || true
				wait $tpid || true
				return 2
			fi
			sleep 0.1
			t=$((t + 1))
		done
	fi
	wait $qpid || rc=$?
	wait $tpid || true
	grep -aq 'VMTEST BOOT' "$log" || return 2
	[ "$rc" = 0 ] || say "qemu exited $rc (124: the timeout of $VM_TIMEOUT s)"
}

kernel=$(kernel_of)
img=$(initramfs)
log=$OUT/$pkg.log
say "$pkg: $(basename "$kernel"), initramfs $(du -h "$img" | cut -f1)"
start=$(date +%s)
accel=$ACCEL
if [ "$accel" = auto ]; then
	accel=tcg
	if [ -w /dev/kvm ]; then
		accel=kvm
	fi
fi
if [ "$accel" = kvm ] && ! boot kvm "$log"; then
	say "KVM: the guest did not reach the tests (qemu ended, or $KVM_PROBE s passed): $(tail -c 300 "$log" | tr -c '[:print:]\n' ' ' | tail -2 | tr '\n' ' ')"
	[ "$ACCEL" = auto ] || exit 1
	say "trying TCG"
	accel=tcg
fi
if [ "$accel" = tcg ]; then
	boot tcg "$log" || true
fi
passed=$(grep -ac '^VMTEST PASS' "$log" || true)
failed=$(grep -ac '^VMTEST FAIL' "$log" || true)
say "$pkg under $accel: $passed passed, $failed failed, $(($(date +%s) - start)) s"
if ! grep -aq '^VMTEST DONE' "$log"; then
	say "the tests did not finish; the serial log ($log):"
	cat -v "$log" | tail -50 >&2
	exit 1
fi
[ "$failed" = 0 ]
