#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""hostile_check - the parsers behind hostile_e2e.sh: one report, one check.

    python3 hostile_check.py KIND SPEC FILE [RUN.json | COMMAND...]

KIND is json, csv, text, md, html (cmark-gfm's rendering of the Markdown), svg or prom.
SPEC is the directory hostile_e2e.sh wrote: what was run, byte for byte (each *.argv and
stages file holds NUL-terminated strings; root.* is the traced command, N.* the N-th
hostile process, N.pid its pid). csv, text, md, html and svg also read the run's JSON
(the root's pid, the stages' order); prom takes the commands that must hold memory in it.
It prints one line: what was checked, or why it failed (exit 1).

What each format must show of a name or argument (README, "Reports"):
  JSON        the exact bytes, each byte of invalid UTF-8 replaced with U+FFFD;
  CSV, prom   the same, and every control character but the newline replaced too;
  the rest    escape.c's visible form: \\\\, \\n, \\t, \\r, \\xNN (a control byte or a byte
              of invalid UTF-8), \\uNNNN (C1, bidi and line controls), cut with "…";
              then the format's own escaping (XML entities, Markdown backslashes).
unvis() reads the visible form back, so each check compares bytes with what was run.
"""
import csv
import html.parser
import io
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

ARGV_MAX = 8192  # bpf/bmtrace.h BMT_ARGV_MAX: argv bytes kept per exec


class Bad(Exception):
    pass


def need(cond, msg):
    if not cond:
        raise Bad(msg)


# ---- what was run ----

def strs(path):
    with open(path, 'rb') as f:
        data = f.read()
    need(data.endswith(b'\0'), f'{path}: not NUL-terminated')
    return data[:-1].split(b'\0')


class Spec:
    def __init__(self, d):
        self.stages = strs(os.path.join(d, 'stages'))  # the rules' names, then the default
        self.root_argv = strs(os.path.join(d, 'root.argv'))
        self.procs = {}  # pid -> {name, argv (as the kernel gave it), stage}
        i = 0
        while os.path.exists(os.path.join(d, f'{i}.argv')):
            with open(os.path.join(d, f'{i}.pid')) as f:
                pid = int(f.read().split()[0])
            self.procs[pid] = self.proc(d, str(i))
            i += 1
        self.names = {p['name'] for p in self.procs.values()}

    @staticmethod
    def proc(d, key):
        def one(ext):
            return strs(os.path.join(d, f'{key}.{ext}'))[0]
        return {'name': one('name'), 'stage': one('stage'), 'argv': kept(strs(
            os.path.join(d, f'{key}.argv')))}

    def root(self, pid):
        """The traced command's process, once its pid is known (from the JSON)."""
        self.procs[pid] = {'name': self.root_argv[0].rsplit(b'/', 1)[-1],
                           'stage': self.stages[-1], 'argv': kept(self.root_argv)}
        self.names.add(self.procs[pid]['name'])


def kept(argv):
    """argv as bmtrace keeps it from an exec: its first ARGV_MAX bytes, NULs included."""
    data = b''.join(a + b'\0' for a in argv)[:ARGV_MAX]
    out = data.split(b'\0')
    return out[:-1] if data.endswith(b'\0') else out


# ---- the documented transformations ----

def is_control(cp):
    """escape.c's is_control(): C0, DEL, C1, bidi and line controls."""
    return (cp < 0x20 or 0x7f <= cp <= 0x9f or 0x200e <= cp <= 0x200f or
            0x2028 <= cp <= 0x202e or 0x2066 <= cp <= 0x2069)


