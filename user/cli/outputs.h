/* SPDX-License-Identifier: MIT */
/*
 * outputs - the one table of the files a traced or replayed run writes. Parsing (cli.c),
 * the check of every path before COMMAND starts, handing files to COMMAND's user, and
 * writing them (cmd/session.c) all expand this table; a new output is one line here and
 * its writer.
 *
 * X(KIND, SHORT, OPT, LONG, WRITER): the option is --LONG, and -SHORT when SHORT is not 0;
 * OPT is how messages name it. It takes a FILE ("-" is stdout where the writer allows it). WRITER writes the whole file
 * at the end of the run (NULL: written while tracing, the recording). Rows are in the order
 * the files are written; the summary comes first.
 */
#ifndef BMT_OUTPUTS_H
#define BMT_OUTPUTS_H

#define BMT_OUTPUTS(X)                                                                             \
	X(SUMMARY, 'o', "-o", "output", write_summary)                                             \
	X(JSON, 0, "--json", "json", write_json)                                                   \
	X(TIMELINE, 0, "--timeline", "timeline", write_timeline)                                   \
	X(SVG, 0, "--svg", "svg", write_svg)                                                       \
	X(MARKDOWN, 0, "--markdown", "markdown", write_markdown)                                   \
	X(PROMETHEUS, 0, "--prometheus", "prometheus", write_prometheus)                           \
	X(RECORD, 'w', "-w", "record", NULL)

enum bmt_output {
#define BMT_OUTPUT_KIND(kind, s, o, l, w) BMT_OUT_##kind,
	BMT_OUTPUTS(BMT_OUTPUT_KIND)
#undef BMT_OUTPUT_KIND
	BMT_N_OUTPUTS
};

/* The option as a user writes it: "-o", "--json". */
static inline const char *bmt_output_opt(enum bmt_output k)
{
	static const char *const opts[] = {
#define BMT_OUTPUT_OPT(kind, s, o, l, w) [BMT_OUT_##kind] = (o),
		BMT_OUTPUTS(BMT_OUTPUT_OPT)
#undef BMT_OUTPUT_OPT
	};

	return opts[k];
}

#endif /* BMT_OUTPUTS_H */
