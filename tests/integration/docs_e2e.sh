#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# docs_e2e - the help a user reads and the streams the summary takes (GitHub issue 13,
# item 4), on the real binary:
#   1. the man page (build/bmtrace.1, made by doc/man.sh from the help texts): `man
#      --warnings` finds nothing to say, and every option of `bmtrace help [SUBCOMMAND]` is
#      in it;
#   2. `bmtrace help SUB` and `bmtrace SUB --help` print the same text, each its own;
#   3. the bash completion, loaded into bash, completes options of bmtrace and of each
#      subcommand, the subcommands, and --stages' value; the zsh one, in an interactive zsh
#      in tmux (skipped without zsh or tmux), completes an option too;
#   4. `bmtrace report TRACE > f` writes the summary to f (nothing on stderr), `report -q
#      -o FILE` writes FILE and nothing else, and with root `bmtrace -q -o FILE -- true`
#      writes FILE too.
#
#   BMTRACE=./bmtrace FIXTURES=tests/fixtures bash tests/integration/docs_e2e.sh
set -euo pipefail
SCRIPT=docs_e2e
. "$(dirname "$0")/lib.sh"

repo=$(realpath "$(dirname "$0")/../..")
BMTRACE=$(realpath "${BMTRACE:-./bmtrace}")
FIXTURES=${FIXTURES:-$repo/tests/fixtures}
MAN=${MAN:-$repo/build/bmtrace.1}

tmp=$(mktemp -d)
trap 'tmux kill-session -t "bmt-docs-$$" 2>/dev/null || true; rm -rf "$tmp"' EXIT

# 1. the man page
if ! command -v man >/dev/null; then
	say "SKIP: no man (make test-deps): the man page is not checked"
elif [[ ! -s $MAN ]]; then
	bad "no man page at $MAN (make builds it)"
else
	warn=$(MANWIDTH=100 man --warnings -l "$MAN" 2>&1 >"$tmp/man.txt") || true
	if [[ -n $warn ]]; then
		bad "man --warnings -l $MAN: $warn"
	else
		ok "man --warnings: nothing to say about $(basename "$MAN")"
	fi
	missing=""
	for sub in "" report diff serve; do
		for o in $("$BMTRACE" help $sub | grep -E '^ +-' |
			grep -oE '(^|[ ,])--?[A-Za-z][A-Za-z-]*' | tr -d ' ,' | sort -u); do
			grep -qF -e "$o" "$tmp/man.txt" || missing+=" $o"
		done
	done
	if [[ -z $missing ]]; then
		ok "every option of bmtrace help [report|diff|serve] is in the man page"
	else
		bad "options not in the man page:$missing"
	fi
fi

# 2. each subcommand's help, two ways
for sub in report diff serve; do
	"$BMTRACE" help "$sub" >"$tmp/a" 2>&1
	"$BMTRACE" "$sub" --help >"$tmp/b" 2>&1
	if cmp -s "$tmp/a" "$tmp/b" && head -1 "$tmp/a" | grep -q "^Usage: bmtrace $sub " &&
		! cmp -s "$tmp/a" <("$BMTRACE" --help); then
		ok "bmtrace help $sub = bmtrace $sub --help, its own text"
	else
		bad "help $sub: $(head -1 "$tmp/a") / $sub --help: $(head -1 "$tmp/b")"
	fi
done