def clean(b, controls=False):
    """util_utf8_clean(): U+FFFD for each byte of invalid UTF-8, and with controls, for each
    C0 control but the newline, DEL and C1 control."""
    out, i = [], 0
    while i < len(b):
        c = b[i]
        n = (1 if c < 0x80 else 2 if 0xc2 <= c <= 0xdf else 3 if c & 0xf0 == 0xe0 else
             4 if 0xf0 <= c <= 0xf4 else 0)
        try:
            ch = b[i:i + n].decode('utf-8') if n else ''
        except UnicodeDecodeError:
            ch = ''
        if len(ch) != 1:
            out.append('\ufffd')
            i += 1
            continue
        cp = ord(ch)
        bad = (cp < 0x20 and cp != 0x0a) or 0x7f <= cp <= 0x9f
        out.append('\ufffd' if controls and bad else ch)
        i += n
    return ''.join(out)


def unvis(s):
    """The bytes behind escape.c's visible form; Bad on a raw control or a bare backslash."""
    out, i = bytearray(), 0
    while i < len(s):
        c = s[i]
        if c == '\\':
            e = s[i + 1:i + 2]
            if e == '\\':
                out += b'\\'
                i += 2
            elif e in ('n', 't', 'r') and e:
                out += {'n': b'\n', 't': b'\t', 'r': b'\r'}[e]
                i += 2
            elif e == 'x' and re.fullmatch(r'[0-9a-f]{2}', s[i + 2:i + 4]):
                out.append(int(s[i + 2:i + 4], 16))
                i += 4
            elif e == 'u' and re.fullmatch(r'[0-9a-f]{4}', s[i + 2:i + 6]):
                out += chr(int(s[i + 2:i + 6], 16)).encode()
                i += 6
            else:
                raise Bad(f'a bare backslash in {s!r}: the visible form is ambiguous')
        elif is_control(ord(c)):
            raise Bad(f'raw control U+{ord(c):04X} in {s!r}')
        else:
            out += c.encode()
            i += 1
    return bytes(out)


def shows(cell, want, what):
    """cell, a visible form (cut with "…" or whole), reads back as the bytes want."""
    if cell.endswith('…'):
        got = unvis(cell[:-1])
        need(want.startswith(got) and len(want) > len(got),
             f'{what}: {cell!r} is not a cut of {want!r}')
    else:
        got = unvis(cell)
        need(got == want, f'{what}: {cell!r} reads back as {got!r}, not {want!r}')


def argv_bytes(argv):
    return b' '.join(argv)


def no_raw_controls(data, what):
    """Valid UTF-8 with no control character but the line end: nothing a terminal acts on."""
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as e:
        raise Bad(f'{what} is not UTF-8: {e}')
    for ch in text:
        if is_control(ord(ch)) and ch != '\n':
            raise Bad(f'{what} holds a raw U+{ord(ch):04X}')
    return text


def read(path):
    with open(path, 'rb') as f:
        return f.read()


# ---- JSON ----

def check_json(spec, path):
    r = json.loads(read(path).decode('utf-8'))
    need(r['command'] == [clean(a) for a in spec.root_argv],
         'command is not the exact command line')
    big = max(len(a) for a in spec.root_argv)
    procs = r['peak']['processes']
    roots = [p for p in procs if p['pid'] not in spec.procs]
    need(len(roots) == 1, f'{len(roots)} processes at the peak that were not started here')
    spec.root(roots[0]['pid'])
    need(len(procs) == len(spec.procs),
         f'{len(procs)} processes at the peak, {len(spec.procs)} ran')
    cut = 0
    for p in procs:
        want = spec.procs[p['pid']]
        need(p['comm'] == clean(want['name']),
             f'pid {p["pid"]}: comm {p["comm"]!r}, not {clean(want["name"])!r}')
        need(p['stage'] == clean(want['stage']),
             f'pid {p["pid"]}: stage {p["stage"]!r}, not {clean(want["stage"])!r}')
        need(p['argv'] == [clean(a) for a in want['argv']],
             f'pid {p["pid"]}: argv is not what was run (first {ARGV_MAX} bytes)')
        cut += sum(len(a) + 1 for a in want['argv']) - 1 == ARGV_MAX
    need(cut >= 2, f'{cut} argvs cut at {ARGV_MAX} bytes: the long argument did not reach it')
    stages = [s['name'] for s in r['stages']]
    need(sorted(stages) == sorted(clean(s) for s in spec.stages),
         f'stages {stages!r}')
    cmds = {c['name'] for c in r['commands']}
    need(cmds == {clean(n) for n in spec.names}, f'commands {sorted(cmds)!r}')
    need(r['budget']['dominant_command']['name'] in cmds, 'the dominant command is unknown')
    return (f'{len(procs)} processes: comm, stage and argv exact (U+FFFD per invalid byte); '
            f'the {big} B argument whole in "command", exec argv cut at {ARGV_MAX} B ({cut}x)')


