#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# wrapper_e2e - `bmtrace -- COMMAND` is a transparent wrapper (GitHub issue 6, item 1),
# against the real binary, each check compared with COMMAND run without bmtrace:
#   1. every exit code 0..255 of COMMAND is bmtrace's, and bmtrace exits (is not killed);
#   2. COMMAND's death by signal N (each of 1..31 whose default action ends a process, and
#      realtime ones) is bmtrace's exit 128+N, with signal N in the JSON; bmtrace's own wait
#      status shows a normal exit without a core dump (read from its zombie: $? cannot tell
#      "exit 139" from "killed by SIGSEGV");
#   3. stdin, stdout and stderr are COMMAND's, byte for byte (5 MiB of random bytes with NULs
#      and no final newline, each way), kept apart, the summary only after COMMAND's stderr
#      and never with -q; closed descriptors stay closed and no descriptor of bmtrace's
#      leaks; a pipe's EOF reaches COMMAND; `yes | head -1` still ends by SIGPIPE; COMMAND's
#      blocked and ignored signal sets are those it would have had;
#   4. in a terminal (tmux): 0, 1 and 2 are the shell's tty, COMMAND is the foreground group;
#   5. Ctrl-C ends COMMAND, bmtrace exits 130, the JSON report (signal 2) is written;
#   6. job control: Ctrl-Z stops the job, nothing goes on while it is stopped, `fg` finishes
#      it (exit 0, JSON); a COMMAND that stops itself alone (SIGTSTP to itself) stops the job
#      too, instead of leaving the shell waiting on a bmtrace that runs; a SIGTSTP sent to
#      bmtrace alone stops COMMAND too; with --wait-all, once COMMAND is gone, Ctrl-Z stops
#      the descendants left and bmtrace; a COMMAND that ignores SIGTSTP is not stopped by
#      Ctrl-Z, nor is bmtrace; in the background, reading the terminal stops the job
#      ("Stopped (tty input)") and `fg` lets COMMAND read it;
#   7. the environment is COMMAND's unchanged; dropping privileges (SUDO_UID as sudo sets
#      it, and -u) changes only USER, LOGNAME and HOME, and COMMAND runs as that user with
#      only that user's groups and no capabilities; as plain root, identity and
#      capabilities are root's unchanged.
# Parts 1 and 2 run $JOBS bmtraces at a time; the terminal parts run last.
#
# Needs root with BTF (tracing), jq and build/workloads/memhog; parts 4-6 need tmux (make
# deps) and say SKIP without it. The terminal is a tmux server on a socket of its own, each
# part in a window of its own; the server is killed at exit. Takes about a minute.
#
#   BMTRACE=./bmtrace WORKLOADS=build/workloads bash tests/integration/wrapper_e2e.sh
set -euo pipefail
SCRIPT=wrapper_e2e
. "$(dirname "$0")/lib.sh"

BMTRACE=${BMTRACE:-./bmtrace}
WORKLOADS=${WORKLOADS:-build/workloads}
JOBS=8                # bmtrace runs at once in parts 1 and 2
TSOCK=wrapper_e2e_$$  # the tmux server's socket (-L)
MIB=1048576

