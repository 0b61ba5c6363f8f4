#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# serve_e2e - `bmtrace serve`, the long-running Prometheus exporter, end to end on loopback.
# Workloads are memhog (tests/workloads/memhog.c) run through symlinks, so that each has a
# comm of its own (jobA..., unique to this run), waiting at their peaks on FIFOs while the
# test scrapes /metrics:
#   0. the command line: no tree source, a --cgroup-parent off cgroup2: exit 125, one line;
#   1. --root: two trees at once (a fork+exec child after the root's exec, 50 + 100 MiB;
#      and 300 MiB), each labelled tree="NAME#0" (no pid), root="NAME", at its size (+-8% or
#      +-24 MiB), every per-tree family present, stages and commands per tree, promtool
#      clean; a child forked before the root's exec, holding memory already, is in the tree;
#      a root started inside another tree stays in the outer tree; when a tree ends,
#      bmtrace_tree_peak_bytes{root} counts it once, in the bucket of its final peak, with
#      _sum += that peak, and with --expire 2 its series go 2-3 s later, the histogram stays;
#      a process of a tree the OOM killer kills counts in its bmtrace_oom_kills_total;
#   2. --cgroup-parent: each child cgroup a tree labelled with its path and root=<parent's
#      basename>; a process moved into one after it allocated is seeded at its /proc RSS;
#   3. --user nobody: serve runs as nobody with CAP_BPF alone and still follows new trees
#      (a root, a cgroup created after the drop), and ends them;
#   4. --max-trees 1: a second concurrent root is dropped and counted; after the first
#      expires, a new one is followed again;
#   5. as the systemd unit runs it (user/systemd/bmtrace.service): its
#      CapabilityBoundingSet and NoNewPrivileges (setpriv), its options, --user nobody; a job
#      already running in a cgroup when serve (re)starts is followed; a cgroup used again
#      while its ended tree still lingers shows the new tree, never two series alike;
#   6. a --root NAME longer than the kernel's 15-character comm: matched, or refused;
#   7. labels without a pid (issue 14): two trees of one name at once are NAME#0 and NAME#1,
#      each with its --label-env labels read from its root's environment; the same job run
#      again once the first expired gets the same label set; no label holds a pid; the
#      histogram is by root and those labels; a hostile value stays one escaped label, cut
#      to 128 bytes; a tree under --min-peak is exported neither live nor in the histogram;
# and every serve exits 0 promptly on SIGTERM.
#
# Enabled by the CLI: until `bmtrace --help` names `serve`, it prints "SKIP: ..." and exits
# 0; the cgroup cases skip without a writable cgroup2 hierarchy (it mounts one on /tmp/cg2
# when the machine has none, and unmounts it). Needs root with BTF, promtool, curl (make test-deps).
# Every process it starts is bounded by `timeout` and killed by pid at exit.
#
#   BMTRACE=./bmtrace WORKLOADS=build/workloads bash tests/integration/serve_e2e.sh
set -euo pipefail
SCRIPT=serve_e2e
. "$(dirname "$0")/lib.sh"

BMTRACE=${BMTRACE:-./bmtrace}
WORKLOADS=${WORKLOADS:-build/workloads}
UNIT=${UNIT:-$(dirname "$0")/../../user/systemd/bmtrace.service}
EXPIRE=2 # --expire of parts 1-3: ended trees' series must be gone 2-3 s after the end
MIB=1048576
pids=()    # background processes (timeout wrappers), killed at exit
cgdirs=()  # cgroups made here, removed at exit (deepest last in the list: removed first)
cgmount="" # the cgroup2 mount made here, if any


