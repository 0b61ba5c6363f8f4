// modules: report_json report_text report_md report_svg report_timeline timeline escape budget deaths util
// SPDX-License-Identifier: MIT
/*
 * report: the text summary and the Markdown summary, their escapes, sizing and
 * the budget, deaths, from hand-built results.
 */
#include "report_fixture.h"

/* The text report, as a string. */
static char *text_of(struct fixture *fx)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(report_text(f, &fx->run, &fx->r), 0);
	fclose(f);
	return buf;
}

/* The Markdown report, as a string (BMT_SHOW=1 shows it on stderr). */
static char *markdown_of(struct fixture *fx)
{
	char *md;

	assert_int_equal(report_markdown(fx->path, &fx->run, &fx->r), 0);
	md = read_all(fx->path);
	if (getenv("BMT_SHOW"))
		fputs(md, stderr);
	return md;
}

/* No line is wider than 100 columns (one per UTF-8 character). */
static void assert_width(const char *text)
{
	int cols = 0;

	for (; *text; text++) {
		if (*text == '\n')
			cols = 0;
		else if ((*text & 0xc0) != 0x80 && ++cols > 100)
			fail_msg("line wider than 100 columns near \"%.40s\"", text - 60);
	}
}

static void test_text_summary(void **state)
{
	struct fixture *fx = *state;
	char *out = text_of(fx);

	if (getenv("BMT_SHOW"))
		fputs(out, stderr);
	assert_non_null(strstr(out, "bmtrace: make -j2\n"));
	assert_non_null(strstr(out, "exit status 0, 35.20 s, 214 processes, 1,052,113 events"));
	assert_non_null(strstr(out, "peak tree RSS    4.24 GiB at 12.410 s"));
	assert_non_null(strstr(out, "raw RSS sum      5.00 GiB at 12.400 s"));
	assert_non_null(strstr(out, "anon peak        4.20 GiB at 12.000 s"));
	/* The columns widen to fit (at most 16 columns) the escaped names. */
	assert_non_null(strstr(out, "   4242  skc             compile    3.32 GiB   78.3%  "
				    "skc -O2 big.c\n"));
	assert_non_null(strstr(out, "stages:"));
	assert_non_null(strstr(out, "commands:"));
	/* each command's largest process, by pid and arguments; none for ld: no column */
	assert_non_null(strstr(out, "       150     4251 skc -O2 big.c\n"));
	assert_non_null(
	    strstr(out, "    ld              0 B   900.0 MiB      0.000 s        14\n"));
	assert_non_null(strstr(out, "still running when tracing stopped: 1"));
	assert_null(strstr(out, "WARNING"));
	assert_null(strstr(out, "attached"));
	/* The 100 KiB argument is cut to fit. */
	assert_non_null(strstr(out, "  clang aaaa"));
	assert_non_null(strstr(out, "aaa…\n"));
	assert_width(out);
	free(out);
}

static void test_text_escapes(void **state)
{
	struct fixture *fx = *state;
	const unsigned char *c;
	char *out;

	fx->run.argv = evil_argv; /* the command line has room for all of it */
	out = text_of(fx);
	/* Only line ends: no ESC, BEL, DEL, CR or invalid byte reaches the terminal. */
	for (c = (const unsigned char *)out; *c; c++)
		if ((*c < 0x20 && *c != '\n') || *c == 0x7f || *c == 0xff || *c == 0xfe)
			fail_msg("raw byte 0x%02x in the text report", *c);
	assert_non_null(strstr(out, "  evil\\n\\x1b[2J…  link  ")); /* cut to 16 columns */
	assert_non_null(strstr(out, "bmtrace: evil say \"hi\" <svg onload=x> two\\nlines "
				    "bad\\xff\\xfe\n"));
	assert_non_null(strstr(out, "daemon\\x1b]0;pwned\\x07"));
	free(out);
}

/* C1 controls and bidi overrides, valid UTF-8 that a terminal acts on, are escaped too. */
static void test_text_escapes_unicode(void **state)
{
	static char *argv[] = {"\xc2\x9b"
			       "31m",
			       "abc\xe2\x80\xae"
			       "fed",
			       "caf\xc3\xa9", NULL};
	struct fixture *fx = *state;
	char *out;

	fx->run.argv = argv;
	out = text_of(fx);
	assert_non_null(strstr(out, "bmtrace: \\xc2\\x9b31m abc\\u202efed caf\xc3\xa9\n"));
	free(out);
}

