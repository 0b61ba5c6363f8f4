#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# cgroup_e2e - memory limits and kills, on the real kernel (issue 12):
#   1. a workload over a 128 MiB --memory-max is OOM-killed: the JSON's killed[] names it
#      (signal 9, oom true, its own bytes and the tree's), with the holders at that instant;
#      oom_kills and the cgroup's own count are 1; the summary says so; exit 137; the cgroup
#      is gone afterwards;
#   2. within the limit: the cgroup peak lies between the tree's anon peak and the limit;
#   3. a descendant a script kills with SIGKILL is reported with signal 9 and not as OOM, and
#      COMMAND's exit 0 stays 0;
#   4. --gate: page cache counts in the cgroup's peak, not in the tree RSS: --max-peak judges
#      the peak --gate names (98 for cgroup, 0 for rss);
#   5. a recording replays them (bmtrace report: the same JSON, killed[] and cgroup included);
#   6. --memory-max where no memory controller can be used (a fake cgroup root,
#      BMTRACE_CGROUP_ROOT): 125 and one line on stderr before COMMAND runs (a marker file
#      COMMAND would create is not there).
#
# Needs root, BTF and a memory cgroup controller; skips with a clear line without them.
#
#   BMTRACE=./bmtrace WORKLOADS=build/workloads bash tests/integration/cgroup_e2e.sh
set -euo pipefail
SCRIPT=cgroup_e2e
. "$(dirname "$0")/lib.sh"

BMTRACE=${BMTRACE:-./bmtrace}
WORKLOADS=${WORKLOADS:-build/workloads}
MiB=1048576

if [[ $(id -u) != 0 || ! -r /sys/kernel/btf/vmlinux ]]; then
	skip "needs root and /sys/kernel/btf/vmlinux (it traces real runs)"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 6 first: it needs no controller.
mkdir -p "$tmp/fake/proc/self"
echo "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu" >"$tmp/fake/proc/self/mountinfo"
echo "1:cpu:/" >"$tmp/fake/proc/self/cgroup"
rc=0
BMTRACE_CGROUP_ROOT=$tmp/fake "$BMTRACE" --memory-max 128M -- touch "$tmp/marker" \
	2>"$tmp/err6" || rc=$?
if [[ $rc == 125 && ! -e $tmp/marker && $(wc -l <"$tmp/err6") == 1 ]] &&
	grep -q "^bmtrace: --memory-max: no memory cgroup" "$tmp/err6"; then
	ok "no usable memory controller: 125 before COMMAND ran: $(cat "$tmp/err6")"
else
	bad "no usable memory controller: exit $rc, marker $([[ -e $tmp/marker ]] && echo made ||
		echo absent), stderr: $(cat "$tmp/err6")"
fi

probe=0
"$BMTRACE" -q --cgroup -- true 2>"$tmp/probe" || probe=$?
if [[ $probe == 125 ]]; then
	skip "no memory cgroup usable here: $(cat "$tmp/probe")"
fi

# 1. Over the limit: 300 MiB under 128 MiB.
rc=0
"$BMTRACE" --memory-max 128M --json "$tmp/oom.json" -w "$tmp/oom.bmt" -- \
	"$WORKLOADS/memhog" hold 300 2>"$tmp/err1" || rc=$?
if [[ $rc == 137 ]]; then
	ok "OOM-killed COMMAND: exit 137, as without bmtrace"
else
	bad "OOM-killed COMMAND: exit $rc: $(cat "$tmp/err1")"
fi
if jq -e '.oom_kills == 1 and (.killed | length) == 1 and .killed[0].oom == true and
	.killed[0].signal == 9 and .killed[0].comm == "memhog" and
	.killed[0].argv == ["'"$WORKLOADS"'/memhog", "hold", "300"] and
	.killed[0].bytes > 100 * 1048576 and .killed[0].tree_bytes >= .killed[0].bytes and
	.killed[0].time_s > 0 and
	(.killed[0].holders | length) >= 1 and .killed[0].holders[0].pid == .killed[0].pid and
	([.killed[0].holders[].bytes] | add) == .killed[0].tree_bytes' "$tmp/oom.json" >/dev/null
then
	ok "the victim: $(jq -c '.killed[0] | {pid, comm, signal, oom, time_s, bytes, tree_bytes,
		holders: [.holders[] | {pid, comm, bytes}]}' "$tmp/oom.json")"
else
	bad "the victim: $(jq -c '{oom_kills, killed}' "$tmp/oom.json")"