# ---- CSV ----

def check_csv(spec, path, json_path):
    text = no_raw_controls(read(path), 'the CSV')
    r = json.loads(read(json_path).decode('utf-8'))
    rows = list(csv.reader(io.StringIO(text, newline=''), strict=True))
    width = 3 + len(r['stages'])
    need(rows and all(len(row) == width for row in rows),
         f'rows of {sorted({len(row) for row in rows})} fields, {width} expected')
    need(rows[0][:3] == ['time_s', 'tree_bytes', 'anon_bytes'], f'header {rows[0][:3]!r}')
    by_json = {clean(s): clean(s, True) for s in spec.stages}
    want = [by_json[s['name']] for s in r['stages']]
    need(rows[0][3:] == want, f'header names the stages {rows[0][3:]!r}, not {want!r}')
    peak = max(int(row[1]) for row in rows[1:])
    need(peak == r['peak']['bytes'], f'largest tree_bytes {peak}, JSON peak {r["peak"]["bytes"]}')
    return f'{len(rows)} rows of {width} fields (RFC 4180), header {rows[0][3:]!r}'


# ---- the text summary ----

SECTION = re.compile(r'^  \S.*:$')


def sections(text):
    out, cur = {}, None
    for line in text.split('\n')[:-1]:
        if SECTION.match(line):
            cur = out.setdefault(line.strip().split(',')[0].rstrip(':'), [])
        elif not line.startswith('    '):  # the budget's lines, after the tables
            cur = None
        elif cur is not None:
            cur.append(line)
    return out


def check_text(spec, path, json_path):
    text = no_raw_controls(read(path), 'the summary')
    r = json.loads(read(json_path).decode('utf-8'))
    spec.root([p['pid'] for p in r['peak']['processes'] if p['pid'] not in spec.procs][0])
    for line in text.split('\n'):
        need(len(line) <= 100, f'a line of {len(line)} columns: {line!r}')
    need(text.startswith('bmtrace: '), 'no title line')
    shows(text.split('\n')[0].removeprefix('bmtrace: '), argv_bytes(spec.root_argv), 'title')
    sec = sections(text)
    head, rows = sec['at the peak'][0], sec['at the peak'][1:]
    need(len(rows) == min(20, len(r['peak']['processes'])),
         f'{len(rows)} lines at the peak, {len(r["peak"]["processes"])} processes')
    wc = head.index('STAGE') - 15
    ws = head.index('BYTES') - 7 - 15 - wc
    for row in rows:
        m = re.match(r'^    ( {0,6}\d+)  ', row)
        need(m and row[13 + wc:15 + wc] == '  ' and row[15 + wc + ws:17 + wc + ws] == '  ',
             f'a row out of its columns: {row!r}')
        want = spec.procs[int(m.group(1))]
        shows(row[13:13 + wc].rstrip(' '), want['name'], 'command')
        shows(row[15 + wc:15 + wc + ws].rstrip(' '), want['stage'], 'stage')
        shows(row[15 + wc + ws + 22:], argv_bytes(want['argv']), 'args')
    for key, first in (('stages', 'AT PEAK'), ('commands', 'AT PEAK'), ('sizing', 'LARGEST')):
        head, rows = sec[key][0], sec[key][1:]
        w = head.index('     ' + first) - 4  # the name column: INDENT, then %-*s
        total = len(r['stages']) if key == 'stages' else len(r['commands'])
        n = total if key == 'stages' else min(10, total)
        if rows and rows[-1] == f'    … {total - n} more commands' and key == 'commands':
            rows = rows[:-1]
        need(len(rows) == n, f'{len(rows)} lines of {key}, {n} expected: {rows!r}')
        pool = spec.stages if key == 'stages' else spec.names
        for row in rows:
            cell = row[4:4 + w].rstrip(' ')
            ok = [n for n in pool if not shows_err(cell, n)]
            need(ok, f'{key}: {cell!r} reads back as none of the names run')
    dom = re.search(r'^  dominant        (.*) holds ', text, re.M)
    need(dom, 'no dominant command')
    shows(dom.group(1), dominant(spec, r), 'the dominant command')
    need(b'\x1b' not in text.encode(), 'an ESC byte')
    return (f'one line per row ({len(sec["at the peak"]) - 1} at the peak, '
            f'{min(10, len(r["commands"]))} of {len(r["commands"])} commands), the command line and every name read '
            f'back exactly, no raw control, lines <= 100 columns')


