#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/bench/run.sh - bmtrace's benchmark suite (make bench; BENCH.md says what it
# measures and how to read it). Needs root. Prints one table on stdout and keeps every
# run's figures and output in $BENCH_OUT.
#
# Four workloads, each run untraced and under bmtrace in interleaved rounds (at least 5),
# and under three peers in the first rounds: tests/bench/rss_tree.bt (bpftrace), and
# tests/bench/sampler at 150 ms and at 10 ms. Then the checks of issue 3's targets:
# bmtrace -- true, own memory with 2,000 vs 10,000 exited processes, loss with a tiny
# ring, and the peak each tool reports on a 20 ms spike.
#
# Environment (defaults in brackets):
#   BMTRACE             the bmtrace under test [./bmtrace]
#   WORKLOADS           tests/workloads binaries [build/workloads]
#   BENCH_BIN           runstat and sampler [build/bench]
#   BENCH_OUT           results, logs, build trees [build/bench/out]
#   BENCH_PAIRS         rounds of untraced + bmtrace per workload [5]
#   BENCH_PEER_ROUNDS   of those, rounds that also run the peers [3]
#   BENCH_BPF_RUNS      runs per workload with kernel.bpf_stats_enabled=1 (BPF ns/event) [2]
#   BENCH_SIZE          full | smoke (tiny sizes, seconds; checks that it all runs) [full]
#   BENCH_BUILD         libiberty (GNU libiberty from Debian's binutils-source) | self
#                       (bmtrace's own sources) [libiberty when installed, else self]
#   BENCH_COMMIT        the commit the table names [git describe of this tree]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BMTRACE=$(realpath "${BMTRACE:-./bmtrace}")
WORKLOADS=$(realpath "${WORKLOADS:-build/workloads}")
BENCH_BIN=$(realpath "${BENCH_BIN:-build/bench}")
BENCH_OUT=${BENCH_OUT:-build/bench/out}
PAIRS=${BENCH_PAIRS:-5}
PEER_ROUNDS=${BENCH_PEER_ROUNDS:-3}
BPF_RUNS=${BENCH_BPF_RUNS:-2}
SIZE=${BENCH_SIZE:-full}
RUNSTAT=$BENCH_BIN/runstat
SAMPLER=$BENCH_BIN/sampler
BT_SCRIPT=$here/rss_tree.bt

die() {
	echo "bench: $*" >&2
	exit 1
}
note() { echo "bench: $*" >&2; }

[ "$(id -u)" = 0 ] || die "needs root (bmtrace and bpftrace load BPF programs): sudo make bench"
for f in "$BMTRACE" "$RUNSTAT" "$SAMPLER" "$WORKLOADS"/{faultstorm,forkstorm,deeptree,memhog}; do
	[ -x "$f" ] || die "$f is missing: run it through make bench"
done
command -v jq >/dev/null || die "jq is missing: make bench-deps (apt-get install jq bpftrace binutils-source)"
PEERS="bpftrace s150 s10"
if ! command -v bpftrace >/dev/null; then
	note "bpftrace is not installed (make bench-deps): its rows are left out"
	PEERS="s150 s10"
fi
((PAIRS >= 1 && PEER_ROUNDS <= PAIRS)) || die "BENCH_PAIRS >= 1 and BENCH_PEER_ROUNDS <= BENCH_PAIRS"

mkdir -p "$BENCH_OUT"
BENCH_OUT=$(realpath "$BENCH_OUT")
RUNS=$BENCH_OUT/runs.tsv   # one line per counted run
META=$BENCH_OUT/workloads.tsv
LOG=$BENCH_OUT/runs.log    # every run's command and output
TMP=$BENCH_OUT/tmp
rm -rf "$TMP"
mkdir -p "$TMP"
: >"$RUNS"
: >"$META"
: >"$LOG"
start_s=$SECONDS
PHASE=0 # the samplers' first sample: at the start, but for the spike (below)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the workloads -----------------------------------------------------------------

