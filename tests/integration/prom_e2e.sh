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
#      bmtrace_last_success_timestamp_seconds;
#   4. issue 14: a real node_exporter (Debian's prometheus-node-exporter) reads two runs'
#      textfiles from one --collector.textfile.directory with no scrape error, both peaks
#      there (run="a", run="b"), their final metrics (anon peak, duration, exit code) too,
#      no series that only says 0; --label on every series;
#   5. issue 14: the Pushgateway holds two instances of one job (--instance, and the host
#      name by default), each with its own peak and its own last success;
#   6. issue 14: every query of the Grafana dashboard (user/grafana/bmtrace.json) evaluates
#      in the real Prometheus of part 1, and its peak panel gives the run's peak;
# and every page (live, --linger's final page, textfiles, pushed, node_exporter's) passes
# `promtool check metrics`.
#
# Enabled by the CLI: until `bmtrace --help` names --listen, it prints "SKIP: ..." and exits
# 0; parts 2 and 3 skip the same way without --prometheus or --pushgateway/--job.
# Needs root with BTF (tracing), prometheus, promtool, prometheus-pushgateway,
# prometheus-node-exporter, curl, jq (make deps). Every process it starts is bounded by `timeout` and killed by pid at exit.
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

args=(--listen "127.0.0.1:$bport" --linger "$LINGER_S" --json "$tmp/run.json" --label e2e=live)
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
if promtool_ok "$tmp/scrape.1" && grep -q '^bmtrace_tree_rss_bytes{e2e="live"} ' "$tmp/scrape.1" &&
	! grep -v '^#' "$tmp/scrape.1" | grep -qv 'e2e="live"'; then
	ok "promtool check metrics passes on the live endpoint; --label e2e=live on every series"
else
	bad "promtool check metrics, or --label e2e=live, on the live endpoint:\
 $(grep -v '^#' "$tmp/scrape.1" | grep -v 'e2e="live"' | head -2)"
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

# --linger: the final page (the run is over), scraped once bmtrace says it is lingering.
for _ in $(seq 1 300); do
	grep -q 'bmtrace_duration_seconds' "$tmp/final.prom" 2>/dev/null && break
	curl -s --max-time 2 -o "$tmp/final.prom" "$url" 2>/dev/null || true
	sleep 0.1
done
if promtool_ok "$tmp/final.prom" && grep -q '^bmtrace_exit_code{e2e="live"} 0$' "$tmp/final.prom" &&
	! grep -q '^bmtrace_processes{' "$tmp/final.prom"; then
	ok "--linger serves the final page: exit code 0, duration, no zero-only series; promtool"
else
	bad "--linger's final page: $(grep -v '^#' "$tmp/final.prom" 2>/dev/null | head -3)"
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
	v=$(awk '$1 == "bmtrace_tree_rss_peak_bytes{e2e=\"live\",run=\"bmtrace\"}" { print $2 }' \
		"$tmp/bmtrace.prom" 2>/dev/null || true)
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

# --- 4. node_exporter reads two runs' textfiles from one directory --------------------------
# Family lines (HELP, TYPE, samples) named bmtrace_* of page $1.
bmtrace_lines() { grep -E '^(# (HELP|TYPE) )?bmtrace_' "$1" || true; }