static void test_text_signal_attached_lost(void **state)
{
	struct fixture *fx = *state;
	char *out;

	fx->run.exit_code = -1;
	fx->run.signal = 9;
	fx->run.attached = 1;
	fx->run.stats.lost = 1200;
	fx->run.stats.unpaired = 3;
	fx->run.stats.mms_full = 2;
	out = text_of(fx);
	assert_non_null(strstr(out, "attached to PID 4200, killed by signal 9 (SIGKILL)"));
	assert_non_null(strstr(out, "1,200 lost"));
	assert_non_null(strstr(out, "WARNING: events were lost (1,200 lost, 3 unpaired): "
				    "the peak is a lower bound\n"));
	assert_non_null(strstr(out, "0 processes and 2 address spaces not traced"));
	free(out);

	fx->run.signal = 0;
	fx->run.stats = (struct bmt_stats){0};
	out = text_of(fx);
	assert_non_null(strstr(out, "exit status unknown"));
	assert_null(strstr(out, "WARNING"));
	free(out);
}

/* Long lists are cut: 20 processes at the peak, 10 commands, 10 survivors. */
static void test_text_long_lists(void **state)
{
	enum { N = 25 };
	struct fixture *fx = *state;
	struct bmt_peak_proc procs[N];
	struct bmt_command_result cmds[N];
	struct bmt_alive_proc alive[N];
	char *out;
	int i;

	fx->r.peak.bytes = 0;
	for (i = 0; i < N; i++) {
		procs[i] = fx->procs[0];
		procs[i].pid = 5000 + (uint32_t)i;
		procs[i].bytes = 10 * MiB;
		fx->r.peak.bytes += procs[i].bytes;
		cmds[i] = fx->commands[0];
		alive[i] = (struct bmt_alive_proc){6000 + (uint32_t)i, "sleep"};
	}
	fx->r.peak_procs = procs;
	fx->r.n_peak_procs = N;
	fx->r.commands = cmds;
	fx->r.n_commands = N;
	fx->r.alive = alive;
	fx->r.n_alive = N;
	out = text_of(fx);
	assert_non_null(strstr(out, "   5019  skc"));
	assert_null(strstr(out, "   5020  skc"));
	assert_non_null(strstr(out, "… 5 more processes, 50.0 MiB\n"));
	assert_non_null(strstr(out, "… 15 more commands\n"));
	assert_non_null(strstr(out, "   6009  sleep\n"));
	assert_null(strstr(out, "6010"));
	assert_non_null(strstr(out, "… 15 more\n"));
	assert_width(out);
	free(out);
}

static void test_text_write_error(void **state)
{
	struct fixture *fx = *state;
	FILE *f = fopen("/dev/full", "w");

	if (!f)
		skip();
	/* the reason itself, which is what the user needs to read */
	assert_int_equal(report_text(f, &fx->run, &fx->r), -ENOSPC);
	fclose(f);
}

/* The last line of text (cut in place), without its newline. */
static const char *last_line(char *text)
{
	char *end = text + strlen(text), *start;

	if (end > text && end[-1] == '\n')
		*--end = '\0';
	start = strrchr(text, '\n');
	return start ? start + 1 : text;
}

static void test_text_sizing_budget(void **state)
{
	struct fixture *fx = *state;
	char *out;

	fx->run.budget_bytes = 16 * GiB;
	out = text_of(fx);
	if (getenv("BMT_SHOW"))
		fputs(out, stderr);
	assert_non_null(strstr(out, "  sizing, per process (its own peak) and instances at once:\n"
				    "    COMMAND     LARGEST      MEDIAN         P95  MOST AT ONCE"
				    "  AT PEAK\n"
				    "    skc        3.32 GiB    3.32 GiB    3.32 GiB             1"
				    "        1\n"
				    "    clang     960.0 MiB   300.0 MiB   700.0 MiB             4"
				    "        1\n"));
	assert_non_null(strstr(out, "  dominant        skc holds 3.32 GiB at the peak in 1 "
				    "instance; the rest 945.0 MiB\n"
				    "  fit in budget   4 at once at its largest process peak "
				    "(3.32 GiB), 4 at p95 (3.32 GiB)\n"));
	/* the verdict is the last line */
	assert_string_equal(last_line(out),
			    "  budget          16.0 GiB (--budget): 11.8 GiB headroom at "
			    "the peak (73.5%)");
	assert_width(out);
	free(out);

	fx->run.budget_bytes = 4 * GiB;
	fx->run.budget_gate = 1;
	fx->run.over_budget_ts = T0 + 12 * SEC + 5000000;
	out = text_of(fx);
	assert_string_equal(last_line(out),
			    "bmtrace: over budget by 249.0 MiB (6.1%): peak 4.24 GiB, "
			    "--max-peak 4.00 GiB; first at 12.005 s");
	assert_width(out);
	free(out);
}

