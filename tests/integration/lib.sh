# shellcheck shell=bash
# lib.sh - what the end-to-end scripts share. Source it after setting SCRIPT (the name each
# line of output starts with); it defines the counters and the reporting helpers.

passed=0
failed=0

say() { echo "$SCRIPT: $*"; }
skip() { echo "SKIP: $SCRIPT: $*"; exit 0; }
ok() { passed=$((passed + 1)); say "ok: $*"; }
bad() { failed=$((failed + 1)); say "FAIL: $*"; }

# Are two numbers equal (both present)?
same() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && b != "" && a + 0 == b + 0) }'; }

# A loopback port nothing listens on (a connect to it is refused).
free_port() {
	local p
	for _ in $(seq 1 100); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# End every background process listed in the array pids, and reap it.
stop_pids() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
}
