#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# badinput_e2e - bad options and bad trace files (GitHub issue 6, item 3), on the real binary:
#   1. every option of every mode that takes a value, given bad values (and no value), and
#      the bad combinations: exit 125, exactly one line on stderr that starts "bmtrace: " and
#      names the option, and COMMAND never runs (it would create a marker file). The options
#      are read from `bmtrace --help`: an option this script has no bad values for fails it,
#      so a new option cannot ship untested;
#   2. an output path that cannot be written (no such directory, a directory, a read-only
#      place) is refused before COMMAND starts, not after a long build;
#   3. `bmtrace report` on an empty, garbage, non-gzip, truncated (at 12 offsets), corrupt
#      (a flipped compressed byte), wrong-version, wrong-magic, oversized-header trace, and
#      on garbage records after a good header: a one-line error naming the file, exit 125
#      (garbage records may also be accepted: never a crash), and no report file left behind;
#   4. a huge trace (a ~500,000-event recording of a fault storm) replays to the identical
#      JSON, in bounded memory: bmtrace traces its own replay and its peak must stay small.
#
# Part 1 needs nothing; the runs that reach the tracer (-p, -u, serve) and parts 2-4 need
# root with BTF, and skip with a clear line without it.
#
#   BMTRACE=./bmtrace WORKLOADS=build/workloads FIXTURES=tests/fixtures \
#       bash tests/integration/badinput_e2e.sh
set -euo pipefail
SCRIPT=badinput_e2e
. "$(dirname "$0")/lib.sh"

BMTRACE=${BMTRACE:-./bmtrace}
WORKLOADS=${WORKLOADS:-build/workloads}
FIXTURES=${FIXTURES:-tests/fixtures}
REPLAY_PEAK_MAX=$((64 << 20)) # the replay of the huge trace must stay under this

tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
marker=$tmp/ran
root=0
if [[ $(id -u) == 0 && -r /sys/kernel/btf/vmlinux ]]; then
	root=1
fi

# expect_bad NAME-IN-ERROR ARGS...: bmtrace ARGS fails as a bad option must. NAME-IN-ERROR may
# be two spellings, "-o;--output", either one will do.
expect_bad() {
	local name=$1 rc=0 lines
	shift
	rm -f "$marker"
	timeout 20 "$BMTRACE" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
	lines=$(wc -l <"$tmp/err")
	if [[ $rc != 125 ]]; then
		bad "$(printf '%q ' "$@"): exit $rc, not 125: $(head -c 300 "$tmp/err")"
	elif [[ $lines != 1 ]] || ! grep -q '^bmtrace: ' "$tmp/err"; then
		bad "$(printf '%q ' "$@"): $lines lines on stderr, not one 'bmtrace: ...' line"
	elif ! grep -qF -e "${name%%;*}" -e "${name#*;}" "$tmp/err"; then
		bad "$(printf '%q ' "$@"): the error does not name $name: $(cat "$tmp/err")"
	elif [[ -e $marker ]]; then
		bad "$(printf '%q ' "$@"): COMMAND ran"
	else
		checked=$((checked + 1))
		return 0
	fi
	return 1
}

run_cmd=(-- touch "$marker")

# Bad values of each option that takes one, by mode: OPTION|NAME-IN-ERROR|value...
# (values separated by '|'; NAME-IN-ERROR is what the error must say).
bad_dir=$tmp/no/such/dir
mkdir -p "$tmp/ro" && chmod 0555 "$tmp/ro"
files="|--|--svg|$bad_dir/f|$tmp"
trace_opts=(
	"-o|-o;--output$files"
	"--output|-o;--output$files"
	"--json|--json$files"
	"--timeline|--timeline$files"
	"--svg|--svg$files"
	"--markdown|--markdown$files"
	"--prometheus|--prometheus$files"
	"--perfetto|--perfetto$files"
	"-w|-w;--record$files"
	"--record|-w;--record$files"
	"--listen|--listen||foo|1.2.3.4:99999|[::1|:-1|127.0.0.1:x"
	"--linger|--linger||-1|abc|86401|1e3"
	"--pushgateway|--pushgateway||notaurl|ftp://x"
	"--job|--job|"
	"--instance|--instance|"
	"--label|--label||x|=v|a-b=v|__x=v|stage=v|1a=v|a\nb=v"
	"--max-peak|--max-peak||0|4X|-5|99999999999999999999|1.5.5G|G"
	"--budget|--budget||0|4X|-5|99999999999999999999"
	"--memory-max|--memory-max||0|4X|-5|100|4095|99999999999999999999"
	"--gate|--gate||foo|RSS|cgroups|rss,anon"
	"--stage|--stage||x|=a|a=|a=(|a=c++++|a=x{300}"
	"--stages|--stages||gcc|Toolchain"
	"--ring-size|--ring-size||1|10G|abc|4K1"
	"--max-processes|--max-processes||0|abc|-1|99999999"
	"-p|-p||0|abc|-1|99999999999"
	"--pid|-p||0|abc"
	"-u|-u||no_such_user_xyz"
	"--user|-u|no_such_user_xyz"
)
diff_opts=(
	"-o|-o;--output|--|--json"
	"--output|-o;--output|--|--json"
	"--fail-if-peak-grows|--fail-if-peak-grows||-1|abc|5x|nan|inf"
)
serve_opts=(
	"--root|--root||a/b"
	"--cgroup-parent|--cgroup-parent|$tmp/ro"
	"--listen|--listen||foo|1.2.3.4:99999"
	"--expire|--expire||-1|abc|999999999"
	"--max-trees|--max-trees||0|abc|99999999"
	"--max-processes|--max-processes||0|abc"
	"-u|-u|no_such_user_xyz"
	"--user|-u|no_such_user_xyz"
	"--stage|--stage||x|a=("
	"--stages|--stages||gcc"
	"--label-env|--label-env||x|=V|a=|a=1X|tree=V|root=V|a-b=V|a=B-C"
	"--min-peak|--min-peak||0|4X|-5"
)
# Options that take no value, and what the list above leaves to other checks.
flags=" -q --quiet -v --verbose -h --help -V --version --wait-all --progress --cgroup "