case $SIZE in
full)
	FAULT=(1024 4) FORK=(10000 2) FORK_SMALL=(2000 2) DEEP=(300 4 1)
	SPIKE=(100 300 20) SPIKE_RUNS=10 TRUE_PAIRS=10 GROWTH_RUNS=3
	;;
smoke)
	FAULT=(64 1) FORK=(200 2) FORK_SMALL=(40 2) DEEP=(20 2 1)
	SPIKE=(100 300 20) SPIKE_RUNS=1 TRUE_PAIRS=2 GROWTH_RUNS=1
	;;
*) die "BENCH_SIZE is full or smoke, not '$SIZE'" ;;
esac

# The build: a clean `make -j2` each run (`make clean` before it is not timed).
BUILD=${BENCH_BUILD:-}
libiberty_tar=$(ls /usr/src/binutils/binutils-*.tar.* 2>/dev/null | head -1 || true)
if [ -z "$BUILD" ]; then
	BUILD=self
	[ -n "$libiberty_tar" ] && [ "$SIZE" = full ] && BUILD=libiberty
	[ "$BUILD" = self ] && [ "$SIZE" = full ] &&
		note "binutils-source is not installed (make bench-deps): the real build is bmtrace's own"
fi
case $BUILD in
libiberty)
	[ -n "$libiberty_tar" ] || die "BENCH_BUILD=libiberty needs binutils-source (make bench-deps)"
	src=$BENCH_OUT/src/$(basename "${libiberty_tar%.tar.*}")
	tree=$BENCH_OUT/libiberty
	if [ ! -f "$tree/Makefile" ]; then
		note "unpacking and configuring libiberty from $libiberty_tar (once)"
		rm -rf "$src" "$tree"
		mkdir -p "$BENCH_OUT/src" "$tree"
		tar -xf "$libiberty_tar" -C "$BENCH_OUT/src"
		(cd "$tree" && "$src/libiberty/configure" -q) >>"$LOG" 2>&1 ||
			die "libiberty's configure failed (see $LOG)"
	fi
	BUILD_LABEL="libiberty (binutils $(basename "$src" | sed 's/^binutils-//')) make -j2"
	;;
self)
	tree=$BENCH_OUT/selfbuild
	top=$(cd "$here/../.." && pwd)
	rm -rf "$tree"
	mkdir -p "$tree"
	# the committed sources when there is a git tree (a work tree may be mid-edit)
	git -C "$top" archive HEAD Makefile bpf user vmlinux doc 2>/dev/null | tar -x -C "$tree" ||
		cp -r "$top/Makefile" "$top/bpf" "$top/user" "$top/vmlinux" "$top/doc" "$tree/"
	BUILD_LABEL="bmtrace's own sources, make -j2"
	;;
*) die "BENCH_BUILD is libiberty or self, not '$BUILD'" ;;
esac
BUILD_TREE=$tree

# add_workload NAME LABEL PROCESSES DISPLAY COMMAND...: PROCESSES is how many the tree
# starts ("" when only a tracer can tell), DISPLAY the command as the table shows it.
add_workload() {
	local name=$1
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$META"
	shift 4
	eval "CMD_$name=(\"\$@\")"
}
add_workload fault "fault storm" 1 "faultstorm ${FAULT[*]}" "$WORKLOADS/faultstorm" "${FAULT[@]}"
add_workload fork "fork/exec storm" $((FORK[0] + 1)) "forkstorm ${FORK[*]}" \
	"$WORKLOADS/forkstorm" "${FORK[@]}"
add_workload build "real build" "" "$BUILD_LABEL" "$(command -v make)" -C "$BUILD_TREE" -j2
add_workload deep "deep tree" $((1 + DEEP[2] * (DEEP[0] - 1))) "deeptree ${DEEP[*]}" \
	"$WORKLOADS/deeptree" "${DEEP[@]}"

prepare() { # before each run, not timed
	if [ "$1" = build ]; then make -C "$BUILD_TREE" clean >>"$LOG" 2>&1; fi
	return 0
}

# ---- one run -----------------------------------------------------------------------

kv() { awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print "-" }' "$1" 2>/dev/null; }
bt() { awk -F': ' -v k="@$2" '$1 == k { print $2; f = 1 } END { if (!f) print "-" }' "$1"; }

