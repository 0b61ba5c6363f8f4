#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# privilege_e2e - least privilege end to end (GitHub issue 6, item 5):
#   1. capabilities: with CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN really gone from the effective
#      set (setpriv: bounding and inheritable sets; checked in /proc/self/status), bmtrace
#      exits 125 before COMMAND runs, with one line on stderr naming exactly the missing
#      capabilities (CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON, as in the kernel;
#      CAP_SYS_ADMIN alone is needed only to mount tracefs, tried in a private mount
#      namespace without it); likewise as nobody, and under sudo without CAP_SETUID,
#      CAP_SETGID and CAP_CHOWN. The minimal sets README "Requirements" claims do trace a
#      real 64 MiB peak: uid 0 with CAP_BPF + CAP_PERFMON alone; under sudo, those and
#      CAP_SETUID, CAP_SETGID, CAP_CHOWN; nobody with CAP_BPF, CAP_PERFMON (and
#      CAP_DAC_READ_SEARCH when tracefs is closed to it) as ambient capabilities;
#   2. COMMAND never has bmtrace's privileges: under sudo (SUDO_UID/SUDO_GID) and with
#      -u nobody, every uid and gid is nobody's, its groups nobody's, no capability in the
#      inheritable, permitted, effective or ambient set (the bounding set and NoNewPrivs as
#      without bmtrace), no file descriptor besides those it would have without bmtrace,
#      and a root-only file is refused (EACCES); run by nobody with ambient capabilities,
#      COMMAND does not inherit them;
#   3. planted links, under sudo: a symlink at every output path (-o, --json, --timeline
#      .csv and .csv.gz, --svg, --markdown, --prometheus) to a root-owned victim, or
#      dangling: the victim keeps its content and owner, the dangling target is never
#      created, the path becomes a regular file with the report (temp file + rename); when
#      the report cannot be written (a full file system) the victim is still not handed to
#      the user; -w refuses a symlink (exit 125, one line, COMMAND not run);
#      strace shows every temp file created O_EXCL|O_NOFOLLOW and no chown by path; a
#      root-only directory is written into, for the sudo user (README: sudo is trusted);
#   4. owners: every output file and the recording are SUDO_UID:SUDO_GID's under sudo,
#      also with -p, -u nobody's with -u, root's without either; mode 0644, 0600 under
#      umask 077; no temp file is left behind; the recording replays;
#   5. serve --user nobody: every thread is nobody, the main one with CAP_BPF alone
#      (permitted and effective), the HTTP server's with nothing, none with an inheritable
#      or ambient capability; it still serves /metrics.
#
# Needs root with BTF, setpriv, unshare and jq; the strace and serve checks skip without
# strace or curl. Every process it starts is bounded by `timeout`. About 15 s.
#
#   BMTRACE=./bmtrace WORKLOADS=build/workloads bash tests/integration/privilege_e2e.sh
set -euo pipefail
SCRIPT=privilege_e2e
. "$(dirname "$0")/lib.sh"

BMTRACE=${BMTRACE:-./bmtrace}
WORKLOADS=${WORKLOADS:-build/workloads}
NOBODY=65534 # nobody and its group (nogroup on Debian)
HOLD=64      # MiB memhog holds in the minimal-capability runs
pids=()
unset SUDO_UID SUDO_GID SUDO_USER SUDO_COMMAND