def dominant(spec, r):
    """The bytes of the name of the command that held the most at the peak (JSON)."""
    by_clean = {clean(n): n for n in spec.names}
    return by_clean[r['budget']['dominant_command']['name']]


def shows_err(cell, want):
    try:
        shows(cell, want, 'name')
        return None
    except Bad as e:
        return str(e)


# ---- Markdown ----

PUNCT = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'


def md_unescape(s):
    """CommonMark backslash escapes: a backslash before ASCII punctuation is dropped."""
    return re.sub(r'\\([' + re.escape(PUNCT) + '])', r'\1', s)


def cells(line):
    """A GFM table row's cells: a pipe ends a cell unless a backslash is just before it."""
    parts = re.split(r'(?<!\\)\|', line)
    return [c[1:-1] if c.startswith(' ') and c.endswith(' ') else c for c in parts[1:-1]]


def code_text(span, in_table=True):
    """A code span's content as GFM shows it: in a table cell, without the backslash of \\|."""
    m = re.fullmatch(r'(`+)(.*?)\1', span)
    need(m, f'not a code span: {span!r}')
    body = m.group(2)
    if body.startswith(' ') and body.endswith(' ') and body.strip(' '):
        body = body[1:-1]
    return body.replace('\\|', '|') if in_table else body


def strip_code(line):
    return re.sub(r'(`+)(.*?)\1', '', line)


def tables(lines):
    out, cur = [], None
    for line in lines:
        if line.startswith('|'):
            if cur is None:
                cur = []
                out.append(cur)
            cur.append(line)
        else:
            cur = None
    return out


def check_md(spec, path, json_path):
    text = no_raw_controls(read(path), 'the Markdown')
    r = json.loads(read(json_path).decode('utf-8'))
    spec.root([p['pid'] for p in r['peak']['processes'] if p['pid'] not in spec.procs][0])
    lines = text.split('\n')
    for n, line in enumerate(lines, 1):
        m = re.search(r'(?<!\\)[<&]', strip_code(line))
        need(not m, f'line {n}: a raw {m.group(0) if m else ""!r} outside code: {line!r}')
    found = tables(lines)
    need(len(found) == 3, f'{len(found)} tables, 3 expected (peak, stages, commands)')
    for t in found:
        n = len(cells(t[0]))
        need(len(t) > 1 and re.fullmatch(r'(\|:?-+:?)+\|', t[1]), f'no delimiter row: {t!r}')
        for row in t[:1] + t[2:]:
            need(row.startswith('| ') and row.endswith(' |'), f'a row broken: {row!r}')
        for row in t:
            need(len(cells(row)) == n, f'{len(cells(row))} cells, the header {n}: {row!r}')
    peak, stages, cmds = found
    for row in peak[2:]:
        c = cells(row)
        want = spec.procs[int(c[0])]
        shows(md_unescape(c[1]), want['name'], 'command')
        shows(md_unescape(c[2]), want['stage'], 'stage')
        shows(code_text(c[5]), argv_bytes(want['argv']), 'arguments')
    need(len(peak) - 2 == min(10, len(r['peak']['processes'])), 'peak rows')
    for t, pool in ((stages, spec.stages), (cmds, spec.names)):
        for row in t[2:]:
            cell = md_unescape(cells(row)[0])
            need([n for n in pool if not shows_err(cell, n)], f'{cell!r} is no name run')
    dom = re.search(r'^Sizing: (.*) holds the most at the peak', text, re.M)
    need(dom, 'no Sizing line')
    shows(md_unescape(dom.group(1)), dominant(spec, r), 'the dominant command')
    head = re.fullmatch(r'### bmtrace: (`+.*`+)', lines[0])
    need(head, f'the title: {lines[0]!r}')
    shows(code_text(head.group(1), False), argv_bytes(spec.root_argv), 'the title')
    return (f'3 tables, every row one line with its header\'s {len(cells(peak[0]))}/'
            f'{len(cells(stages[0]))}/{len(cells(cmds[0]))} cells, no raw < or & outside '
            f'code, names and argv read back exactly')


