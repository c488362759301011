#!/usr/bin/env python3
"""Differential suite: cst against recorded container-structure-test runs.

  compat.py check    run cst (CST_BIN) on every pair of `pairs`, compare each
                     result (name -> pass) and the exit status with the
                     goldens; TAP on standard output
  compat.py record   run container-structure-test (CST_REF_BIN) on every
                     pair and rewrite the goldens (regen.sh calls this)

A difference is allowed only by an entry of `allowed-differences` naming a
phrase of README's "Where cst deliberately differs from CST", or listed in
`known-divergences` (divergences being fixed, tagged with their issue 11
item).  An entry that no longer matches anything is an error too, so both
lists stay true.  COMPAT_ONLY='GLOB...' restricts a run to the pairs whose
id matches one of the globs (then stale entries are not reported).
COMPAT_CST_ARGS='ARG...' adds arguments to every cst run of `check`: the
suite runs once more with `--read-plan=paths`, so that the per-path reads
must give the export's verdicts, every one of them.
"""

import concurrent.futures
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.join(HERE, '..', '..', 'README.md')
README_SECTION = '## Where cst deliberately differs from CST'
IMAGES = {'compat': 'cst-test/compat:1', 'compat-entry': 'cst-test/compat-entry:1',
          'busybox': 'cst-test/busybox:1'}
DRIVERS = ('docker', 'tar')
RUN_TIMEOUT = 900


class Pair:
    def __init__(self, configs, image, driver, report):
        self.configs = configs
        self.image = image
        self.driver = driver
        self.report = report
        self.id = '%s@%s/%s%s' % (','.join(configs), image, driver, '+report' if report else '')

    @property
    def golden(self):
        name = self.id.replace('/', '.').replace('+', '.')
        return os.path.join(HERE, 'golden', name + '.json')


def die(msg):
    print('compat.py: ' + msg, file=sys.stderr)
    sys.exit(2)


def read_pairs():
    pairs = []
    path = os.path.join(HERE, 'pairs')
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            words = line.split()
            if len(words) not in (3, 4) or (len(words) == 4 and words[3] != 'report'):
                die('%s:%d: expected CONFIGS IMAGE DRIVERS [report]' % (path, n))
            configs = words[0].split(',')
            for c in configs:
                if not os.path.isfile(os.path.join(HERE, 'configs', c)):
                    die('%s:%d: no configs/%s' % (path, n, c))
            if words[1] not in IMAGES:
                die('%s:%d: unknown image %s' % (path, n, words[1]))
            for d in words[2].split(','):
                if d not in DRIVERS:
                    die('%s:%d: unknown driver %s' % (path, n, d))
                pairs.append(Pair(configs, words[1], d, len(words) == 4))
    ids = [p.id for p in pairs]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        die('pairs listed twice: ' + ', '.join(dup))
    only = os.environ.get('COMPAT_ONLY')
    if only:
        pairs = [p for p in pairs if any(fnmatch.fnmatchcase(p.id, g) for g in only.split())]
    return pairs, bool(only)