cleanup() {
	local i d
	stop_pids
	for ((i = ${#cgdirs[@]} - 1; i >= 0; i--)); do
		d=${cgdirs[i]}
		[[ -d $d ]] || continue
		if [[ -s $d/cgroup.procs && -e $d/cgroup.kill ]]; then
			echo 1 >"$d/cgroup.kill" 2>/dev/null || true
		fi
		for _ in $(seq 1 50); do
			rmdir "$d" 2>/dev/null && break
			sleep 0.1
		done
		[[ -d $d ]] && say "could not remove cgroup $d"
	done
	if [[ -n $cgmount ]]; then
		umount "$cgmount" 2>/dev/null && rmdir "$cgmount" 2>/dev/null || true
	fi
	if [[ -n ${tmp:-} ]]; then
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

help=$("$BMTRACE" --help 2>&1 || true)
grep -qw serve <<<"$help" || skip "bmtrace has no serve mode yet"
[[ $(id -u) == 0 && -r /sys/kernel/btf/vmlinux ]] || skip "tracing needs root and BTF"
for t in curl promtool timeout; do
	command -v "$t" >/dev/null || skip "$t is not installed (make test-deps)"
done
[[ -x $WORKLOADS/memhog ]] || skip "no $WORKLOADS/memhog (make integration builds it)"
memhog=$(realpath "$WORKLOADS/memhog")

tmp=$(mktemp -d /tmp/bmt-serve-e2e-XXXXXX)

# Program names unique to this run (another run of this test may be tracing at once), each
# at most 15 characters, the kernel's comm: a symlink to memhog, or to sh for the outer tree.
tag=$(($$ % 100000))
A=jobA$tag B=jobB$tag C=jobC$tag E=jobE$tag F=jobF$tag U=jobU$tag J=jobJ$tag
OUTER=outer$tag INNER=inner$tag
LONG=longjobname-$tag-0123456789 # > 15 characters: its comm is the first 15
bin=$tmp/bin
mkdir "$bin"
for n in "$A" "$B" "$C" "$E" "$F" "$U" "$J" "$INNER" "$LONG"; do
	ln -s "$memhog" "$bin/$n"
done
ln -s "$(command -v sh)" "$bin/$OUTER"

# --- helpers -------------------------------------------------------------------------------

now() { date +%s.%N; }

# scrape FILE: the current serve's /metrics into FILE; fails unless 200.
scrape() {
	[[ $(curl -s --max-time 5 -o "$1" -w '%{http_code}' "$url" || true) == 200 ]]
}

# Samples of a scraped page. q FILE NAME [LABEL=VALUE...]: the values of the samples of
# metric NAME ("*": any) having those labels, one per line. ql FILE LABEL NAME [L=V...]: the
# same as "LABELVALUE<TAB>VALUE" lines, for the samples that have LABEL. Label values are
# unescaped; a page that does not parse is an empty answer (promtool says why).
q() { _q "$1" "" "$2" "${@:3}"; }
ql() { _q "$1" "$2" "$3" "${@:4}"; }
_q() {
	local file=$1 label=$2 name=$3 want
	shift 3
	want=""
	(($#)) && want=$(printf '%s\037' "$@")
	awk -v label="$label" -v name="$name" -v want="$want" '
	BEGIN { nw = split(want, w, "\037") - 1 }
	/^#/ || NF == 0 { next }
	{
		for (k in L)
			delete L[k]
		if (!match($0, /^[a-zA-Z_:][a-zA-Z0-9_:]*/))
			next
		nm = substr($0, 1, RLENGTH)
		rest = substr($0, RLENGTH + 1)
		if (substr(rest, 1, 1) == "{") {
			rest = substr(rest, 2)
			for (;;) {
				sub(/^[ ,]*/, "", rest)
				if (substr(rest, 1, 1) == "}") {
					rest = substr(rest, 2)
					break
				}
				if (!match(rest, /^[a-zA-Z_][a-zA-Z0-9_]*="/))
					next
				k = substr(rest, 1, RLENGTH - 2)
				rest = substr(rest, RLENGTH + 1)
				v = ""
				while (rest != "") {
					c = substr(rest, 1, 1)
					if (c == "\\") {
						d = substr(rest, 2, 1)
						v = v (d == "n" ? "\n" : d)
						rest = substr(rest, 3)
					} else if (c == "\"") {
						rest = substr(rest, 2)
						break
					} else {
						v = v c
						rest = substr(rest, 2)
					}
				}
				L[k] = v
			}
		}
		if (name != "*" && nm != name)
			next
		for (i = 1; i <= nw; i++) {
			e = index(w[i], "=")
			k = substr(w[i], 1, e - 1)
			if (!(k in L) || L[k] != substr(w[i], e + 1))
				next
		}
		split(rest, f, " ")
		if (label == "")
			print f[1]
		else if (label in L)
			print L[label] "\t" f[1]
	}' "$file"
}

# The one value of q ARGS..., or "" when there is none or more than one.
q1() {
	local v
	v=$(q "$@")
	[[ $(wc -l <<<"$v") == 1 ]] && echo "$v" || echo ""
}

# Numbers (any float notation): equal; A >= B; A within 8% or 24 MiB of B MiB (or of B
# bytes: nearb); bytes as MiB.
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && b != "" && a + 0 >= b + 0) }'; }
nearb() {
	awk -v a="$1" -v e="$2" -v m=$MIB 'BEGIN {
		t = 0.08 * e; if (t < 24 * m) t = 24 * m
		exit !(a != "" && (a - e <= t && e - a <= t))
	}'
}
near() { nearb "$1" $(($2 * MIB)); }
mib() {
	awk -v a="$1" -v m=$MIB 'BEGIN { if (a == "") print "none"; else printf "%.1f MiB", a / m }'
}

# until_true SECONDS CMD...: run CMD every 0.1 s until it succeeds; fails after SECONDS.
until_true() {
	local n=$(($1 * 10))
	shift
	for _ in $(seq 1 "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# Samples of page $1 that repeat another's name and labels (Prometheus keeps only one).
dups() { grep -v '^#' "$1" | sed 's/ [^ ]*$//' | sort | uniq -d; }

# promtool check metrics on file $1, and no two samples with the same name and labels
# (which promtool does not check); says why on failure.
promtool_ok() {
	local out
	if out=$(promtool check metrics <"$1" 2>&1) && [[ -z $out ]]; then
		out=$(dups "$1")
		[[ -z $out ]] && return 0
		say "duplicate series in $1: $(head -3 <<<"$out" | tr '\n' ' ')"
		return 1
	fi
	say "promtool check metrics on $1: $out"
	return 1
}

# Workloads. start_job ID CMD...: run CMD (bounded) with its own peak FIFO and pids file
# ($tmp/ID.fifo, $tmp/ID.pids), in the background; wrapper[ID] is the timeout's pid.
declare -A wrapper
start_job() {
	local id=$1
	shift
	mkfifo "$tmp/$id.fifo"
	BMT_PEAK_FIFO=$tmp/$id.fifo BMT_PEAK_PIDS=$tmp/$id.pids \
		timeout 120 "$@" >"$tmp/$id.log" 2>&1 &
	wrapper[$id]=$!
	pids+=($!)
}

# wait_peak ID: wait (20 s at most) until job ID is at its peak; prints its top pid.
wait_peak() {
	if until_true 20 test -s "$tmp/$1.pids"; then
		head -1 "$tmp/$1.pids"
		return 0
	fi
	bad "job $1 never reached its peak: $(tail -2 "$tmp/$1.log" 2>/dev/null)"
	return 1
}

# release ID: let job ID leave its peak and end.
release() {
	timeout 5 bash -c 'echo go >"$1"' _ "$tmp/$1.fifo" 2>/dev/null || true
}

# The pid timeout started: the process that became the job.
job_pid() { awk '{ print $1 }' "/proc/${wrapper[$1]}/task/${wrapper[$1]}/children" 2>/dev/null; }

# RSS of pid $1 from /proc, bytes.
proc_rss() { awk '$1 == "VmRSS:" { print $2 * 1024 }' "/proc/$1/status" 2>/dev/null; }

# serve_start NAME ARGS...: start `bmtrace serve --listen` on a free port with ARGS, under
# the command prefix serve_prefix (e.g. setpriv ...) if any; sets url, srv (the timeout
# wrapper), bpid (bmtrace), sname, serr. Fails when /metrics never answers; when serve exits
# at once instead, with its status in sstatus.
serve_prefix=()
serve_start() {
	sname=$1
	shift
	port=$(free_port)
	url="http://127.0.0.1:$port/metrics"
	serr=$tmp/$sname.err
	sstatus=""
	timeout 600 "${serve_prefix[@]}" "$BMTRACE" serve --listen "127.0.0.1:$port" "$@" \
		>"$tmp/$sname.out" 2>"$serr" &
	srv=$!
	pids+=($!)
	for _ in $(seq 1 300); do
		[[ $(curl -s -o /dev/null -w '%{http_code}' "$url" || true) == 200 ]] && break
		if ! kill -0 "$srv" 2>/dev/null; then
			sstatus=0
			wait "$srv" || sstatus=$?
			return 1
		fi
		sleep 0.1
	done
	bpid=$(awk '{ print $1 }' "/proc/$srv/task/$srv/children" 2>/dev/null || true)
	if [[ -z $bpid ]] || ! kill -0 "$bpid" 2>/dev/null; then
		bad "$sname: serve never answered on $url: $(tail -3 "$serr")"
		return 1
	fi
	say "$sname: serving on 127.0.0.1:$port (pid $bpid): serve $*"
}

# serve_up NAME ARGS...: serve_start, saying why it failed.
serve_up() {
	serve_start "$@" && return 0
	[[ -n $sstatus ]] && bad "$sname: serve exited $sstatus at once: $(tail -3 "$serr")"
	return 1
}

# serve_stop: SIGTERM to the current serve, which must exit 0 within 5 s.
serve_stop() {
	local status=0 t0
	t0=$(now)
	kill -TERM "$bpid" 2>/dev/null || true
	if ! until_true 5 eval '! kill -0 "$srv" 2>/dev/null'; then
		bad "$sname: serve still running 5 s after SIGTERM"
		kill -KILL "$bpid" 2>/dev/null || true
	fi
	wait "$srv" || status=$?
	if [[ $status == 0 ]]; then
		ok "$sname: SIGTERM: serve exited 0 in $(awk -v a="$t0" -v b="$(now)" 'BEGIN {
			printf "%.2f", b - a }') s"
	else
		bad "$sname: SIGTERM: serve exited $status: $(tail -3 "$serr")"
	fi
}

# Families every tree has; bmtrace_stage_* and bmtrace_command_* are checked on their own.
TREE_FAMILIES=(bmtrace_tree_rss_bytes bmtrace_tree_rss_peak_bytes bmtrace_tree_anon_bytes
	bmtrace_processes bmtrace_processes_started_total bmtrace_events_total
	bmtrace_lost_events_total bmtrace_oom_kills_total)

# has_tree FILE TREE ROOT: every per-tree family has a sample for it, with that root label.
has_tree() {
	local f
	for f in "${TREE_FAMILIES[@]}"; do
		[[ -n $(q1 "$1" "$f" tree="$2" root="$3") ]] || return 1
	done
}

# tree_near FILE TREE MIB_OR_BYTES: a scrape into FILE whose bmtrace_tree_rss_bytes for
# TREE is near the size (MiB below 1 MiB, else bytes).
tree_near() {
	[[ -n $3 ]] && scrape "$1" || return 1
	local v
	v=$(q1 "$1" bmtrace_tree_rss_bytes tree="$2")
	if (($3 < MIB)); then near "$v" "$3"; else nearb "$v" "$3"; fi
}

# Histogram bmtrace_tree_peak_bytes of root $2 in file $1: "le<TAB>count" lines, sorted.
buckets() { ql "$1" le bmtrace_tree_peak_bytes_bucket root="$2" | sort -g; }
hcount() { local v; v=$(q1 "$1" bmtrace_tree_peak_bytes_count root="$2"); echo "${v:-0}"; }
hsum() { local v; v=$(q1 "$1" bmtrace_tree_peak_bytes_sum root="$2"); echo "${v:-0}"; }

# series_gone FILE TREE: a scrape into FILE with no sample of TREE left.
series_gone() { scrape "$1" && [[ -z $(q "$1" '*' tree="$2") ]]; }

# end_tree ID TREE ROOT: release job ID, whose tree is TREE of family ROOT; then check that
# the histogram counted it once, in the right bucket, _sum += its final peak, and that its
# series stay with their final values for about --expire seconds, then go, the histogram
# staying.
end_tree() {
	local id=$1 tree=$2 root=$3 s0=$tmp/end0.prom s1=$tmp/end1.prom s2=$tmp/end2.prom
	local c0 sum0 t1 t2 peak le n0 n1 wrong="" dt
	scrape "$s0" || { bad "$tree: no scrape before the end"; return 1; }
	c0=$(hcount "$s0" "$root")
	sum0=$(hsum "$s0" "$root")
	release "$id"
	if ! until_true 20 eval 'scrape "$s1" && same "$(hcount "$s1" "$root")" $((c0 + 1))'; then
		bad "$tree ended but bmtrace_tree_peak_bytes_count{root=\"$root\"} stayed $c0"
		return 1
	fi
	t1=$(now)
	peak=$(q1 "$s1" bmtrace_tree_rss_peak_bytes tree="$tree")
	if [[ -n $peak ]] && same "$(q1 "$s1" bmtrace_processes tree="$tree")" 0; then
		ok "$tree ended: its series stay, bmtrace_processes 0, final peak $(mib "$peak")"
	else
		bad "$tree ended: series '$(q "$s1" '*' tree="$tree" | head -3 | tr '\n' ' ')'"
	fi
	if [[ -n $peak ]] && same "$(awk -v a="$(hsum "$s1" "$root")" -v b="$sum0" \
		'BEGIN { printf "%.0f", a - b }')" "$peak"; then
		ok "$tree: bmtrace_tree_peak_bytes_sum grew by its final peak, $peak"
	else
		bad "$tree: _sum $sum0 -> $(hsum "$s1" "$root"), final peak '$peak'"
	fi
	# Each bucket grows by 1 from the first whose le >= the peak on, and no other.
	while IFS=$'\t' read -r le n1; do
		n0=$(buckets "$s0" "$root" | awk -F '\t' -v le="$le" '$1 == le { print $2 }')
		n0=${n0:-0}
		if [[ $le == +Inf ]] || { [[ -n $peak ]] && ge "$le" "$peak"; }; then
			same "$n1" $((n0 + 1)) || wrong+=" le=$le:$n0->$n1"
		else
			same "$n1" "$n0" || wrong+=" le=$le:$n0->$n1"
		fi
	done < <(buckets "$s1" "$root")
	if [[ -z $wrong && -n $peak && -n $(buckets "$s1" "$root") ]]; then
		le=$(buckets "$s1" "$root" | awk -F '\t' -v p="$peak" '$1 == "+Inf" || $1 + 0 >= p + 0 {
			print $1; exit }')
		ok "$tree: counted once by the histogram, in bucket le=$le"
	else
		bad "$tree: histogram buckets (peak '$peak'):$wrong"
	fi
	if until_true 8 series_gone "$s2" "$tree"; then
		t2=$(now)
		dt=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.1f", b - a }')
		# not before --expire, and not long after: the upper bound leaves room for a shared,
		# loaded machine (4.6 s was seen at a load average of 20 with --expire 2)
		if awk -v d="$dt" -v e=$EXPIRE 'BEGIN { exit !(d >= e - 1 && d <= e + 5) }'; then
			ok "$tree: its series went ${dt} s after the end was seen (--expire $EXPIRE)"
		else
			bad "$tree: its series went ${dt} s after the end was seen (--expire $EXPIRE)"
		fi
		if same "$(hcount "$s2" "$root")" $((c0 + 1)); then
			ok "$tree: the histogram stays once the tree expired"
		else
			bad "$tree: histogram count $(hcount "$s2" "$root") after expiry, not $((c0 + 1))"
		fi
	else
		bad "$tree: its series were still there 8 s after the end"
	fi
}

# The buckets' bounds: powers of two from 16 MiB to 64 GiB, then +Inf.
check_bounds() {
	local want got
	want=$(for ((e = 24; e <= 36; e++)); do echo $((1 << e)); done; echo +Inf)
	got=$(buckets "$1" "$2" | cut -f1 | awk '$1 == "+Inf" { print; next } { printf "%.0f\n", $1 }')
	if [[ $got == "$want" ]]; then
		ok "bmtrace_tree_peak_bytes{root=\"$2\"}: buckets 16 MiB, 32 MiB, ... 64 GiB, +Inf"
	else
		bad "bmtrace_tree_peak_bytes{root=\"$2\"} buckets: $(echo $got)"
	fi
}

# --- 0. the command line -------------------------------------------------------------------
part_cli() {
	local status
	cli_case() { # WHAT ARGS...: must exit 125 with a reason, at once
		local what=$1 out
		shift
		status=0
		out=$(timeout 10 "$BMTRACE" serve --listen 127.0.0.1:0 "$@" 2>&1 >/dev/null) ||
			status=$?
		if [[ $status == 125 && -n $out ]]; then
			ok "serve $what: exit 125: $(head -1 <<<"$out")"
		else
			bad "serve $what: exit $status (want 125 with a reason): $(head -2 <<<"$out")"
		fi
	}
	cli_case "without --root or --cgroup-parent"
	cli_case "--cgroup-parent $tmp (not on cgroup2)" --cgroup-parent "$tmp"
	cli_case "--cgroup-parent of a missing directory" --cgroup-parent "$tmp/none"
	cli_case "--max-trees x" --root "$A" --max-trees x
	cli_case "--user of nobody known" --root "$A" --user "no-such-user-$tag"
}

# --- 1. --root trees -----------------------------------------------------------------------
part_roots() {
	local s=$tmp/roots.prom pa pb pc treeA treeB treeC v w
	serve_up roots --root "$A" --root "$B" --root "$C" --root "$OUTER" --root "$INNER" \
		--expire $EXPIRE --stage 'child=^memhog hold' || return 1

	# (a) two trees at once
	start_job A "$bin/$A" forkexec 50 100
	start_job B "$bin/$B" hold 300
	pa=$(wait_peak A) && pb=$(wait_peak B) || return 1
	treeA=$A#0 treeB=$B#0
	if until_true 5 eval 'tree_near "$s" "$treeA" 150 && tree_near "$s" "$treeB" 300'; then
		ok "two trees at once: $treeA $(mib "$(q1 "$s" bmtrace_tree_rss_bytes tree="$treeA")"),\
 $treeB $(mib "$(q1 "$s" bmtrace_tree_rss_bytes tree="$treeB")") (~150, ~300)"
	else
		bad "two trees at once: $treeA $(mib "$(q1 "$s" bmtrace_tree_rss_bytes tree="$treeA")")\
 (~150), $treeB $(mib "$(q1 "$s" bmtrace_tree_rss_bytes tree="$treeB")") (~300);\
 trees: $(ql "$s" tree bmtrace_tree_rss_bytes | cut -f1 | tr '\n' ' ')"
	fi
	cp "$s" "$tmp/two-trees.prom"
	v=$(ql "$s" tree bmtrace_tree_rss_bytes | cut -f1 | sort -u | tr '\n' ' ')
	if [[ $v == "$(printf '%s\n' "$treeA" "$treeB" | sort | tr '\n' ' ')" && $v != *$pa* &&
		$v != *$pb* ]]; then
		ok "tree labels: $v(NAME#SLOT, no pid)"
	else
		bad "tree labels: '$v', want $treeA and $treeB"
	fi
	if has_tree "$s" "$treeA" "$A" && has_tree "$s" "$treeB" "$B"; then
		ok "every per-tree family has both trees, root=\"$A\" and root=\"$B\""
	else
		bad "per-tree families missing a tree or its root label: $(q "$s" '*' tree="$treeA" |
			wc -l) samples of $treeA"
	fi
	if promtool_ok "$s"; then
		ok "promtool check metrics passes with two trees"
	else
		bad "promtool check metrics with two trees"
	fi
	v=$(q1 "$s" bmtrace_processes tree="$treeA")
	w=$(q1 "$s" bmtrace_processes_started_total tree="$treeA")
	if same "$v" 2 && ge "$w" 2; then
		ok "$treeA: its child forked and exec'd after the root's exec is in: 2 processes"
	else
		bad "$treeA: bmtrace_processes '$v', _started_total '$w' (want 2, >= 2)"
	fi
	v=$(q1 "$s" bmtrace_stage_rss_bytes tree="$treeA" stage=child)
	w=$(q1 "$s" bmtrace_stage_rss_peak_bytes tree="$treeA" stage=child)
	if near "$v" 100 && ge "$w" "$v"; then
		ok "$treeA: stage child $(mib "$v") (~100), its peak $(mib "$w")"
	else
		bad "$treeA: stage child '$(mib "$v")' (~100), peak '$(mib "$w")';\
 stages: $(ql "$s" stage bmtrace_stage_rss_bytes tree="$treeA" | tr '\t\n' '= ')"
	fi
	v=$(q1 "$s" bmtrace_command_rss_bytes tree="$treeA" command=memhog)
	w=$(q1 "$s" bmtrace_command_rss_bytes tree="$treeA" command="$A")
	if near "$v" 100 && near "$w" 50; then
		ok "$treeA: command memhog $(mib "$v") (~100), $A $(mib "$w") (~50)"
	else
		bad "$treeA: commands: $(ql "$s" command bmtrace_command_rss_bytes tree="$treeA" |
			tr '\t\n' '= ') (memhog ~100 MiB, $A ~50 MiB)"
	fi
	v=$(q1 "$s" bmtrace_tree_anon_bytes tree="$treeB")
	w=$(q1 "$s" bmtrace_tree_rss_peak_bytes tree="$treeB")
	if near "$v" 300 && ge "$w" "$(q1 "$s" bmtrace_tree_rss_bytes tree="$treeB")"; then
		ok "$treeB: anon $(mib "$v") (~300), peak $(mib "$w") >= now"
	else
		bad "$treeB: anon '$(mib "$v")' (~300), peak '$(mib "$w")'"
	fi
	# one page holds both: memhog may still be touching its last pages when it was scraped
	# (the tree was near 300 MiB, not there), so the pages are those counted in that page
	pages=$(awk -v b="$(q1 "$s" bmtrace_tree_anon_bytes tree="$treeB")" \
		'BEGIN { printf "%d", b / 4096 }')
	v=$(q1 "$s" bmtrace_events_total tree="$treeB")
	w=$(q1 "$s" bmtrace_lost_events_total tree="$treeB")
	if ((pages > 200 * MIB / 4096)) && ge "$v" "$pages" && same "$w" 0; then
		ok "$treeB: $v events (>= one per anon page: $pages), none lost"
	else
		bad "$treeB: events '$v' (want >= $pages, one per anon page), lost '$w'"
	fi
	v=$(q1 "$s" bmtrace_trees)
	w=$(q1 "$s" bmtrace_trees_dropped_total)
	if same "$v" 2 && same "$w" 0 && grep -q '^bmtrace_build_info{version="[^"]\+"} 1$' "$s"; then
		ok "bmtrace_trees 2, bmtrace_trees_dropped_total 0, bmtrace_build_info"
	else
		bad "bmtrace_trees '$v' (2), _dropped_total '$w' (0), build_info:\
 $(grep '^bmtrace_build_info' "$s" || echo none)"
	fi

	# (b) a child forked before the root's exec, already holding 60 MiB, belongs to it.
	mkfifo "$tmp/C0.fifo"
	start_job C sh -c 'BMT_PEAK_FIFO="$1" BMT_PEAK_PIDS="$2" "$3" hold 60 &
		i=0
		while [ ! -s "$2" ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i + 1)); done
		exec "$4" hold 100' sh "$tmp/C0.fifo" "$tmp/C0.pids" "$memhog" "$bin/$C"
	pc=$(wait_peak C) || return 1
	treeC=$C#0
	if until_true 5 tree_near "$s" "$treeC" 160; then
		ok "$treeC: the child forked before the root's exec counts: $(mib "$(q1 "$s" \
			bmtrace_tree_rss_bytes tree="$treeC")") (~100 + 60)"
	else
		bad "$treeC: $(mib "$(q1 "$s" bmtrace_tree_rss_bytes tree="$treeC")"), want ~160\
 (100 + a 60 MiB child forked before the exec); trees:\
 $(ql "$s" tree bmtrace_tree_rss_bytes | tr '\t\n' '= ')"
	fi
	v=$(q1 "$s" bmtrace_processes tree="$treeC")
	w=$(q1 "$s" bmtrace_processes_started_total tree="$treeC")
	if same "$v" 2 && ge "$w" 2 && [[ $(q1 "$s" bmtrace_tree_rss_bytes root="$C") != "" ]]; then
		ok "$treeC: 2 processes, $w started, root=\"$C\""
	else
		bad "$treeC: bmtrace_processes '$v' (2), _started_total '$w' (>= 2)"
	fi

	# A root inside another tree starts none: outer (sh) runs inner (memhog hold 40).
	start_job N "$bin/$OUTER" -c '"$1" hold 40; exit $?' "$OUTER" "$bin/$INNER"
	wait_peak N >/dev/null || return 1
	if until_true 5 tree_near "$s" "$OUTER#0" 40 &&
		[[ -z $(q "$s" '*' root="$INNER") ]]; then
		ok "$INNER inside $OUTER#0 starts no tree of its own: $OUTER#0 has it,\
 $(mib "$(q1 "$s" bmtrace_tree_rss_bytes tree="$OUTER#0")")"
	else
		bad "nested roots: $OUTER#0 $(mib "$(q1 "$s" bmtrace_tree_rss_bytes \
			tree="$OUTER#0")") (~40); series of root $INNER: $(q "$s" '*' root="$INNER" |
			wc -l)"
	fi
	release N

	# (c) trees end: the histogram, then expiry.
	end_tree B "$treeB" "$B"
	check_bounds "$tmp/end1.prom" "$B"
	end_tree A "$treeA" "$A"
	release C0
	end_tree C "$treeC" "$C"
	if until_true 10 eval 'scrape "$s" && same "$(q1 "$s" bmtrace_trees)" 0 &&
		[[ -z $(q "$s" bmtrace_tree_rss_bytes) ]]'; then
		ok "all ended and expired: bmtrace_trees 0, no per-tree series left"
	else
		bad "after every tree ended: bmtrace_trees '$(q1 "$s" bmtrace_trees)', trees left:\
 $(ql "$s" tree bmtrace_tree_rss_bytes | cut -f1 | tr '\n' ' ')"
	fi
	if promtool_ok "$s"; then
		ok "promtool check metrics passes with only histograms left"
	else
		bad "promtool check metrics with only histograms left"
	fi

	# (d) an OOM kill in a tree (a root run under bmtrace --memory-max), counted per tree
	v=0
	timeout 60 "$BMTRACE" -q --memory-max 64M -- "$bin/$B" hold 200 >/dev/null 2>&1 || v=$?
	if [[ $v == 137 ]] && until_true 2 eval 'scrape "$s" &&
		[[ $(ql "$s" tree bmtrace_oom_kills_total root="$B" | cut -f2) == 1 ]]'; then
		ok "an OOM kill in tree $(ql "$s" tree bmtrace_oom_kills_total root="$B" |
			cut -f1): bmtrace_oom_kills_total 1"
	else
		bad "an OOM kill in a tree: exit $v (137), bmtrace_oom_kills_total of root $B:\
 $(ql "$s" tree bmtrace_oom_kills_total root="$B" | tr '\t\n' '= ')"
	fi
	serve_stop
}

# --- 2. --cgroup-parent trees --------------------------------------------------------------
cgmnt=""
cg_setup() {
	cgmnt=$(findmnt -n -t cgroup2 -o TARGET 2>/dev/null | head -1 || true)
	if [[ -z $cgmnt ]]; then
		mkdir -p /tmp/cg2
		if mount -t cgroup2 none /tmp/cg2 2>/dev/null; then
			cgmount=/tmp/cg2
			cgmnt=/tmp/cg2
		else
			rmdir /tmp/cg2 2>/dev/null || true
			return 1
		fi
	fi
	cgbase=$cgmnt/bmt-serve-e2e-$$
	ci=$cgbase/ci
	mkdir "$cgbase" 2>/dev/null || return 1
	cgdirs+=("$cgbase")
	mkdir "$ci" && cgdirs+=("$ci") || return 1
}

cg_new() { mkdir "$ci/$1" && cgdirs+=("$ci/$1"); }

part_cgroups() {
	local s=$tmp/cg.prom p2 rss2 v
	cg_new job1 && cg_new job2 || { bad "cannot create cgroups under $ci"; return 1; }
	serve_up cgroups --cgroup-parent "$ci" --expire $EXPIRE || return 1

	start_job G1 sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" forkexec 50 100' sh \
		"$ci/job1" "$memhog"
	start_job G2 "$memhog" hold 120
	wait_peak G1 >/dev/null && p2=$(wait_peak G2) || return 1
	rss2=$(proc_rss "$p2")
	echo "$p2" >"$ci/job2/cgroup.procs"
	if until_true 5 tree_near "$s" "$ci/job1" 150; then
		ok "cgroup tree $ci/job1: $(mib "$(q1 "$s" bmtrace_tree_rss_bytes tree="$ci/job1")")\
 (~150: 50 + a fork+exec child of 100)"
	else
		bad "cgroup tree $ci/job1: $(mib "$(q1 "$s" bmtrace_tree_rss_bytes \
			tree="$ci/job1")") (~150); trees: $(ql "$s" tree bmtrace_tree_rss_bytes |
			tr '\t\n' '= ')"
	fi
	if until_true 5 tree_near "$s" "$ci/job2" "$rss2"; then
		ok "a process moved into $ci/job2 after it allocated is seeded:\
 $(mib "$(q1 "$s" bmtrace_tree_rss_bytes tree="$ci/job2")"), /proc RSS $(mib "$rss2")"
	else
		bad "moved into $ci/job2: $(mib "$(q1 "$s" bmtrace_tree_rss_bytes \
			tree="$ci/job2")"), /proc RSS $(mib "$rss2")"
	fi
	if has_tree "$s" "$ci/job1" ci && has_tree "$s" "$ci/job2" ci &&
		same "$(q1 "$s" bmtrace_processes tree="$ci/job1")" 2; then
		ok "cgroup trees: every per-tree family, root=\"ci\", 2 processes in job1"
	else
		bad "cgroup trees' families: $(q "$s" '*' root=ci | wc -l) samples of root=ci,\
 job1 processes '$(q1 "$s" bmtrace_processes tree="$ci/job1")'"
	fi
	v=$(q1 "$s" bmtrace_trees)
	if ge "$v" 2 && promtool_ok "$s"; then
		ok "cgroup trees: bmtrace_trees $v, promtool check metrics passes"
	else
		bad "cgroup trees: bmtrace_trees '$v' (>= 2), or promtool"
	fi
	end_tree G2 "$ci/job2" ci
	check_bounds "$tmp/end1.prom" ci
	end_tree G1 "$ci/job1" ci
	serve_stop
}