fi
if jq -e '.cgroup.oom_kills == 1 and .cgroup.limit_bytes == 134217728 and
	.cgroup_peak_bytes == .cgroup.peak_bytes and .cgroup.peak_bytes <= 134217728 and
	.cgroup.peak_bytes > 100 * 1048576' "$tmp/oom.json" >/dev/null; then
	ok "the cgroup: $(jq -c .cgroup "$tmp/oom.json")"
else
	bad "the cgroup: $(jq -c '{cgroup, cgroup_peak_bytes}' "$tmp/oom.json")"
fi
if grep -q "WARNING: the OOM killer killed 1 process of the tree" "$tmp/err1" &&
	grep -q "when the OOM killer chose $(jq .killed[0].pid "$tmp/oom.json") (memhog)" \
		"$tmp/err1"; then
	ok "the summary tells the OOM kill and who held the memory"
else
	bad "the summary: $(cat "$tmp/err1")"
fi
cg=$(jq -r .cgroup.path "$tmp/oom.json")
if [[ -n $cg && ! -e $cg ]]; then
	ok "the run's cgroup $cg is removed"
else
	bad "the run's cgroup $cg is still there"
fi

# 2. Within the limit: anon peak <= cgroup peak <= limit.
"$BMTRACE" -q --memory-max 128M --json "$tmp/in.json" -- "$WORKLOADS/memhog" hold 64
if jq -e '.oom_kills == 0 and (.killed | length) == 0 and .cgroup.oom_kills == 0 and
	.anon_peak.bytes >= 64 * 1048576 and .cgroup.peak_bytes >= .anon_peak.bytes and
	.cgroup.peak_bytes <= 134217728' "$tmp/in.json" >/dev/null; then
	ok "within the limit: anon peak $(jq .anon_peak.bytes "$tmp/in.json") <= cgroup peak" \
		"$(jq .cgroup.peak_bytes "$tmp/in.json") <= 134217728"
else
	bad "within the limit: $(jq -c '{anon: .anon_peak.bytes, cgroup}' "$tmp/in.json")"
fi

# 3. A descendant killed by a script: signal 9, not OOM; COMMAND still exits 0.
rc=0
"$BMTRACE" -q --cgroup --json "$tmp/kill.json" -- sh -c \
	"'$WORKLOADS/memhog' sleep 60000 & p=\$!; sleep 0.3; kill -KILL \$p; wait; exit 0" || rc=$?
if [[ $rc == 0 ]] && jq -e '.oom_kills == 0 and (.killed | length) == 1 and
	.killed[0].signal == 9 and .killed[0].oom == false and .killed[0].comm == "memhog" and
	.killed[0].holders == null and .cgroup.oom_kills == 0' "$tmp/kill.json" >/dev/null; then
	ok "SIGKILL from a script: signal 9, not OOM, exit 0"
else
	bad "SIGKILL from a script: exit $rc, $(jq -c '{oom_kills, killed}' "$tmp/kill.json")"
fi

# 4. --gate: 96 MiB of page cache is the cgroup's, not the tree's RSS.
gate() {
	local rc=0
	"$BMTRACE" -q --cgroup --gate "$1" --max-peak 64M --json "$tmp/gate.json" -- sh -c \
		"dd if=/dev/zero of='$tmp/cache' bs=1M count=96 status=none" || rc=$?
	echo "$rc"
}
rc_cg=$(gate cgroup)
rc_rss=$(gate rss)
if [[ $rc_cg == 98 && $rc_rss == 0 ]]; then
	ok "--gate cgroup fails a run the tree RSS passes (page cache): 98 and 0"
else
	bad "--gate: cgroup $rc_cg, rss $rc_rss (want 98, 0): $(jq -c '{peak: .peak.bytes,
		cgroup: .cgroup.peak_bytes, budget}' "$tmp/gate.json")"
fi

# 5. The recording replays the deaths and the cgroup's figures.
"$BMTRACE" report "$tmp/oom.bmt" --json "$tmp/replay.json" -q 2>/dev/null
if cmp -s <(jq -S . "$tmp/oom.json") <(jq -S . "$tmp/replay.json"); then
	ok "bmtrace report replays the same JSON: killed[], oom_kills, cgroup"
else
	bad "the replay differs: $(diff <(jq -S . "$tmp/oom.json") <(jq -S . "$tmp/replay.json"))"
fi

echo "$SCRIPT: $passed passed, $failed failed"
exit $((failed > 0))