# run WORKLOAD TOOL ROUND [COMMAND...]: one timed run, appended to $RUNS as
#   workload tool round wall_s status own_rss_kib own_cpu_s peak_bytes events lost
#   processes duration_s raw_peak_bytes lower_bound tree_cpu_s end_total
# ("-" where a tool has no such figure; table.awk reads them by these positions)
run() {
	local wl=$1 tool=$2 round=$3 st=$TMP/stat out=$TMP/out json=$TMP/result.json
	shift 3
	local -a cmd=("$@")
	[ ${#cmd[@]} -gt 0 ] || eval 'cmd=("${CMD_'"$wl"'[@]}")'
	prepare "$wl"
	rm -f "$st" "$out" "$json"
	local -a argv
	case $tool in
	base) argv=("$RUNSTAT" -o "$st" -- "${cmd[@]}") ;;
	bmtrace) argv=("$RUNSTAT" -s -o "$st" -- "$BMTRACE" -q --json "$json" -- "${cmd[@]}") ;;
	bpftrace) argv=("$RUNSTAT" -s -o "$st" -- bpftrace -o "$out" "$BT_SCRIPT" -c "${cmd[*]}") ;;
	s150) argv=("$RUNSTAT" -s -o "$st" -- "$SAMPLER" -o "$out" -d "$((PHASE * 150 / 100))" \
		150 -- "${cmd[@]}") ;;
	s10) argv=("$RUNSTAT" -s -o "$st" -- "$SAMPLER" -o "$out" -d "$((PHASE * 10 / 100))" \
		10 -- "${cmd[@]}") ;;
	*) die "unknown tool $tool" ;;
	esac
	printf '\n== %s %s round %s: %s\n' "$wl" "$tool" "$round" "${argv[*]}" >>"$LOG"
	"${argv[@]}" </dev/null >>"$LOG" 2>&1 || true
	[ -s "$st" ] || die "$wl/$tool: no figures from runstat (see $LOG)"
	[ "$(kv "$st" status)" = 0 ] || die "$wl/$tool exited $(kv "$st" status) (see $LOG)"
	local rss cpu peak=- events=- lost=- procs=- dur=- raw=- lb=- drift=-
	rss=$(kv "$st" own_maxrss_kib)
	cpu=$(awk '$1 == "own_user_s" { u = $2 } $1 == "own_sys_s" { s = $2 }
		END { if (u != "") printf "%.2f", u + s; else print "-" }' "$st")
	case $tool in
	bmtrace)
		[ -s "$json" ] || die "$wl/bmtrace wrote no JSON (see $LOG)"
		read -r peak events lost procs dur raw lb < <(jq -r '[.peak.bytes, .events,
			.lost_events, .processes_total, .duration_s, .raw_sum_peak.bytes,
			.peak_is_lower_bound] | @tsv' "$json")
		;;
	bpftrace)
		peak=$(bt "$out" peak_bytes) events=$(bt "$out" events) procs=$(bt "$out" processes)
		drift=$(bt "$out" end_total)
		;;
	s150 | s10) peak=$(kv "$out" peak_bytes) ;;
	esac
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$wl" "$tool" \
		"$round" "$(kv "$st" wall_s)" 0 "$rss" "$cpu" "$peak" "$events" "$lost" "$procs" \
		"$dur" "$raw" "$lb" "$(kv "$st" tree_cpu_s)" "$drift" >>"$RUNS"
}