# --- 3. --user nobody ----------------------------------------------------------------------
# dropped PID: runs as nobody (every uid and gid) with no capability but CAP_BPF (serve keeps
# it: kernel.unprivileged_bpf_disabled refuses bpf(2), map lookups included, without it).
dropped() {
	local uid gid
	uid=$(id -u nobody) gid=$(id -g nobody)
	awk -v u="$uid" -v g="$gid" '
		$1 == "Uid:" { ok += ($2 == u && $3 == u && $4 == u && $5 == u) }
		$1 == "Gid:" { ok += ($2 == g && $3 == g && $4 == g && $5 == g) }
		$1 == "CapEff:" || $1 == "CapPrm:" { ok += ($2 ~ /^0+$/ || $2 == "0000008000000000") }
		END { exit !(ok == 4) }' "/proc/$1/status" 2>/dev/null
}

part_user() {
	local s=$tmp/user.prom pe cgargs=()
	((cg_ok)) && cgargs=(--cgroup-parent "$ci")
	serve_up user --root "$E" "${cgargs[@]}" --user nobody --expire $EXPIRE || return 1
	if until_true 5 dropped "$bpid"; then
		ok "--user nobody: serve runs as nobody, no capability but CAP_BPF left"
	else
		bad "--user nobody: $(grep -E '^(Uid|Gid|CapEff):' "/proc/$bpid/status" | tr '\n\t' '  ')"
	fi
	start_job E "$bin/$E" hold 80
	pe=$(wait_peak E) || return 1
	if until_true 5 tree_near "$s" "$E#0" 80; then
		ok "as nobody: a new tree $E#0 is followed, $(mib "$(q1 "$s" bmtrace_tree_rss_bytes \
			tree="$E#0")") (~80)"
	else
		bad "as nobody: tree $E#0 $(mib "$(q1 "$s" bmtrace_tree_rss_bytes tree="$E#0")")\
 (~80); $(tail -2 "$serr")"
	fi
	if ((cg_ok)); then
		cg_new job3 || bad "cannot create $ci/job3"
		start_job G3 sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" hold 70' sh \
			"$ci/job3" "$memhog"
		if wait_peak G3 >/dev/null && until_true 5 tree_near "$s" "$ci/job3" 70; then
			ok "as nobody: a cgroup made after the drop is followed, $ci/job3\
 $(mib "$(q1 "$s" bmtrace_tree_rss_bytes tree="$ci/job3")") (~70)"
		else
			bad "as nobody: $ci/job3 $(mib "$(q1 "$s" bmtrace_tree_rss_bytes \
				tree="$ci/job3")") (~70)"
		fi
		release G3
	fi
	end_tree E "$E#0" "$E"
	serve_stop
}

