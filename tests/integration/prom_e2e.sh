#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# prom_e2e - Prometheus export end to end, on loopback only (GitHub issue 5):
#   1. a real Prometheus (Debian's `prometheus`), started here with a 1 s scrape interval,
#      scrapes `bmtrace --listen` while it traces a page-fault storm; 50 concurrent scrapes
#      and junk requests meanwhile are all answered; `promtool check metrics` passes on the
#      live page; after the run (--linger), Prometheus's HTTP API gives
#      max_over_time(bmtrace_tree_rss_peak_bytes) == the JSON result's peak.bytes;
#   2. the --prometheus textfile passes promtool and holds the same peak;
#   3. a real Pushgateway receives --pushgateway URL --job NAME; read back, promtool, peak,
#      bmtrace_last_success_timestamp_seconds.
#
# Enabled by the CLI: until `bmtrace --help` names --listen, it prints "SKIP: ..." and exits
# 0; parts 2 and 3 skip the same way without --prometheus or --pushgateway/--job.
# Needs root with BTF (tracing), prometheus, promtool, prometheus-pushgateway, curl, jq
# (make deps). Every process it starts is bounded by `timeout` and killed by pid at exit.
#
#   BMTRACE=./bmtrace WORKLOADS=build/workloads bash tests/integration/prom_e2e.sh
set -euo pipefail
SCRIPT=prom_e2e
. "$(dirname "$0")/lib.sh"

BMTRACE=${BMTRACE:-./bmtrace}
WORKLOADS=${WORKLOADS:-build/workloads}
LINGER_S=4         # >= 3 scrape intervals: Prometheus sees the final values
STORM=(512 24)     # faultstorm MiB ROUNDS: a few seconds of rss_stat events
pids=()


