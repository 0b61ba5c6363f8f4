# SPDX-License-Identifier: MIT
# tests/bench/table.awk - the table of make bench, from the files run.sh writes:
#   info.tsv       key, value...: the machine, versions, the run, the extra checks' figures
#   workloads.tsv  name, label, expected processes ("" when unknown), command
#   runs.tsv       workload, tool, round, wall_s, status, own_rss_kib, own_cpu_s,
#                  peak_bytes, events, lost, processes, duration_s, raw_peak_bytes,
#                  lower_bound, tree_cpu_s, end_total ("-" when a tool has no such figure)
#   checks.tsv     check, round, tool, wall_s, own_rss_kib, peak, raw_peak, lost, lower_bound
#   bpf.tsv        workload, round, run_time_ns, runs, events, counter source, ring records:
#                  bmtrace -v
#                  with kernel.bpf_stats_enabled=1 (every program of bmtrace's)
# POSIX awk (Debian's mawk): no asort, no ARGIND.
BEGIN {
	FS = "\t"
	ntools = split("bmtrace bpftrace s150 s10", tools, " ")
	tname["base"] = "untraced"
	tname["bmtrace"] = "bmtrace"
	tname["bpftrace"] = "bpftrace"
	tname["s150"] = "/proc every 150 ms"
	tname["s10"] = "/proc every 10 ms"
	nwl = 0
}
FNR == 1 { file++ }
file == 1 { info[$1] = $2; infob[$1] = $3; infoc[$1] = $4; next }
file == 2 { wl[++nwl] = $1; label[$1] = $2; expect[$1] = $3; command[$1] = $4; next }
file == 3 {
	k = $1 SUBSEP $2
	n = ++count[k]
	wall[k, n] = $4
	round[k, n] = $3
	tcpu[k, n] = $15
	drift[k, n] = $16
	if ($2 == "base") {
		basewall[$1, $3] = $4
		basecpu[$1, $3] = $15
	}
	rss[k, n] = $6; cpu[k, n] = $7; peak[k, n] = $8; events[k, n] = $9
	lost[k, n] = $10; procs[k, n] = $11; dur[k, n] = $12
	next
}
file == 4 {
	k = $1 SUBSEP $3
	n = ++ccount[k]
	cwall[k, n] = $4; crss[k, n] = $5; cpeak[k, n] = $6; craw[k, n] = $7
	if ($1 == "true")
		ctrue[$3, $2] = $4
	next
}
file == 5 {
	n = ++bcount[$1]
	bns[$1, n] = $3 / $5
	bruns[$1, n] = $4 / $5
	brec[$1, n] = $7 / $5
	bsrc[$1] = $6
	next
}

# The median of v[1..n] ("-" entries skipped); lo and hi get the extremes.
function median(v, n,    a, m, i, j, t) {
	m = 0
	for (i = 1; i <= n; i++)
		if (v[i] != "-" && v[i] != "")
			a[++m] = v[i] + 0
	if (!m) {
		lo = hi = "-"
		return "-"
	}
	for (i = 2; i <= m; i++) {
		t = a[i]
		for (j = i - 1; j >= 1 && a[j] > t; j--)
			a[j + 1] = a[j]
		a[j + 1] = t
	}
	lo = a[1]
	hi = a[m]
	return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}

# Column k of the runs of one workload and tool, into v[1..]; how many.
function column(arr, k, n,    i) {
	for (i = 1; i <= n; i++)
		v[i] = arr[k, i]
	return n
}

function bytes(b) {
	if (b == "-")
		return "-"
	if (b >= 1024 * 1024 * 1024)
		return sprintf("%.2f GiB", b / 1024 / 1024 / 1024)
	return sprintf("%.1f MiB", b / 1024 / 1024)
}

# "m (lo-hi)" in m's unit
function brange(m, lo, hi,    d) {
	d = m >= 1024 * 1024 * 1024 ? 1024 * 1024 * 1024 : 1024 * 1024
	return sprintf("%s (%.*f-%.*f)", bytes(m), d > 1048576 ? 2 : 1, lo / d, d > 1048576 ? 2 : 1,
		       hi / d)
}

function kib(x) { return x == "-" ? "-" : sprintf("%.1f MiB", x / 1024) }

function rate(x) {
	if (x == "-")
		return "-"
	if (x >= 1e6)
		return sprintf("%.2f M/s", x / 1e6)
	return sprintf("%.0f k/s", x / 1e3)
}

function ratios(name) {
	return sprintf("%.3f (CPU %.3f)", ratio[name, "bmtrace"], cpuratio[name, "bmtrace"])
}

function verdict(ok) { return ok ? "ok" : "MISSED" }

function target(what, got, ok) {
	printf "  %-50s %-44s %s\n", what, got, verdict(ok)
	if (!ok)
		missed++
}