# --- 4. --max-trees 1 ----------------------------------------------------------------------
part_max_trees() {
	local s=$tmp/max.prom p1 p2 p3 EXPIRE=1 # for end_tree
	serve_up max --root "$F" --max-trees 1 --expire 1 || return 1
	start_job F1 "$bin/$F" hold 30
	p1=$(wait_peak F1) || return 1
	until_true 5 tree_near "$s" "$F#0" 30 || bad "the first tree $F#0 was not followed"
	start_job F2 "$bin/$F" hold 30
	p2=$(wait_peak F2) || return 1
	if until_true 5 eval 'scrape "$s" && ge "$(q1 "$s" bmtrace_trees_dropped_total)" 1'; then
		ok "--max-trees 1: a second tree at once is dropped,\
 bmtrace_trees_dropped_total $(q1 "$s" bmtrace_trees_dropped_total)"
	else
		bad "--max-trees 1: bmtrace_trees_dropped_total '$(q1 "$s" \
			bmtrace_trees_dropped_total)' with two trees"
	fi
	if same "$(q1 "$s" bmtrace_trees)" 1 &&
		[[ $(ql "$s" tree bmtrace_tree_rss_bytes | cut -f1) == "$F#0" ]]; then
		ok "--max-trees 1: only the first, $F#0, is followed; bmtrace_trees 1"
	else
		bad "--max-trees 1: bmtrace_trees '$(q1 "$s" bmtrace_trees)', trees\
 $(ql "$s" tree bmtrace_tree_rss_bytes | cut -f1 | tr '\n' ' ')"
	fi
	release F2
	end_tree F1 "$F#0" "$F"
	start_job F3 "$bin/$F" hold 30
	p3=$(wait_peak F3) || return 1
	if until_true 5 tree_near "$s" "$F#0" 30; then
		ok "--max-trees 1: once the first expired, a new tree $F#0 is followed"
	else
		bad "--max-trees 1: after the first expired, $F#0 is not followed:\
 $(ql "$s" tree bmtrace_tree_rss_bytes | tr '\t\n' '= ')"
	fi
	release F3
	serve_stop
}