cleanup() {
	stop_pids
	if [[ -n ${tmp:-} ]]; then
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

[[ $(id -u) == 0 && -r /sys/kernel/btf/vmlinux ]] || skip "tracing needs root and BTF"
for t in setpriv unshare jq; do
	command -v "$t" >/dev/null || skip "$t is not installed (make test-deps)"
done
[[ $(id -un "$NOBODY" 2>/dev/null) == nobody ]] || skip "no user nobody with uid $NOBODY"
[[ -x $WORKLOADS/memhog ]] || skip "no $WORKLOADS/memhog (make integration builds it)"

tmp=$(mktemp -d /tmp/bmt-priv-e2e-XXXXXX)
chmod 755 "$tmp"
# Copies nobody may run, whatever the modes of the build tree.
mkdir -m 755 "$tmp/bin"
cp "$BMTRACE" "$tmp/bin/bmtrace"
cp "$WORKLOADS/memhog" "$tmp/bin/memhog"
chmod 755 "$tmp/bin/bmtrace" "$tmp/bin/memhog"
BMT=$tmp/bin/bmtrace
MEMHOG=$tmp/bin/memhog
SUDO=(env "SUDO_UID=$NOBODY" "SUDO_GID=$NOBODY" SUDO_USER=nobody)
AS_NOBODY=(setpriv "--reuid=$NOBODY" "--regid=$NOBODY" --clear-groups)
mkdir -m 1777 "$tmp/pub" # COMMAND's markers, written as nobody

declare -A CAPNO=([CAP_CHOWN]=0 [CAP_DAC_OVERRIDE]=1 [CAP_DAC_READ_SEARCH]=2 [CAP_SETGID]=6
	[CAP_SETUID]=7 [CAP_SYS_ADMIN]=21 [CAP_PERFMON]=38 [CAP_BPF]=39)

# field FILE NAME: the value of "NAME:" in a /proc status file.
field() { awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ +/, ""); print; exit }' "$1"; }

