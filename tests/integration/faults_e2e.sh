#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# faults_e2e - what bmtrace does when the machine fails it (GitHub issue 6, item 4):
#   1. the disk fills up during the run (a 512 KiB tmpfs that COMMAND fills): COMMAND runs to
#      its end with its output intact; every output on that disk (--timeline, --svg,
#      --markdown, --prometheus, -o, -w; --json in part 2) fails with its option and
#      "No space left on device" on stderr, one line each; no temp file is left behind; the
#      reports elsewhere are written; bmtrace exits 125 when COMMAND succeeded and COMMAND's
#      own status when it failed (README, "Exit status");
#   2. an output directory removed while COMMAND runs: the same, "No such file or directory";
#   3. more processes than the BPF maps hold (--max-processes 8 around 40 processes): the
#      processes and address spaces left out are counted in the JSON (untraced_processes,
#      untraced_mms), peak_is_lower_bound is true and the summary warns; with the default
#      maps the same tree is followed whole (40 processes, nothing untraced).
# The forced-tiny ring, SIGKILL and two concurrent runs are in itest.c
# (test_tiny_ring_reports_loss, test_sigkill_detaches, test_two_runs_apart).
#
# Needs root and BTF; skips with a clear line without them.
#
#   BMTRACE=./bmtrace WORKLOADS=build/workloads bash tests/integration/faults_e2e.sh
set -euo pipefail
SCRIPT=faults_e2e
. "$(dirname "$0")/lib.sh"

BMTRACE=${BMTRACE:-./bmtrace}
WORKLOADS=${WORKLOADS:-build/workloads}

if [[ $(id -u) != 0 || ! -r /sys/kernel/btf/vmlinux ]]; then
	skip "needs root and /sys/kernel/btf/vmlinux (it traces real runs)"
fi
tmp=$(mktemp -d)
full=$tmp/full
cleanup() {
	umount "$full" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$full"
if ! mount -t tmpfs -o size=512k none "$full"; then
	skip "cannot mount a small tmpfs to fill"
fi

# 1. A full disk. COMMAND fills it, says so on stdout, and exits with $1.
opts=(--timeline "$full/r.csv" --svg "$full/r.svg"
	--markdown "$full/r.md" --prometheus "$full/r.prom" -o "$full/r.txt" -w "$full/r.bmt")
disk_full() {
	local code=$1 rc=0
	rm -f "$full"/* "$full"/.[!.]* 2>/dev/null || true
	"$BMTRACE" "${opts[@]}" --json "$tmp/ok.json" -- sh -c \
		"head -c 1M /dev/zero >'$full/fill' 2>/dev/null; echo command-finished; exit $code" \
		>"$tmp/out" 2>"$tmp/err" || rc=$?
	expect=$code
	[[ $code == 0 ]] && expect=125
	if [[ $(cat "$tmp/out") != command-finished ]]; then
		bad "disk full, COMMAND exit $code: COMMAND's output was '$(cat "$tmp/out")'"
	elif [[ $rc != "$expect" ]]; then
		bad "disk full, COMMAND exit $code: bmtrace exited $rc, not $expect: $(cat "$tmp/err")"
	else
		ok "disk full, COMMAND exit $code: COMMAND finished, bmtrace exited $rc"
	fi
}
disk_full 0
n=0
for o in --timeline --svg --markdown --prometheus -o; do
	if grep -qE "^bmtrace: $o $full/r\.[a-z]+: cannot write (it|the summary): No space left on device$" \
		"$tmp/err"; then
		n=$((n + 1))
	else
		bad "no one-line error for $o on the full disk"
	fi
done
# the recording either failed while writing or at its end; both name -w
if grep -qE "^bmtrace: -w $full/r\.bmt: the recording failed: No space left on device$" \
	"$tmp/err"; then
	n=$((n + 1))
else
	bad "no one-line error for -w on the full disk: $(cat "$tmp/err")"
fi
[[ $n == 6 ]] && ok "each of the 6 outputs on the full disk failed with a one-line error"
if jq -e '.exit_code == 0 and .peak.bytes > 0' "$tmp/ok.json" >/dev/null; then
	ok "the report on another disk was written (peak $(jq .peak.bytes "$tmp/ok.json"))"
else
	bad "the report on another disk is missing or wrong"
fi
left=$(find "$full" -name '.r.*' | wc -l)
if [[ $left == 0 ]]; then
	ok "no temp file left on the full disk"
else
	bad "$left temp files left on the full disk: $(ls -A "$full")"
fi
if "$BMTRACE" report -q --json "$tmp/x.json" "$full/r.bmt" 2>"$tmp/rerr"; then
	bad "the recording cut short by the full disk replays as if complete"
elif grep -qE "truncated|empty file" "$tmp/rerr"; then
	ok "the cut recording is refused by report: $(cat "$tmp/rerr")"
else
	bad "the cut recording: $(cat "$tmp/rerr")"
fi
disk_full 3

# 2. The output's directory removed while COMMAND runs.
mkdir "$tmp/gone"
rc=0
"$BMTRACE" -q --json "$tmp/gone/r.json" -- rm -rf "$tmp/gone" 2>"$tmp/err" || rc=$?
if [[ $rc == 125 ]] &&
	grep -qx "bmtrace: --json $tmp/gone/r.json: cannot write it: No such file or directory" \
		"$tmp/err" && [[ ! -e $tmp/gone ]]; then
	ok "output directory removed during the run: COMMAND ran, exit 125, one line"
else
	bad "output directory removed during the run: exit $rc: $(cat "$tmp/err")"
fi

# 3. More processes than the maps hold: 40 processes of 5 MiB, all alive at once.
tree=("$WORKLOADS/memhog" tree 3 3 5)
"$BMTRACE" --max-processes 8 --json "$tmp/small.json" -- "${tree[@]}" 2>"$tmp/err"
"$BMTRACE" -q --json "$tmp/whole.json" -- "${tree[@]}"
if jq -e '.untraced_processes > 0 and .untraced_mms > 0 and .peak_is_lower_bound == true' \
	"$tmp/small.json" >/dev/null; then
	ok "--max-processes 8: $(jq .untraced_processes "$tmp/small.json") processes and" \
		"$(jq .untraced_mms "$tmp/small.json") address spaces reported untraced, peak a lower bound"
else
	bad "--max-processes 8: overflow not reported: $(jq -c '{untraced_processes,
		untraced_mms, peak_is_lower_bound}' "$tmp/small.json")"
fi
if grep -q "not traced (BPF maps full): the peak is a lower bound" "$tmp/err"; then
	ok "the summary warns that the maps were full"
else
	bad "no warning in the summary: $(cat "$tmp/err")"
fi
if jq -e '.processes_total == 40 and .untraced_processes == 0 and .untraced_mms == 0 and
	.peak_is_lower_bound == false and .peak.bytes > 200 * 1048576' "$tmp/whole.json" >/dev/null; then
	ok "default maps: all 40 processes followed, peak $(jq .peak.bytes "$tmp/whole.json")"
else
	bad "default maps: $(jq -c '{processes_total, untraced_processes, peak: .peak.bytes}' \
		"$tmp/whole.json")"
fi

echo "$SCRIPT: $passed passed, $failed failed"
exit $((failed > 0))
