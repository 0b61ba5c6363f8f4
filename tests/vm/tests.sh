#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The kernel-dependent checks of bmtrace, in POSIX sh: the same script runs inside the VMs of
# tests/vm/vm.sh (busybox: no bash, jq or python) and directly on the host (make vmtest-host),
# so every kernel is measured by one script. What it checks, as tests/integration/itest.c
# does with the same sizes and slacks: the accounting cases of memhog, the /proc oracle (the
# peak against /proc/PID/status of the workload waiting at its peak) and the wrapper's exit
# statuses. One line per test, "VMTEST PASS name: ..." or "VMTEST FAIL name: ...", then
# "VMTEST DONE passed=N failed=M"; exit 1 when a test failed.
#
#   BMTRACE=./bmtrace WORKLOADS=build/workloads JFLAT=build/vm/jflat sh tests/vm/tests.sh [TEST...]
#
# With TEST names (forkexec ... cow, proc-oracle, exit), only those run, after the load check.
set -u
: "${BMTRACE:?set BMTRACE}" "${WORKLOADS:?set WORKLOADS}" "${JFLAT:?set JFLAT (tests/vm/jflat.c)}"
MEMHOG=$WORKLOADS/memhog
T=$(mktemp -d /tmp/bmtvm.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
passed=0
failed=0
only=" $* "

sel() { # sel NAME: whether NAME was asked for
	[ "$only" = "  " ] || case $only in *" $1 "*) ;; *) return 1 ;; esac
}

# The slacks of itest.c, in MiB: a result may be LOW under what memhog touched, and HIGH over
# it (binaries, libc, page tables; a row is one process).
LOW=4
HIGH=24
ROW_LOW=2
ROW_HIGH=12
ORACLE_PERMILLE=10 # the /proc oracle: within 1 %

clock() { cut -d' ' -f1 /proc/uptime; }
last=$(clock)

result() { # result PASS|FAIL TEXT: the line, with the seconds since the previous one
	now=$(clock)
	echo "VMTEST $1 $2 [$(awk -v a="$last" -v b="$now" 'BEGIN { printf "%.1f s", b - a }')]"
	last=$now
}

pass() {
	passed=$((passed + 1))
	result PASS "$*"
}

fail() {
	failed=$((failed + 1))
	result FAIL "$*"
	[ -s "$T/err" ] && sed 's/^/VMTEST   stderr: /' "$T/err" | head -5
}

# field FLAT PATH: the value of PATH in a file written by jflat, or "missing"
field() {
	awk -v k="$2" '$1 == k { print substr($0, length(k) + 2); found = 1 }
		END { if (!found) print "missing" }' "$1"
}

mib() { # bytes -> MiB with one decimal
	awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'
}

# within WHAT BYTES WANT_MIB LO_SLACK HI_SLACK: "" when inside, else why not
within() {
	awk -v w="$1" -v b="$2" -v want="$3" -v lo="$4" -v hi="$5" 'BEGIN {
		m = b / 1048576
		if (b !~ /^[0-9]+$/) printf "%s is %s; ", w, b
		else if (m < want - lo || m > want + hi)
			printf "%s %.1f MiB outside %g .. %g; ", w, m, want - lo, want + hi }'
}

# run_json NAME ARGS...: bmtrace --json into $T/NAME.json, flattened into $T/NAME.flat;
# sets rc to bmtrace's exit status
run_json() {
	name=$1
	shift
	rc=0
	"$BMTRACE" -q --json "$T/$name.json" -- "$@" >"$T/out" 2>"$T/err" || rc=$?
	"$JFLAT" "$T/$name.json" >"$T/$name.flat" 2>>"$T/err" || : >"$T/$name.flat"
}

