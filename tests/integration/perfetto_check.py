#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""perfetto_check TRACE.json RESULT.json - is TRACE (bmtrace --perfetto) a trace that
Perfetto and chrome://tracing read, and does it tell what RESULT (--json of the same run)
says?

1. Schema: the Trace Event Format's JSON object form (a "traceEvents" array of events with
   name, ph, pid, tid; ts in microseconds on counters and instants; metadata, counter and
   instant events only), checked with jsonschema.
2. What it says: every process with a track is named (process_name); the tree total's
   track peaks at RESULT's peak.bytes at its peak.time_s; each process at the peak has a
   track reaching its bytes at the peak and none passes the tree's peak; each process that
   exited has an exit instant and a track that ends at 0 B; each exec has an instant.
Prints one line per check; exits 1 on the first failure.
"""
import json
import sys

import jsonschema

REUSE = 1 << 22  # perfetto.c's PID_REUSE_STEP: a reused pid's next track

SCHEMA = {
    'type': 'object',
    'required': ['traceEvents'],
    'properties': {
        'displayTimeUnit': {'enum': ['ms', 'ns']},
        'traceEvents': {'type': 'array', 'items': {'$ref': '#/$defs/event'}},
    },
    '$defs': {
        'id': {'type': 'integer', 'minimum': 0},
        'event': {
            'type': 'object',
            'required': ['name', 'ph', 'pid', 'tid'],
            'properties': {
                'name': {'type': 'string', 'minLength': 1},
                'ph': {'enum': ['M', 'C', 'i']},
                'pid': {'$ref': '#/$defs/id'},
                'tid': {'$ref': '#/$defs/id'},
                'ts': {'type': 'number', 'minimum': 0},
                's': {'enum': ['g', 'p', 't']},
                'args': {'type': 'object'},
            },
            'allOf': [
                {'if': {'properties': {'ph': {'const': 'M'}}},
                 'then': {'required': ['args'], 'properties': {
                     'name': {'enum': ['process_name', 'process_sort_index']},
                     'args': {'minProperties': 1, 'maxProperties': 1}}}},
                {'if': {'properties': {'ph': {'const': 'C'}}},
                 'then': {'required': ['ts', 'args'], 'properties': {'args': {
                     'minProperties': 1,
                     'additionalProperties': {'type': 'integer', 'minimum': 0}}}}},
                {'if': {'properties': {'ph': {'const': 'i'}}},
                 'then': {'required': ['ts', 's']}},
            ],
        },
    },
}


def need(ok, what):
    if not ok:
        print(f'perfetto_check: FAIL: {what}')
        sys.exit(1)


def main():
    trace = json.load(open(sys.argv[1], encoding='utf-8'))
    result = json.load(open(sys.argv[2], encoding='utf-8'))
    try:
        jsonschema.validate(trace, SCHEMA)
    except jsonschema.ValidationError as e:
        need(False, f'schema: {e.message} at {list(e.absolute_path)}')
    ev = trace['traceEvents']
    print(f'perfetto_check: ok: {len(ev)} events valid against the trace event schema')

    names = {e['pid']: e['args']['name'] for e in ev if e['name'] == 'process_name'}
    tracks = {}
    for e in ev:
        if e['ph'] == 'C':
            tracks.setdefault(e['pid'], []).append(e)
    need(all(pid in names for pid in tracks), 'a track of an unnamed process')
    need(names.get(0) == 'tree total' and 0 in tracks, 'no tree total track')
    print(f'perfetto_check: ok: {len(tracks) - 1} process tracks and the tree total, all named')

    peak, peak_us = result['peak']['bytes'], result['peak']['time_s'] * 1e6
    total = max(tracks[0], key=lambda e: e['args']['total'])
    need(total['args']['total'] == peak and abs(total['ts'] - peak_us) < 1,
         f'the tree total peaks at {total["args"]["total"]} B at {total["ts"]} us, the '
         f'result at {peak} B at {peak_us} us')
    print(f'perfetto_check: ok: the tree total peaks at {peak} B at {peak_us:.3f} us, as '
          f'the result')
    for p in result['peak']['processes']:
        # a reused pid's later processes have tracks of their own: pid + n * 2^22
        ids = [i for i in tracks if i % REUSE == p['pid'] and
               names[i].split(' (pid ')[0] == p['comm']]
        top = max((e['args']['bytes'] for i in ids for e in tracks[i]), default=0)
        need(top >= p['bytes'], f'pid {p["pid"]} ({p["comm"]}): no track of that name reaches '
             f'the {p["bytes"]} B it held at the peak')
    need(all(e['args']['bytes'] <= peak for pid, t in tracks.items() if pid for e in t),
         'a process above the tree peak')
    print(f'perfetto_check: ok: the {len(result["peak"]["processes"])} processes at the '
          f'peak reach their bytes at it, named by their command; none above the tree')

    exits = {e['pid'] for e in ev if e['ph'] == 'i' and e['name'] == 'exit'}
    execs = [e for e in ev if e['ph'] == 'i' and e['name'].startswith('exec ')]
    alive = {p['pid'] for p in result.get('still_running', [])}
    need(len(exits) == result['processes_total'] - len(alive),
         f'{len(exits)} exit instants, {result["processes_total"]} processes')
    for pid in exits & set(tracks):
        last = max(tracks[pid], key=lambda e: e['ts'])
        need(last['args']['bytes'] == 0, f'pid {pid} exited, its track ends at '
             f'{last["args"]["bytes"]} B')
    need(execs, 'no exec instant')
    print(f'perfetto_check: ok: {len(exits)} exit instants (every track of an exited '
          f'process ends at 0 B), {len(execs)} exec instants')


if __name__ == '__main__':
    main()