def save_images(pairs, tmp):
    """docker save of each image a tar pair needs: the same image both tools test."""
    tars = {}
    for image in sorted({p.image for p in pairs if p.driver == 'tar'}):
        path = os.path.join(tmp, image + '.tar')
        r = subprocess.run(['docker', 'save', '-o', path, IMAGES[image]],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            die('docker save %s: %s' % (IMAGES[image], r.stdout.strip()))
        tars[image] = path
    return tars


def run_pair(binary, pair, tars, tmp, extra=()):
    """Runs one tool on one pair: (exit status, JSON report or None, stderr)."""
    args = [binary, 'test', *extra, '--driver', pair.driver,
            '--image', tars[pair.image] if pair.driver == 'tar' else IMAGES[pair.image],
            '--output', 'json']
    for c in pair.configs:
        args += ['--config', os.path.join('configs', c)]
    report = None
    if pair.report:
        fd, report = tempfile.mkstemp(dir=tmp, suffix='.json')
        os.close(fd)
        os.unlink(report)
        args += ['--test-report', report]
    env = dict(os.environ)
    env['COMPAT_HOST_SET'] = 'from-host'
    env.pop('COMPAT_HOST_UNSET', None)
    try:
        r = subprocess.run(args, cwd=HERE, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, None, 'timed out after %d s' % RUN_TIMEOUT
    out = r.stdout
    if report:
        out = b''
        if os.path.exists(report):
            with open(report, 'rb') as f:
                out = f.read()
            os.unlink(report)
    return r.returncode, parse_report(out.decode('utf-8', 'replace')), \
        r.stderr.decode('utf-8', 'replace')


def parse_report(text):
    start = text.find('{')
    if start < 0:
        return None
    try:
        obj, _ = json.JSONDecoder().raw_decode(text[start:])
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def results_of(report):
    """[(key, pass)] in report order; a name seen again gets ' #2', ' #3'..."""
    seen = {}
    out = []
    for r in (report or {}).get('Results') or []:
        name = r.get('Name', '')
        seen[name] = seen.get(name, 0) + 1
        out.append((name if seen[name] == 1 else '%s #%d' % (name, seen[name]), bool(r.get('Pass'))))
    return out


def errors_of(report, key):
    """The Errors of the result with that key."""
    seen = {}
    for r in (report or {}).get('Results') or []:
        name = r.get('Name', '')
        seen[name] = seen.get(name, 0) + 1
        if (name if seen[name] == 1 else '%s #%d' % (name, seen[name])) == key:
            return [str(e) for e in r.get('Errors') or []]
    return []


# Kept in the goldens for people to read, without what changes run to run.
ID_RE = re.compile(r'\b(sha256:)?[0-9a-f]{64}\b|\b[0-9a-f]{12}\b')
# CST's tar driver extracts to a directory named after the archive's path,
# its digest and a random number.
EXTRACT_RE = re.compile(r'/\S*?\.tar@sha256:[0-9a-f]{64}\d*')


def scrub(obj, tmp):
    if isinstance(obj, dict):
        return {k: scrub(v, tmp) for k, v in obj.items() if k != 'Duration'}
    if isinstance(obj, list):
        return [scrub(v, tmp) for v in obj]
    if isinstance(obj, str):
        return ID_RE.sub('<id>', EXTRACT_RE.sub('<extracted>', obj.replace(tmp, '<tmp>')))
    return obj


def record(pairs, filtered, tmp):
    binary = os.environ.get('CST_REF_BIN') or shutil.which('container-structure-test')
    if not binary:
        die('no container-structure-test (set CST_REF_BIN)')
    tars = save_images(pairs, tmp)
    os.makedirs(os.path.join(HERE, 'golden'), exist_ok=True)

    def one(pair):
        status, report, err = run_pair(binary, pair, tars, tmp)
        if status is None:
            return pair, err
        golden = {
            'pair': pair.id,
            'exit': status,
            'results': dict(results_of(report)),
            'report': scrub(report, tmp),
        }
        with open(pair.golden, 'w', encoding='utf-8') as f:
            json.dump(golden, f, indent=1, ensure_ascii=False, sort_keys=False)
            f.write('\n')
        return pair, None

    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs()) as pool:
        for pair, err in pool.map(one, pairs):
            if err:
                failed += 1
                print('compat: %s: %s' % (pair.id, err), file=sys.stderr)
            else:
                print('compat: recorded %s' % pair.id, file=sys.stderr)
    if not filtered:
        keep = {os.path.basename(p.golden) for p in pairs}
        for f in os.listdir(os.path.join(HERE, 'golden')):
            if f.endswith('.json') and f not in keep:
                os.unlink(os.path.join(HERE, 'golden', f))
                print('compat: removed golden/%s (no such pair)' % f, file=sys.stderr)
    return 1 if failed else 0


def jobs():
    try:
        return max(1, int(os.environ.get('COMPAT_JOBS', '3')))
    except ValueError:
        return 3


class Entry:
    def __init__(self, where, pair, test, why):
        self.where, self.pair, self.test, self.why = where, pair, test, why
        self.used = 0

    def matches(self, pair_id, key):
        return fnmatch.fnmatchcase(pair_id, self.pair) and \
            self.test in ('*', key or '(empty name)')


def read_entries(name):
    path = os.path.join(HERE, name)
    entries = []
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            if not line.strip() or line.lstrip().startswith('#'):
                continue
            parts = [p.strip() for p in line.rstrip('\n').split(' | ')]
            if len(parts) != 3 or not all(parts):
                die('%s:%d: expected PAIR | TEST | REASON' % (path, n))
            entries.append(Entry('%s:%d' % (name, n), *parts))
    return entries


def readme_section():
    with open(README, encoding='utf-8') as f:
        text = f.read()
    start = text.find(README_SECTION)
    if start < 0:
        die('README.md has no section "%s"' % README_SECTION)
    end = text.find('\n## ', start + len(README_SECTION))
    return ' '.join(text[start:end if end >= 0 else len(text)].split())


def compare(golden, status, report):
    """[(key, agrees, what)] for one pair: every result, then the exit status
    class (0 or not) and the order of the results both have."""
    want = list(golden['results'].items())
    got = results_of(report)
    got_map = dict(got)
    want_map = dict(want)
    word = {True: 'pass', False: 'fail'}
    out = []
    for key, p in want:
        if key not in got_map:
            out.append((key, False, 'CST %s, missing in cst' % word[p]))
        else:
            q = got_map[key]
            out.append((key, p == q, 'CST %s, cst %s' % (word[p], word[q])))
    for key, q in got:
        if key not in want_map:
            out.append((key, False, 'not in CST, cst %s' % word[q]))
    ge, ce = golden['exit'], status
    out.append(('(exit)', (ge == 0) == (ce == 0), 'CST exit %d, cst exit %d' % (ge, ce)))
    common = set(want_map) & set(got_map)
    wo = [k for k, _ in want if k in common]
    co = [k for k, _ in got if k in common]
    if len(wo) > 1:
        out.append(('(order)', wo == co, 'order differs: CST %s; cst %s' % (wo, co)))
    return out


def check(pairs, filtered, tmp):
    binary = os.environ.get('CST_BIN')
    if not binary:
        die('CST_BIN is not set')
    extra = os.environ.get('COMPAT_CST_ARGS', '').split()
    allowed = read_entries('allowed-differences')
    known = read_entries('known-divergences')
    section = readme_section()
    tars = save_images(pairs, tmp)

    def one(pair):
        if not os.path.exists(pair.golden):
            return pair, None, None, 'no golden (tests/compat/regen.sh records it)'
        status, report, err = run_pair(binary, pair, tars, tmp, extra)
        return pair, status, report, err

    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs()) as pool:
        runs = list(pool.map(one, pairs))

    n = 0
    totals = {'compared': 0, 'agree': 0, 'allowed': 0, 'known': 0, 'diverge': 0}
    failed = 0
    for pair, status, report, err in runs:
        n += 1
        if status is None:
            failed += 1
            print('not ok %d - %s' % (n, pair.id))
            print('# %s' % err)
            continue
        with open(pair.golden, encoding='utf-8') as f:
            golden = json.load(f)
        lines = []
        counts = {'agree': 0, 'allowed': 0, 'known': 0, 'diverge': 0}
        for key, agrees, what in compare(golden, status, report):
            totals['compared'] += 1
            if agrees:
                counts['agree'] += 1
                continue
            entry = next((e for e in allowed if e.matches(pair.id, key)), None)
            kind = 'allowed'
            if entry is None:
                entry = next((e for e in known if e.matches(pair.id, key)), None)
                kind = 'known'
            if entry is None:
                counts['diverge'] += 1
                lines.append('# DIVERGES  %s: %s' % (key or '(empty name)', what))
                for e in errors_of(report, key)[:3]:
                    lines.append('#   cst: ' + e.replace('\n', '\n#        ')[:600])
                continue
            entry.used += 1
            counts[kind] += 1
            lines.append('# %-9s %s: %s (%s)' % (kind, key or '(empty name)', what, entry.why))
        for k, v in counts.items():
            totals[k] += v
        ok = counts['diverge'] == 0
        failed += not ok
        print('%s %d - %s (%s)' % ('ok' if ok else 'not ok', n, pair.id,
                                    ', '.join('%d %s' % (v, k) for k, v in counts.items() if v)))
        if not ok and err.strip():
            lines.append('# cst stderr: ' + err.strip().replace('\n', '\n#   '))
        for line in lines:
            print(line)

    n += 1
    bad = [e for e in allowed if ' '.join(e.why.split()) not in section]
    stale = [] if filtered else [e for e in allowed if not e.used]
    ok = not bad and not stale
    failed += not ok
    print('%s %d - allowed-differences: each entry names a README line and matches a difference'
          % ('ok' if ok else 'not ok', n))
    for e in bad:
        print('# %s: "%s" is not in README\'s "%s"' % (e.where, e.why, README_SECTION[3:]))
    for e in stale:
        print('# %s: matches no difference any more: %s | %s' % (e.where, e.pair, e.test))

    n += 1
    stale = [] if filtered else [e for e in known if not e.used]
    failed += bool(stale)
    print('%s %d - known-divergences: each entry still diverges' % ('not ok' if stale else 'ok', n))
    for e in stale:
        print('# %s: no longer diverges, remove it: %s | %s (%s)' % (e.where, e.pair, e.test, e.why))

    print('1..%d' % n)
    print('# compat: %d results compared, %d agree, %d allowed differences, %d known divergences, '
          '%d divergences' % (totals['compared'], totals['agree'], totals['allowed'], totals['known'],
                              totals['diverge']))
    return 1 if failed else 0


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ('check', 'record'):
        die('usage: compat.py check|record')
    pairs, filtered = read_pairs()
    base = os.environ.get('CST_BUILD') or None
    tmp = tempfile.mkdtemp(prefix='cst-compat.', dir=base)
    try:
        if sys.argv[1] == 'record':
            return record(pairs, filtered, tmp)
        return check(pairs, filtered, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