# hasbit HEX NAME: is capability NAME in the hex set?
hasbit() { (((16#$1 >> ${CAPNO[$2]}) & 1)); }

# owner_of FILE, content FILE, kind_of FILE: never fail (set -e).
owner_of() { stat -c %u:%g "$1" 2>/dev/null || echo none; }
content() { cat "$1" 2>/dev/null || true; }
kind_of() { stat -c %F "$1" 2>/dev/null || echo missing; }

# caps_of FILE: the CAP_ names in FILE, sorted, one line.
caps_of() { grep -o 'CAP_[A-Z_]*' "$1" | sort -u | tr '\n' ' ' | sed 's/ $//' || true; }

# --- 1. capabilities ------------------------------------------------------------------------

# The mount namespace of one run, with tracefs unmounted (the host's stays mounted).
NO_TRACEFS=(unshare -m --propagation private sh -c
	'umount /sys/kernel/tracing 2>/dev/null || exit 99; exec "$@"' sh)

# eff_without NAME GONE PREFIX...: sets eff, the effective set under PREFIX; fails (after a
# SKIP or FAIL line) when PREFIX cannot run or leaves one of GONE (space-separated) effective.
eff_without() {
	local name=$1 gone=$2 c
	shift 2
	eff=$("$@" awk '$1 == "CapEff:" { print $2 }' /proc/self/status) || {
		say "SKIP: $name: cannot set up the capabilities ($*)"
		return 1
	}
	for c in $gone; do
		if hasbit "$eff" "$c"; then
			bad "$name: $c is still effective under '$*' (CapEff $eff): not tested"
			return 1
		fi
	done
}

# refused NAME "EXPECTED CAPS" GONE PREFIX...: bmtrace run through PREFIX (a command ending
# in "--" or taking the command as its arguments) must exit 125 with one line on stderr
# naming exactly EXPECTED CAPS, and not run COMMAND; GONE (space-separated) are checked to
# be absent from the effective set under PREFIX first.
refused() {
	local name=$1 want=$2 gone=$3 eff rc=0 marker=$tmp/pub/ran.$1
	shift 3
	eff_without "$name" "$gone" "$@" || return 0
	timeout 30 "$@" "$BMT" -q --json "$tmp/pub/$name.json" -- sh -c 'touch "$1"' sh \
		"$marker" >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
	if [[ $rc == 125 && $(wc -l <"$tmp/$name.err") == 1 &&
		$(caps_of "$tmp/$name.err") == "$want" &&
		! -e $marker && ! -e $tmp/pub/$name.json ]]; then
		ok "$name (CapEff $eff): exit 125, COMMAND not run: $(content "$tmp/$name.err")"
	else
		bad "$name (CapEff $eff): exit $rc, want 125 naming '$want'; COMMAND ran:\
 $([[ -e $marker ]] && echo yes || echo no); stderr: $(head -c 600 "$tmp/$name.err")"
	fi
}

# traces NAME CHECK PREFIX...: bmtrace run through PREFIX traces memhog hold $HOLD: exit 0,
# the JSON peak at least $HOLD MiB. CHECK names capabilities that must be gone meanwhile.
traces() {
	local name=$1 gone=$2 eff rc=0 peak json=$tmp/pub/$1.json
	shift 2
	eff_without "$name" "$gone" "$@" || return 0
	timeout 30 "$@" "$BMT" -q --json "$json" -- "$MEMHOG" hold $HOLD \
		>"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
	peak=$(jq -r '.peak.bytes' "$json" 2>/dev/null || true)
	if [[ $rc == 0 && -n $peak ]] && ((peak >= HOLD * 1048576)); then
		ok "$name (CapEff $eff): traced, peak $((peak / 1048576)) MiB (>= $HOLD)"
	else
		bad "$name (CapEff $eff): exit $rc, peak '$peak'; $(head -c 600 "$tmp/$name.err")"
	fi
}

NOSET=(setpriv --inh-caps=-all)
refused no-bpf "CAP_BPF" "CAP_BPF CAP_SYS_ADMIN" \
	"${NOSET[@]}" --bounding-set=-bpf,-sys_admin --
refused no-perfmon "CAP_PERFMON" "CAP_PERFMON CAP_SYS_ADMIN" \
	"${NOSET[@]}" --bounding-set=-perfmon,-sys_admin --
refused no-bpf-no-perfmon "CAP_BPF CAP_PERFMON" "CAP_BPF CAP_PERFMON CAP_SYS_ADMIN" \
	"${NOSET[@]}" --bounding-set=-bpf,-perfmon,-sys_admin --
# Without CAP_SYS_ADMIN, it works as long as tracefs is mounted; it mounts it otherwise.
traces no-sys-admin "CAP_SYS_ADMIN" "${NOSET[@]}" --bounding-set=-sys_admin --
if "${NO_TRACEFS[@]}" true; then
	refused no-sys-admin-no-tracefs "CAP_SYS_ADMIN" "CAP_SYS_ADMIN" \
		"${NO_TRACEFS[@]}" "${NOSET[@]}" --bounding-set=-sys_admin --
	traces sys-admin-mounts-tracefs "" "${NO_TRACEFS[@]}" "${NOSET[@]}" --
else
	say "SKIP: cannot unmount tracefs in a private mount namespace"
fi
# CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON (bpf_capable(), perfmon_capable()).
traces sys-admin-for-bpf-perfmon "CAP_BPF CAP_PERFMON" \
	"${NOSET[@]}" --bounding-set=-bpf,-perfmon --
# nobody: tracefs is mode 0700 root on most systems, then CAP_DAC_READ_SEARCH is missing too.
want_nobody="CAP_BPF CAP_PERFMON"
amb=+bpf,+perfmon
if ! "${AS_NOBODY[@]}" test -e /sys/kernel/tracing/events/kmem/rss_stat; then
	want_nobody="CAP_BPF CAP_DAC_READ_SEARCH CAP_PERFMON"
	amb+=,+dac_read_search
fi
refused nobody "$want_nobody" "CAP_BPF CAP_PERFMON CAP_SYS_ADMIN" "${AS_NOBODY[@]}" --
# Under sudo, switching to the user and handing it the files take their own capabilities.
refused sudo-no-setid "CAP_CHOWN CAP_SETGID CAP_SETUID" "CAP_CHOWN CAP_SETGID CAP_SETUID" \
	"${SUDO[@]}" "${NOSET[@]}" --bounding-set=-all,+bpf,+perfmon --

# The minimal sets, each a real trace.
traces minimal-root-bpf-perfmon "CAP_SYS_ADMIN CAP_DAC_OVERRIDE CAP_SETUID CAP_CHOWN" \
	"${NOSET[@]}" --bounding-set=-all,+bpf,+perfmon --
traces minimal-sudo "CAP_SYS_ADMIN CAP_DAC_OVERRIDE" \
	"${SUDO[@]}" "${NOSET[@]}" --bounding-set=-all,+bpf,+perfmon,+setuid,+setgid,+chown --
if [[ -e $tmp/pub/minimal-sudo.json && $(owner_of "$tmp/pub/minimal-sudo.json") != \
	"$NOBODY:$NOBODY" ]]; then
	bad "minimal-sudo: the JSON is $(owner_of "$tmp/pub/minimal-sudo.json")'s"
fi
traces "minimal-nobody-ambient" "CAP_SYS_ADMIN CAP_SETUID CAP_CHOWN" \
	"${AS_NOBODY[@]}" --inh-caps="$amb" --ambient-caps="$amb" --

# --- 2. COMMAND's privileges ----------------------------------------------------------------

cat >"$tmp/bin/probe" <<'EOF'
#!/bin/sh
# What COMMAND runs with: identity, capabilities, descriptors (readlink of this shell's).
grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/self/status
for f in /proc/$$/fd/*; do
	echo "fd ${f##*/} $(readlink "$f" 2>/dev/null |
		sed -E 's/\[[0-9]+\]//; s#/p2\.[a-z0-9-]+\.(out|err)$#/p2.OUT#')"
done
EOF
chmod 755 "$tmp/bin/probe"

"$tmp/bin/probe" >"$tmp/p2.base.out" 2>"$tmp/p2.base.err"
base_fds=$(grep '^fd ' "$tmp/p2.base.out")


# dropped NAME "BMTRACE OPTIONS" "GROUPS" PREFIX...: COMMAND (the probe) run by bmtrace
# through PREFIX has uid and gid $NOBODY, the supplementary GROUPS, no capability, and the
# descriptors it has without bmtrace.
dropped() {
	local name=$1 opts=$2 groups=$3 out=$tmp/p2.$1.out rc=0 why="" c
	shift 3
	# shellcheck disable=SC2086 # opts: a few words
	timeout 30 "$@" "$BMT" -q $opts -- "$tmp/bin/probe" >"$out" 2>"$tmp/p2.$name.err" || rc=$?
	[[ $rc == 0 ]] || why+=" exit $rc: $(head -c 300 "$tmp/p2.$name.err");"
	for c in Uid Gid; do
		[[ $(field "$out" $c) == "$NOBODY $NOBODY $NOBODY $NOBODY" ]] ||
			why+=" $c '$(field "$out" $c)';"
	done
	[[ $(field "$out" Groups) == "$groups" ]] ||
		why+=" Groups '$(field "$out" Groups)', want '$groups';"
	for c in CapInh CapPrm CapEff CapAmb; do
		[[ $(field "$out" $c) =~ ^0+$ ]] || why+=" $c $(field "$out" $c);"
	done
	for c in CapBnd NoNewPrivs; do
		[[ $(field "$out" $c) == "$(field "$tmp/p2.base.out" $c)" ]] ||
			why+=" $c $(field "$out" $c), without bmtrace $(field "$tmp/p2.base.out" $c);"
	done
	if [[ $(grep '^fd ' "$out") != "$base_fds" ]]; then
		why+=" descriptors unlike without bmtrace: $(diff <(echo "$base_fds") \
			<(grep '^fd ' "$out") | grep '^[<>]' | tr '\n' ' ' || true);"
	fi
	if [[ -z $why ]]; then
		ok "$name: COMMAND is uid/gid $NOBODY, groups '$groups', no capability (bounding set\
 and NoNewPrivs as without bmtrace), $(grep -c '^fd ' "$out") descriptors as without bmtrace"
	else
		bad "$name:$why"
	fi
}

nobody_groups=$(id -G nobody)
dropped sudo "" "$nobody_groups" "${SUDO[@]}"
# --listen: the HTTP server's socket and thread exist when COMMAND is forked
dropped sudo-listen "--listen 127.0.0.1:$(free_port)" "$nobody_groups" "${SUDO[@]}"
dropped u-nobody "-u nobody" "$nobody_groups" env
dropped "nobody-with-ambient-caps" "" "" \
	"${AS_NOBODY[@]}" --inh-caps="$amb" --ambient-caps="$amb" --

echo root >"$tmp/rootonly"
chmod 600 "$tmp/rootonly"
rc=0
"${SUDO[@]}" timeout 30 "$BMT" -q -- sh -c 'echo x >>"$1"' sh "$tmp/rootonly" \
	>/dev/null 2>"$tmp/p2.rootonly.err" || rc=$?
if [[ $rc != 0 && $(content "$tmp/rootonly") == root ]] &&
	grep -q 'Permission denied' "$tmp/p2.rootonly.err"; then
	ok "under sudo, COMMAND writing a root-only file fails with EACCES (exit $rc)"
else
	bad "under sudo, COMMAND writing a root-only file: exit $rc, file '$(content "$tmp/rootonly")',\
 $(head -c 300 "$tmp/p2.rootonly.err")"
fi

# --- 3. planted links -----------------------------------------------------------------------

# Each output: its option, its file name, and what its content must show.
declare -A OPT=([summary]=-o [json]=--json [csv]=--timeline [csvgz]=--timeline [svg]=--svg
	[md]=--markdown [prom]=--prometheus [rec]=-w)
declare -A FILE=([summary]=summary.txt [json]=r.json [csv]=t.csv [csvgz]=t.csv.gz [svg]=c.svg
	[md]=s.md [prom]=m.prom [rec]=rec.bmt)
REPORTS1=(summary json csv svg md prom) # one run; --timeline once per run
REPORTS2=(csvgz)

valid() { # KIND FILE
	case $1 in
	summary) grep -q 'peak tree RSS' "$2" ;;
	json) jq -e '.peak.bytes > 0' "$2" >/dev/null 2>&1 ;;
	# no pipe that ends early: under pipefail its writer's SIGPIPE would fail the check
	csv) [[ $(head -1 "$2") == *,* ]] ;;
	csvgz) [[ $(gzip -dc "$2" 2>/dev/null | sed -n '1p') == *,* ]] ;;
	svg) grep -q '<svg' "$2" ;;
	md) grep -qi 'peak' "$2" ;;
	prom) grep -q '^bmtrace_tree_rss_peak_bytes' "$2" ;;
	rec) "$BMT" report "$2" -q --json - 2>/dev/null | jq -e '.peak.bytes > 0' >/dev/null ;;
	esac
}

