#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# perfetto_e2e - --perfetto FILE end to end (GitHub issue 13, item 6): a traced run (a parent
# of 40 MiB that forks and execs a child of 20 MiB while holding it; then a small gcc build)
# writes a Chrome/Perfetto JSON trace that perfetto_check.py validates against the trace
# event format's schema and holds against the run's --json: the tree total's track peaks at
# the JSON's peak, at its time; each process at the peak is named and its track reaches its
# bytes; exited processes' tracks end at 0 B, with exit and exec instants. Replaying the
# recording gives the same trace, byte for byte.
#
# Not loaded in Perfetto's trace processor: it is not packaged for Debian or npm, and its
# Python package (not reachable here) fetches the binary from the network when it runs;
# Chromium's trace viewer takes a trace only through its file picker.
#
# Needs root with BTF, python3 with jsonschema (make test-deps) and gcc; SKIP without them.
#
#   BMTRACE=./bmtrace WORKLOADS=build/workloads bash tests/integration/perfetto_e2e.sh
set -euo pipefail
SCRIPT=perfetto_e2e
. "$(dirname "$0")/lib.sh"

BMTRACE=${BMTRACE:-./bmtrace}
WORKLOADS=${WORKLOADS:-build/workloads}
CHECK=$(dirname "$0")/perfetto_check.py

if [[ $(id -u) != 0 || ! -r /sys/kernel/btf/vmlinux ]]; then
	skip "needs root and BTF"
fi
python3 -c 'import jsonschema' 2>/dev/null || skip "needs python3-jsonschema (make test-deps)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# trace NAME COMMAND...: traced with --perfetto, checked, and replayed to the same bytes
trace() {
	local name=$1 out
	shift
	if ! "$BMTRACE" -q -w "$tmp/$name.bmt" --perfetto "$tmp/$name.trace.json" \
		--json "$tmp/$name.json" -- "$@"; then
		bad "$name: bmtrace failed"
		return
	fi
	if out=$(python3 "$CHECK" "$tmp/$name.trace.json" "$tmp/$name.json" 2>&1); then
		ok "$name: $(grep -c ': ok: ' <<<"$out") checks: $(tr '\n' ' ' <<<"${out//perfetto_check: ok: /}")"
	else
		bad "$name: $out"
	fi
	"$BMTRACE" report "$tmp/$name.bmt" -q --perfetto "$tmp/$name.replay.json"
	if cmp -s "$tmp/$name.trace.json" "$tmp/$name.replay.json"; then
		ok "$name: the replay writes the same trace ($(wc -c <"$tmp/$name.replay.json") bytes)"
	else
		bad "$name: the replay's trace differs"
	fi
}

trace forkexec "$WORKLOADS/memhog" forkexec 40 20
if command -v gcc >/dev/null; then
	printf 'const int t[] = {%s};\nint main(void) { return t[1] - 2; }\n' "$(seq -s, 1 40000)" \
		>"$tmp/big.c"
	trace gcc gcc -O2 -o "$tmp/big" "$tmp/big.c"
else
	say "SKIP: no gcc: the gcc build not traced"
fi

say "$passed passed, $failed failed"
[[ $failed == 0 ]]
