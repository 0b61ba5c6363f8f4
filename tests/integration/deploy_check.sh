#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# deploy_check - what the README's "Prometheus" section hands to operators, checked with the
# tools that will read it (no root, no tracing):
#   1. tests/fixtures/alerts.yml: `promtool check rules`, and `promtool test rules
#      alerts_test.yml` (the alerts fire on a runner whose tree came within 10% of its
#      memory, and only there; on dropped trees);
#   2. tests/fixtures/prometheus.yml, the scrape configuration: `promtool check config`;
#   3. `make install DESTDIR=...`: bmtrace and user/systemd/bmtrace.service installed, the
#      unit's ExecStart naming the installed binary, and `make uninstall` removing both;
#   4. user/systemd/bmtrace.service: `systemd-analyze verify` (on a copy whose ExecStart is
#      this bmtrace, which must exist), and its exposure score for the log;
#   5. the README shows the same alert expression and scrape target as the fixtures;
#   6. user/grafana/bmtrace.json against Grafana's dashboard schema (tests/grafana/
#      check_dashboard.js: each panel type's options and field config, the Prometheus
#      queries, no property Grafana's types do not have).
# Each part prints "SKIP: ..." without its tool (promtool: make deps; systemd-analyze; node
# and tests/grafana/node_modules: make deps).
#
#   BMTRACE=./bmtrace bash tests/integration/deploy_check.sh
set -euo pipefail
SCRIPT=deploy_check
. "$(dirname "$0")/lib.sh"

cd "$(dirname "$0")/../.."
BMTRACE=$(realpath "${BMTRACE:-./bmtrace}")
FIXTURES=tests/fixtures
UNIT=user/systemd/bmtrace.service


tmp=$(mktemp -d /tmp/bmt-deploy-check-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# run WHAT CMD...: ok when CMD exits 0; its output on failure.
run() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$what"
	else
		bad "$what: $(tail -8 <<<"$out")"
	fi
}

if command -v promtool >/dev/null; then
	run "promtool check rules $FIXTURES/alerts.yml" promtool check rules "$FIXTURES/alerts.yml"
	run "promtool test rules $FIXTURES/alerts_test.yml (the alerts fire when they should)" \
		promtool test rules "$FIXTURES/alerts_test.yml"
	run "promtool check config $FIXTURES/prometheus.yml (the README's scrape configuration)" \
		promtool check config "$FIXTURES/prometheus.yml"
else
	say "SKIP: promtool is not installed (make deps): rules and config not checked"
fi

if [[ -x $BMTRACE ]]; then
	dest=$tmp/dest
	if out=$(make -s -o bmtrace install DESTDIR="$dest" PREFIX=/opt/bmt 2>&1) &&
		[[ -x $dest/opt/bmt/bin/bmtrace ]] &&
		grep -q '^ExecStart=/opt/bmt/bin/bmtrace serve ' \
			"$dest/opt/bmt/lib/systemd/system/bmtrace.service"; then
		ok "make install: bmtrace and lib/systemd/system/bmtrace.service, ExecStart in BINDIR"
	else
		bad "make install DESTDIR=$dest PREFIX=/opt/bmt: $out $(find "$dest" -type f)"
	fi
	make -s -o bmtrace uninstall DESTDIR="$dest" PREFIX=/opt/bmt >/dev/null 2>&1 || true
	if [[ -z $(find "$dest" -type f 2>/dev/null) ]]; then
		ok "make uninstall removes both"
	else
		bad "make uninstall left $(find "$dest" -type f)"
	fi
else
	say "SKIP: no $BMTRACE (make): make install not tried"
fi

if command -v systemd-analyze >/dev/null && [[ -x $BMTRACE ]]; then
	# verify wants ExecStart's binary to exist: this one, where the unit says /usr/local/bin.
	sed "s|/usr/local/bin/bmtrace|$BMTRACE|" "$UNIT" >"$tmp/bmtrace.service"
	if out=$(systemd-analyze verify "$tmp/bmtrace.service" 2>&1) && [[ -z $out ]]; then
		ok "systemd-analyze verify $UNIT"
	else
		bad "systemd-analyze verify $UNIT: $out"
	fi
	score=$(systemd-analyze security --offline=yes "$tmp/bmtrace.service" 2>/dev/null |
		sed -n 's/.*Overall exposure level for [^:]*: //p' || true)
	say "systemd-analyze security: exposure ${score:-unknown} (root at start, for the BPF load)"
else
	say "SKIP: no systemd-analyze (or no $BMTRACE): the unit is not verified"
fi

# The README quotes the fixtures: the alert's expression and the scrape target.
expr=$(awk '/alert: BuildMemoryNearRunnerLimit/ { f = 1 } f && /expr:/ { g = 1; next }
	g && /^ *(labels|annotations|for):/ { exit } g { sub(/^ +/, ""); print }' \
	"$FIXTURES/alerts.yml")
missing=""
while IFS= read -r line; do
	[[ -n $line ]] && ! grep -qF -- "$line" README.md && missing+=" '$line'"
done <<<"$expr"
grep -qF "targets: ['127.0.0.1:9977']" README.md || missing+=" the scrape target"
if [[ -z $missing && -n $expr ]]; then
	ok "README shows the alert expression and the scrape target of the fixtures"
else
	bad "README lacks, from $FIXTURES:$missing"
fi

# The Grafana dashboard, against Grafana's own schema (no Grafana server is packaged here).
if command -v node >/dev/null && [[ -d tests/grafana/node_modules ]]; then
	run "user/grafana/bmtrace.json: valid by Grafana's dashboard schema" \
		node tests/grafana/check_dashboard.js user/grafana/bmtrace.json
else
	say "SKIP: no node or tests/grafana/node_modules (make deps): the dashboard is not checked"
fi

echo "deploy_check: $passed passed, $failed failed"
((failed == 0))