# try MODE-PREFIX-ARGS -- SPEC...: each spec's bad values and its missing value.
checked=0
try_specs() {
	local -n pre=$1 post=$2
	shift 2
	local spec opt name v vals
	for spec in "$@"; do
		IFS='|' read -r -a vals <<<"$spec|"
		opt=${vals[0]}
		name=${vals[1]}
		for v in "${vals[@]:2:${#vals[@]}-3}"; do
			# runs that reach the tracer (or a user lookup / cgroup) need root to fail there
			if [[ $root == 0 && ( $opt == -p || $opt == --pid || $opt == -u || $opt == --user ||
				"${pre[*]}" == serve* ) ]]; then
				continue
			fi
			expect_bad "$name" "${pre[@]}" "$opt" "$v" "${post[@]}" || true
		done
		# the option last, with no value
		expect_bad "$name" "${pre[@]}" "${post[@]:0:0}" "$opt" || true
	done
}

none=()
diff_files=("$FIXTURES/forkexec.json" "$FIXTURES/forkexec.json")
serve_pre=(serve --root x)
report_pre=(report)
report_post=("$FIXTURES/forkexec.bmt")
try_specs none run_cmd "${trace_opts[@]}"
try_specs report_pre report_post "${trace_opts[@]:0:9}" "--stage|--stage||x|a=(" \
	"--max-peak|--max-peak||0|4X" "--budget|--budget||0|4X" "--gate|--gate||foo"
diff_pre=(diff)
try_specs diff_pre diff_files "${diff_opts[@]}"
try_specs serve_pre none "${serve_opts[@]}"

# Every option the help of bmtrace and of each subcommand names has bad values above (or
# takes none).
help=$(for sub in "" report diff serve; do "$BMTRACE" help $sub; done)
missing=""
for o in $(grep -E '^ {2,8}-' <<<"$help" | grep -oE '(^|[ ,])--?[a-zA-Z][a-z-]*' | tr -d ' ,' |
	sort -u); do
	[[ $flags == *" $o "* ]] && continue
	if ! printf '%s\n' "${trace_opts[@]}" "${diff_opts[@]}" "${serve_opts[@]}" |
		grep -e "^$o|" >/dev/null; then # not -q: an early exit is SIGPIPE under pipefail
		missing+=" $o"
	fi
done
if [[ -z $missing ]]; then
	ok "every option in the help of bmtrace and its subcommands has bad values tested"
else
	bad "options in --help without a bad-value test:$missing"
fi