# 3. completion: bash (a function called as bash's completion calls it)
complete_bash() {
	PATH=$(dirname "$BMTRACE"):$PATH bash -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
		_bmtrace
		printf "%s\n" "${COMPREPLY[@]}"' _ "$repo/completion/bmtrace.bash" "$@"
}
# check WANT WORDS...: the completion of WORDS offers WANT (a word per line)
check_bash() {
	local want=$1 got
	shift
	got=$(complete_bash "$@" | sort -u | tr '\n' ' ')
	if [[ " $got" == *" $want "* ]]; then
		ok "bash: '$*' completes to $want"
	else
		bad "bash: '$*' offers '$got', not $want"
	fi
}
check_bash --stages bmtrace --stag
check_bash --max-peak bmtrace --max-p
check_bash --timeline bmtrace report --tim
check_bash --fail-if-peak-grows bmtrace diff --fail
check_bash --cgroup-parent bmtrace serve --cgroup
check_bash toolchain bmtrace --stages t
check_bash report bmtrace rep
check_bash serve bmtrace help se
if [[ $(complete_bash bmtrace serve --js) == "" ]]; then
	ok "bash: serve offers no --json (each subcommand its own options)"
else
	bad "bash: 'bmtrace serve --js' offers $(complete_bash bmtrace serve --js)"
fi

# zsh, interactively: its completion system needs a terminal
if command -v zsh >/dev/null && command -v tmux >/dev/null; then
	mkdir -p "$tmp/zfn"
	cp "$repo/completion/_bmtrace" "$tmp/zfn/"
	cat >"$tmp/.zshrc" <<EOF
fpath=($tmp/zfn \$fpath)
PATH=$(dirname "$BMTRACE"):\$PATH
autoload -Uz compinit && compinit -u -d $tmp/zcompdump
PS1='%% '
EOF
	tmux new-session -d -s "bmt-docs-$$" -x 120 -y 20 "ZDOTDIR=$tmp zsh -i"
	sleep 1
	tmux send-keys -t "bmt-docs-$$" 'bmtrace serve --cgroup' Tab
	pane=""
	for _ in $(seq 1 30); do
		sleep 0.2
		pane=$(tmux capture-pane -p -t "bmt-docs-$$")
		[[ $pane == *"--cgroup-parent"* ]] && break
	done
	if [[ $pane == *"bmtrace serve --cgroup-parent"* ]]; then
		ok "zsh: 'bmtrace serve --cgroup' completes to --cgroup-parent"
	else
		bad "zsh: the completion did not complete --cgroup-parent: $pane"
	fi
else
	say "SKIP: no zsh or tmux (make test-deps): the zsh completion is not checked"
fi

# 4. where the summary goes
trace=$FIXTURES/stages.bmt
"$BMTRACE" report "$trace" >"$tmp/f" 2>"$tmp/err"
if grep -q '^bmtrace: ' "$tmp/f" && grep -q 'peak tree RSS' "$tmp/f" && [[ ! -s $tmp/err ]]; then
	ok "bmtrace report TRACE > f: the summary in f ($(wc -l <"$tmp/f") lines), nothing on stderr"
else
	bad "bmtrace report TRACE > f: f has $(wc -l <"$tmp/f") lines; stderr: $(head -3 "$tmp/err")"
fi
"$BMTRACE" report "$trace" -q -o "$tmp/q.txt" >"$tmp/out" 2>"$tmp/err"
if cmp -s "$tmp/q.txt" "$tmp/f" && [[ ! -s $tmp/out && ! -s $tmp/err ]]; then
	ok "report -q -o FILE: FILE written (the same summary), nothing on stdout or stderr"
else
	bad "report -q -o FILE: FILE $(wc -c <"$tmp/q.txt" 2>/dev/null || echo absent) bytes"
fi
if [[ $(id -u) == 0 && -r /sys/kernel/btf/vmlinux ]]; then
	"$BMTRACE" -q -o "$tmp/live.txt" -- true 2>"$tmp/err"
	if grep -q '^bmtrace: true$' "$tmp/live.txt" && [[ ! -s $tmp/err ]]; then
		ok "bmtrace -q -o FILE -- true: FILE written, nothing on stderr"
	else
		bad "bmtrace -q -o FILE -- true: $(head -2 "$tmp/live.txt" 2>/dev/null) $(cat "$tmp/err")"
	fi
else
	say "SKIP: not root with BTF: -q -o FILE while tracing not tried"
fi

say "$passed passed, $failed failed"
[[ $failed == 0 ]]