static void test_markdown(void **state)
{
	struct fixture *fx = *state;
	const char *line;
	char *md;
	int rows = 0, tables = 0, header_cells = 0;

	fx->procs[1].comm = "cl|ang";
	fx->run.budget_bytes = 4 * GiB;
	fx->run.budget_gate = 1;
	fx->run.over_budget_ts = T0 + 12 * SEC;
	md = markdown_of(fx);
	assert_true(valid_utf8(md));
	assert_non_null(strstr(md, "### bmtrace: `make -j2`\n\n**Peak tree RSS 4.24 GiB** at "
				   "12.410 s"));
	assert_non_null(strstr(md, "exit status 0 · 35.20 s · 214 processes · 1,052,113 events, "
				   "0 lost\n"));
	assert_non_null(strstr(md, "**❌ Over budget** by 249.0 MiB (6.1%): the peak 4.24 GiB "
				   "exceeds `--max-peak` 4.00 GiB, first at 12.000 s.\n"));
	assert_non_null(strstr(md, "| 4242 | skc | compile | 3.32 GiB | 78.3% | `skc -O2 big.c` "
				   "|\n"));
	/* a pipe cannot end a cell, markup and controls are shown as text */
	assert_non_null(strstr(md, "| 4250 | cl\\|ang | compile |"));
	assert_non_null(strstr(md, "| 4201 | evil\\\\n\\\\x1b\\[2J\\\\xff\" | link | 5.00 MiB "
				   "| 0.1% | `evil say \"hi\" <svg onload=x> two\\nlines "
				   "bad\\xff\\xfe` |\n"));
	assert_null(strchr(md, '\x1b'));
	assert_non_null(strstr(md, "| compile | 4.24 GiB | 4.30 GiB | 13.000 s | 200 |\n"));
	assert_non_null(strstr(md, "| clang | 940.0 MiB | 1000.0 MiB | 150 | 960.0 MiB | 300.0 MiB "
				   "| 700.0 MiB | 4 | 4251 `skc -O2 big.c` |\n"));
	assert_non_null(strstr(md, "| ld | 0 B | 900.0 MiB | 14 | 900.0 MiB | 20.0 MiB | 880.0 MiB "
				   "| 1 |  |\n")); /* none measured: an empty cell */
	/* three tables; each row has as many cells as its header: no name split one */
	for (line = md; line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *c;
		int cells = 0;

		if (*line != '|') {
			header_cells = 0;
			continue;
		}
		for (c = line; *c && *c != '\n'; c++)
			cells += *c == '|' && c[-1] != '\\';
		if (!header_cells) {
			header_cells = cells;
			tables++;
		}
		assert_int_equal(cells, header_cells);
		rows++;
	}
	assert_int_equal(tables, 3);
	assert_int_equal(rows, (2 + 3) + (2 + 2) + (2 + 3));
	free(md);

	/* within a budget: the headroom; the argv of a code span with backticks in it */
	fx->run.budget_bytes = 16 * GiB;
	fx->run.budget_gate = 0;
	fx->run.argv = (char *[]){"sh", "-c", "echo `date`", NULL};
	md = markdown_of(fx);
	assert_non_null(strstr(md, "### bmtrace: `` sh -c echo `date` ``\n"));
	assert_non_null(strstr(md, "**✅ Within budget:** `--budget` 16.0 GiB leaves 11.8 GiB "
				   "headroom at the peak (73.5%).\n"));
	assert_non_null(strstr(md, "the budget fits **4** at once at its largest process peak"));
	free(md);

	/* a pipe is escaped in a table cell only: elsewhere a code span would show the backslash */
	fx->run.argv = (char *[]){"sh", "-c", "a | b", NULL};
	fx->procs[0].argv = fx->run.argv;
	md = markdown_of(fx);
	assert_non_null(strstr(md, "### bmtrace: `sh -c a | b`\n"));
	assert_non_null(strstr(md, "| 78.3% | `sh -c a \\| b` |\n"));
	free(md);
}

/*
 * A backslash is shown doubled, so every escape reads back to one byte sequence: a name of
 * a backslash and an "n" is not taken for a newline, nor "\\x1b" for an ESC. In each report
 * that shows escape.h's text: the summary, the Markdown (then escaped for Markdown) and
 * the SVG.
 */