END {
	printf "bmtrace bench: %s\n", info["machine"]
	printf "  %s\n", info["versions"]
	printf "  %s\n\n", info["run"]
	printf "%-20s %-21s %-21s %9s %7s %9s %4s  %-17s %s\n", "WORKLOAD / TOOL",
	       "WALL x UNTRACED", "CPU x UNTRACED", "OWN RSS", "OWN CPU", "EVENTS/S", "LOST",
	       "PROCESSES", "PEAK SEEN"
	totlost = 0
	nlostruns = 0
	procs_ok = 1
	for (w = 1; w <= nwl; w++) {
		name = wl[w]
		printf "%s: %s\n", label[name], command[name]
		k = name SUBSEP "base"
		n = column(wall, k, count[k])
		m = median(v, n)
		wallm = sprintf("%.2f s (%.2f-%.2f)", m, lo, hi)
		column(tcpu, k, n)
		printf "  %-18s %-21s %-21s %d rounds, the peers in %d\n", "untraced", wallm,
		       sprintf("%.2f s (%.2f-%.2f)", median(v, n), lo, hi), n,
		       count[name, "s150"]
		# the processes a tracer must count: known from the workload, else bpftrace's
		want = expect[name]
		wantfrom = ""
		if (want == "" && count[name, "bpftrace"]) {
			n = column(procs, name SUBSEP "bpftrace", count[name, "bpftrace"])
			want = median(v, n)
			wantfrom = " (bpftrace)"
			if (lo != hi)
				want = ""
		}
		for (t = 1; t <= ntools; t++) {
			tool = tools[t]
			k = name SUBSEP tool
			n = count[k]
			if (!n)
				continue
			for (i = 1; i <= n; i++)
				v[i] = wall[k, i] / basewall[name, round[k, i]]
			r = median(v, n)
			ratio[name, tool] = r
			ratiotxt = sprintf("%.3f (%.3f-%.3f)", r, lo, hi)
			for (i = 1; i <= n; i++)
				v[i] = tcpu[k, i] / basecpu[name, round[k, i]]
			cpuratio[name, tool] = median(v, n)
			cputxt = sprintf("%.3f (%.3f-%.3f)", cpuratio[name, tool], lo, hi)
			column(rss, k, n)
			ownrss[name, tool] = median(v, n)
			column(cpu, k, n)
			owncpu = median(v, n)
			ev = "-"
			if (tool == "bmtrace") {
				for (i = 1; i <= n; i++)
					v[i] = events[k, i] / dur[k, i]
				ev = median(v, n)
			} else if (tool == "bpftrace") {
				for (i = 1; i <= n; i++)
					v[i] = events[k, i] == "-" ? "-" : events[k, i] / wall[k, i]
				ev = median(v, n)
			}
			l = "-"
			if (tool == "bmtrace") {
				l = 0
				for (i = 1; i <= n; i++) {
					l += lost[k, i]
					nlostruns++
				}
				totlost += l
			}
			p = "-"
			if (tool == "bmtrace" || tool == "bpftrace") {
				column(procs, k, n)
				pm = median(v, n)
				p = lo == hi ? lo : lo "-" hi
				if (tool == "bmtrace") {
					if (want == "") {
						p = p " ?"
					} else if (lo == want && hi == want) {
						p = p " = " want wantfrom
					} else {
						p = p " != " want wantfrom
						procs_ok = 0
					}
				}
			}
			column(peak, k, n)
			pk = bytes(median(v, n))
			if (tool != "bmtrace")
				pk = pk " raw"
			if (tool == "bpftrace") {
				column(drift, k, n)
				dm = median(v, n)
				if (dm != "-" && (lo < -1048576 || hi > 1048576))
					pk = pk sprintf(", drift %+.0f..%+.0f MiB", lo / 1048576,
							hi / 1048576)
			}
			printf "  %-18s %-21s %-21s %9s %7s %9s %4s  %-17s %s\n", tname[tool],
			       ratiotxt, cputxt, kib(ownrss[name, tool]),
			       owncpu == "-" ? "-" : sprintf("%.2f s", owncpu), rate(ev), l, p, pk
		}
	}

	# BPF run time per rss event, from the runs with kernel.bpf_stats_enabled=1
	printf "\nBPF run time per rss event (kernel.bpf_stats_enabled=1, separate runs; every run of\n"
	printf "bmtrace's programs, other processes' events included)\n"
	printf "  %-20s %-24s %-20s %-16s %s\n", "WORKLOAD", "NS PER EVENT", "PROGRAM RUNS/EVENT",
	       "RECORDS/EVENT", "COUNTER SOURCE"
	for (w = 1; w <= nwl; w++) {
		name = wl[w]
		if (!bcount[name])
			continue
		n = column(bns, name, bcount[name])
		bpfns[name] = median(v, n)
		nstxt = sprintf("%.0f (%.0f-%.0f)", bpfns[name], lo, hi)
		n = column(bruns, name, bcount[name])
		runstxt = sprintf("%.2f", median(v, n))
		n = column(brec, name, bcount[name])
		printf "  %-20s %-24s %-20s %-16s %s\n", label[name], nstxt, runstxt,
		       sprintf("%.4f", median(v, n)), bsrc[name]
	}

	# the spike: how often each peer's peak falls short of the same sum by bmtrace
	split(info["spike"], sp, " ")
	k = "spike" SUBSEP "bmtrace"
	printf "\nspike: memhog spike %s (a %s MiB process forks a child that touches %s MiB more, holds it %s ms and exits), %d runs\n",
	       info["spike"], sp[1], sp[2], sp[3], ccount[k]
	n = column(cpeak, k, ccount[k])
	tree = median(v, n)
	printf "  %-20s %-30s %s\n", "TOOL", "PEAK: MEDIAN (MIN-MAX)", "RUNS BELOW THE RAW SUM BY > 1%"
	printf "  %-20s %-30s %s\n", "bmtrace", brange(tree, lo, hi),
	       "(tree RSS: fork-inherited pages once)"
	n = column(craw, k, ccount[k])
	raw = median(v, n)
	printf "  %-20s %-30s %s\n", "bmtrace raw sum", brange(raw, lo, hi),
	       "(the sum ps-style tools make)"
	for (t = 2; t <= ntools; t++) {
		tool = tools[t]
		k = "spike" SUBSEP tool
		if (!ccount[k])
			continue
		n = column(cpeak, k, ccount[k])
		m = median(v, n)
		short = 0
		worst = 0
		for (i = 1; i <= n; i++)
			if (v[i] < 0.99 * raw) {
				short++
				if (raw - v[i] > worst)
					worst = raw - v[i]
			}
		said = short ? sprintf("%d of %d, by up to %s (%.0f%%)", short, n, bytes(worst),
					100 * worst / raw) : sprintf("0 of %d", n)
		printf "  %-20s %-30s %s\n", tname[tool], brange(m, lo, hi), said
	}

	# the targets
	printf "\ntargets (issues 3 and 10)%28s %-44s\n", "", "MEASURED"
	target("fault storm <= 1.08x untraced (wall)", ratios("fault"), ratio["fault", "bmtrace"] <= 1.08)
	target("fork/exec storm <= 1.10x untraced (wall)", ratios("fork"), ratio["fork", "bmtrace"] <= 1.10)
	target("real build <= 1.02x untraced (wall)", ratios("build"), ratio["build", "bmtrace"] <= 1.02)
	target("deep tree <= 1.25x untraced (wall)", ratios("deep"), ratio["deep", "bmtrace"] <= 1.25)
	target("BPF <= 100 ns per rss event (fault storm)",
	       bcount["fault"] ? sprintf("%.0f ns", bpfns["fault"]) : "not measured",
	       bcount["fault"] && bpfns["fault"] <= 100)
	target("0 lost events, default ring, all four workloads",
	       sprintf("%d lost in %d runs", totlost, nlostruns), totlost == 0)
	target("processes counted = processes started", procs_ok ? "equal in every run" : "see PROCESSES",
	       procs_ok)
	target("loss reported with a 4 KiB ring",
	       sprintf("%s lost, lower bound %s, %s", info["tiny"], infob["tiny"],
		       infoc["tiny"] > 0 ? "warned" : "NOT warned"),
	       info["tiny"] > 0 && infob["tiny"] == "true" && infoc["tiny"] > 0)
	big = ownrss["fork", "bmtrace"]
	target("own RSS <= 32 MiB on the fork/exec storm", kib(big) " (VmHWM)", big <= 32 * 1024)
	k = "growth" SUBSEP "bmtrace"
	n = column(crss, k, ccount[k])
	small = median(v, n)
	target(sprintf("own RSS flat: %s vs %s exited processes", info["fork_small"], expect["fork"] - 1),
	       sprintf("%s vs %s (%+.1f MiB)", kib(small), kib(big), (big - small) / 1024),
	       big - small <= 1024)
	n = 0
	for (r = 0; ("base" SUBSEP r) in ctrue; r++)
		v[++n] = ctrue["bmtrace", r] - ctrue["base", r]
	m = median(v, n)
	target("bmtrace -- true adds <= 0.25 s",
	       sprintf("+%.3f s (%.3f-%.3f), %d pairs", m, lo, hi, n), m <= 0.25)
	if (info["size"] == "smoke")
		printf "\nsmoke sizes: the ratios and targets above mean nothing, only that it all runs\n"
	else
		printf "\n%s\n", missed ? missed " target(s) missed" : "every target met"
}