# Bad combinations and bad arguments.
combos() {
	# an option given twice would keep its last value silently
	expect_bad "--pid" -p 1 -p 2
	expect_bad "--json" --json "$tmp/a.json" --json "$tmp/b.json" -- touch "$marker"
	expect_bad "--max-peak" --max-peak 1G --max-peak 2G -- touch "$marker"
	expect_bad "--stages" --stages toolchain --stages toolchain -- touch "$marker"
	expect_bad "help" help nosuch
	expect_bad "--progress" report --progress "$FIXTURES/forkexec.bmt"
	expect_bad "--job" --pushgateway http://127.0.0.1:9/ -- touch "$marker"
	expect_bad "--pushgateway" --job j -- touch "$marker"
	expect_bad "--linger" --linger 3 -- touch "$marker"
	expect_bad "--instance" --instance runner-1 -- touch "$marker"
	expect_bad "--label" --pushgateway http://127.0.0.1:9/ --job j --label job=x -- touch "$marker"
	expect_bad "--label" --label a=1 --label a=2 -- touch "$marker"
	expect_bad "--label-env" serve --root x --label-env job=A --label-env job=B
	expect_bad "--label" serve --root x --label a=b
	expect_bad "--max-peak" --max-peak 1G --budget 1G -- touch "$marker"
	expect_bad "--gate cgroup" --gate cgroup --max-peak 1G -- touch "$marker"
	expect_bad "--cgroup" --cgroup -p 1
	expect_bad "--cgroup" --memory-max 1G -p 1
	expect_bad "report: --cgroup" report --cgroup "$FIXTURES/forkexec.bmt"
	expect_bad "report: --cgroup" report --memory-max 1G "$FIXTURES/forkexec.bmt"
	expect_bad "--gate cgroup" report --gate cgroup --max-peak 1G "$FIXTURES/forkexec.bmt"
	expect_bad "COMMAND"
	expect_bad "unknown option '--bogus'" --bogus -- touch "$marker"
	expect_bad "unknown option '-Z'" -Z -- touch "$marker"
	expect_bad "report: -w" report -w "$tmp/x.bmt" "$FIXTURES/forkexec.bmt"
	expect_bad "report: --listen" report --listen 0 "$FIXTURES/forkexec.bmt"
	expect_bad "report: expected one TRACE" report
	expect_bad "report: expected one TRACE" report a b
	expect_bad "diff" diff "$FIXTURES/forkexec.json"
	expect_bad "$tmp/none.json" diff "$tmp/none.json" "$FIXTURES/forkexec.json"
	expect_bad "not JSON" diff "$FIXTURES/forkexec.bmt" "$FIXTURES/forkexec.json"
	echo '{"a": 1}' >"$tmp/other.json"
	expect_bad "not a bmtrace result" diff "$tmp/other.json" "$FIXTURES/forkexec.json"
	expect_bad "serve" serve
	expect_bad "serve: unexpected argument" serve --root x extra
	# a newline or a terminal escape in a bad value stays on one line, escaped
	expect_bad '\n' --max-peak $'1\nG' -- touch "$marker"
	expect_bad '\x1b' --stage $'a\e[31m' -- touch "$marker"
	if [[ $root == 1 ]]; then
		expect_bad "-p" -p 4194303
		expect_bad "-p" -p $$ -- touch "$marker"
		expect_bad "-u" -u $'x\ny' -- touch "$marker"
		expect_bad "--cgroup-parent" serve --cgroup-parent "$tmp/no/such"
		expect_bad "--listen" --listen "[::1" -- touch "$marker"
	fi
}
before=$checked
combos || true
say "$((checked - before)) combinations checked"
if [[ $failed == 0 ]]; then
	ok "$checked bad command lines: exit 125, one line naming the option, COMMAND not run"
fi

if [[ $root == 0 ]]; then
	echo "SKIP: $SCRIPT: parts 2-4 need root and /sys/kernel/btf/vmlinux (tracing)"
	echo "$SCRIPT: $passed passed, $failed failed"
	exit $((failed > 0))
fi

# 2. Output paths that cannot be written are refused before COMMAND starts, with the reason
# (part 1 had a missing directory and a directory; root writes into a 0555 directory, so a
# path under a regular file and a read-only filesystem stand for what root cannot write).
: >"$tmp/afile"
n=0
for opt in --json --timeline --svg --markdown --prometheus -o -w; do
	expect_bad "$opt $tmp/afile/x: cannot write there: Not a directory" \
		"$opt" "$tmp/afile/x" -- touch "$marker" && n=$((n + 1))
done
[[ $n == 7 ]] && ok "an output under a regular file: refused before COMMAND ran (7 options)"
mkdir -p "$tmp/rofs"
if mount -t tmpfs -o ro,size=64k none "$tmp/rofs" 2>/dev/null; then
	if expect_bad "--json $tmp/rofs/r.json: cannot write there: Read-only file system" \
		--json "$tmp/rofs/r.json" -- touch "$marker"; then
		ok "a read-only filesystem is refused before COMMAND ran"
	fi
	umount "$tmp/rofs"
else
	say "cannot mount a read-only tmpfs here: that check is skipped"
fi

