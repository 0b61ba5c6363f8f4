#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# hostile_e2e - hostile names and arguments end to end (GitHub issue 6, item 2). A real tree
# is traced: copies of memhog named `a"b<svg onload=x>`, with a newline, an ESC sequence,
# invalid UTF-8, backslashes, `|`, a comma, `]]>`, `-->`, `{{`, a code span..., all alive
# and holding memory at the peak, with argv of quotes, commas, newlines, `|`, `<script>`,
# OSC and invalid UTF-8, one of them 100 KiB long; the traced command itself is a copy of
# bash with a hostile name (the default stage) and `</title>` in its arguments; three
# --stage rules have hostile names. One run writes every report, and replaying its
# recording must give the same bytes. Then, each parsed by the tool that will read it
# (hostile_check.py says what each format must show):
#   - JSON: jq parses it; comm, stage and argv of every process are the exact bytes run
#     (U+FFFD for each byte of invalid UTF-8); the 100 KiB argument is whole in "command",
#     and an exec's argv is cut at its first 8 KiB (README, "Reports");
#   - CSV: every row has the header's number of fields (RFC 4180), the header names the
#     hostile stages, it is UTF-8 without a raw control;
#   - SVG: xmllint; one <svg>, no on* attribute, no <script>; the title, the peak label and
#     the legend show the names as text that reads back to the exact bytes;
#   - Markdown: every table row is one line with its header's number of cells, no raw `<`
#     or `&` outside code spans, no ESC; GitHub's renderer (cmark-gfm) makes no element but
#     the tables' and shows each name as run;
#   - Prometheus: promtool check metrics on the textfile and on /metrics (--listen) at the
#     peak and after the end (--linger); the label values unescape to the names run;
#   - the summary (-o): one line per row, no raw ESC or other control, names read back.
#
# Needs root with BTF (tracing), python3, jq, xmllint, promtool and curl (make test-deps);
# cmark-gfm for the rendered-Markdown check. Prints "SKIP: ..." without them. HOSTILE_KEEP=1
# keeps the temporary directory (the reports, the spec) for a look.
#
#   BMTRACE=./bmtrace WORKLOADS=build/workloads bash tests/integration/hostile_e2e.sh
set -euo pipefail
SCRIPT=hostile_e2e
. "$(dirname "$0")/lib.sh"

BMTRACE=${BMTRACE:-./bmtrace}
WORKLOADS=${WORKLOADS:-build/workloads}
CHECK=$(dirname "$0")/hostile_check.py
LINGER_S=3
pids=()