cleanup() {
	stop_pids
	if [[ -n ${tmp:-} ]]; then
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

help=$("$BMTRACE" --help 2>&1 || true)
has() { grep -q -e "$1" <<<"$help"; }
has --listen || skip "bmtrace has no --listen yet"
has --linger || skip "bmtrace has no --linger yet"
[[ $(id -u) == 0 && -r /sys/kernel/btf/vmlinux ]] || skip "tracing needs root and BTF"
for t in prometheus promtool curl jq; do
	command -v "$t" >/dev/null || skip "$t is not installed (make deps)"
done
[[ -x $WORKLOADS/faultstorm ]] || skip "no $WORKLOADS/faultstorm (make integration builds it)"

tmp=$(mktemp -d /tmp/bmt-prom-e2e-XXXXXX)

# Wait up to $2 seconds for URL $1 to answer 200.
wait_ready() {
	local i
	for i in $(seq 1 $(($2 * 10))); do
		[[ $(curl -s -o /dev/null -w '%{http_code}' "$1" || true) == 200 ]] && return 0
		sleep 0.1
	done
	return 1
}

# promtool check metrics on file $1; says why on failure.
promtool_ok() {
	local out
	if out=$(promtool check metrics <"$1" 2>&1) && [[ -z $out ]]; then
		return 0
	fi
	say "promtool check metrics on $1: $out"
	return 1
}

# Are the numbers $1 and $2 (any float notation) equal?

bport=$(free_port)
pport=$(free_port)
gport=$(free_port)

# Prometheus: one job, scraping bmtrace every second.
cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: bmtrace
    static_configs:
      - targets: ['127.0.0.1:$bport']
EOF
timeout 300 prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
	--web.listen-address="127.0.0.1:$pport" >"$tmp/prometheus.log" 2>&1 &
pids+=($!)
wait_ready "http://127.0.0.1:$pport/-/ready" 30 || {
	tail -5 "$tmp/prometheus.log"
	skip "prometheus did not start"
}

args=(--listen "127.0.0.1:$bport" --linger "$LINGER_S" --json "$tmp/run.json")
textfile=0
push=0
if has --prometheus; then
	args+=(--prometheus "$tmp/bmtrace.prom")
	textfile=1
fi
if has --pushgateway && has --job && command -v prometheus-pushgateway >/dev/null; then
	timeout 300 prometheus-pushgateway --web.listen-address="127.0.0.1:$gport" \
		--persistence.file= >"$tmp/pushgateway.log" 2>&1 &
	pids+=($!)
	wait_ready "http://127.0.0.1:$gport/-/ready" 30 ||
		skip "prometheus-pushgateway did not start"
	args+=(--pushgateway "http://127.0.0.1:$gport" --job e2e)
	push=1
fi

# The traced run, in the background.
timeout 120 "$BMTRACE" "${args[@]}" -- "$WORKLOADS/faultstorm" "${STORM[@]}" \
	>"$tmp/bmtrace.out" 2>"$tmp/bmtrace.err" &
bmt=$!
pids+=("$bmt")
url="http://127.0.0.1:$bport/metrics"

if wait_ready "$url" 30; then
	ok "the endpoint answers during the run"
else
	bad "the endpoint never answered"
fi

# 50 concurrent scrapes, then junk and a slow partial request, while the storm runs.
urls=()
for i in $(seq 1 50); do
	urls+=(-o "$tmp/scrape.$i" "$url")
done
codes=$(curl -s --no-progress-meter --parallel --parallel-max 50 --max-time 20 \
	-w '%{http_code}\n' "${urls[@]}" 2>/dev/null || true)
n200=$(grep -c '^200$' <<<"$codes" || true)
running=$(kill -0 "$bmt" 2>/dev/null && echo yes || echo no)
if [[ $n200 == 50 ]]; then
	ok "50 concurrent scrapes all answered (storm still running: $running)"
else
	bad "50 concurrent scrapes: $n200 answered 200"
fi
if promtool_ok "$tmp/scrape.1"; then
	ok "promtool check metrics passes on the live endpoint"
else
	bad "promtool check metrics on the live endpoint"
fi
{
	exec 3<>"/dev/tcp/127.0.0.1/$bport"
	printf '\x16\x03\x01garbage\r\n\r\n' >&3
	exec 3>&-
	exec 4<>"/dev/tcp/127.0.0.1/$bport"
	printf 'GET /metrics HTTP/1.1\r\nHost: x\r\n' >&4 # never finished
} 2>/dev/null || true
code=$(curl -s -o /dev/null --max-time 5 -w '%{http_code}' "$url" || true)
exec 4>&- 2>/dev/null || true
post=$(curl -s -o /dev/null --max-time 5 -w '%{http_code}' -X POST "$url" || true)
if [[ $code == 200 && $post == 405 ]]; then
	ok "junk and a slow request do not stop it; POST is 405"
else
	bad "after junk: GET $code, POST $post"
fi

status=0
wait "$bmt" || status=$?
if [[ $status == 0 ]]; then
	ok "bmtrace exited 0"
else
	bad "bmtrace exited $status: $(tail -3 "$tmp/bmtrace.err")"
fi
peak=$(jq -r '.peak.bytes' "$tmp/run.json" 2>/dev/null || true)

# What Prometheus scraped: the last scrapes (during --linger) carry the final peak.
q='max_over_time(bmtrace_tree_rss_peak_bytes{job="bmtrace"}[10m])'
got=$(curl -s --max-time 10 --data-urlencode "query=$q" \
	"http://127.0.0.1:$pport/api/v1/query" | jq -r '.data.result[0].value[1]' || true)
if same "$got" "$peak"; then
	ok "Prometheus scraped bmtrace_tree_rss_peak_bytes $got == JSON peak.bytes"
else
	bad "Prometheus has bmtrace_tree_rss_peak_bytes '$got', the JSON peak.bytes '$peak'"
fi

if ((textfile)); then
	v=$(awk '$1 == "bmtrace_tree_rss_peak_bytes" { print $2 }' "$tmp/bmtrace.prom" \
		2>/dev/null || true)
	if promtool_ok "$tmp/bmtrace.prom" && same "$v" "$peak"; then
		ok "the textfile passes promtool, peak $v"
	else
		bad "the textfile: peak '$v', JSON '$peak'"
	fi
else
	say "SKIP: bmtrace has no --prometheus yet"
fi

if ((push)); then
	curl -s --max-time 10 "http://127.0.0.1:$gport/metrics" |
		grep -E '^(# (HELP|TYPE) )?bmtrace_' >"$tmp/pushed.prom" || true
	v=$(grep -E '^bmtrace_tree_rss_peak_bytes\{.*job="e2e"' "$tmp/pushed.prom" |
		awk '{ print $NF }' || true)
	if promtool_ok "$tmp/pushed.prom" && same "$v" "$peak" &&
		grep -q '^bmtrace_last_success_timestamp_seconds{.*job="e2e"' \
			"$tmp/pushed.prom"; then
		ok "the Pushgateway holds the pushed metrics (promtool passes), peak $v"
	else
		bad "the Pushgateway: peak '$v', JSON '$peak'"
	fi
else
	say "SKIP: bmtrace has no --pushgateway/--job yet"
fi

echo "prom_e2e: $passed passed, $failed failed"
((failed == 0))