# args_for DIR KIND...: bmtrace's options writing each KIND into DIR (-q without -o).
args_for() {
	local d=$1 k quiet=-q
	shift
	args=()
	for k; do
		args+=("${OPT[$k]}" "$d/${FILE[$k]}")
		[[ $k == summary ]] && quiet=
	done
	[[ -n $quiet ]] && args+=(-q)
	return 0
}

# planted NAME victim|dangling KIND...: a symlink at each output path, to a root-owned
# victim or to a path that does not exist; under sudo, bmtrace must replace each link with
# its report, leave the victims alone and create nothing at the dangling targets.
planted() {
	local name=$1 how=$2 d=$tmp/$1 k f v rc=0 why
	shift 2
	mkdir -m 1777 "$d"
	for k; do
		v=$tmp/victim.$name.$k
		echo "victim $k" >"$v"
		if [[ $how == victim ]]; then
			ln -s "$v" "$d/${FILE[$k]}"
		else
			ln -s "$tmp/never.$name.$k" "$d/${FILE[$k]}"
		fi
	done
	args_for "$d" "$@"
	"${SUDO[@]}" timeout 30 "$BMT" "${args[@]}" -- sh -c 'touch "$1"' sh "$d/ran" \
		>/dev/null 2>"$tmp/$name.err" || rc=$?
	[[ $rc == 0 && -e $d/ran ]] || bad "$name: exit $rc, COMMAND ran: $([[ -e $d/ran ]] &&
		echo yes || echo no); $(head -c 300 "$tmp/$name.err")"
	for k; do
		f=$d/${FILE[$k]} v=$tmp/victim.$name.$k why=""
		[[ $(content "$v") == "victim $k" && $(owner_of "$v") == 0:0 ]] ||
			why+=" the victim is now $(owner_of "$v"): '$(head -c 60 "$v" 2>/dev/null || true)';"
		[[ ! -e $tmp/never.$name.$k ]] || why+=" the dangling target was created;"
		[[ -f $f && ! -L $f ]] || why+=" $f is $(kind_of "$f");"
		valid "$k" "$f" || why+=" $f does not hold the report;"
		[[ $(owner_of "$f") == "$NOBODY:$NOBODY" ]] || why+=" $f is $(owner_of "$f")'s;"
		if [[ -z $why ]]; then
			ok "$name: ${OPT[$k]} ${FILE[$k]}: the link is replaced by the report, the\
 $how target untouched"
		else
			bad "$name: ${OPT[$k]} ${FILE[$k]}:$why"
		fi
	done
}