cleanup() {
	stop_pids
	if [[ -n ${tmp:-} && -n ${HOSTILE_KEEP:-} ]]; then
		say "HOSTILE_KEEP: the files are in $tmp"
	elif [[ -n ${tmp:-} ]]; then
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

[[ $(id -u) == 0 && -r /sys/kernel/btf/vmlinux ]] || skip "tracing needs root and BTF"
for t in python3 jq xmllint promtool curl; do
	command -v "$t" >/dev/null || skip "$t is not installed (make test-deps)"
done
[[ -x $WORKLOADS/memhog ]] || skip "no $WORKLOADS/memhog (make integration builds it)"
[[ -x $BMTRACE ]] || skip "no $BMTRACE (make)"
BMTRACE=$(realpath "$BMTRACE") # it runs from the temporary directory

# The hostile processes: the name each copy of memhog is run under (no '/', which no file
# name holds: `</title>` goes in argv), largest first so every report shows the first.
names=(
	'a"b<svg onload=x>'
	$'new\nline'
	$'\e[31mred'
	$'\xff\xfe'
	'back\slash'
	'back\nslash' # a backslash and an n, not a newline
	'pipe|name'
	'comma,name'
	'`|`'
	']]>'
	'-->'
	'{{x}}'
	'&amp;<!--'
	$'tab\there'
)
# Stage rules with hostile names ('=' ends a name); process N's argv holds mark-sK.
stages=('x<y>"z"' $'c,o|m\nma</title>' $'e\e[1m\xff\\]]>')
stage_of=(1 2 0 3 0 0 0 0 0 0 0 0 0 0) # 0: the default stage, named after ROOT
# Arguments every hostile process gets after "hold MIB mark-sK".
hargs=(
	'q"u"o,t|e'
	'<script>alert(1)</script>'
	$'line\nbreak\r\n'
	'a,b;c|d'
	$'\xff\xfe\xc3('
	$'\e]0;pwned\a'
	'\'
	''
	"it's"
)
BIG_AT=4 # the process that gets the 100 KiB argument too
ROOT=$'r"<b>,|\\' # a copy of bash: the traced command, and the default stage's name

tmp=$(mktemp -d /tmp/bmt-hostile-e2e-XXXXXX)
chmod 755 "$tmp" # under sudo, COMMAND runs as the invoking user
mkdir -m 755 "$tmp/bin" "$tmp/spec" "$tmp/out" "$tmp/replay"
mkdir -m 1777 "$tmp/sync"
mkfifo -m 666 "$tmp/sync/fifo"
big=$(head -c 102400 /dev/zero | tr '\0' 'B')
cp "$(command -v bash)" "$tmp/bin/$ROOT"

# spec/: what runs, byte for byte, for hostile_check.py (NUL-terminated strings).
put() {
	local f=$1
	shift
	printf '%s\0' "$@" >"$tmp/spec/$f"
}
all_stages=("${stages[@]}" "$ROOT")
put stages "${all_stages[@]}"
for i in "${!names[@]}"; do
	cp "$WORKLOADS/memhog" "$tmp/bin/${names[$i]}"
	argv=("${names[$i]}" hold $((16 - i)) "mark-s${stage_of[$i]}" "${hargs[@]}")
	if ((i == BIG_AT)); then
		argv+=("$big")
	fi
	put "$i.name" "${names[$i]}"
	put "$i.stage" "${all_stages[$((stage_of[i] ? stage_of[i] - 1 : 3))]}"
	put "$i.argv" "${argv[@]}"
done
# Run from $tmp, found in PATH: short argv[0] and paths, so the reports show the arguments.
root_argv=("$ROOT" run.sh . '</title><script>alert(1)</script>' ']]>' '-->' "$big")
put root.argv "${root_argv[@]}"

# The traced tree: every hostile process at once, each holding its memory until released
# (memhog's oracle: it writes its pid to BMT_PEAK_PIDS, then waits on BMT_PEAK_FIFO).
{
	echo 'd=$1'
	echo 'export BMT_PEAK_FIFO=$d/sync/fifo'
	declare -p names hargs stage_of BIG_AT
	echo 'big=${!#}'
	cat <<'EOF'
for i in "${!names[@]}"; do
	more=()
	((i == BIG_AT)) && more=("$big")
	(BMT_PEAK_PIDS=$d/sync/pids.$i exec -a "${names[$i]}" "$d/bin/${names[$i]}" \
		hold $((16 - i)) "mark-s${stage_of[$i]}" "${hargs[@]}" "${more[@]}") &
done
wait
EOF
} >"$tmp/run.sh"

port=$(free_port)
url="http://127.0.0.1:$port/metrics"
rules=()
for k in "${!stages[@]}"; do
	rules+=(--stage "${stages[$k]}=mark-s$((k + 1))")
done
out=$tmp/out
reports() { # DIR: every report into DIR
	echo --json "$1/run.json" --timeline "$1/run.csv" --svg "$1/run.svg" \
		--markdown "$1/run.md" --prometheus "$1/run.prom" -o "$1/run.txt"
}
start=$SECONDS
# shellcheck disable=SC2046 # reports' words are paths without spaces
env -C "$tmp" PATH="$tmp/bin:$PATH" timeout 60 "$BMTRACE" $(reports "$out") \
	-w "$out/run.bmt" "${rules[@]}" --budget 1G --listen "127.0.0.1:$port" \
	--linger "$LINGER_S" -- "${root_argv[@]}" >"$tmp/bmtrace.out" 2>"$tmp/bmtrace.err" &
bmt=$!
pids+=("$bmt")

# All at the peak: scrape /metrics, then release them.
n=${#names[@]}
for _ in $(seq 1 300); do
	have=$(find "$tmp/sync" -name 'pids.*' ! -name '*.tmp.*' | wc -l)
	((have == n)) && break
	kill -0 "$bmt" 2>/dev/null || break
	sleep 0.1
done
if ((have == n)); then
	ok "all $n hostile processes hold their memory at once"
else
	bad "$have of $n hostile processes reached the peak: $(tail -3 "$tmp/bmtrace.err")"
fi
for i in "${!names[@]}"; do
	if [[ -f $tmp/sync/pids.$i ]]; then
		cp "$tmp/sync/pids.$i" "$tmp/spec/$i.pid"
	fi
done
sleep 0.3 # /metrics is at most 100 ms old
curl -s --max-time 5 "$url" >"$out/peak.prom" || true
for _ in $(seq 1 50); do
	exec 3<>"$tmp/sync/fifo" # a writer: the holders' open() returns, their read() sees EOF
	sleep 0.1
	exec 3>&-
	alive=0
	for i in "${!names[@]}"; do
		p=$(head -1 "$tmp/spec/$i.pid" 2>/dev/null || true)
		if [[ -n $p ]] && kill -0 "$p" 2>/dev/null; then
			alive=1
		fi
	done
	((alive)) || break
done
for _ in $(seq 1 100); do # the reports are written, then the final values served
	[[ -f $out/run.prom ]] && break
	kill -0 "$bmt" 2>/dev/null || break
	sleep 0.1
done
sleep 0.2
curl -s --max-time 5 "$url" >"$out/final.prom" || true
status=0
wait "$bmt" || status=$?
if [[ $status == 0 ]]; then
	ok "bmtrace exited 0 ($((SECONDS - start)) s with --linger $LINGER_S)"
else
	bad "bmtrace exited $status: $(tail -3 "$tmp/bmtrace.err")"
fi

# shellcheck disable=SC2046
if "$BMTRACE" report "$out/run.bmt" $(reports "$tmp/replay") "${rules[@]}" --budget 1G \
	2>"$tmp/report.err"; then
	same_files=()
	for f in run.json run.csv run.svg run.md run.prom run.txt; do
		if cmp -s "$out/$f" "$tmp/replay/$f"; then
			same_files+=("$f")
		fi
	done
	if ((${#same_files[@]} == 6)); then
		ok "bmtrace report of the recording gives the same bytes (${same_files[*]})"
	else
		bad "the replay differs: only ${same_files[*]} are the same"
	fi
else
	bad "bmtrace report failed: $(tail -3 "$tmp/report.err")"
fi

# check KIND FILE [ARG...]: hostile_check.py's verdict as an ok or bad line.
check() {
	local kind=$1 file=$2 msg
	shift 2
	if msg=$(python3 "$CHECK" "$kind" "$tmp/spec" "$file" "$@" 2>&1); then
		ok "$kind: $msg"
	else
		bad "$kind ($file): $msg"
	fi
}

# JSON
if jq empty "$out/run.json" 2>/dev/null; then
	ok "json: jq parses it"
else
	bad "json: jq cannot parse $out/run.json"
fi
check json "$out/run.json"

# CSV
check csv "$out/run.csv" "$out/run.json"

# SVG
if xmllint --noout "$out/run.svg" 2>"$tmp/xmllint.err"; then
	ok "svg: xmllint parses it"
else
	bad "svg: xmllint: $(head -3 "$tmp/xmllint.err")"
fi
xcount() {
	xmllint --xpath "$1" "$out/run.svg" 2>/dev/null || echo "?"
}
svgs=$(xcount 'count(//*[local-name()="svg"])')
ons=$(xcount 'count(//@*[starts-with(local-name(),"on")])')
scripts=$(xcount 'count(//*[local-name()="script" or local-name()="foreignObject"])')
titles=$(xcount 'count(//*[local-name()="title"])')
if [[ $svgs == 1 && $ons == 0 && $scripts == 0 && $titles == 1 ]]; then
	ok "svg: one <svg>, one <title>, no on* attribute, no <script>"
else
	bad "svg: $svgs <svg>, $titles <title>, $ons on* attributes, $scripts <script>"
fi
check svg "$out/run.svg" "$out/run.json"

# Markdown
check md "$out/run.md" "$out/run.json"
if command -v cmark-gfm >/dev/null; then
	cmark-gfm --unsafe -e table "$out/run.md" >"$tmp/run.html"
	check html "$tmp/run.html" "$out/run.json"
else
	say "SKIP: cmark-gfm is not installed (make test-deps): the Markdown is not rendered"
fi

# Prometheus
for f in run.prom peak.prom final.prom; do
	if msg=$(promtool check metrics <"$out/$f" 2>&1) && [[ -z $msg && -s $out/$f ]]; then
		ok "prom: promtool check metrics passes on $f"
	else
		bad "prom: promtool check metrics on $f: ${msg:-empty}"
	fi
done
check prom "$out/run.prom"
check prom "$out/peak.prom" "${names[0]}"
check prom "$out/final.prom"

# The summary
check text "$out/run.txt" "$out/run.json"
for f in run.txt run.md; do
	if LC_ALL=C grep -q $'\e' "$out/$f"; then
		bad "no ESC byte in $f: there is one"
	else
		ok "no ESC byte in $f"
	fi
done

say "$((SECONDS - start)) s"
echo "hostile_e2e: $passed passed, $failed failed"
((failed == 0))