part_textfiles() {
	local dir=$tmp/textfiles nport page=$tmp/node.prom run pa pb va vb
	mkdir "$dir"
	if ! command -v prometheus-node-exporter >/dev/null; then
		say "SKIP: prometheus-node-exporter is not installed (make deps): textfiles not tried"
		return 0
	fi
	[[ -x $WORKLOADS/memhog ]] || { bad "no $WORKLOADS/memhog"; return 1; }
	for run in a:40 b:80; do
		timeout 60 "$BMTRACE" -q --label team=core --prometheus "$dir/${run%%:*}.prom" \
			--json "$tmp/${run%%:*}.json" -- "$WORKLOADS/memhog" hold "${run#*:}" ||
			bad "run ${run%%:*}: bmtrace exited $?"
	done
	pa=$(jq -r .peak.bytes "$tmp/a.json") pb=$(jq -r .peak.bytes "$tmp/b.json")
	nport=$(free_port)
	timeout 120 prometheus-node-exporter --collector.disable-defaults --collector.textfile \
		--collector.textfile.directory="$dir" --web.listen-address="127.0.0.1:$nport" \
		>"$tmp/node.log" 2>&1 &
	pids+=($!)
	wait_ready "http://127.0.0.1:$nport/metrics" 30 || { bad "node_exporter did not start:\
 $(tail -3 "$tmp/node.log")"; return 1; }
	curl -s --max-time 10 -o "$page" "http://127.0.0.1:$nport/metrics"
	bmtrace_lines "$page" >"$tmp/node-bmtrace.prom"
	say "node_exporter's /metrics, the bmtrace_ samples of two runs side by side:"
	grep -v '^#' "$tmp/node-bmtrace.prom" | sed "s/^/$SCRIPT:   /"
	if grep -q '^node_textfile_scrape_error 0$' "$page" &&
		! grep -q 'collected before' "$tmp/node.log"; then
		ok "node_exporter: node_textfile_scrape_error 0, nothing 'collected before' in its log"
	else
		bad "node_exporter: $(grep '^node_textfile_scrape_error' "$page"), log:\
 $(grep -m1 'level=error' "$tmp/node.log")"
	fi
	va=$(awk '$1 == "bmtrace_tree_rss_peak_bytes{run=\"a\",team=\"core\"}" { print $2 }' "$page")
	vb=$(awk '$1 == "bmtrace_tree_rss_peak_bytes{run=\"b\",team=\"core\"}" { print $2 }' "$page")
	if same "$va" "$pa" && same "$vb" "$pb" && [[ $pa != "$pb" ]]; then
		ok "node_exporter has both peaks: run=\"a\" $va, run=\"b\" $vb (= their JSON peaks)"
	else
		bad "node_exporter: peaks a '$va' (JSON $pa), b '$vb' (JSON $pb)"
	fi
	for run in a b; do
		if [[ -n $(grep -E "^bmtrace_(tree_anon_peak_bytes|duration_seconds|exit_code)\{run=\"$run\"" \
			"$page" | wc -l | grep -x 3) ]] &&
			grep -q "^bmtrace_exit_code{run=\"$run\",team=\"core\"} 0$" "$page" &&
			! grep -qE "^bmtrace_(tree_rss_bytes|processes|command_rss_bytes)\{run=\"$run\"" "$page"
		then
			ok "run $run: anon peak, duration, exit code 0; no now-gauge that only says 0"
		else
			bad "run $run's final metrics: $(grep -c "run=\"$run\"" "$page") series"
		fi
	done
	if promtool_ok "$tmp/node-bmtrace.prom" && promtool_ok "$dir/a.prom" &&
		promtool_ok "$dir/b.prom"; then
		ok "promtool check metrics passes on both textfiles and on node_exporter's page"
	else
		bad "promtool check metrics on the textfiles or node_exporter's page"
	fi
}