# acase NAME TREE RAW NPROC ROW0 ROW1 -- MEMHOG ARGS: one case of itest.c's table (0: row
# or process count not checked)
acase() {
	name=$1 tree=$2 raw=$3 nproc=$4 row0=$5 row1=$6
	shift 7
	run_json "$name" "$MEMHOG" "$@"
	f=$T/$name.flat
	why=""
	[ "$rc" = 0 ] || why="bmtrace exited $rc; "
	why=$why$(within "tree peak" "$(field "$f" peak.bytes)" "$tree" $LOW $HIGH)
	why=$why$(within "raw sum" "$(field "$f" raw_sum_peak.bytes)" "$raw" $LOW $HIGH)
	why=$why$(within "anon peak" "$(field "$f" anon_peak.bytes)" "$tree" $LOW $HIGH)
	[ "$row0" = 0 ] ||
		why=$why$(within "row 0" "$(field "$f" peak.processes.0.bytes)" "$row0" $ROW_LOW \
			$ROW_HIGH)
	[ "$row1" = 0 ] ||
		why=$why$(within "row 1" "$(field "$f" peak.processes.1.bytes)" "$row1" $ROW_LOW \
			$ROW_HIGH)
	rows=$(grep -c '^peak\.processes\.[0-9]*\.pid ' "$f")
	[ "$nproc" = 0 ] || [ "$rows" = "$nproc" ] ||
		why="$why$rows processes at the peak, want $nproc; "
	got="tree $(mib "$(field "$f" peak.bytes)") raw $(mib "$(field "$f" raw_sum_peak.bytes)")"
	got="$got anon $(mib "$(field "$f" anon_peak.bytes)") MiB (want $tree, $raw)"
	if [ -z "$why" ]; then pass "$name: $got"; else fail "$name: $why($got)"; fi
}

# The /proc oracle: memhog spawn 200 100 waits at its peak; the sum of RssAnon + RssFile +
# RssShmem of its two processes then is what bmtrace must report, within 1 %, in total and
# per process (posix_spawn shares no pages: tree == raw == the sum).
rss_of() { # a copy of /proc/PID/status
	awk '/^Rss(Anon|File|Shmem):/ { kb += $2 } END { print kb * 1024 }' "$1"
}

# near WHAT GOT WANT: "" when GOT is within ORACLE_PERMILLE of WANT, else why not; prints the
# difference either way into $T/diff
near() {
	awk -v w="$1" -v g="$2" -v o="$3" -v p=$ORACLE_PERMILLE -v f="$T/diff" 'BEGIN {
		d = g - o
		printf("%s %+d B (%+.3f%%); ", w, d, o ? 100 * d / o : 0) >> f
		if (g !~ /^[0-9]+$/ || (d < 0 ? -d : d) * 1000 > p * o)
			printf "%s: bmtrace %s, /proc %d; ", w, g, o }'
}

oracle() {
	rm -f "$T/fifo" "$T/pids" "$T/diff" "$T"/status.*
	mkfifo "$T/fifo"
	BMT_PEAK_FIFO=$T/fifo BMT_PEAK_PIDS=$T/pids \
		"$BMTRACE" -q --json "$T/oracle.json" -- "$MEMHOG" spawn 200 100 2>"$T/err" &
	bmt=$!
	i=0
	while [ ! -e "$T/pids" ] && [ $i -lt 600 ] && kill -0 $bmt 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	if [ ! -e "$T/pids" ]; then
		kill $bmt 2>/dev/null
		wait $bmt
		fail "proc-oracle: memhog never reached its peak"
		return
	fi
	sum=0
	: >"$T/rss"
	for p in $(cat "$T/pids"); do
		cp "/proc/$p/status" "$T/status.$p"
		r=$(rss_of "$T/status.$p")
		echo "$p $r" >>"$T/rss"
		sum=$((sum + r))
	done
	echo x >"$T/fifo"
	rc=0
	wait $bmt || rc=$?
	"$JFLAT" "$T/oracle.json" >"$T/oracle.flat" 2>>"$T/err" || : >"$T/oracle.flat"
	f=$T/oracle.flat
	why=""
	[ "$rc" = 0 ] || why="bmtrace exited $rc; "
	[ "$(wc -l <"$T/rss")" = 2 ] || why="${why}want 2 processes at the peak; "
	why=$why$(near "tree peak" "$(field "$f" peak.bytes)" $sum)
	while read -r p r; do
		idx=$(awk -v p="$p" '$1 ~ /^peak\.processes\.[0-9]+\.pid$/ && $2 == p {
			split($1, a, "."); print a[3] }' "$f")
		if [ -z "$idx" ]; then
			why="${why}pid $p has no row at the peak; "
			continue
		fi
		why=$why$(near "pid $p" "$(field "$f" "peak.processes.$idx.bytes")" "$r")
		echo "VMTEST   pid $p at the peak: bmtrace" \
			"anon $(field "$f" "peak.processes.$idx.anon_bytes")" \
			"file $(field "$f" "peak.processes.$idx.file_bytes")" \
			"shmem $(field "$f" "peak.processes.$idx.shmem_bytes") B; /proc" \
			"$(awk '/^Rss(Anon|File|Shmem):/ { printf "%s %d kB ", $1, $2 }' "$T/status.$p")"
	done <"$T/rss"
	if [ -z "$why" ]; then
		pass "proc-oracle: /proc $sum B; $(cat "$T/diff")"
	else
		fail "proc-oracle: $why"
	fi
}

