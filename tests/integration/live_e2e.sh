#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# live_e2e - feedback while a long command runs (GitHub issue 13, item 3), on the real binary:
#   1. --progress in a terminal (tmux, 100 x 12): while COMMAND prints a line every 150 ms,
#      the terminal's last row is bmtrace's status line and every line COMMAND printed is
#      whole above it; at the end the status line is gone, COMMAND's 14 lines are all there
#      in order, each as it was printed, and the summary follows;
#   2. --progress with stderr not a terminal writes no escape sequence;
#   3. kill -USR1 bmtrace prints one status line on stderr (as dd does) and COMMAND is not
#      disturbed: it ends normally (a forwarded SIGUSR1 would kill a shell: 138); with -p, it
#      does not end the tracing.
#
# Needs root with BTF and tmux (make test-deps); prints "SKIP: ..." without them.
#
#   BMTRACE=./bmtrace bash tests/integration/live_e2e.sh
set -euo pipefail
SCRIPT=live_e2e
. "$(dirname "$0")/lib.sh"

BMTRACE=$(realpath "${BMTRACE:-./bmtrace}")

if [[ $(id -u) != 0 || ! -r /sys/kernel/btf/vmlinux ]]; then
	skip "needs root and BTF"
fi
tmp=$(mktemp -d)
session=bmt-live-$$
trap 'tmux kill-session -t "$session" 2>/dev/null || true; rm -rf "$tmp"' EXIT

# 1. --progress in a terminal
if command -v tmux >/dev/null; then
	tmux new-session -d -s "$session" -x 100 -y 12 "bash --norc --noprofile"
	sleep 0.3
	tmux send-keys -t "$session" "clear; $BMTRACE --progress -- sh -c 'for i in \$(seq 1 14); do echo line\$i; sleep 0.15; done'; echo EXIT=\$?" Enter
	sleep 1.2
	mid=$(tmux capture-pane -p -t "$session")
	for _ in $(seq 1 50); do
		sleep 0.2
		tmux capture-pane -p -t "$session" -S -60 >"$tmp/end"
		grep -q '^EXIT=' "$tmp/end" && break
	done
	last=$(tail -1 <<<"$mid")
	if [[ $last == "bmtrace: "*" now, peak "*" alive"* ]] &&
		! grep -v '^bmtrace: ' <<<"$mid" | grep -q 'now, peak'; then
		ok "progress: the last row is the status line ($last)"
	else
		bad "progress: the last row while running is '$last':
$mid"
	fi
	if grep '^line' <<<"$mid" | grep -qvE '^line[0-9]+$'; then
		bad "progress: a line of COMMAND's was written over while running:
$mid"
	else
		ok "progress: COMMAND's $(grep -c '^line' <<<"$mid") lines so far whole above it"
	fi
	if [[ $(grep -E '^line[0-9]+$' "$tmp/end" | tr '\n' ' ') == "$(printf 'line%d ' $(seq 1 14))" ]] &&
		! grep -q 'now, peak' "$tmp/end" && grep -q '^EXIT=0$' "$tmp/end" &&
		grep -q '^  peak tree RSS' "$tmp/end"; then
		ok "progress: at the end the line is erased, COMMAND's 14 lines in order, the summary after"
	else
		bad "progress: the terminal at the end:
$(cat "$tmp/end")"
	fi
else
	say "SKIP: no tmux (make test-deps): --progress in a terminal not tried"
fi

# 2. not a terminal: nothing drawn
"$BMTRACE" --progress -q -- sh -c 'sleep 0.4; echo hi' >"$tmp/out" 2>"$tmp/err"
if [[ $(cat "$tmp/out") == hi && ! -s $tmp/err ]]; then
	ok "progress: stderr not a terminal: nothing written to it"
else
	bad "progress without a terminal wrote: $(od -c "$tmp/err" | head -3)"
fi

# 3. SIGUSR1
"$BMTRACE" -q -- sh -c 'sleep 1; echo done' >"$tmp/out" 2>"$tmp/err" &
bmt=$!
sleep 0.5
kill -USR1 "$bmt"
rc=0
wait "$bmt" || rc=$?
if [[ $rc == 0 && $(cat "$tmp/out") == done && $(wc -l <"$tmp/err") == 1 ]] &&
	grep -qE '^bmtrace: 0\.[0-9] s, tree .* now, peak .* alive' "$tmp/err"; then
	ok "SIGUSR1: one status line on stderr ($(cat "$tmp/err")); COMMAND ran on, exit 0"
else
	bad "SIGUSR1: exit $rc, stdout '$(cat "$tmp/out")', stderr: $(cat "$tmp/err")"
fi
sleep 2 &
target=$!
"$BMTRACE" -q -p "$target" 2>"$tmp/err" &
bmt=$!
sleep 0.5
kill -USR1 "$bmt"
sleep 0.3
if kill -0 "$bmt" 2>/dev/null; then
	ok "SIGUSR1 with -p: the tracing goes on"
else
	bad "SIGUSR1 with -p ended the tracing"
fi
wait "$bmt" || true
wait "$target" || true
if grep -q 'now, peak' "$tmp/err"; then
	ok "SIGUSR1 with -p: the status line printed"
else
	bad "SIGUSR1 with -p: stderr: $(cat "$tmp/err")"
fi

say "$passed passed, $failed failed"
[[ $failed == 0 ]]