planted link-to-victim victim "${REPORTS1[@]}"
planted link-to-victim-gz victim "${REPORTS2[@]}"
planted dangling-link dangling "${REPORTS1[@]}"
planted dangling-link-gz dangling "${REPORTS2[@]}"

# Reports that cannot be written at the end (a full file system: a 64 KiB tmpfs, filled, in
# a private mount namespace) while their paths are links to victims: the victims must not be
# handed to the user.
d=$tmp/full
mkdir -m 1777 "$d"
for k in json summary; do
	echo "victim $k" >"$tmp/victim.full.$k"
done
rc=0
"${SUDO[@]}" timeout 30 unshare -m --propagation private sh -c '
	mount -t tmpfs -o size=64k,mode=1777 bmt-full "$1" || exit 99
	dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null
	ln -s "$2.json" "$1/r.json" && ln -s "$2.summary" "$1/summary.txt" || exit 99
	shift 2
	exec "$@"' sh "$d" "$tmp/victim.full" \
	"$BMT" --json "$d/r.json" -o "$d/summary.txt" -- sh -c 'touch "$1"' sh "$tmp/pub/ran.full" \
	>/dev/null 2>"$tmp/full.err" || rc=$?
why=""
for k in json summary; do
	[[ $(content "$tmp/victim.full.$k") == "victim $k" &&
		$(owner_of "$tmp/victim.full.$k") == 0:0 ]] ||
		why+=" the $k victim is now $(owner_of "$tmp/victim.full.$k")'s;"