# status NAME WANT ARGS...: bmtrace ARGS exits WANT
status() {
	name=$1 want=$2
	shift 2
	rc=0
	"$BMTRACE" "$@" >"$T/out" 2>"$T/err" </dev/null || rc=$?
	if [ "$rc" = "$want" ]; then pass "$name: exit $rc"; else fail "$name: exit $rc, want $want"; fi
}

# A command that died of SIGKILL: 137, and the JSON says signal 9 and no exit code.
killed() {
	run_json killed "$MEMHOG" kill 9
	why=""
	[ "$rc" = 137 ] || why="exit $rc, want 137; "
	[ "$(field "$T/killed.flat" signal)" = 9 ] || why="${why}JSON signal is not 9; "
	[ "$(field "$T/killed.flat" exit_code)" = null ] || why="${why}JSON exit_code is not null; "
	if [ -z "$why" ]; then pass "exit-signal: exit 137, signal 9"; else fail "exit-signal: $why"; fi
}

# One line on stderr and 125 for an option bmtrace does not know.
bad_option() {
	status exit-bad-option 125 --no-such-option -- true
	n=$(wc -l <"$T/err")
	[ "$n" = 1 ] || fail "exit-bad-option-line: $n lines on stderr, want 1"
}

kernel=$(uname -r)
echo "VMTEST KERNEL $kernel"
ld=$(cat /proc/sys/kernel/unprivileged_bpf_disabled 2>/dev/null)
echo "VMTEST INFO btf=$([ -r /sys/kernel/btf/vmlinux ] && echo yes || echo no)" \
	"unprivileged_bpf_disabled=$ld cpus=$(grep -c ^processor /proc/cpuinfo)"

# Does bmtrace load here? A kernel it refuses gets one line on stderr and 125.
run_json load "$MEMHOG" hold 10
if [ "$rc" != 0 ]; then
	fail "load: bmtrace exited $rc on $kernel"
	"$BMTRACE" -v -q -- "$MEMHOG" hold 1 2>&1 | tail -25 | sed 's/^/VMTEST   -v: /'
	echo "VMTEST DONE passed=$passed failed=$failed"
	exit 1
fi
pass "load: thread_batch_faults $(field "$T/load.flat" thread_batch_faults)" \
	"counter_source $(field "$T/load.flat" counter_source)"

sel forkexec && acase forkexec 400 600 2 300 100 -- forkexec 300 100
sel spawn && acase spawn 400 400 2 300 100 -- spawn 300 100
sel vfork && acase vfork 400 400 2 300 100 -- vfork 300 100
sel execinto && acase execinto 300 300 1 300 0 -- execinto 300 100
sel threads && acase threads 400 400 1 400 0 -- threads 8 50
sel spike && acase spike 400 500 2 300 100 -- spike 100 300 20
sel cow && acase cow 300 600 0 300 0 -- cow 300
sel proc-oracle && oracle
if sel exit; then
	status exit-0 0 -q -- "$MEMHOG" exit 0
	status exit-3 3 -q -- "$MEMHOG" exit 3
	killed
	printf '#!/bin/sh\n' >"$T/noexec"
	chmod 644 "$T/noexec"
	status exit-not-executable 126 -q -- "$T/noexec"
	status exit-not-found 127 -q -- /nonexistent/bmtrace-vmtest-cmd
	bad_option
fi

echo "VMTEST DONE passed=$passed failed=$failed"
[ "$failed" = 0 ]