# Rounds of one workload. Even rounds run untraced, bmtrace, then the peers; odd rounds
# the peers, bmtrace, then untraced: every pair swaps its order (the first run of a pair
# is often slower on these machines) and the peers sit between two untraced runs.
# The peers rotate so that none is always first. One untraced warm-up run first.
bench_workload() {
	local wl=$1 r i n tool
	local -a peers order
	read -r -a peers <<<"$PEERS"
	note "$wl: warm-up, then $PAIRS rounds ($PEER_ROUNDS with peers)"
	run "$wl" base warmup
	sed -i '$d' "$RUNS" # the warm-up is not counted
	for ((r = 0; r < PAIRS; r++)); do
		order=()
		if ((r < PEER_ROUNDS)); then
			n=${#peers[@]}
			for ((i = 0; i < n; i++)); do order+=("${peers[(i + r) % n]}"); done
		fi
		if ((r % 2 == 0)); then
			order=(base bmtrace "${order[@]}")
		else
			order=("${order[@]}" bmtrace base)
		fi
		for tool in "${order[@]}"; do run "$wl" "$tool" "$r"; done
	done
}

for wl in fault fork build deep; do bench_workload "$wl"; done

# ---- BPF run time -------------------------------------------------------------------

# What bmtrace's programs cost per rss event, as the kernel measures it
# (kernel.bpf_stats_enabled=1: run_time_ns of every program of bmtrace's, which bmtrace -v
# sums at exit, divided by the events it handled). Separate runs: the statistics add their
# own clock reads to every program run, so the timed rounds above run without them. The
# figure counts every run, other processes' events included (~55 ns each for an empty
# program here), so a busy machine raises it.
BPF=$BENCH_OUT/bpf.tsv # workload round ns runs events source records
: >"$BPF"
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
restore_stats() { sysctl -q kernel.bpf_stats_enabled="$stats_was"; }
trap restore_stats EXIT
sysctl -q kernel.bpf_stats_enabled=1
note "BPF run time per event: $BPF_RUNS runs per workload"
for wl in fault fork build deep; do
	eval 'cmd=("${CMD_'"$wl"'[@]}")'
	for ((r = 0; r < BPF_RUNS; r++)); do
		prepare "$wl"
		"$BMTRACE" -v -q --json "$TMP/bpf.json" -- "${cmd[@]}" </dev/null >/dev/null \
			2>"$TMP/bpf.err" || die "$wl: bmtrace -v failed (see $TMP/bpf.err)"
		grep '^bmtrace: \(counter source\|BPF run time\|btf-percpu reads\|[0-9]* rss events\)' \
			"$TMP/bpf.err" \
			>>"$LOG" || true
		awk -v wl="$wl" -v r="$r" '
			/^bmtrace: counter source: / { src = $4 }
			/^bmtrace: BPF run time: / { ns = $5; runs = $8; ev = $15; sub(/^\(/, "", ev) }
			/^bmtrace: [0-9]+ rss events, / { rec = $10 }
			END { if (ns != "") printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", wl, r, ns, runs, ev,
				src == "" ? "tracepoint" : src, rec == "" ? ev : rec }' \
			"$TMP/bpf.err" >>"$BPF"
	done
done
restore_stats

# ---- the checks --------------------------------------------------------------------

CHECKS=$BENCH_OUT/checks.tsv # check round tool wall_s own_rss_kib peak raw lost lower_bound
: >"$CHECKS"
check_row() { # name round: the last line of $RUNS, moved to $CHECKS
	tail -1 "$RUNS" | awk -F'\t' -v OFS='\t' -v c="$1" -v r="$2" \
		'{ print c, r, $2, $4, $6, $8, $13, $10, $14 }' >>"$CHECKS"
	sed -i '$d' "$RUNS"
}

note "bmtrace -- true: $TRUE_PAIRS pairs"
for ((r = 0; r < TRUE_PAIRS; r++)); do
	if ((r % 2 == 0)); then order=(base bmtrace); else order=(bmtrace base); fi
	for tool in "${order[@]}"; do
		run true "$tool" "$r" true
		check_row true "$r"
	done
done

note "own memory after ${FORK_SMALL[0]} exited processes: $GROWTH_RUNS runs"
for ((r = 0; r < GROWTH_RUNS; r++)); do
	run growth bmtrace "$r" "$WORKLOADS/forkstorm" "${FORK_SMALL[@]}"
	check_row growth "$r"
done

# Forced loss: a 4 KiB ring (~100 records) and bmtrace stopped (it cannot drain) while
# memhog touches 100 MiB (25,600 page faults). memhog late waits on a fifo before it touches
# anything and again at its peak (tests/workloads/memhog.c); so does the integration test
# test_tiny_ring_reports_loss. The loss must be counted, flagged and said. A record per event
# (BMTRACE_RUNS=off): with runs, those faults are a few dozen records, which the ring may hold.
note "a 4 KiB ring, bmtrace stopped while 100 MiB are touched: loss must be reported"
fifo=$TMP/peak.fifo pids=$TMP/peak.pids
rm -f "$fifo" "$pids" "$TMP/tiny.json"
mkfifo "$fifo"
BMTRACE_RUNS=off BMT_PEAK_FIFO=$fifo BMT_PEAK_PIDS=$pids "$BMTRACE" --ring-size 4K \
	--json "$TMP/tiny.json" -- \
	"$WORKLOADS/memhog" late 100 </dev/null >"$TMP/tiny.txt" 2>&1 &
bmt=$!
at_peak() { # memhog has written its pids file and waits on the fifo
	local i
	for ((i = 0; i < 6000; i++)); do
		if [ -e "$pids" ]; then
			rm -f "$pids"
			return 0
		fi
		sleep 0.01
	done
	die "memhog late never reached its wait (see $TMP/tiny.txt)"
}
release() { timeout 10 bash -c "echo >'$fifo'" || die "memhog late did not wait on $fifo"; }
at_peak
kill -STOP "$bmt"
release
at_peak
kill -CONT "$bmt"
release
wait "$bmt" || die "bmtrace --ring-size 4K failed (see $TMP/tiny.txt)"
cat "$TMP/tiny.txt" >>"$LOG"
tiny_lost=$(jq -r .lost_events "$TMP/tiny.json")
tiny_lb=$(jq -r .peak_is_lower_bound "$TMP/tiny.json")
tiny_said=$(grep -c 'lower bound' "$TMP/tiny.txt" || true)

# The samplers' first sample comes PHASE % of their interval after the start: spread over
# the rounds, so that the spike's fixed timing cannot make them lucky (or unlucky) each time.
note "the spike (memhog spike ${SPIKE[*]}): $SPIKE_RUNS rounds"
for ((r = 0; r < SPIKE_RUNS; r++)); do
	PHASE=$((100 * r / SPIKE_RUNS))
	read -r -a order <<<"bmtrace $PEERS"
	n=${#order[@]}
	for ((i = 0; i < n; i++)); do
		tool=${order[(i + r) % n]}
		run spike "$tool" "$r" "$WORKLOADS/memhog" spike "${SPIKE[@]}"
		check_row spike "$r"
	done
done

# ---- the table ---------------------------------------------------------------------

mem_kib=$(awk '/^MemTotal/ { print $2 }' /proc/meminfo)
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
commit=${BENCH_COMMIT:-$(git -C "$here" describe --always --dirty --abbrev=7 2>/dev/null || echo unknown)}
elapsed=$((SECONDS - start_s))
{
	printf 'machine\t%s cores (%s), %.1f GiB, Linux %s\n' "$(nproc)" "$cpu_model" \
		"$(echo "$mem_kib" | awk '{ print $1 / 1048576 }')" "$(uname -r)"
	printf 'versions\tbmtrace %s (%s), %s\n' "$("$BMTRACE" --version 2>/dev/null | head -1 |
		awk '{ print $NF }')" "$commit" \
		"$(command -v bpftrace >/dev/null && bpftrace --version || echo 'no bpftrace')"
	printf 'run\t%s, %s rounds (%s with peers), %s s; load average before: %s\n' \
		"$(date -u +%F)" "$PAIRS" "$PEER_ROUNDS" "$elapsed" "$load_before"
	printf 'size\t%s\n' "$SIZE"
	printf 'tiny\t%s\t%s\t%s\n' "$tiny_lost" "$tiny_lb" "$tiny_said"
	printf 'spike\t%s\n' "${SPIKE[*]}"
	printf 'fork_small\t%s\n' "${FORK_SMALL[0]}"
} >"$BENCH_OUT/info.tsv"
awk -f "$here/table.awk" "$BENCH_OUT/info.tsv" "$META" "$RUNS" "$CHECKS" "$BPF" |
	tee "$BENCH_OUT/table.txt"
