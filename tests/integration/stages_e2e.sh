#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# stages_e2e - every stage example the user is shown works on a real gcc build (GitHub issue
# 13, item 1). The examples are read from `bmtrace --help` and from README.md's code blocks
# (each command line holding --stage or --stages; continued lines joined), so an example
# cannot change without being run here. A small C project is built with gcc and make
# (`gcc -Ibuild -O2 -c`, then a link by gcc: cc1, as, collect2 and ld, by their full
# paths), under each example's stage rules:
#   - every toolchain stage the example names (compile, assemble, link, ld, cc: --stage
#     NAME=..., and all three of --stages toolchain) held memory: processes > 0 and a peak
#     > 0 in the JSON, and the summary does not name its rule as one that matched nothing
#     (a stage of a project's own, such as bmtrace's bpf, has nothing to match here);
#   - at the peak, the largest process is cc1 compiling the heavy file, in the stage
#     "compile" (or make's default stage when the example has no compile stage): a link
#     rule that matched `ld` inside `-Ibuild` would have taken the compile (and gcc's cc1
#     with it) into the link stage;
#   - the summary names src/heavy.c in cc1's row at the peak and as the largest process of
#     the command cc1, though cc1's arguments do not fit (the operands are kept).
# An example running COMMAND is traced live (COMMAND replaced by the build); an example of
# `bmtrace report` replays a recording of the build; one of serve is run as report (the
# same rules, matched the same way).
#
# Needs root with BTF, gcc and make (make deps) and jq (make test-deps); prints "SKIP: ..."
# without them.
#
#   BMTRACE=./bmtrace bash tests/integration/stages_e2e.sh
set -euo pipefail
SCRIPT=stages_e2e
. "$(dirname "$0")/lib.sh"

BMTRACE=${BMTRACE:-./bmtrace}
README=${README:-$(dirname "$0")/../../README.md}

if [[ $(id -u) != 0 || ! -r /sys/kernel/btf/vmlinux ]]; then
	skip "needs root and BTF"
fi
for t in gcc make jq; do
	command -v "$t" >/dev/null || skip "needs $t"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
proj=$tmp/proj
mkdir -p "$proj/src" "$proj/build"

# The heavy file: a large table, so that cc1 holds some 40 MiB in a fraction of a second.
{
	echo '#include "config.h"'
	echo 'const int table[] = {'
	seq -s, 1 60000
	echo '};'
	echo 'int heavy(int x) { return table[x] + SEED; }'
} >"$proj/src/heavy.c"
printf '#include "config.h"\nint heavy(int);\nint main(void) { return heavy(SEED) & 0; }\n' \
	>"$proj/src/main.c"
echo '#define SEED 7' >"$proj/build/config.h"
cat >"$proj/Makefile" <<'EOF'
CFLAGS = -Ibuild -O2
build/prog: build/heavy.o build/main.o
	gcc -Ibuild $^ -o $@
build/%.o: src/%.c build/config.h
	gcc $(CFLAGS) -c $< -o $@
EOF
build=(make -s -B -C "$proj")

# The example lines: --help's, and README's code blocks' with continuations joined.
{
	"$BMTRACE" --help | grep -E 'bmtrace .*--stages? ' || true
	awk '/^```/ { inblock = !inblock; next } inblock' "$README" |
		sed -e ':a' -e '/\\$/N; s/\\\n//; ta' | grep -E 'bmtrace .*--stages? ' || true
} | grep -v 'NAME=REGEX' | sort -u >"$tmp/examples"
n=$(wc -l <"$tmp/examples")
if ((n < 4)); then
	bad "found $n stage examples in --help and README.md, expected at least 4"
fi

# A recording of the build, for the examples of bmtrace report.
"$BMTRACE" -q -w "$tmp/build.bmt" -- "${build[@]}"

# check LINE: run the example of LINE, check its stages.
check() {
	local line=$1 words=() args=() stages=() w i rc=0 s want
	line=${line%%#*} # a trailing comment
	line=${line#*bmtrace } # what follows the program
	# Its words, as the shell splits them (the examples quote their regexes).
	GITHUB_STEP_SUMMARY=$tmp/step-summary eval "words=($line)"
	for ((i = 0; i < ${#words[@]}; i++)); do
		w=${words[i]}
		case $w in
		--) break ;;
		--stage)
			args+=(--stage "${words[i + 1]}")
			stages+=("${words[i + 1]%%=*}")
			i=$((i + 1)) ;;
		--stages)
			args+=(--stages "${words[i + 1]}")
			[[ ${words[i + 1]} == toolchain ]] && stages+=(compile assemble link)
			i=$((i + 1)) ;;
		esac
	done
	if [[ ${words[0]} == report || ${words[0]} == serve ]]; then
		"$BMTRACE" report "$tmp/build.bmt" "${args[@]}" --json "$tmp/r.json" \
			-o "$tmp/summary" || rc=$?
	else
		"$BMTRACE" "${args[@]}" --json "$tmp/r.json" -o "$tmp/summary" -- "${build[@]}" ||
			rc=$?
	fi
	if [[ $rc != 0 ]]; then
		bad "$line: exit $rc"
		return
	fi
	for s in "${stages[@]}"; do
		# what a gcc build has: its toolchain's stages (an example's own, such as bpf for
		# bmtrace's build, has nothing to match here)
		[[ $s =~ ^(compile|assemble|link|ld|cc|cc1)$ ]] || continue
		if grep -qE "no process matched the stage rule .*\\b$s\\b" "$tmp/summary"; then
			bad "$line: $(grep -A1 'no process matched' "$tmp/summary")"
			return
		fi
		if ! jq -e --arg s "$s" \
			'.stages[] | select(.name == $s) | .processes > 0 and .peak_bytes > 0' \
			"$tmp/r.json" >/dev/null; then
			bad "$line: stage $s held nothing: $(jq -c '.stages' "$tmp/r.json")"
			return
		fi
	done
	# cc1 of the heavy file holds the peak, in compile when the example has that stage, and
	# else in the default stage (make's): never in another stage of the example.
	want=make
	[[ " ${stages[*]} " == *" compile "* ]] && want=compile
	if ! jq -e --arg want "$want" '.peak.processes[0] | .comm == "cc1" and .stage == $want
		and (.argv | index("src/heavy.c") != null)' "$tmp/r.json" >/dev/null; then
		bad "$line: the peak's largest process is not cc1 of src/heavy.c in stage $want: $(
			jq -c '.peak.processes[0] | [.comm, .stage, .argv[-4:]]' "$tmp/r.json")"
		return
	fi
	# the culprit named: its row at the peak and its command's largest process show the file
	# (issue 13, item 2: the options are cut, the operands kept)
	if ! grep -qE '^ +[0-9]+  cc1 .* src/heavy\.c$' "$tmp/summary" ||
		! grep -qE '^    cc1 .* [0-9]+ cc1 .* src/heavy\.c$' "$tmp/summary" ||
		! jq -e '.commands[] | select(.name == "cc1") | .max_proc_argv |
			index("src/heavy.c") != null' "$tmp/r.json" >/dev/null; then
		bad "$line: src/heavy.c is not named at the peak and as cc1's largest process:
$(cat "$tmp/summary")"
		return
	fi
	ok "${line:0:70}: stages ${stages[*]} all held memory; cc1 at the peak in $want"
}

while IFS= read -r line; do
	check "$line"
done <"$tmp/examples"

say "$passed passed, $failed failed"
[[ $failed == 0 ]]