# --- 5. a Pushgateway holds two instances of one job -----------------------------------------
part_instances() {
	local page=$tmp/instances.prom host pa va vh la lb lb0
	((push)) || { say "SKIP: no Pushgateway: instances not tried"; return 0; }
	host=$(hostname)
	push_run() { # INSTANCE-ARGS... -- MEMHOG-ARGS...: a run pushed to job e2e-two
		local a=() s=0
		while [[ $1 != -- ]]; do a+=("$1"); shift; done
		shift
		timeout 60 "$BMTRACE" -q --pushgateway "http://127.0.0.1:$gport" --job e2e-two \
			"${a[@]}" -- "$WORKLOADS/memhog" "$@" >/dev/null 2>>"$tmp/push.err" || s=$?
		echo "$s"
	}
	[[ $(push_run --instance runner-a --json "$tmp/ia.json" -- hold 30) == 0 ]] ||
		bad "the push of runner-a failed"
	[[ $(push_run --instance runner-b -- hold 60) == 0 ]] ||
		bad "the push of runner-b failed"
	lb0=$(curl -s --max-time 10 "http://127.0.0.1:$gport/metrics" |
		grep '^bmtrace_last_success_timestamp_seconds{instance="runner-b",job="e2e-two"}' |
		awk '{ print $NF }')
	sleep 1.1 # runner-b's next run fails a second later: its last success must stay
	[[ $(push_run --instance runner-b -- exit 3) == 3 ]] || bad "runner-b's failing run"
	[[ $(push_run -- hold 20) == 0 ]] || bad "the push with the host name failed"
	pa=$(jq -r .peak.bytes "$tmp/ia.json")
	curl -s --max-time 10 "http://127.0.0.1:$gport/metrics" >"$page.all"
	bmtrace_lines "$page.all" >"$page"
	say "the Pushgateway's bmtrace_tree_rss_peak_bytes and last successes of job e2e-two:"
	grep -E '^bmtrace_(tree_rss_peak_bytes|last_success_timestamp_seconds|exit_code)\{.*job="e2e-two"' \
		"$page" | sed "s/^/$SCRIPT:   /"
	pick() { grep -E "^$1\{" "$page" | grep "instance=\"$2\"" | grep 'job="e2e-two"' |
		awk '{ print $NF }'; }
	va=$(pick bmtrace_tree_rss_peak_bytes runner-a)
	vh=$(pick bmtrace_tree_rss_peak_bytes "$host")
	la=$(pick bmtrace_last_success_timestamp_seconds runner-a)
	lb=$(pick bmtrace_last_success_timestamp_seconds runner-b)
	if same "$va" "$pa" && [[ -n $vh && -n $(pick bmtrace_tree_rss_peak_bytes runner-b) ]]; then
		ok "one job, three instances kept: runner-a peak $va (= JSON), runner-b, $host (default)"
	else
		bad "instances of job e2e-two: runner-a '$va' (JSON $pa), $host '$vh'"
	fi
	if same "$(pick bmtrace_exit_code runner-b)" 3 && [[ -n $la ]] && same "$lb" "$lb0" &&
		awk -v a="$la" -v b="$lb" 'BEGIN { exit !(b > a) }'; then
		ok "runner-b's failed run: exit code 3 there, its own last success ($lb) kept, runner-a's ($la) too"
	else
		bad "last successes: runner-a '$la', runner-b '$lb' (before its failed run: '$lb0'),\
 runner-b exit code '$(pick bmtrace_exit_code runner-b)'"
	fi
	if promtool_ok "$page"; then
		ok "promtool check metrics passes on the Pushgateway's bmtrace_ families"
	else
		bad "promtool check metrics on the pushed families"
	fi
}

# --- 6. the Grafana dashboard's queries, in a real Prometheus ----------------------------------
part_dashboard() {
	local dash=${DASHBOARD:-$(dirname "$0")/../../user/grafana/bmtrace.json} n=0 errs="" expr st got
	[[ -r $dash ]] || { bad "no $dash"; return 1; }
	# Grafana's macros and the dashboard's variable, as Grafana would expand them here
	while IFS= read -r expr; do
		expr=${expr//\$\{group\}/job}
		expr=${expr//\$__rate_interval/10m}
		expr=${expr//\$__range/10m}
		st=$(curl -s --max-time 10 --data-urlencode "query=$expr" \
			"http://127.0.0.1:$pport/api/v1/query" | jq -r '.status + " " + (.error // "")')
		n=$((n + 1))
		[[ $st == "success " ]] || errs+=" [$expr: $st]"
	done < <(jq -r '.panels[].targets[]?.expr' "$dash")
	if [[ -z $errs && $n -ge 10 ]]; then
		ok "all $n queries of the Grafana dashboard evaluate in Prometheus"
	else
		bad "dashboard queries that Prometheus refuses:$errs"
	fi
	expr=$(jq -r '.panels[] | select(.title | startswith("Peak tree RSS")) | .targets[0].expr' "$dash")
	expr=${expr//\$\{group\}/job}
	expr=${expr//\$__rate_interval/10m}
	got=$(curl -s --max-time 10 --data-urlencode "query=$expr" \
		"http://127.0.0.1:$pport/api/v1/query" |
		jq -r '.data.result[] | select(.metric.job == "bmtrace") | .value[1]')
	if same "$got" "$peak"; then
		ok "the dashboard's peak panel shows the run's peak, $got (group by job)"
	else
		bad "the dashboard's peak panel: '$got', the JSON peak '$peak'"
	fi
}

part_textfiles || bad "part 4 (textfiles) stopped early"
part_instances || bad "part 5 (instances) stopped early"
part_dashboard || bad "part 6 (the Grafana dashboard) stopped early"

echo "prom_e2e: $passed passed, $failed failed"
((failed == 0))