class Html(html.parser.HTMLParser):
    ALLOWED = {'h3', 'h4', 'p', 'strong', 'br', 'code', 'table', 'thead', 'tbody', 'tr', 'th',
               'td', 'blockquote'}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.on, self.rows, self.cell = set(), [], [], None
        self.h3, self.in_h3 = '', False

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.on += [k for k, _ in attrs if k.lower().startswith('on')]
        if tag == 'tr':
            self.rows.append([])
        elif tag in ('td', 'th'):
            self.cell = ''
        elif tag == 'h3':
            self.in_h3 = True

    def handle_endtag(self, tag):
        if tag in ('td', 'th'):
            self.rows[-1].append(self.cell)
            self.cell = None
        elif tag == 'h3':
            self.in_h3 = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data
        elif self.in_h3:
            self.h3 += data


def check_html(spec, path, json_path):
    text = read(path).decode('utf-8')
    r = json.loads(read(json_path).decode('utf-8'))
    spec.root([p['pid'] for p in r['peak']['processes'] if p['pid'] not in spec.procs][0])
    h = Html()
    h.feed(text)
    h.close()
    need(h.tags <= Html.ALLOWED, f'elements {sorted(h.tags - Html.ALLOWED)} in the rendering')
    need(not h.on, f'attributes {h.on}')
    widths = {len(row) for row in h.rows}
    need(widths == {6, 5, 8}, f'rows of {sorted(widths)} cells; 6, 5 and 8 expected')
    peak = [row for row in h.rows if len(row) == 6][1:]
    for c in peak:
        want = spec.procs[int(c[0])]
        shows(c[1], want['name'], 'command')
        shows(c[2], want['stage'], 'stage')
        shows(c[5], argv_bytes(want['argv']), 'arguments')
    for n, pool in ((5, spec.stages), (8, spec.names)):
        for c in [row for row in h.rows if len(row) == n][1:]:
            need([x for x in pool if not shows_err(c[0], x)], f'{c[0]!r} is no name run')
    shows(h.h3.removeprefix('bmtrace: '), argv_bytes(spec.root_argv), 'the title')
    return (f'GitHub\'s renderer: only {sorted(h.tags)}, no on* attribute, {len(h.rows)} '
            f'rows of their header\'s cells, every name shown as run')


# ---- SVG ----

SVG = '{http://www.w3.org/2000/svg}'