done
if [[ $rc == 99 ]]; then
	say "SKIP: cannot mount a tmpfs in a private mount namespace: failing reports not tried"
elif [[ $rc == 125 && -e $tmp/pub/ran.full && -z $why &&
	$(grep -c 'cannot write' "$tmp/full.err") == 2 ]]; then
	ok "reports that cannot be written over links (a full disk): exit 125, COMMAND ran, the\
 victims stay root's"
else
	bad "reports failing over links: exit $rc;$why $(head -c 300 "$tmp/full.err")"
fi

# -w streams from the start: a link at its path is refused before COMMAND runs.
for how in victim dangling; do
	d=$tmp/rec-$how
	mkdir -m 1777 "$d"
	echo "victim rec" >"$tmp/victim.rec-$how"
	if [[ $how == victim ]]; then
		ln -s "$tmp/victim.rec-$how" "$d/rec.bmt"
	else
		ln -s "$tmp/never.rec-$how" "$d/rec.bmt"
	fi
	rc=0
	"${SUDO[@]}" timeout 30 "$BMT" -q -w "$d/rec.bmt" -- sh -c 'touch "$1"' sh "$d/ran" \
		>/dev/null 2>"$tmp/rec-$how.err" || rc=$?
	if [[ $rc == 125 && ! -e $d/ran && $(wc -l <"$tmp/rec-$how.err") == 1 && -L $d/rec.bmt &&
		$(content "$tmp/victim.rec-$how") == "victim rec" &&
		$(owner_of "$tmp/victim.rec-$how") == 0:0 && ! -e $tmp/never.rec-$how ]] &&
		grep -q 'cannot create it: it is a symbolic link' "$tmp/rec-$how.err"; then
		ok "-w over a link to a $how target: refused before COMMAND runs, exit 125:\
 $(content "$tmp/rec-$how.err")"
	else
		bad "-w over a link to a $how target: exit $rc, COMMAND ran: $([[ -e $d/ran ]] &&
			echo yes || echo no); $(head -c 300 "$tmp/rec-$how.err")"
	fi
done

