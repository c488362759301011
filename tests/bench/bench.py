#!/usr/bin/python3
"""Runs the benchmark's suites with cst and its peers and reports the figures.

Usage: bench.py --cst BIN --suites DIR --work DIR --json FILE [--runs N]

The suites (DIR/NAME.yaml and NAME.plan) come from gen_suites.py.  Every
suite runs --runs times per tool, the tools taking turns so that a change in
the machine's load hits them alike.  Each run is measured from outside: wall
time here; CPU time and peak RSS from wait4() of the child, as GNU time -v
gets them (for a script: all its processes' CPU, its largest process's
RSS); the containers it created from the engine's events (type=container,
event=create).

Environment: CST_UPSTREAM_BIN (or container-structure-test on PATH) adds
Google's container-structure-test as a peer; BENCH_PEER_BIG=1 runs the
docker CLI peer on the big suite (once: it takes minutes); BENCH_PEER_RUNS
sets the docker CLI peer's runs (default: --runs); BENCH_SUITES=a,b runs
only those suites.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BASE = 'cst-bench/debian:12'
LAYERS = 'cst-bench/debian-layers:12'
LABEL = 'dev.cst.bench.source'  # set on both images by testdata/images/debian/build.sh
SUITES = ['files', 'commands', 'mixed', 'dir', 'big']
FILE_SUITES = ['files', 'dir', 'big']  # what the tar driver can run: no commands

# container-structure-test on a Debian 12 minbase image, from the issue that
# set the targets.  Not measured here.  "derived" figures are the per-test
# cost times the number of tests.
REFERENCE = {
    'files': {'wall_s': 5.0, 'rss_mib': 33},
    'commands': {'wall_s': 2.9, 'rss_mib': 33},
    'mixed': {'wall_s': 8.5, 'rss_mib': 33},
    'big': {'wall_s': 1000 * 0.098, 'rss_mib': 33, 'derived': True},
}
REFERENCE_PER_FILE_TEST_S = 0.098
REFERENCE_PER_COMMAND_TEST_S = 0.290

EXPORT_SH = 'c=$(docker create "$1") && docker export "$c" >/dev/null; s=$?; docker rm "$c" >/dev/null; exit $s'

TARGETS_RATIO = {'files': 30.0, 'commands': 2.5, 'mixed': 8.0}
TARGET_DIR_OWN_S = 0.050
TARGET_BIG_OVER_FILES = 2.0
TARGET_RSS_MIB = 16.0


def log(msg):
    print(f'bench: {msg}', file=sys.stderr, flush=True)


def docker_out(*args):
    return subprocess.run(['docker', *args], check=True, capture_output=True, text=True).stdout.strip()


class Events:
    """Container-create events of the whole benchmark, from one `docker
    events` stream: the engine keeps only its last 256 events for a later
    --since/--until query, fewer than one docker CLI run causes.

    Other users of the engine may create containers meanwhile.  Only the
    benchmark's are counted: a container's event carries its image's labels,
    and the benchmark's images, and images committed from them by setup
    commands, carry LABEL.  cst labels its containers with its process ID,
    which tells the measured cst from others using the same images."""

    def __init__(self):
        self.seen = []
        self.proc = subprocess.Popen(
            ['docker', 'events', '--since', f'{time.time():.9f}', '--filter', 'type=container',
             '--filter', 'event=create', '--filter', 'label=' + LABEL,
             '--format', '{{.TimeNano}} {{index .Actor.Attributes "dev.cst.pid"}}'],
            stdout=subprocess.PIPE, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            ns, _, pid = line.strip().partition(' ')
            if ns.isdigit():
                self.seen.append((int(ns), pid))

    def stop(self):
        time.sleep(0.5)  # the last events on their way
        self.proc.terminate()
        self.proc.wait()
        self.reader.join(timeout=5)

    def count(self, since_ns, until_ns, pid):
        return sum(1 for ns, who in self.seen
                   if since_ns <= ns <= until_ns and who in ('', '<no value>', str(pid)))


def run_once(argv):
    """One measured run.  Peak RSS and CPU time come from wait4(), as
    /usr/bin/time -v gets them: for a script, they are those of its largest
    process and the sum of all its processes."""
    with tempfile.TemporaryFile() as err:
        since = time.time_ns()
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        until = time.time_ns()
        p.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode(errors='replace')
    # "containers" is filled in from the events once every run is over.
    r = {'wall_s': round(wall, 4), 'cpu_s': round(ru.ru_utime + ru.ru_stime, 3), 'rss_kib': ru.ru_maxrss,
         'exit': p.returncode, 'window_ns': [since, until], 'pid': p.pid}
    if p.returncode != 0:
        r['stderr'] = (stderr.strip().splitlines() or [''])[-3:]
    return r


def failing_tests(argv):
    """Names of the failing tests of a cst or CST run, from its JSON report."""
    argv = [a for a in argv if a != '-q'] + ['-o', 'json']
    p = subprocess.run(argv, capture_output=True, text=True)
    try:
        report = json.loads(p.stdout)
    except json.JSONDecodeError:
        return [(p.stderr.strip().splitlines() or ['no report'])[-1]]
    return [f'{r.get("Name")}: {"; ".join(r.get("Errors") or [])}'
            for r in report.get('Results', []) if not r.get('Pass')][:5]


class Row:
    def __init__(self, suite, tool, image, argv, runs, note=None):
        self.suite, self.tool, self.image, self.argv = suite, tool, image, argv
        self.want_runs, self.runs, self.note = runs, [], note
        self.failures = []

    def summary(self):
        if not self.runs:
            return {'suite': self.suite, 'tool': self.tool, 'image': self.image, 'runs': [],
                    'skipped': self.note}
        walls = [r['wall_s'] for r in self.runs]
        d = {'suite': self.suite, 'tool': self.tool, 'image': self.image,
             'command': ' '.join(self.argv), 'runs': self.runs,
             'median_wall_s': round(statistics.median(walls), 4), 'min_wall_s': min(walls),
             'median_cpu_s': round(statistics.median(r['cpu_s'] for r in self.runs), 3),
             'peak_rss_kib': max(r['rss_kib'] for r in self.runs),
             'containers': int(statistics.median(r['containers'] for r in self.runs)),
             'ok': all(r['exit'] == 0 for r in self.runs)}
        if self.failures:
            d['failures'] = self.failures
        if self.note:
            d['note'] = self.note
        return d


def upstream_bin():
    b = os.environ.get('CST_UPSTREAM_BIN') or shutil.which('container-structure-test')
    return b if b and os.access(b, os.X_OK) else None


def save_image(ref, path):
    """`docker save` of ref into path, redone only when the image changed."""
    image_id = docker_out('image', 'inspect', '-f', '{{.Id}}', ref)
    stamp = path + '.id'
    if os.path.exists(path) and os.path.exists(stamp) and open(stamp).read().strip() == image_id:
        return
    subprocess.run(['docker', 'save', '-o', path + '.tmp', ref], check=True)
    os.replace(path + '.tmp', path)
    with open(stamp, 'w') as f:
        f.write(image_id + '\n')


def build_rows(args, suites_dir, tars):
    runs = args.runs
    peer_runs = int(os.environ.get('BENCH_PEER_RUNS', runs))
    peer = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'docker-cli-peer.sh')
    upstream = upstream_bin()
    rows = []
    wanted = [x for x in os.environ.get('BENCH_SUITES', '').split(',') if x]
    for suite in SUITES:
        if wanted and suite not in wanted:
            continue
        y = os.path.join(suites_dir, suite + '.yaml')
        plan = os.path.join(suites_dir, suite + '.plan')
        if suite != 'big' or os.environ.get('BENCH_PEER_BIG') == '1':
            rows.append(Row(suite, 'docker CLI', BASE, ['bash', peer, BASE, plan],
                            1 if suite == 'big' else peer_runs))
        else:
            rows.append(Row(suite, 'docker CLI', BASE, [], 0,
                            'skipped: one container per file test, minutes per run (BENCH_PEER_BIG=1 runs it once)'))
        if upstream:
            rows.append(Row(suite, 'CST', BASE, [upstream, 'test', '--image', BASE, '--config', y, '-q'],
                            1 if suite == 'big' else runs))
        rows.append(Row(suite, 'cst docker', BASE, [args.cst, 'test', '--image', BASE, '--config', y, '-q'], runs))
        if suite == 'dir':
            # What the engine needs to hand over the file system the way
            # cst's docker driver reads it, for the dir target.
            rows.append(Row(suite, 'engine export', BASE, ['sh', '-c', EXPORT_SH, 'export', BASE], runs,
                            'docker create + docker export > /dev/null + docker rm'))
        if suite in FILE_SUITES:
            rows.append(Row(suite, 'cst tar', BASE,
                            [args.cst, 'test', '--driver', 'tar', '--image', tars[BASE], '--config', y, '-q'], runs))
        if suite in ('files', 'big'):
            rows.append(Row(suite, 'cst docker', LAYERS,
                            [args.cst, 'test', '--image', LAYERS, '--config', y, '-q'], runs))
            rows.append(Row(suite, 'cst tar', LAYERS,
                            [args.cst, 'test', '--driver', 'tar', '--image', tars[LAYERS], '--config', y, '-q'],
                            runs))
    return rows, upstream


def run_rows(rows):
    for suite in SUITES:
        mine = [r for r in rows if r.suite == suite and r.want_runs]
        if not mine:
            continue
        log(f'suite {suite}: ' + ', '.join(f'{r.tool} ({r.image}) x{r.want_runs}' for r in mine))
        # Take turns, so that load from elsewhere falls on every tool alike.
        for i in range(max((r.want_runs for r in mine), default=0)):
            for r in mine:
                if i < r.want_runs:
                    res = run_once(r.argv)
                    r.runs.append(res)
                    if res['exit'] != 0 and not r.failures and r.tool.lower().startswith('cst'):
                        r.failures = failing_tests(r.argv)
                    elif res['exit'] != 0 and not r.failures:
                        r.failures = res.get('stderr', [])


def ratio(a, b):
    return round(a / b, 2) if a and b else None


def add_ratios(results, upstream):
    def find(suite, tool, image=BASE):
        for r in results:
            if r['suite'] == suite and r['tool'] == tool and r['image'] == image and r.get('ok'):
                return r
        return None

    for r in results:
        if not r.get('ok') or not r['tool'].startswith('cst '):
            continue
        ratios = {}
        peer = find(r['suite'], 'docker CLI')
        if peer:
            ratios['docker CLI'] = ratio(peer['median_wall_s'], r['median_wall_s'])
        cst = find(r['suite'], 'CST') if upstream else None
        if cst:
            ratios['CST'] = ratio(cst['median_wall_s'], r['median_wall_s'])
        elif r['suite'] in REFERENCE:
            ratios['CST reference'] = ratio(REFERENCE[r['suite']]['wall_s'], r['median_wall_s'])
        r['faster_than'] = ratios


def targets(results, upstream):
    def find(suite, tool, image=BASE):
        for r in results:
            if r['suite'] == suite and r['tool'] == tool and r['image'] == image and r.get('ok'):
                return r
        return None

    out = []

    def add(what, against, value, limit, holds, unit=''):
        out.append({'target': what, 'against': against, 'value': value, 'limit': limit, 'unit': unit,
                    'holds': holds})

    for suite, need in TARGETS_RATIO.items():
        mine = find(suite, 'cst docker')
        if not mine:
            continue
        for against in ('docker CLI', 'CST' if upstream else 'CST reference'):
            v = mine['faster_than'].get(against)
            if v is not None:
                add(f'{suite}: cst docker >= {need:g}x faster', against, v, need, v >= need, 'x')
    d, export = find('dir', 'cst docker'), find('dir', 'engine export')
    if d and export:
        own = round(d['median_wall_s'] - export['median_wall_s'], 4)
        add('dir: cst wall time beyond the engine\'s export < 50 ms', 'docker create + export + rm',
            own, TARGET_DIR_OWN_S, own < TARGET_DIR_OWN_S, 's')
        add('dir: cst CPU time (user+sys) < 50 ms', 'cst alone', d['median_cpu_s'], TARGET_DIR_OWN_S,
            d['median_cpu_s'] < TARGET_DIR_OWN_S, 's')
    for tool in ('cst docker', 'cst tar'):
        for image in (BASE, LAYERS):
            b, f = find('big', tool, image), find('files', tool, image)
            if b and f:
                v = ratio(b['median_wall_s'], f['median_wall_s'])
                add(f'big < 2x files ({tool}, {image})', 'files suite', v, TARGET_BIG_OVER_FILES,
                    v < TARGET_BIG_OVER_FILES, 'x')
    for r in results:
        if r.get('ok') and r['tool'].startswith('cst '):
            mib = round(r['peak_rss_kib'] / 1024, 1)
            add(f'peak RSS <= 16 MiB ({r["suite"]}, {r["tool"]}, {r["image"]})', '-', mib, TARGET_RSS_MIB,
                mib <= TARGET_RSS_MIB, 'MiB')
    return out


def fmt_s(v):
    if v is None:
        return '-'
    return f'{v * 1000:.0f} ms' if v < 1 else f'{v:.2f} s'


def table(results, reference_rows, tgts, upstream, runs, images, suites):
    head = ['suite', 'tool', 'image', 'runs', 'median', 'min', 'cpu', 'peak RSS', 'containers', 'ok',
            'cst is faster than']
    lines = []
    for r in results + reference_rows:
        img = r['image'].replace('cst-bench/', '')
        if r.get('reference'):
            lines.append([r['suite'], r['tool'], img, '-', ('~' if r.get('derived') else '') + fmt_s(r['median_wall_s']),
                          '-', '-', f'{r["rss_mib"]} MiB', '-', '-', ''])
            continue
        if not r.get('runs'):
            lines.append([r['suite'], r['tool'], img, '0', '-', '-', '-', '-', '-', '-', r.get('skipped', '')])
            continue
        fast = '  '.join(f'{k}: {v:g}x' for k, v in r.get('faster_than', {}).items() if v is not None)
        lines.append([r['suite'], r['tool'], img, str(len(r['runs'])), fmt_s(r['median_wall_s']),
                      fmt_s(r['min_wall_s']), fmt_s(r['median_cpu_s']), f'{r["peak_rss_kib"] / 1024:.1f} MiB',
                      str(r['containers']), 'yes' if r['ok'] else 'NO', fast])
    order = {s: i for i, s in enumerate(SUITES)}
    lines.sort(key=lambda l: order[l[0]])
    widths = [max(len(x) for x in col) for col in zip(head, *lines)]
    p = print
    load = ' '.join(f'{x:.1f}' for x in os.getloadavg())
    p(f'cst benchmark: {runs} runs per suite and tool (medians), {os.cpu_count()} CPUs, load average now {load}')
    for ref, im in images.items():
        p(f'image {ref}: {im["size_bytes"] / 1e6:.0f} MB, {im["layers"]} layer(s), {im["entries"]} entries')
    p('suites (tests): ' + ', '.join(f'{k} {v["tests"]}' for k, v in suites['suites'].items())
      + f'; from the {suites["common_entries"]} entries both images share')
    p('"engine export": docker create + docker export > /dev/null + docker rm, what the docker driver waits for')
    p('')
    p('  '.join(h.ljust(w) for h, w in zip(head, widths)).rstrip())
    p('  '.join('-' * w for w in widths))
    prev = None
    for l in lines:
        if prev is not None and l[0] != prev:
            p('')
        prev = l[0]
        p('  '.join(x.ljust(w) for x, w in zip(l, widths)).rstrip())
    p('')
    if not upstream:
        p('CST (reference, not measured): figures from the issue for container-structure-test on a')
        p('Debian 12 minbase image on another machine; "~" marks one derived as 98 ms per file test.')
        p('Ratios against them ("CST reference") are indications, not same-run measurements.')
        p('container-structure-test was not found (CST_UPSTREAM_BIN, or on PATH): no CST row measured.')
        p('')
    per = peer_per_container(results)
    if per:
        p('docker CLI peer per container: ' + ', '.join(
            f'{k} {fmt_s(v["peer_s_per_container"])} (CST reference {fmt_s(v["cst_reference_s_per_test"])})'
            for k, v in per.items()))
        if not upstream and any(v['peer_s_per_container'] > v['cst_reference_s_per_test'] for v in per.values()):
            p('  here the peer is slower per container than the CST reference was, so "faster than docker CLI"')
            p('  ratios flatter cst compared with CST on a machine like this one.')
        p('')
    p('Targets:')
    for t in tgts:
        v = f'{t["value"]:g}{t["unit"]}' if t['unit'] != 's' else fmt_s(t['value'])
        lim = f'{t["limit"]:g}{t["unit"]}' if t['unit'] != 's' else fmt_s(t['limit'])
        p(f'  {"holds " if t["holds"] else "MISSED"}  {t["target"]}: {v} (limit {lim}; against {t["against"]})')
    failed = [r for r in results if r.get('runs') and not r['ok']]
    if failed:
        p('  (rows whose runs failed have no ratios and are left out of the targets)')
    for r in failed:
        p(f'note: {r["tool"]} on {r["suite"]} ({r["image"]}) failed: ' + ' | '.join(r.get('failures') or ['?']))


def peer_per_container(results):
    """The docker CLI peer's cost per container, to set against CST's."""
    out = {}
    for suite, per_test in (('files', REFERENCE_PER_FILE_TEST_S), ('commands', REFERENCE_PER_COMMAND_TEST_S)):
        r = next((x for x in results if x['suite'] == suite and x['tool'] == 'docker CLI' and x.get('ok')), None)
        if r and r['containers']:
            out[suite] = {'peer_s_per_container': round(r['median_wall_s'] / r['containers'], 4),
                          'cst_reference_s_per_test': per_test}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--cst', required=True)
    ap.add_argument('--suites', required=True)
    ap.add_argument('--work', required=True)
    ap.add_argument('--json', required=True)
    ap.add_argument('--runs', type=int, default=int(os.environ.get('BENCH_RUNS', 3)))
    args = ap.parse_args()
    if not os.access(args.cst, os.X_OK):
        sys.exit(f'bench: {args.cst} is not an executable')
    os.makedirs(args.work, exist_ok=True)
    tars = {BASE: os.path.join(args.work, 'debian-12.tar'), LAYERS: os.path.join(args.work, 'debian-layers-12.tar')}
    for ref, path in tars.items():
        save_image(ref, path)
    with open(os.path.join(args.suites, 'suites.json')) as f:
        suites = json.load(f)
    images = {}
    for ref in (BASE, LAYERS):
        info = json.loads(docker_out('image', 'inspect', ref))[0]
        images[ref] = {'id': info['Id'], 'size_bytes': info['Size'], 'layers': len(info['RootFS']['Layers']),
                       'entries': suites['entries'].get(ref)}
    engine = docker_out('version', '-f', '{{.Server.Version}}')
    rows, upstream = build_rows(args, args.suites, tars)
    started = time.time()
    load_before = os.getloadavg()
    events = Events()
    try:
        run_rows(rows)
    finally:
        events.stop()
    for r in rows:
        for run in r.runs:
            run['containers'] = events.count(*run.pop('window_ns'), run.pop('pid'))
    results = [r.summary() for r in rows]
    add_ratios(results, upstream)
    reference_rows = []
    if not upstream:
        ran = {r['suite'] for r in results}
        for suite, ref in REFERENCE.items():
            if suite not in ran:
                continue
            reference_rows.append({'suite': suite, 'tool': 'CST (reference, not measured)', 'image': BASE,
                                   'reference': True, 'median_wall_s': ref['wall_s'], 'rss_mib': ref['rss_mib'],
                                   'derived': ref.get('derived', False)})
    tgts = targets(results, upstream)
    table(results, reference_rows, tgts, upstream, args.runs, images, suites)
    doc = {
        'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'machine': {'cpus': os.cpu_count(), 'kernel': platform.release(), 'load_avg_before': load_before,
                    'load_avg_after': os.getloadavg(),
                    'engine': engine},
        'runs_per_suite': args.runs, 'duration_s': round(time.time() - started, 1),
        'images': images, 'suites': suites['suites'],
        'results': results,
        'cst_reference': None if upstream else {
            'note': 'container-structure-test figures from the issue, measured elsewhere; not this run',
            'suites': REFERENCE, 'per_file_test_s': REFERENCE_PER_FILE_TEST_S,
            'per_command_test_s': REFERENCE_PER_COMMAND_TEST_S},
        'upstream_cst': upstream,
        'docker_cli_peer_per_container': peer_per_container(results),
        'targets': tgts,
    }
    tmp = args.json + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(doc, f, indent=2)
        f.write('\n')
    os.replace(tmp, args.json)
    print(f'\nfigures as JSON: {args.json}')
    # Missed targets are figures to read; a run that failed is an error.
    return 1 if any(r.get('runs') and not r['ok'] for r in results) else 0


if __name__ == '__main__':
    sys.exit(main())