static void test_escapes_backslash(void **state)
{
	static char *argv[] = {"back\\nslash", "new\nline", "\\x1b", "dir\\", NULL};
	struct fixture *fx = *state;
	struct xml_check x;
	char *out;

	fx->run.argv = argv;
	fx->procs[2].comm = "a\\b|\\";
	fx->stages[1].name = "li\\nk";
	out = text_of(fx);
	assert_non_null(strstr(out, "bmtrace: back\\\\nslash new\\nline \\\\x1b dir\\\\\n"));
	assert_non_null(strstr(out, "  a\\\\b|\\\\ "));
	assert_non_null(strstr(out, "  li\\\\nk "));
	free(out);
	out = markdown_of(fx);
	assert_non_null(strstr(out, "### bmtrace: `back\\\\nslash new\\nline \\\\x1b dir\\\\`\n"));
	assert_non_null(strstr(out, "| 4201 | a\\\\\\\\b\\|\\\\\\\\ | link |"));
	assert_non_null(strstr(out, "\n| li\\\\\\\\nk | "));
	free(out);
	out = svg_of(fx, &x);
	assert_non_null(strstr(x.text, "bmtrace: back\\\\nslash new\\nline \\\\x1b dir\\\\\n"));
	assert_non_null(strstr(x.text, "\na\\\\b|\\\\ 5.00 MiB · pid 4201\n"));
	assert_non_null(strstr(x.text, "\nli\\\\nk\n"));
	free(x.text);
	free(out);
}

static void test_text_deaths(void **state)
{
	struct fixture *fx = *state;
	char *out;

	add_deaths(fx);
	out = text_of(fx);
	if (getenv("BMT_SHOW"))
		fputs(out, stderr);
	assert_non_null(strstr(out, "  WARNING: the OOM killer killed 1 process of the tree "
				    "(COMMAND still exited 0)\n"));
	assert_non_null(strstr(out, "  cgroup peak      4.50 GiB  (cgroup v2 memory.peak; limit "
				    "4.00 GiB; 1 OOM kill)\n"));
	assert_non_null(strstr(out, "  killed by a signal: 2 processes, 1 by the OOM killer\n"));
	assert_non_null(strstr(out,
			       "           TIME      PID  COMMAND         SIGNAL               "
			       "    OWN        TREE  ARGS\n"));
	assert_non_null(strstr(out, "     12.410 s     4242  skc             SIGKILL (OOM)       "
				    "3.32 GiB    4.24 GiB  skc -O2 big.c\n"));
	/* a hostile name is escaped, and cut to the column */
	assert_non_null(strstr(out, "     20.000 s     4201  evil\\n\\x1b[2J…  SIGTERM"));
	assert_null(strchr(out, '\x1b'));
	assert_non_null(strstr(out, "  when the OOM killer chose 4242 (skc) at 12.410 s, the tree "
				    "held 4.24 GiB:\n"));
	/* the holders' table, like the peak's: the same rows a second time */
	assert_non_null(
	    strstr(strstr(out, "when the OOM killer"),
		   "   4242  skc             compile    3.32 GiB   78.3%  skc -O2 big.c\n"));
	assert_width(out);
	free(out);

	/* a failed COMMAND: the warning does not say it exited 0 */
	fx->run.exit_code = 2;
	out = text_of(fx);
	assert_non_null(strstr(out, "killed 1 process of the tree\n"));
	free(out);
	/* a victim the tracepoint missed still counts, from the cgroup's count */
	fx->run.cgroup.oom_kills = 3;
	out = text_of(fx);
	assert_non_null(strstr(out, "killed 3 processes of the tree\n"));
	free(out);
}

static void test_markdown_deaths(void **state)
{
	struct fixture *fx = *state;
	char *md;

	add_deaths(fx);
	md = markdown_of(fx);
	assert_non_null(strstr(md, "**Cgroup peak 4.50 GiB** (cgroup v2; limit 4.00 GiB; 1 OOM "
				   "kill)\n"));
	assert_non_null(strstr(md, "> **❌ The OOM killer killed 1 process of the tree** (COMMAND "
				   "still exited 0).\n"));
	assert_non_null(strstr(md, "| 12.410 s | 4242 | skc | 9 | yes | 3.32 GiB | 4.24 GiB | "
				   "`skc -O2 big.c` |\n"));
	assert_non_null(strstr(md, "| 20.000 s | 4201 | evil\\\\n"));
	assert_non_null(strstr(md, "#### Who held the memory when the OOM killer chose 4242 (skc) "
				   "at 12.410 s: 4.24 GiB\n\n| PID |"));
	assert_null(strchr(md, '\x1b'));
	free(md);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_text_summary),	  T(test_text_escapes),
	    T(test_text_escapes_unicode), T(test_text_signal_attached_lost),
	    T(test_text_long_lists),	  T(test_text_write_error),
	    T(test_text_sizing_budget),	  T(test_markdown),
	    T(test_escapes_backslash),	  T(test_text_deaths),
	    T(test_markdown_deaths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
