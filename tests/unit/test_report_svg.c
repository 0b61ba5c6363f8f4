// modules: report_json report_text report_md report_svg report_timeline timeline escape budget deaths util
// SPDX-License-Identifier: MIT
/*
 * report: the SVG chart and the CSV timeline, from hand-built results.
 */
#include "report_fixture.h"

static void test_timeline_csv(void **state)
{
	struct fixture *fx = *state;
	struct timeline *t = fixture_timeline(fx);
	char gz_path[80], buf[65536], *csv;
	gzFile gz;
	int n;

	/* a name that is not UTF-8 or holds a control is cleaned, as in Prometheus labels */
	fx->stages[0].name = "e\x1b[1m\xff\t";
	fx->stages[1].name = "li,\"nk\"\n\r";
	assert_int_equal(report_timeline(fx->path, &fx->run, &fx->r, t), 0);
	csv = read_all(fx->path);
	assert_true(valid_utf8(csv));
	assert_non_null(strstr(csv, "time_s,tree_bytes,anon_bytes,"
				    "e\xef\xbf\xbd[1m\xef\xbf\xbd\xef\xbf\xbd,"
				    "\"li,\"\"nk\"\"\n\xef\xbf\xbd\"\n1.000000000,"));
	free(csv);
	/* no column name twice: a stage named like a fixed column, two that clean alike */
	fx->stages[0].name = "tree_bytes";
	fx->stages[1].name = "time_s";
	assert_int_equal(report_timeline(fx->path, &fx->run, &fx->r, t), 0);
	csv = read_all(fx->path);
	assert_non_null(strstr(csv, "time_s,tree_bytes,anon_bytes,tree_bytes (stage 1),"
				    "time_s (stage 2)\n"));
	free(csv);
	fx->stages[0].name = "a\xff";
	fx->stages[1].name = "a\xfe";
	assert_int_equal(report_timeline(fx->path, &fx->run, &fx->r, t), 0);
	csv = read_all(fx->path);
	assert_non_null(strstr(csv, "anon_bytes,a\xef\xbf\xbd,a\xef\xbf\xbd (stage 2)\n"));
	free(csv);
	fx->stages[0].name = "compile";
	fx->stages[1].name = "li,\"nk\"";
	assert_int_equal(report_timeline(fx->path, &fx->run, &fx->r, t), 0);
	csv = read_all(fx->path);
	if (getenv("BMT_SHOW"))
		fputs(csv, stderr);
	assert_non_null(strstr(csv, "time_s,tree_bytes,anon_bytes,compile,\"li,\"\"nk\"\"\"\n"
				    "1.000000000,351272960,175636480,346030080,5242880\n"));
	/* the peak's row: its exact time and bytes, its stages' bytes at it */
	assert_non_null(strstr(csv, "\n12.410000000,4556062720,4508876800,4550819840,5242880\n"));
	assert_non_null(strstr(csv, "\n35.000000000,104857600,52428800,0,104857600\n"));

	/* the same, gzip-compressed */
	snprintf(gz_path, sizeof(gz_path), "%s.gz", fx->path);
	assert_int_equal(report_timeline(gz_path, &fx->run, &fx->r, t), 0);
	gz = gzopen(gz_path, "rb");
	assert_non_null(gz);
	n = gzread(gz, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_int_equal(gzclose(gz), Z_OK);
	assert_string_equal(buf, csv);
	unlink(gz_path);
	free(csv);
	/* a directory that is not there: an error */
	assert_int_equal(report_timeline("/nonexistent-dir/t.csv.gz", &fx->run, &fx->r, t),
			 -ENOENT);
	timeline__free(t);
}

static void test_svg(void **state)
{
	struct fixture *fx = *state;
	struct xml_check x;
	char *svg;

	fx->run.argv = evil_argv;
	fx->stages[1].name = "a\"b<svg onload=x>";
	svg = svg_of(fx, &x);
	if (getenv("BMT_SHOW"))
		fputs(x.text, stderr);
	assert_true(strncmp(svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 44) == 0);
	/* self-contained: nothing fetched, nothing run */
	assert_null(strstr(svg, "href"));
	assert_null(strstr(svg, "<script"));
	assert_null(strstr(svg, "url("));
	/* the peak, labelled with its value, time and the three largest processes */
	assert_non_null(strstr(x.text, "\npeak 4.24 GiB at 12.4 s\n"));
	assert_non_null(strstr(x.text, "\nskc 3.32 GiB · pid 4242\n · big.c\n"));
	assert_non_null(strstr(x.text, "\nclang 940.0 MiB · pid 4250\n"));
	assert_non_null(strstr(x.text, "\nevil\\n\\x1b[2J\\xff\" 5.00 MiB · pid 4201\n"));
	/* what each was working on: its operands, escaped like any name */
	assert_non_null(strstr(x.text, "\n · say \"hi\" <svg onload=x> two\xe2\x80\xa6\n"));
	/* hostile names are text: no second <svg> element, no attribute they could end */
	assert_non_null(strstr(x.text, "bmtrace: evil say \"hi\" <svg onload=x> two\\nlines"));
	assert_non_null(strstr(x.text, "\na\"b<svg onload=x>\n"));
	assert_non_null(strstr(svg, "a&quot;b&lt;svg onload=x&gt;"));
	assert_ptr_equal(strstr(svg, "<svg"), strstr(svg, "<svg xmlns"));
	assert_null(strstr(strstr(svg, "<svg xmlns") + 1, "<svg"));
	/* a legend entry per stage, axes in human units */
	assert_non_null(strstr(x.text, "\ncompile\n"));
	assert_non_null(strstr(x.text, "\n4 GiB\n"));
	assert_non_null(strstr(x.text, "\n35 s\n"));
	free(x.text);
	free(svg);

	/* a budget near the peak is drawn, and named in the legend */
	fx->run.budget_bytes = 4 * GiB;
	fx->run.budget_gate = 1;
	svg = svg_of(fx, &x);
	assert_non_null(strstr(x.text, "\nbudget 4.00 GiB: exceeded\n"));
	assert_non_null(strstr(x.text, "\n--max-peak 4.00 GiB\n"));
	free(x.text);
	free(svg);
}

/* Nothing traced: still a valid chart, saying so. */
static void test_svg_empty(void **state)
{
	struct fixture *fx = *state;
	struct timeline *t = timeline__new();
	struct xml_check x;
	char *svg;

	assert_non_null(t);
	memset(&fx->r, 0, sizeof(fx->r));
	fx->run.argv = NULL;
	assert_int_equal(report_svg(fx->path, &fx->run, &fx->r, t), 0);
	timeline__free(t);
	svg = read_all(fx->path);
	if (!xml_check(svg, &x))
		fail_msg("the SVG is not well-formed XML: %s", x.err);
	assert_non_null(strstr(x.text, "no memory was recorded"));
	free(x.text);
	free(svg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_timeline_csv),
	    T(test_svg),
	    T(test_svg_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