# 3. Bad traces.
good=$FIXTURES/forkexec.bmt
raw=$tmp/raw
gzip -dc "$good" >"$raw"
size=$(stat -c %s "$raw")
tried=0
bad_trace() { # WHAT FILE [ALLOW0]: replaying FILE fails cleanly (or, ALLOW0, succeeds)
	local what=$1 f=$2 allow0=${3:-} rc=0
	tried=$((tried + 1))
	rm -f "$tmp/r.json"
	timeout 60 "$BMTRACE" report -q --json "$tmp/r.json" "$f" >"$tmp/out" 2>"$tmp/err" || rc=$?
	if [[ $rc == 0 && -n $allow0 ]]; then
		return 0
	elif [[ $rc != 125 ]]; then
		bad "$what: exit $rc, not 125: $(head -c 300 "$tmp/err")"
	elif [[ $(wc -l <"$tmp/err") != 1 ]] || ! grep -qF "bmtrace: $f: " "$tmp/err"; then
		bad "$what: not one line naming the file: $(head -c 300 "$tmp/err")"
	elif [[ -e $tmp/r.json ]]; then
		bad "$what: a report was written from a bad trace"
	else
		return 0
	fi
	return 1
}
regz() { gzip -c >"$1"; }
: >"$tmp/empty.bmt"
head -c 5000 /dev/urandom >"$tmp/garbage.bmt"
regz "$tmp/notgz.bmt" <<<"hello, not a trace"
cp "$raw" "$tmp/plain.bmt" # uncompressed: gzip's reader passes it through; still a trace?
{ head -c 8 "$raw"; printf '\x07\x00\x00\x00'; tail -c +13 "$raw"; } | regz "$tmp/version.bmt"
{ printf 'BMTRACX\0'; tail -c +9 "$raw"; } | regz "$tmp/magic.bmt"
{ head -c 12 "$raw"; printf '\xff\xff\xff\x7f'; tail -c +17 "$raw"; } | regz "$tmp/hdrsize.bmt"
{ head -c 12 "$raw"; printf '\x08\x00\x00\x00'; tail -c +17 "$raw"; } | regz "$tmp/hdrsmall.bmt"
n=0
for what in empty garbage notgz version magic hdrsize hdrsmall; do
	bad_trace "$what trace" "$tmp/$what.bmt" && n=$((n + 1))
done
bad_trace "uncompressed trace" "$tmp/plain.bmt" allow0 && n=$((n + 1))
for i in $(seq 1 12); do # truncated anywhere, compressed or not
	cut=$((size * i / 13))
	head -c "$cut" "$raw" | regz "$tmp/cut$i.bmt"
	bad_trace "trace cut at byte $cut of $size" "$tmp/cut$i.bmt" && n=$((n + 1))
	zs=$(stat -c %s "$good")
	head -c $((zs * i / 13)) "$good" >"$tmp/zcut$i.bmt"
	bad_trace "compressed trace cut at byte $((zs * i / 13)) of $zs" "$tmp/zcut$i.bmt" &&
		n=$((n + 1))
done
zs=$(stat -c %s "$good")
for off in $((zs / 3)) $((zs / 2)) $((zs - 12)); do # a flipped byte: CRC or inflate error
	cp "$good" "$tmp/flip.bmt"
	b=$(od -An -tu1 -j "$off" -N1 "$good" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 0x55)))" |
		dd of="$tmp/flip.bmt" bs=1 seek="$off" conv=notrunc status=none
	bad_trace "trace with byte $off flipped" "$tmp/flip.bmt" && n=$((n + 1))
done
hdr=$(od -An -tu4 -j 12 -N4 "$raw" | tr -d ' ')
for seed in 1 2 3; do # garbage records after a good header: an error or a report, no crash
	{ head -c "$hdr" "$raw"; head -c 20000 /dev/urandom; } | regz "$tmp/recs$seed.bmt"
	bad_trace "garbage records ($seed)" "$tmp/recs$seed.bmt" allow0 && n=$((n + 1))
done
[[ $n == "$tried" ]] && ok "$n bad traces: one-line error naming the file, exit 125, no report"

# 4. A huge trace replays identically in bounded memory.
"$BMTRACE" -q -w "$tmp/big.bmt" --json "$tmp/big.json" -- "$WORKLOADS/faultstorm" 512 4
events=$(jq .events "$tmp/big.json")
"$BMTRACE" -q --json "$tmp/replay-mem.json" -- \
	"$BMTRACE" report -q --json "$tmp/big-replay.json" "$tmp/big.bmt"
if cmp -s "$tmp/big.json" "$tmp/big-replay.json"; then
	ok "a $events-event trace ($(stat -c %s "$tmp/big.bmt") bytes) replays to the same JSON"
else
	bad "the replay of the $events-event trace differs"
fi
peak=$(jq .peak.bytes "$tmp/replay-mem.json")
if ((events > 200000 && peak < REPLAY_PEAK_MAX)); then
	ok "its replay peaked at $((peak >> 10)) KiB (bmtrace traced its own replay)"
else
	bad "replay of $events events peaked at $peak bytes (limit $REPLAY_PEAK_MAX)"
fi

echo "$SCRIPT: $passed passed, $failed failed"
exit $((failed > 0))