# How files are created: strace of bmtrace itself (not COMMAND).
if command -v strace >/dev/null; then
	d=$tmp/st
	mkdir -m 1777 "$d"
	args_for "$d" "${REPORTS1[@]}" rec
	rc=0
	calls=open,openat,openat2,creat,rename,renameat,renameat2,chown,lchown,fchownat,fchown
	# A sanitizer build (make integration-san): LeakSanitizer cannot work under ptrace.
	[[ -n ${ASAN_OPTIONS:-} ]] && say "strace: LeakSanitizer off for this run (no ptrace)"
	"${SUDO[@]}" "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		timeout 60 strace -qq -o "$tmp/strace.log" -e trace="$calls" \
		"$BMT" "${args[@]}" -- true >/dev/null 2>"$tmp/st.err" || rc=$?
	creates=$(grep -E '^(open|openat|openat2|creat)\(.*O_CREAT' "$tmp/strace.log" |
		grep -F "\"$d/" || true)
	excl=$(grep -c 'O_EXCL|O_NOFOLLOW' <<<"$creates" || true)
	unsafe=$(grep -v 'O_NOFOLLOW' <<<"$creates" || true)
	rec_open=$(grep -F "\"$d/rec.bmt\"" <<<"$creates" || true)
	others=$(grep -vF "\"$d/rec.bmt\"" <<<"$creates" | grep -v 'O_EXCL|O_NOFOLLOW' || true)
	bypath=$(grep -E '^(chown|lchown|fchownat)\(' "$tmp/strace.log" || true)
	nfchown=$(grep -c '^fchown(' "$tmp/strace.log" || true)
	badrename=""
	while read -r src; do
		grep -qF "\"$src\", O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW" <<<"$creates" ||
			badrename+=" $src"
	done < <(grep -E '^rename' "$tmp/strace.log" | grep -oE "\"$d/[^\"]+\"" | awk 'NR % 2' |
		tr -d '"')
	nrename=$(grep -cE '^rename' "$tmp/strace.log" || true)
	# (each output is also probed before COMMAND starts: a temp file created and removed)
	if [[ $rc == 0 && $excl -ge ${#REPORTS1[@]} && -z $unsafe && -z $others && -n $rec_open &&
		-z $bypath && $nfchown == $((${#REPORTS1[@]} + 1)) && $nrename == "${#REPORTS1[@]}" &&
		-z $badrename ]]; then
		ok "strace: each report's temp file is created O_EXCL|O_NOFOLLOW (e.g.\
 $(grep -oE "\"$d/\.[^\"]+\"" <<<"$creates" | head -1 | sed "s#$d/##")) and renamed into\
 place, the recording opened O_NOFOLLOW, ownership set by fchown only ($nfchown)"
	else
		bad "strace: exit $rc, $excl O_EXCL|O_NOFOLLOW creates of ${#REPORTS1[@]}, without\
 O_NOFOLLOW: '$unsafe', others: '$others', recording: '$rec_open', by path: '$bypath',\
 fchown $nfchown, renames $nrename, renamed from elsewhere: '$badrename'"
	fi
else
	say "SKIP: no strace: how files are opened is not checked"
fi

# A directory the sudo user cannot write: sudo bmtrace writes there, for that user (README,
# "Behaviour as a wrapper": sudo bmtrace is root's power, given to users trusted with it).
d=$tmp/rootdir
mkdir -m 755 "$d"
rc=0
"${SUDO[@]}" timeout 30 "$BMT" -q --json "$d/r.json" -- true >/dev/null 2>&1 || rc=$?
if [[ $rc == 0 && $(owner_of "$d/r.json") == "$NOBODY:$NOBODY" ]]; then
	ok "a root-only directory: written for the sudo user, as README documents"
else
	bad "a root-only directory: exit $rc, $(owner_of "$d/r.json")"
fi

# --- 4. owners and modes --------------------------------------------------------------------

# owned NAME UMASK OWNER MODE "BMTRACE OPTIONS" PREFIX...: every output (and the recording,
# over a root-owned file an earlier run left, truncated in place) belongs to OWNER with MODE;
# nothing else is left in the directory. -p SLEEPER in the options: a fresh `sleep 1` each run.
owned() {
	local name=$1 um=$2 owner=$3 mode=$4 opts=$5 d=$tmp/own-$1 k rc=0 why="" want got kinds o
	shift 5
	mkdir -m 755 "$d"
	(umask "$um" && echo old >"$d/rec.bmt")
	for kinds in "${REPORTS1[*]} rec" "${REPORTS2[*]}"; do
		# shellcheck disable=SC2086 # kinds: words
		args_for "$d" $kinds
		o=$opts
		if [[ $o == *SLEEPER* ]]; then
			sleep 1 &
			pids+=($!)
			o=${o/SLEEPER/$!}
		fi
		# shellcheck disable=SC2086 # o: a few words
		(umask "$um" && exec timeout 30 "$@" "$BMT" "${args[@]}" $o) >/dev/null \
			2>>"$tmp/own-$name.err" || rc=$?
	done
	[[ $rc == 0 ]] || why+=" exit $rc: $(head -c 300 "$tmp/own-$name.err");"
	for k in "${REPORTS1[@]}" rec "${REPORTS2[@]}"; do
		got=$(stat -c '%u:%g %a' "$d/${FILE[$k]}" 2>&1 || true)
		[[ $got == "$owner $mode" ]] || why+=" ${FILE[$k]} $got;"
		valid "$k" "$d/${FILE[$k]}" || why+=" ${FILE[$k]} does not hold the report;"
	done
	want=$(for k in "${REPORTS1[@]}" rec "${REPORTS2[@]}"; do echo "${FILE[$k]}"; done | sort)
	got=$(ls -A "$d" | sort)
	[[ $got == "$want" ]] || why+=" left in the directory: $(comm -13 <(echo "$want") \
		<(echo "$got") | tr '\n' ' ');"
	if [[ -z $why ]]; then
		ok "$name: all ${#OPT[@]} outputs are $owner, mode $mode (umask $um), no temp file left"
	else
		bad "$name:$why"
	fi
}

owned sudo 022 "$NOBODY:$NOBODY" 644 "-- true" "${SUDO[@]}"
owned sudo-umask-077 077 "$NOBODY:$NOBODY" 600 "-- true" "${SUDO[@]}"
owned root 022 0:0 644 "-- true" env
owned u-nobody 022 "$NOBODY:$(id -g nobody)" 644 "-u nobody -- true" env
owned p-under-sudo 022 "$NOBODY:$NOBODY" 644 "-p SLEEPER" "${SUDO[@]}"

# --- 5. serve --user nobody -----------------------------------------------------------------

if command -v curl >/dev/null && grep -q serve <<<"$("$BMT" --help 2>&1 || true)"; then
	port=$(free_port)
	timeout 60 "$BMT" serve --listen "127.0.0.1:$port" --root bmt-priv-none --user nobody \
		>/dev/null 2>"$tmp/serve.err" &
	tpid=$!
	pids+=("$tpid")
	spid=""
	dropped_serve=""
	for _ in $(seq 1 100); do
		spid=$(awk '{ print $1 }' "/proc/$tpid/task/$tpid/children" 2>/dev/null || true)
		if [[ -n $spid && $(field "/proc/$spid/status" Uid 2>/dev/null) == \
			"$NOBODY $NOBODY $NOBODY $NOBODY" ]]; then
			dropped_serve=1
			break
		fi
		sleep 0.1
	done
	why=""
	if [[ -z $dropped_serve ]]; then
		why+=" never became nobody: $(head -c 300 "$tmp/serve.err");"
	else
		# The main thread keeps CAP_BPF alone; the HTTP server's thread has nothing left.
		nthreads=0
		for st in /proc/"$spid"/task/*/status; do
			cp "$st" "$tmp/serve.status" 2>/dev/null || continue
			nthreads=$((nthreads + 1))
			for c in Uid Gid; do
				[[ $(field "$tmp/serve.status" $c) == "$NOBODY $NOBODY $NOBODY $NOBODY" ]] ||
					why+=" ${st#/proc/} $c $(field "$tmp/serve.status" $c);"
			done
			want=0000008000000000
			[[ $st == /proc/$spid/task/$spid/status ]] || want='(0000008000000000|0+)'
			for c in CapPrm CapEff; do
				[[ $(field "$tmp/serve.status" $c) =~ ^$want$ ]] ||
					why+=" ${st#/proc/} $c $(field "$tmp/serve.status" $c);"
			done
			for c in CapInh CapAmb; do
				[[ $(field "$tmp/serve.status" $c) =~ ^0+$ ]] ||
					why+=" ${st#/proc/} $c $(field "$tmp/serve.status" $c);"
			done
		done
	fi
	code=$(curl -s -o "$tmp/serve.prom" -w '%{http_code}' --max-time 5 \
		"http://127.0.0.1:$port/metrics" || true)
	[[ $code == 200 ]] && grep -q '^bmtrace_' "$tmp/serve.prom" || why+=" /metrics: $code;"
	if [[ -z $why ]]; then
		ok "serve --user nobody: its $nthreads threads are nobody, the main one with CAP_BPF\
 alone (permitted and effective), the others with nothing, none inheritable or ambient;\
 /metrics still answers"
	else
		bad "serve --user nobody:$why"
	fi
	[[ -n $spid ]] && kill "$spid" 2>/dev/null || true
else
	say "SKIP: no curl or no serve: serve --user is not checked"
fi

echo "privilege_e2e: $passed passed, $failed failed"
((failed == 0))
