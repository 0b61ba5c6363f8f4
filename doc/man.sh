#!/bin/sh
# SPDX-License-Identifier: MIT
#
# man.sh BMTRACE VERSION - write bmtrace(1) to stdout, made from the help texts of BMTRACE
# (bmtrace help, help report, help diff, help serve), so that the man page says what --help
# says, option for option. `make` builds it (build/bmtrace.1), `make install` installs it.
#
# The help texts' shape (user/cli/cli.c) is what this reads: "Usage:" lines; paragraphs;
# "Heading:" lines over option lines ("  -o, --output FILE     what it does", the text
# from column 25, continued on lines indented 24 columns); "Exit status:" and "Examples:"
# paragraphs.
set -eu
BMTRACE=$1
VERSION=$2

# roff: one help text as a section of the page. $1: the section's title.
section() {
	awk -v title="$1" '
	function esc(s) {
		gsub(/\\/, "\\e", s)
		gsub(/-/, "\\-", s)
		return s
	}
	function line(s) {
		s = esc(s)
		if (s ~ /^[.'"'"']/)
			s = "\\&" s
		print s
	}
	# an option line: the options in bold, their values in italics
	function tag(s,    n, i, w, out) {
		n = split(s, w, " ")
		out = ""
		for (i = 1; i <= n; i++) {
			if (w[i] ~ /^-/) {
				sub(/,$/, "", w[i])
				out = out (out == "" ? "" : ", ") "\\fB" esc(w[i]) "\\fR"
			} else {
				out = out " \\fI" esc(w[i]) "\\fR"
			}
		}
		return out
	}
	# the main text: its usage is the SYNOPSIS, then the DESCRIPTION; the usage of a subcommand
	# opens its own section
	BEGIN { if (title != "DESCRIPTION") print ".SH " title; mode = "text" }
	/^Usage: / || (mode == "usage" && /^       bmtrace /) {
		if (mode != "usage")
			print title == "DESCRIPTION" ? ".SH SYNOPSIS" : ".SS Synopsis"
		mode = "usage"
		sub(/^Usage: +|^ +/, "")
		print ".nf"
		line($0)
		print ".fi"
		next
	}
	/^$/ && mode == "usage" && title == "DESCRIPTION" { mode = "text"; print ".SH DESCRIPTION"; next }
	/^$/ {
		if (mode == "examples") {
			print ".RE"
			print ".fi"
		}
		mode = "text"
		print ".PP"
		next
	}
	/^(Examples?|Exit status):/ {
		h = $0
		sub(/:.*/, "", h)
		rest = $0
		sub(/^[^:]*: */, "", rest)
		print ".SS " h
		if (h ~ /^Example/) {
			mode = "examples"
			print ".nf"
			print ".RS 2"
		} else {
			mode = "text"
			if (rest != "")
				line(rest)
		}
		next
	}
	mode == "examples" { sub(/^  /, ""); line($0); next }
	/^[A-Z][A-Za-z ]*( \(.*\))?:$/ {
		h = $0
		sub(/:$/, "", h)
		print ".SS " esc(h)
		mode = "options"
		next
	}
	/^  +-/ {
		mode = "options"
		s = $0
		sub(/^ +/, "", s)
		# the options end where two spaces begin the description
		i = index(s, "  ")
		print ".TP"
		if (i) {
			print tag(substr(s, 1, i - 1))
			d = substr(s, i)
			sub(/^ +/, "", d)
			line(d)
		} else {
			print tag(s)
		}
		next
	}
	substr($0, 1, 24) ~ /^ +$/ && mode == "options" { s = $0; sub(/^ +/, "", s); line(s); next }
	{ line($0) }
	END { if (mode == "examples") { print ".RE"; print ".fi" } }
	'
}

cat <<EOF
.TH BMTRACE 1 "" "bmtrace $VERSION" "User Commands"
.SH NAME
bmtrace \\- how much memory a command's whole process tree held at its worst moment
EOF
"$BMTRACE" help | section DESCRIPTION
"$BMTRACE" help report | section "BMTRACE REPORT"
"$BMTRACE" help diff | section "BMTRACE DIFF"
"$BMTRACE" help serve | section "BMTRACE SERVE"
cat <<'EOF'
.SH FILES
Every report is written to a temporary file beside its path, then renamed over it.
.SH SEE ALSO
The README of bmtrace, for what is measured and how.
EOF