cleanup() {
	if [[ -n ${tmux_sock:-} ]]; then
		tm kill-server 2>/dev/null || true
		rm -f "$tmux_sock" # tmux leaves it behind
	fi
	if [[ -n ${tmp:-} ]]; then
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

[[ $(id -u) == 0 && -r /sys/kernel/btf/vmlinux ]] || skip "tracing needs root and BTF"
command -v jq >/dev/null || skip "jq is not installed (make deps)"
[[ -x $WORKLOADS/memhog ]] || skip "no $WORKLOADS/memhog (make integration builds it)"
BMTRACE=$(readlink -f "$(command -v "$BMTRACE")")
WORKLOADS=$(readlink -f "$WORKLOADS")

# As plain root, not as a sudo caller: part 7 sets SUDO_* itself where it means to.
unset SUDO_UID SUDO_GID SUDO_USER SUDO_COMMAND
ulimit -c 0 # the signal deaths of part 2 leave no core files
tmp=$(mktemp -d /tmp/bmt-wrapper-e2e-XXXXXX)
cd "$tmp"
t_start=$(date +%s.%N)

# Seconds since $1 (date +%s.%N), to one decimal.
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# Poll "${@:2}" every 0.1 s, for up to $1 seconds.
wait_until() {
	local n=$(($1 * 10))
	shift
	until "$@"; do
		((n-- > 0)) || return 1
		sleep 0.1
	done
}

# Field $2 of /proc/$1/stat (3: the state, 52: the exit code); empty when it is gone.
stat_field() {
	local s f
	[[ -n $1 ]] || return 0
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	read -ra f <<<"${s##*) }"
	echo "${f[$2 - 3]:-}"
}

# The wait status of "$@" as waitpid(2) gives it: code << 8, or the signal (| 0x80 with a
# core). A `sleep` that never reaps is made its parent, so that once it ends (its stdout, a
# pipe, closes) its status can be read from its zombie. It waits until its parent is that
# sleep, then execs with default signal actions (an asynchronous list ignores SIGINT/SIGQUIT).
gate='until read -r c </proc/$PPID/comm && [ "$c" = sleep ]; do sleep 0.01; done
	exec env --default-signal "$@"'
hold='g=$1; shift; sh -c "$g" sh "$@" </dev/null & echo $! $$; exec sleep 120 >/dev/null'
wait_status() {
	local pid holder s n=500
	{
		read -r pid holder
		cat >/dev/null # until the pipe closes: "$@" has ended
	} < <(sh -c "$hold" sh "$gate" "$@" &)
	while ((n-- > 0)); do
		read -r s <"/proc/$pid/stat" || return 0
		read -ra s <<<"${s##*) }"
		[[ ${s[0]} == Z ]] && break
		sleep 0.01
	done
	echo "${s[49]}"
	kill "$holder"
}

# Run "$1 ARG" for each further ARG, $JOBS at a time; each one's output is in $tmp/par/ARG.
each_parallel() {
	local fn=$1 n=0 a
	shift
	rm -rf "$tmp/par"
	mkdir "$tmp/par"
	for a in "$@"; do
		"$fn" "$a" >"$tmp/par/$a" 2>&1 &
		if ((++n >= JOBS)); then
			wait -n || true
			n=$((n - 1))
		fi
	done
	wait
}

# ---- 1. exit codes ----

exit_one() { wait_status "$BMTRACE" -q -- sh -c "exit $1"; }
t=$(date +%s.%N)
each_parallel exit_one $(seq 0 255)
wrong=()
for n in $(seq 0 255); do
	st=$(cat "$tmp/par/$n")
	[[ $st == $((n << 8)) ]] || wrong+=("$n:${st:-none}")
done
if ((${#wrong[@]} == 0)); then
	ok "exit codes 0..255 all pass through, bmtrace exiting normally (256 runs, $(since "$t") s)"
else
	bad "exit codes (code:wait status): ${wrong[*]:0:20}"
fi

# ---- 2. signal deaths ----

# Default action ends the process: all of 1..31 but CHLD, CONT, URG, WINCH (ignored) and
# STOP, TSTP, TTIN, TTOU (they stop); and realtime ones.
sigs=(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 24 25 26 27 29 30 31 34 35 50 64)
sig_one() {
	local st
	st=$(wait_status "$BMTRACE" -q --json "$tmp/sig.$1.json" -- sh -c "kill -$1 \$\$")
	echo "$st $(jq -c '[.signal, .exit_code]' "$tmp/sig.$1.json" 2>/dev/null || echo none)"
}
t=$(date +%s.%N)
each_parallel sig_one "${sigs[@]}"
wrong=()
for n in "${sigs[@]}"; do
	got=$(cat "$tmp/par/$n")
	[[ $got == "$(((128 + n) << 8)) [$n,null]" ]] || wrong+=("$n:'$got'")
done
if ((${#wrong[@]} == 0)); then
	ok "death by each of ${#sigs[@]} signals is exit 128+N, JSON signal N; bmtrace exits, no core ($(since "$t") s)"
else
	bad "signal deaths (signal:'wait status [signal, exit_code]'): ${wrong[*]}"
fi

# ---- 3. stdin, stdout, stderr ----

head -c $((5 * MIB - 3)) /dev/urandom >in.bin
printf 'a\0b' >>in.bin # NULs inside, no newline at the end
empty() { [[ -e $1 && ! -s $1 ]]; }

# bmtrace "$@" from in.bin to out.bin and err.bin; its status in $st.
io() { "$BMTRACE" "$@" <in.bin >out.bin 2>err.bin && st=0 || st=$?; }

io -q -- cat
if [[ $st == 0 ]] && cmp -s in.bin out.bin && empty err.bin; then
	ok "5 MiB of random bytes stdin -> stdout byte for byte, stderr empty (-q)"
else
	bad "stdin -> stdout: status $st, $(cmp in.bin out.bin 2>&1 | sed -n 1p), stderr $(wc -c <err.bin) bytes"
fi
io -q -- sh -c 'cat >&2'
if [[ $st == 0 ]] && cmp -s in.bin err.bin && empty out.bin; then
	ok "stdin -> stderr byte for byte, stdout empty (-q)"
else
	bad "stdin -> stderr: status $st, $(cmp in.bin err.bin 2>&1 | sed -n 1p), stdout $(wc -c <out.bin) bytes"
fi
# Without -q: stdout is COMMAND's alone; stderr is COMMAND's, then the summary.
io -- sh -c 'cat; printf "%s" "to-stderr" >&2'
if [[ $st == 0 ]] && cmp -s in.bin out.bin && [[ $(head -c 9 err.bin) == to-stderr ]] &&
	[[ $(tail -c +10 err.bin | sed -n 1p) == "bmtrace: sh -c"* ]]; then
	ok "without -q: stdout is COMMAND's exactly; stderr is COMMAND's, then the summary"
else
	bad "without -q: status $st, stdout $(cmp in.bin out.bin 2>&1 | sed -n 1p); stderr starts '$(head -c 40 err.bin | tr -d '\0')'"
fi

out=$("$BMTRACE" -- cat </dev/null 2>/dev/null | wc -c) || out="status $?"
{ printf abc; sleep 0.5; printf def; } | timeout 20 "$BMTRACE" -q -- cat >pipe.out && rc=0 || rc=$?
if [[ $out == 0 && $rc == 0 && $(cat pipe.out) == abcdef ]]; then
	ok "stdin at EOF gives empty output; a pipe's EOF ends COMMAND when its writer does"
else
	bad "EOF: /dev/null gave $out bytes; the pipe gave '$(cat pipe.out)', status $rc"
fi

# COMMAND's open descriptors, listed on fd 9 (given by the caller); same_fds: the lists from
# fds.plain and fds.bmt, the two names made alike.
lsfd='ls -l /proc/$$/fd >&9'
same_fds() {
	local f
	for f in fds.plain fds.bmt; do
		awk 'NR > 1 { print $9, $10, $11 }' "$f" | sed 's/fds\.[a-z]*$/fds/' >"$f.list"
	done
	cmp -s fds.plain.list fds.bmt.list
}
fds_diff() { diff fds.plain.list fds.bmt.list | grep '^[<>]' | tr '\n' ' ' || true; }
wrong=()
for r in "" "<&-" ">&-" "2>&-" "<&- >&- 2>&-"; do
	eval "sh -c '$lsfd' 9>fds.plain $r" && st0=0 || st0=$?
	eval "\"\$BMTRACE\" -q -- sh -c '$lsfd' 9>fds.bmt $r" && st=0 || st=$?
	[[ $st == "$st0" ]] || wrong+=("'$r': status $st, without bmtrace $st0")
	same_fds || wrong+=("'$r': $(fds_diff)")
done
if ((${#wrong[@]} == 0)); then
	ok "COMMAND's descriptors are its own: closed 0/1/2 stay closed, none of bmtrace's leak"
else
	bad "COMMAND's descriptors: ${wrong[*]}"
fi
# bmtrace's own output on closed descriptors: never into a descriptor of its own that took
# the number (a BPF map, the ring); the summary on a closed stderr goes nowhere (status 0),
# `--json -` on a closed stdout fails as a write to it would (EBADF, 125).
st=0
"$BMTRACE" -- true 2>&- || st=$?
st2=0
"$BMTRACE" -q --json - -- true >&- 2>json.err || st2=$?
if [[ $st == 0 && $st2 == 125 ]] && grep -q "^bmtrace: --json -: cannot write it: Bad file descriptor$" json.err; then
	ok "bmtrace's own output on a closed stderr: status 0; --json - on a closed stdout: EBADF, 125"
else
	bad "closed stderr: status $st (want 0); --json - on closed stdout: $st2 $(cat json.err)"
fi

# SIGPIPE: `yes` ends by it, as without bmtrace, and promptly.
t=$(date +%s.%N)
{
	timeout 20 "$BMTRACE" -q --json pipe.json -- yes | head -1 >yes.out
	st=("${PIPESTATUS[@]}")
} || true
{
	yes | head -1 >/dev/null
	st0=("${PIPESTATUS[@]}")
} || true
if [[ $(cat yes.out) == y && ${st[0]} == 141 && ${st0[0]} == 141 &&
	$(jq -c '[.signal, .exit_code]' pipe.json) == '[13,null]' ]]; then
	ok "bmtrace -- yes | head -1: yes dies of SIGPIPE (exit 141, JSON signal 13) in $(since "$t") s"
else
	bad "bmtrace -- yes | head -1: '$(cat yes.out)', status ${st[*]} (without bmtrace ${st0[*]}), JSON $(jq -c '[.signal, .exit_code]' pipe.json 2>&1)"
fi

# Blocked and ignored signals: as without bmtrace, by default and when the caller ignores some.
masks=(grep -E "^Sig(Ign|Blk)" /proc/self/status) # not under sh: dash unblocks every signal
plain=$("${masks[@]}")
traced=$("$BMTRACE" -q -- "${masks[@]}") || true
plain_ign=$(trap '' INT QUIT PIPE TERM HUP USR1 && "${masks[@]}")
traced_ign=$(trap '' INT QUIT PIPE TERM HUP USR1 && "$BMTRACE" -q -- "${masks[@]}") || true
if [[ $plain == "$traced" && $plain_ign == "$traced_ign" && $plain != "$plain_ign" ]]; then
	ok "COMMAND's blocked/ignored signals are the caller's ($(tr '\n\t' '  ' <<<"$plain_ign"))"
else
	bad "signal masks: without bmtrace '$plain' / '$plain_ign', under it '$traced' / '$traced_ign'"
fi

# ---- 7. environment and identity ----

# "$1" runs bmtrace or COMMAND (a function: plain, as_sudo), ${@:2} are bmtrace's options.
plain() { "$@"; }
as_sudo() { SUDO_UID=$nuid SUDO_GID=$ngid SUDO_USER=nobody "$@"; }
env_plain() { "$1" env -0 | grep -zv '^_=' | sort -z; } # bash sets _ to the program it runs
env_bmt() { "$1" "$BMTRACE" "${@:2}" -q -- env -0 | grep -zv '^_=' | sort -z; }
ids='grep -E "^(Uid|Gid|Groups|Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):" /proc/self/status'
ids_plain=$(sh -c "$ids")
ids_bmt=$("$BMTRACE" -q -- sh -c "$ids") || true
if cmp -s <(env_plain plain) <(env_bmt plain) && [[ $ids_plain == "$ids_bmt" ]]; then
	ok "as plain root: environment, ids, groups and capabilities are COMMAND's unchanged"
else
	bad "as plain root: environment $(diff <(env_plain plain | tr '\0' '\n') <(env_bmt plain | tr '\0' '\n') | grep '^[<>]' | tr '\n' ' '); ids: $(tr '\n\t' '  ' <<<"$ids_bmt")"
fi

IFS=: read -r _ _ nuid ngid _ nhome _ < <(getent passwd nobody)
ngroups=$(id -G nobody | tr ' ' '\n' | sort -n | tr '\n' ' ')
# Dropped to nobody: the environment as it would be but for USER, LOGNAME and HOME, which are
# nobody's; nobody's ids and groups alone, no capability; no descriptor of bmtrace's.
check_drop() {
	local how=$1 got groups
	shift
	if cmp -s <({
		env_plain "$1" | grep -zEv '^(USER|LOGNAME|HOME)='
		printf 'USER=nobody\0LOGNAME=nobody\0HOME=%s\0' "$nhome"
	} | sort -z) <(env_bmt "$@"); then
		ok "$how: the environment differs only in USER, LOGNAME, HOME (nobody's)"
	else
		bad "$how: environment $(diff <(env_plain "$1" | tr '\0' '\n') <(env_bmt "$@" | tr '\0' '\n') | grep '^[<>]' | tr '\n' ' ')"
	fi
	got=$("$1" "$BMTRACE" "${@:2}" -q -- sh -c "$ids") || true
	groups=$(awk '$1 == "Groups:" { for (i = 2; i <= NF; i++) print $i }' <<<"$got" |
		sort -n | tr '\n' ' ')
	if grep -qx "Uid:	$nuid	$nuid	$nuid	$nuid" <<<"$got" &&
		grep -qx "Gid:	$ngid	$ngid	$ngid	$ngid" <<<"$got" &&
		[[ $groups == "$ngroups" ]] &&
		[[ $(grep -cE '^Cap(Inh|Prm|Eff|Amb):	0+$' <<<"$got") == 4 ]]; then
		ok "$how: COMMAND runs as $nuid:$ngid, groups [${groups% }], no capabilities"
	else
		bad "$how: $(tr '\n\t' '  ' <<<"$got") (groups wanted: [$ngroups])"
	fi
	"$1" sh -c "$lsfd" 9>fds.plain
	"$1" "$BMTRACE" "${@:2}" -q -- sh -c "$lsfd" 9>fds.bmt || true
	if same_fds; then
		ok "$how: no descriptor of bmtrace's reaches COMMAND"
	else
		bad "$how: descriptors $(fds_diff)"
	fi
}
check_drop "under sudo (SUDO_UID=$nuid)" as_sudo
check_drop "-u nobody" plain -u nobody

# ---- 4-6. at a terminal: an interactive bash in tmux ----

tm() { tmux -L "$TSOCK" -f /dev/null "$@"; }
shell="env PS1='e2e\$ ' HISTFILE=/dev/null bash --norc --noprofile -i"
# Part $1 runs in a tmux window of its own (a job left hanging cannot hold up the next part).
part() {
	win=$1
	tm new-window -t e2e -n "$1" -c "$tmp" "$shell"
	wait_until 10 pane_has '^e2e\$' || bad "$1: no shell prompt in tmux"
}
# Type a line into the part's shell; send it keys; its screen and history; grep -E them.
type_line() {
	tm send-keys -t "e2e:$win" -l "$1"
	tm send-keys -t "e2e:$win" Enter
}
keys() { tm send-keys -t "e2e:$win" "$@"; }
pane() { tm capture-pane -p -J -t "e2e:$win" -S -; }
pane_has() { pane | grep -E -- "$1" >/dev/null; } # not -q: SIGPIPE under pipefail
state() { stat_field "$1" 3; }
ppid_of() { stat_field "$1" 4; }
# Are the processes ${@:2} all in state $1?
in_state() {
	local p
	for p in "${@:2}"; do
		[[ $(state "$p") == "$1" ]] || return 1
	done
}
no_children() { [[ -z $(cat "/proc/$1/task/$1/children" 2>/dev/null) ]]; }
# The pid that the command in the pane writes to file $1; empty if none comes.
pid_in() {
	wait_until 15 test -s "$1" || return 0
	cat "$1"
}
# The exit status the pane's shell wrote to file $1 (waited for); empty if none comes.
rc_in() {
	wait_until 15 test -s "$1" || return 0
	cat "$1"
}

# fg_finishes TAG MARKER WHAT: `fg` in the pane lets the job TAG finish: exit 0, the JSON
# TAG.json says exit_code 0, and MARKER (if any) was printed; ok/bad with WHAT.
fg_finishes() {
	local rc
	type_line "fg; echo \$? >$1.rc"
	rc=$(rc_in "$1.rc")
	if [[ $rc == 0 && $(jq '.exit_code' "$1.json") == 0 ]] &&
		{ [[ -z $2 ]] || pane_has "^$2\$"; }; then
		ok "$3"
	else
		bad "${3%%:*}: exit '$rc', JSON exit_code $(jq '.exit_code' "$1.json" 2>&1)"
	fi
}

terminal_parts() {
	local B=$BMTRACE tty_sh t4 pid bmt kid rc
	tm new-session -d -x 200 -y 50 -s e2e -c "$tmp" "$shell"
	tmux_sock=$(tm display -p '#{socket_path}')

	# 4. the terminal is COMMAND's, and COMMAND is in the foreground
	part t4
	printf '%s\n' 'r=no; test -t 0 && test -t 1 && test -t 2 && r=yes' \
		'echo "$r $(tty) $(ps -o tpgid=,pgid= -p $$) $(ps -o pgid= -p $PPID)" >"$1"' >t4.sh
	type_line "tty >t4.shell; $B -q -- sh t4.sh t4.cmd"
	wait_until 15 test -s t4.cmd || true
	tty_sh=$(cat t4.shell 2>/dev/null || true)
	read -r -a t4 <t4.cmd || true
	if [[ ${t4[0]:-} == yes && ${t4[1]:-} == "$tty_sh" && $tty_sh == /dev/pts/* &&
		${t4[2]:-} == "${t4[3]:-}" && ${t4[3]:-} == "${t4[4]:-}" ]]; then
		ok "at a terminal: COMMAND's 0, 1, 2 are the shell's $tty_sh; it is the foreground group (bmtrace's)"
	else
		bad "at a terminal: shell tty '$tty_sh'; COMMAND (all ttys? tty tpgid pgid, bmtrace's pgid): '${t4[*]:-}'"
	fi

	# 5. Ctrl-C: memhog, at its peak, ends; bmtrace exits 130; the JSON says signal 2
	part t5
	mkfifo t5.fifo
	type_line "BMT_PEAK_PIDS=$tmp/t5.pids BMT_PEAK_FIFO=$tmp/t5.fifo $B --json t5.json -- $WORKLOADS/memhog hold 32; echo \$? >t5.rc"
	if wait_until 20 test -s t5.pids; then
		keys C-c
	fi
	rc=$(rc_in t5.rc)
	if [[ $rc == 130 && $(jq -c '[.signal, .exit_code]' t5.json) == '[2,null]' &&
		$(jq '.peak.bytes >= 32 * 1048576' t5.json) == true ]] &&
		pane_has 'killed by signal 2 \(SIGINT\)'; then
		ok "Ctrl-C: COMMAND ends, bmtrace exits 130 and writes the report (JSON signal 2, peak >= 32 MiB)"
	else
		bad "Ctrl-C: exit '$rc', JSON $(jq -c '[.signal, .exit_code, .peak.bytes]' t5.json 2>&1)"
	fi

	# 6. Ctrl-Z: the job stops, COMMAND does not go on while stopped; fg finishes it
	part t6
	echo 'echo $$ >"$1"; sleep 2; echo done-marker' >t6.sh
	type_line "$B --json t6.json -- sh t6.sh t6.pid"
	pid=$(pid_in t6.pid)
	sleep 0.3
	keys C-z
	bmt=$(ppid_of "$pid")
	kid=$(cat "/proc/$pid/task/$pid/children" 2>/dev/null || true)
	if wait_until 5 pane_has 'Stopped +.*sh t6.sh' && sleep 3 && ! pane_has done-marker &&
		in_state T "$bmt" "$pid" $kid; then
		ok "Ctrl-Z: the shell has the job stopped; 3 s on, COMMAND has not gone on (bmtrace, sh, sleep in state T)"
	else
		bad "Ctrl-Z: bmtrace '$(state "$bmt")', sh '$(state "$pid")', sleep '$(state "$kid")'; pane: $(pane | tail -3 | tr '\n' '|')"
	fi
	fg_finishes t6 done-marker "fg: COMMAND goes on and finishes; bmtrace exits 0 and writes the JSON"

	# 6b. COMMAND stops itself (SIGTSTP to itself alone): the job stops with it
	part t6b
	echo 'echo $$ >"$1"; kill -TSTP $$; echo resumed-marker' >t6b.sh
	type_line "$B --json t6b.json -- sh t6b.sh t6b.pid"
	pid=$(pid_in t6b.pid)
	bmt=$(ppid_of "$pid")
	if wait_until 5 pane_has 'Stopped +.*sh t6b.sh' && in_state T "$bmt" "$pid"; then
		ok "COMMAND stopping itself alone: bmtrace stops too, the shell has the job stopped"
	else
		bad "COMMAND stopping itself alone: bmtrace '$(state "$bmt")', COMMAND '$(state "$pid")'; the shell waits on"
		kill -CONT "$pid" 2>/dev/null || true # let the job end
	fi
	fg_finishes t6b resumed-marker "fg after it: COMMAND goes on, bmtrace exits 0 and writes the JSON"

	# 6c. a SIGTSTP sent to bmtrace alone: COMMAND stops (it is forwarded), and the job
	part t6c
	echo 'echo $$ >"$1"; sleep 1; echo tstp-marker' >t6c.sh
	type_line "$B -q --json t6c.json -- sh t6c.sh t6c.pid"
	pid=$(pid_in t6c.pid)
	bmt=$(ppid_of "$pid")
	kill -TSTP "$bmt" 2>/dev/null || true
	if wait_until 5 pane_has 'Stopped +.*sh t6c.sh' && in_state T "$bmt" "$pid"; then
		ok "SIGTSTP sent to bmtrace alone: COMMAND stops too, the shell has the job stopped"
	else
		bad "SIGTSTP sent to bmtrace alone: bmtrace '$(state "$bmt")', COMMAND '$(state "$pid")'"
	fi
	fg_finishes t6c tstp-marker "fg after it: COMMAND goes on, bmtrace exits 0 and writes the JSON"

	# 6d. --wait-all, COMMAND gone: Ctrl-Z stops what is left of the job, and bmtrace
	part t6d
	echo 'sleep 2 & echo $! $PPID >"$1"' >t6d.sh
	type_line "$B -q --wait-all --json t6d.json -- sh t6d.sh t6d.pid"
	read -r pid bmt < <(pid_in t6d.pid) || true
	wait_until 5 no_children "$bmt" || true # COMMAND reaped
	keys C-z
	# polled: on a loaded machine the descendant may not have run yet to take its stop
	if wait_until 5 pane_has 'Stopped +.*sh t6d.sh' && wait_until 5 in_state T "$bmt" "$pid"; then
		ok "--wait-all, COMMAND gone: Ctrl-Z stops the descendant left and bmtrace"
	else
		bad "--wait-all, COMMAND gone: after Ctrl-Z, bmtrace '$(state "$bmt")', the descendant '$(state "$pid")'"
	fi
	fg_finishes t6d "" "fg after it: bmtrace waits for the descendant, exits 0 and writes the JSON"

	# 6e. COMMAND ignores SIGTSTP: Ctrl-Z stops nothing, as without bmtrace
	part t6e
	echo 'trap "" TSTP; echo $$ >"$1"; sleep 1.5; echo ignored-marker' >t6e.sh
	type_line "$B -q --json t6e.json -- sh t6e.sh t6e.pid; echo \$? >t6e.rc"
	pid=$(pid_in t6e.pid)
	sleep 0.3
	keys C-z
	rc=$(rc_in t6e.rc)
	if [[ $rc == 0 && $(jq '.exit_code' t6e.json) == 0 ]] && ! pane_has Stopped; then
		ok "COMMAND ignoring SIGTSTP: Ctrl-Z stops neither it nor bmtrace (exit 0)"
	else
		bad "COMMAND ignoring SIGTSTP: Ctrl-Z gave exit '$rc'$(pane_has Stopped && echo ', the job stopped')"
		type_line "fg" # let a stopped bmtrace finish
		wait_until 10 test -s t6e.json || true
	fi

	# 6f. in the background, reading the terminal stops the job (SIGTTIN); fg lets it read
	part t6f
	type_line "$B -q --json t6f.json -- cat >t6f.out & echo \$! >t6f.pid"
	bmt=$(pid_in t6f.pid)
	wait_until 10 in_state T "$bmt" || true
	type_line "jobs -l >t6f.jobs"
	wait_until 10 test -s t6f.jobs || true
	if grep -q 'Stopped (tty input)' t6f.jobs; then
		ok "in the background, reading the terminal: the shell has the job 'Stopped (tty input)'"
	else
		bad "in the background, reading the terminal: jobs says '$(cat t6f.jobs 2>/dev/null)', bmtrace '$(state "$bmt")'"
	fi
	type_line "fg; echo \$? >t6f.rc"
	sleep 0.5
	type_line "typed-in-fg"
	keys C-d
	rc=$(rc_in t6f.rc)
	if [[ $rc == 0 && $(cat t6f.out 2>/dev/null) == typed-in-fg && $(jq '.exit_code' t6f.json) == 0 ]]; then
		ok "fg: COMMAND reads the terminal, exits 0, JSON written"
	else
		bad "fg: exit '$rc', read '$(cat t6f.out 2>/dev/null)'"
	fi
}

if command -v tmux >/dev/null; then
	t=$(date +%s.%N)
	terminal_parts
	say "the terminal parts took $(since "$t") s"
else
	echo "SKIP: $SCRIPT: tmux is not installed (make deps): the terminal parts (4-6) did not run"
fi

say "$(since "$t_start") s in all"
echo "wrapper_e2e: $passed passed, $failed failed"
((failed == 0))