# --- 5. as the systemd unit runs it ----------------------------------------------------------
part_unit() {
	local s=$tmp/unit.prom caps nnp bset pu pp rss cgargs=()
	if [[ ! -r $UNIT ]] || ! command -v setpriv >/dev/null; then
		say "SKIP: no $UNIT or no setpriv: the unit's privileges are not tried"
		return 0
	fi
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT" | tail -1)
	nnp=$(sed -n 's/^NoNewPrivileges=//p' "$UNIT" | tail -1)
	bset=-all
	for c in $caps; do
		bset+=",+$(tr 'A-Z' 'a-z' <<<"${c#CAP_}")"
	done
	# A job already running in a cgroup when serve (re)starts.
	if ((cg_ok)); then
		cgargs=(--cgroup-parent "$ci")
		cg_new job4 || { bad "cannot create $ci/job4"; return 1; }
		start_job P sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" hold 90' sh \
			"$ci/job4" "$memhog"
		pp=$(wait_peak P) || return 1
	fi
	serve_prefix=(setpriv --bounding-set "$bset")
	[[ $nnp == yes ]] && serve_prefix+=(--no-new-privs)
	# The unit's options (user/systemd/bmtrace.service: its --expire is the default), with
	# this test's port, roots and cgroup parent.
	serve_up unit "${cgargs[@]}" --root "$U" --user nobody || { serve_prefix=(); return 1; }
	serve_prefix=()
	start_job U "$bin/$U" hold 50
	pu=$(wait_peak U) || return 1
	if until_true 5 tree_near "$s" "$U#0" 50 && dropped "$bpid"; then
		ok "with the unit's CapabilityBoundingSet ($caps) and NoNewPrivileges=$nnp:\
 serve dropped to nobody and follows $U#0"
	else
		bad "with the unit's privileges: tree $U#0 $(mib "$(q1 "$s" bmtrace_tree_rss_bytes \
			tree="$U#0")") (~50); $(tail -2 "$serr")"
	fi
	release U
	if ((cg_ok)); then
		rss=$(proc_rss "$pp")
		if until_true 5 tree_near "$s" "$ci/job4" "$rss"; then
			ok "a job already running in $ci/job4 when serve starts (a restart) is followed:\
 $(mib "$(q1 "$s" bmtrace_tree_rss_bytes tree="$ci/job4")"), /proc RSS $(mib "$rss")"
		else
			bad "a job already in $ci/job4 when serve started (Restart=on-failure): tree\
 '$(mib "$(q1 "$s" bmtrace_tree_rss_bytes tree="$ci/job4")")', /proc RSS $(mib "$rss")"
		fi
		cg_reuse "$s" job3
		release P
	fi
	serve_stop
}

# cg_reuse FILE JOB: a cgroup used again while its ended tree still lingers (a service
# restarted in the same unit): the new tree is shown, never two series of the same labels.
cg_reuse() {
	local s=$1 tree=$ci/$2 c0
	start_job R1 sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" hold 30' sh "$tree" "$memhog"
	wait_peak R1 >/dev/null || return 1
	until_true 5 tree_near "$s" "$tree" 30 || bad "$tree (~30) was not followed"
	c0=$(hcount "$s" ci)
	release R1
	if ! until_true 10 eval 'scrape "$s" && same "$(hcount "$s" ci)" $((c0 + 1))'; then
		bad "$tree: its first tree never ended"
		return 1
	fi
	start_job R2 sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" hold 60' sh "$tree" "$memhog"
	wait_peak R2 >/dev/null || return 1
	if until_true 5 tree_near "$s" "$tree" 60 && promtool_ok "$s"; then
		ok "$tree used again while its ended tree lingers: one series per family, the new\
 tree's, $(mib "$(q1 "$s" bmtrace_tree_rss_bytes tree="$tree")") (~60)"
	else
		bad "$tree used again while its ended tree lingers: bmtrace_tree_rss_bytes\
 $(q "$s" bmtrace_tree_rss_bytes tree="$tree" | tr '\n' ' ')(want one, ~60 MiB)"
	fi
	release R2
}

# --- 6. a --root name longer than a comm -----------------------------------------------------
part_long_name() {
	local s=$tmp/long.prom pl v
	if ! serve_start long --root "$LONG"; then
		if [[ $sstatus == 125 ]] && [[ -s $serr ]]; then
			ok "--root with ${#LONG} characters (a comm has 15) is refused: $(head -1 "$serr")"
		else
			bad "--root $LONG: serve failed, status '$sstatus': $(tail -2 "$serr")"
		fi
		return 0
	fi
	start_job L "$bin/$LONG" hold 30
	pl=$(wait_peak L) || return 1
	if until_true 5 tree_near "$s" "${LONG:0:15}#0" 30; then
		v=$(q1 "$s" bmtrace_tree_rss_bytes tree="${LONG:0:15}#0")
		ok "--root $LONG (${#LONG} characters) follows its program, comm ${LONG:0:15}: $(mib "$v")"
	else
		bad "--root $LONG (${#LONG} characters) accepted, but its program (comm\
 ${LONG:0:15}) was not followed: trees $(ql "$s" tree bmtrace_tree_rss_bytes | tr '\t\n' '= ')"
	fi
	release L
	serve_stop
}

# --- 7. labels without a pid: slots, --label-env, --min-peak --------------------------------
# series FILE TREE: the name and labels of TREE's bmtrace_tree_rss_peak_bytes, as written.
series() { grep "^bmtrace_tree_rss_peak_bytes{tree=\"$2\"" "$1" | sed 's/ [^ ]*$//'; }

# no_pid FILE PID...: no series of FILE has any of the pids in its labels.
no_pid() {
	local f=$1 p
	shift
	for p in "$@"; do
		grep -v '^#' "$f" | sed 's/ [^ ]*$//' | grep -qE "[^0-9]$p([^0-9]|$)" && return 1
	done
	return 0
}

part_labels() {
	local s=$tmp/labels.prom p1 p2 first v w hostile prefix raw n_x
	serve_up labels --root "$J" --label-env job=BMT_E2E_JOB --label-env ref=BMT_E2E_REF \
		--min-peak 16M --expire $EXPIRE || return 1

	# (a) two at once, each its own job
	start_job J1 env BMT_E2E_JOB=build BMT_E2E_REF=main "$bin/$J" hold 40
	p1=$(wait_peak J1) || return 1
	start_job J2 env BMT_E2E_JOB=test "$bin/$J" hold 60
	p2=$(wait_peak J2) || return 1
	if until_true 5 eval 'scrape "$s" &&
		near "$(q1 "$s" bmtrace_tree_rss_bytes tree="$J#0" job=build ref=main)" 40 &&
		near "$(q1 "$s" bmtrace_tree_rss_bytes tree="$J#1" job=test ref=)" 60'; then
		ok "two $J at once: tree=\"$J#0\" job=\"build\" ref=\"main\", tree=\"$J#1\"\
 job=\"test\" (--label-env, from each root's environment)"
	else
		bad "two $J at once: $(grep '^bmtrace_tree_rss_bytes{' "$s" | tr '\n' ' ')"
	fi
	first=$(series "$s" "$J#0")
	if no_pid "$s" "$p1" "$p2" "$(job_pid J1)" "$(job_pid J2)" && promtool_ok "$s"; then
		ok "no label holds a pid ($p1, $p2); promtool check metrics passes"
	else
		bad "a pid in a label, or promtool: $(grep -E "$p1|$p2" "$s" | head -2)"
	fi
	say "serve's labels of the first run of job build: $first"
	release J1
	release J2
	if until_true 15 eval 'scrape "$s" && [[ -z $(q "$s" bmtrace_tree_rss_bytes root="$J") ]] &&
		same "$(q1 "$s" bmtrace_tree_peak_bytes_count root="$J" job=build ref=main)" 1 &&
		same "$(q1 "$s" bmtrace_tree_peak_bytes_count root="$J" job=test ref=)" 1'; then
		ok "both ended and expired; the histogram has root=\"$J\" job=\"build\" and job=\"test\",\
 one each, no tree label"
	else
		bad "histogram by job: $(grep "^bmtrace_tree_peak_bytes_count" "$s" | tr '\n' ' ')"
	fi

	# (b) the same job again, once the first expired: the same label set
	start_job J3 env BMT_E2E_JOB=build BMT_E2E_REF=main "$bin/$J" hold 30
	p1=$(wait_peak J3) || return 1
	if until_true 5 eval 'scrape "$s" && [[ -n $(series "$s" "$J#0") ]]' &&
		[[ $(series "$s" "$J#0") == "$first" ]] && no_pid "$s" "$p1"; then
		ok "job build run again: the same label set, $first"
		say "serve's labels of the second run of job build: $(series "$s" "$J#0")"
	else
		bad "job build run again: '$(series "$s" "$J#0")', the first run: '$first'"
	fi
	release J3
	until_true 10 series_gone "$s" "$J#0" || bad "$J#0 (job build, again) did not expire"

	# (c) a hostile value: one label, escaped, cut to 128 bytes
	prefix=$'evil"} 1\nbmtrace_pwned 1\n\\ \e[2J\xff'
	hostile=$prefix$(printf 'x%.0s' $(seq 1 300))
	start_job J4 env BMT_E2E_JOB="$hostile" "$bin/$J" hold 30
	wait_peak J4 >/dev/null || return 1
	until_true 5 eval 'scrape "$s" && [[ -n $(series "$s" "$J#0") ]]' || true
	raw=$(grep "^bmtrace_tree_rss_bytes{tree=\"$J#0\"" "$s" | sed 's/.*,job="//; s/",ref=.*//')
	n_x=$(tr -cd x <<<"$raw" | wc -c)
	if promtool_ok "$s" && ! grep -q '^bmtrace_pwned' "$s" &&
		[[ $(grep -c "^bmtrace_tree_rss_bytes{tree=\"$J#0\"" "$s") == 1 ]] &&
		[[ $n_x == $((128 - $(LC_ALL=C; echo ${#prefix}))) ]]; then
		ok "a hostile --label-env value stays one label, escaped (promtool passes), cut to\
 128 bytes: job=\"${raw:0:40}...\""
	else
		bad "a hostile --label-env value: $(grep -c "^bmtrace_tree_rss_bytes{tree=\"$J#0\"" "$s")\
 series, $n_x x of 300 kept; $(grep -m1 '^bmtrace_pwned' "$s")"
	fi
	release J4

	# (d) under --min-peak: not exported, live or ended
	start_job J5 env BMT_E2E_JOB=small "$bin/$J" hold 1
	wait_peak J5 >/dev/null || return 1
	until_true 5 eval 'scrape "$s" && ge "$(q1 "$s" bmtrace_trees)" 1' || true
	v=$(q "$s" '*' job=small | wc -l)
	release J5
	sleep 2.5 # ended (1 s quiet) and expired
	scrape "$s" || true
	w=$(q "$s" '*' job=small | wc -l)
	if [[ $v == 0 && $w == 0 ]] && ge "$(q1 "$s" bmtrace_trees_started_total)" 5; then
		ok "a tree under --min-peak 16M: no series while it ran, none in the histogram"
	else
		bad "--min-peak 16M: $v series of job=small while it ran, $w after"
	fi
	serve_stop
}

part_cli
part_labels || bad "part 7 (labels) stopped early"
part_roots || bad "part 1 (--root) stopped early"
cg_ok=0
if cg_setup; then
	cg_ok=1
	part_cgroups || bad "part 2 (--cgroup-parent) stopped early"
else
	say "SKIP: no writable cgroup2 hierarchy (mount -t cgroup2): --cgroup-parent not tried"
fi
part_user || bad "part 3 (--user nobody) stopped early"
part_max_trees || bad "part 4 (--max-trees) stopped early"
part_unit || bad "part 5 (the systemd unit) stopped early"
part_long_name || bad "part 6 (a long --root) stopped early"

echo "serve_e2e: $passed passed, $failed failed"
((failed == 0))