def check_svg(spec, path, json_path):
    no_raw_controls(read(path), 'the SVG')
    r = json.loads(read(json_path).decode('utf-8'))
    spec.root([p['pid'] for p in r['peak']['processes'] if p['pid'] not in spec.procs][0])
    root = ET.parse(path).getroot()
    tags = {e.tag.removeprefix(SVG) for e in root.iter()}
    allowed = {'svg', 'title', 'rect', 'text', 'tspan', 'g', 'line', 'path', 'circle'}
    need(tags <= allowed, f'elements {sorted(tags - allowed)}')
    title = root.find(SVG + 'title').text
    need(title.startswith('bmtrace: '), f'title {title!r}')
    shows(title.removeprefix('bmtrace: '), argv_bytes(spec.root_argv), 'the title')
    labels = 0
    for t in root.iter(SVG + 'text'):
        span = t.find(SVG + 'tspan')
        m = span is not None and re.search(r'· pid (\d+)$', span.text or '')
        if m:
            shows(t.text, spec.procs[int(m.group(1))]['name'], 'the peak label')
            labels += 1
    need(labels == min(3, len(r['peak']['processes'])), f'{labels} processes in the label')
    legend = [g for g in root.iter(SVG + 'g') if (g.findtext(SVG + 'text') or '') == 'stages']
    need(len(legend) == 1, 'no legend')
    kids = list(legend[0])
    shown = [kids[i + 1].text for i, k in enumerate(kids)
             if k.tag == SVG + 'rect' and k.get('width') == '14']
    need(len(shown) == len(r['stages']), f'{len(shown)} stages in the legend')
    for cell in shown:
        need([s for s in spec.stages if not shows_err(cell, s)], f'{cell!r} is no stage')
    return (f'only {sorted(tags)}; the title, {labels} peak labels and {len(shown)} legend '
            f'stages read back exactly as text')


# ---- Prometheus ----

SAMPLE = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')


def labels(s):
    out, i = {}, 0
    while i < len(s):
        m = LABEL.match(s, i)
        need(m, f'labels {s!r}: not name="value" at {i}')
        out[m.group(1)] = re.sub(r'\\([\\"n])',
                                 lambda e: {'\\': '\\', '"': '"', 'n': '\n'}[e.group(1)],
                                 m.group(2))
        i = m.end()
    return out


def check_prom(spec, path, *opts):
    text = no_raw_controls(read(path), 'the exposition')
    stage, command = {}, {}
    for line in text.split('\n')[:-1]:
        if line.startswith('#'):
            continue
        m = SAMPLE.fullmatch(line)
        need(m, f'not a sample: {line!r}')
        lab = labels(m.group(2) or '')
        if 'stage' in lab:
            stage.setdefault(lab['stage'], int(m.group(3)))
        if 'command' in lab:
            command[lab['command']] = int(m.group(3))
    want = {clean(s, True) for s in spec.stages}
    need(set(stage) == want, f'stage labels {sorted(stage)!r}, not {sorted(want)!r}')
    # the root (a copy of bash) is a command too: its forked subshells can hold the most
    # together, so the final page's own peaks (bmtrace_command_rss_peak_bytes) may name it
    root = spec.root_argv[0].rsplit(b'/', 1)[-1]
    names = {clean(n, True) for n in spec.names | {root}} | {'other'}
    need(set(command) <= names, f'command labels {sorted(set(command) - names)!r} unknown')
    for o in opts:  # a command that must be there, holding memory
        need(command.get(o, 0) > 0, f'no command {o!r} with bytes')
    return (f'{len(stage)} stage and {len(command)} command labels read back as the names '
            f'run (U+FFFD for invalid bytes and controls)')


def main():
    kind, spec, path, *rest = sys.argv[1:]
    try:
        spec = Spec(spec)
        fn = {'json': check_json, 'csv': check_csv, 'text': check_text, 'md': check_md,
              'html': check_html, 'svg': check_svg, 'prom': check_prom}[kind]
        print(fn(spec, path, *rest))
    except (Bad, ET.ParseError, csv.Error, OSError, ValueError, KeyError, IndexError,
            AttributeError, TypeError) as e:
        print(f'{type(e).__name__}: {e}' if not isinstance(e, Bad) else str(e))
        sys.exit(1)


if __name__ == '__main__':
    main()
