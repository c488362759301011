#!/usr/bin/python3
"""Runs the benchmark's suites with cst and its peers and reports the figures.

Usage: bench.py --cst BIN --suites DIR --work DIR --json FILE [--runs N]

The suites (DIR/NAME.yaml and NAME.plan) come from gen_suites.py.  Every
suite runs --runs times per tool, the tools taking turns so that a change in
the machine's load hits them alike.  Each run is measured from outside: wall
time here; CPU time from wait4() of the child, peak RSS from GNU time (for a
script: all its processes' CPU, its largest process's RSS); the containers
it created from the engine's events (type=container, event=create).

cst's docker driver keeps an index of each image it has read (the index
cache), so the same suite can cost a full export or none.  Every cst docker
row says which it measures: "cold" runs each get a new empty --cache-dir (a
first run of an image), "warm" runs share one primed by an untimed run
before them (every later run).  The cache directories are under --work;
CST_CACHE_DIR is set empty for everything else, so no run reads or writes
the user's own cache.

Environment: CST_UPSTREAM_BIN (or container-structure-test on PATH) adds
Google's container-structure-test as a peer; BENCH_PEER_BIG=1 runs the
docker CLI peer on the big suite (once: it takes minutes); BENCH_PEER_RUNS
sets the docker CLI peer's runs (default: --runs); BENCH_SUITES=a,b runs
only those suites.

The registry suite (BENCH_SUITES=registry, or all) serves both Debian
images from a docker-registry of its own on 127.0.0.1 and runs the files
suite on cst-bench/debian-layers:12 with the tar driver: with an empty
cache, with the base image's layer cached (primed by a run of
cst-bench/debian:12; its three own layers are not), and with every layer
cached; beside curl fetching the image's layer blobs and, when it is
installed, container-structure-test's tar driver on the same reference.

The huge suites (huge12, huge200: 12 and 200 file tests of cst-bench/huge:12,
Debian 12 with 2 GB of random data) run when run.sh generated them: there
the export costs with the image's size, and cst reads per path instead; a
cold row forced to the export (--read-plan=export) shows what that spares.
"""

import argparse
import datetime
import http.client
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

BASE = 'cst-bench/debian:12'
LAYERS = 'cst-bench/debian-layers:12'
LABEL = 'dev.cst.bench.source'  # set on both images by testdata/images/debian/build.sh
HUGE = 'cst-bench/huge:12'
HUGE_SUITES = ['huge12', 'huge200']
REG_SUITE = 'registry'
SUITES = ['files', 'commands', 'mixed', 'dir', 'big', 'policy', REG_SUITE] + HUGE_SUITES
FILE_SUITES = ['files', 'dir', 'big', 'policy']  # what the tar driver can run: no commands
COMMAND_SUITES = ['commands', 'mixed']

PEER = 'docker CLI'
COLD = 'cst docker (cold)'
WARM = 'cst docker (warm)'
# The fast command mode a user has to ask for: not what `cst test` does by
# default, so never mixed up with the rows above.
SHARED_FLAGS = ['--shared-container', '--network', 'none']
SHARED = 'cst docker ' + ' '.join(SHARED_FLAGS) + ' (opt-in, warm)'
TAR = 'cst tar'
# The same warm run through DOCKER_HOST=ssh:// to an sshd of the bench's own
# on 127.0.0.1, against the same engine: what ssh adds.
SSH = 'cst docker over ssh (warm)'
SSH_SUITES = ['commands']
COLD_EXPORT = 'cst docker --read-plan=export (cold)'
# The registry suite's rows (the tar driver; docker:// references).
REG_COLD = 'cst registry (cold)'
REG_BASE = 'cst registry (base layer cached)'
REG_WARM = 'cst registry (warm)'
REG_CURL = 'curl, the layer blobs'
REG_CST = 'CST tar driver'
# cst against container-structure-test on the huge image, when it is measured.
TARGETS_HUGE = {'huge12': 3.0, 'huge200': 1.0}
TIME = '/usr/bin/time'  # GNU time: see run_once()
ENGINE_META = 'engine metadata'
ENGINE_EXPORT = 'engine export'

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

TARGETS_RATIO = {'files': 30.0, 'commands': 2.5, 'mixed': 8.0}
TARGET_DIR_OWN_S = 0.050
TARGET_BIG_OVER_FILES = 2.0
TARGET_RSS_MIB = 16.0
OPS = {'>': lambda v, lim: v > lim, '>=': lambda v, lim: v >= lim, '<': lambda v, lim: v < lim, '<=': lambda v, lim: v <= lim}


def log(msg):
    print(f'bench: {msg}', file=sys.stderr, flush=True)


def docker_out(*args):
    return subprocess.run(['docker', *args], check=True, capture_output=True, text=True).stdout.strip()


class Engine:
    """The engine's API, called from here for the baselines: what the engine
    itself takes to answer, without any client's start-up (a docker CLI
    process alone costs more than some of these answers)."""

    def __init__(self):
        host = os.environ.get('DOCKER_HOST') or 'unix:///var/run/docker.sock'
        u = urllib.parse.urlsplit(host)
        self.unix = u.path if u.scheme == 'unix' else None
        self.tcp = (u.hostname, u.port or 2375) if u.scheme == 'tcp' else None
        self.host = host

    def _conn(self):
        if self.tcp:
            return http.client.HTTPConnection(*self.tcp, timeout=600)
        if not self.unix:
            raise RuntimeError(f'DOCKER_HOST={self.host}: only unix:// and tcp:// are measured')
        c = http.client.HTTPConnection('localhost', timeout=600)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(600)
        s.connect(self.unix)
        c.sock = s
        return c

    def call(self, method, path, body=None, drain=False):
        """The answer's body (JSON decoded when it is JSON), or its length
        when drain: read to the end and dropped, as an export is."""
        c = self._conn()
        try:
            data = None if body is None else json.dumps(body)
            c.request(method, path, body=data, headers={'Content-Type': 'application/json'} if data else {})
            resp = c.getresponse()
            if resp.status >= 300:
                raise RuntimeError(f'{method} {path}: {resp.status} {resp.read(300).decode(errors="replace")}')
            if drain:
                n = 0
                while chunk := resp.read(1 << 16):
                    n += len(chunk)
                return n
            raw = resp.read()
            return json.loads(raw) if raw and 'json' in resp.getheader('Content-Type', '') else raw
        finally:
            c.close()

    def metadata(self, ref):
        """What cst asks first: the image's ID and config."""
        self.call('GET', '/images/' + urllib.parse.quote(ref, safe='/:') + '/json')

    def export(self, ref):
        """What a cold docker-driver run waits for besides: a created, never
        started container (made the way cst makes it), its file system read
        to the end, the container removed."""
        created = self.call('POST', '/containers/create',
                            {'Image': ref, 'Entrypoint': [], 'Cmd': ['cst-export'], 'NetworkDisabled': True})
        cid = created['Id']
        try:
            self.call('GET', f'/containers/{cid}/export', drain=True)
        finally:
            self.call('DELETE', f'/containers/{cid}?force=1&v=1')


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


def run_once(argv, env=None):
    """One measured run.  CPU time comes from wait4(); peak RSS from GNU
    time (/usr/bin/time -f %M) run between here and the command: a child's
    ru_maxrss never starts below its parent's own peak (fork copies it, and
    exec after vfork records it), so wait4() on a child of this Python
    process could not report less than this process's peak.  GNU time's is
    a small one.  The command is exec'd by sh, which first writes down its
    process ID, the one cst labels its containers with.  time and sh add
    about a millisecond.  For a script, the RSS is its largest process's and
    the CPU all of theirs."""
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile('r', prefix='bench-time.') as rep, \
            tempfile.NamedTemporaryFile('r', prefix='bench-pid.') as pidf:
        since = time.time_ns()
        t0 = time.perf_counter()
        p = subprocess.Popen([TIME, '-f', '%M', '-o', rep.name, 'sh', '-c', 'echo $$ >"$0" && exec "$@"',
                              pidf.name, *argv], stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        until = time.time_ns()
        p.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode(errors='replace')
        # On failure GNU time puts "Command exited with non-zero status N"
        # before the figure.
        lines = rep.read().split()
        rss = int(lines[-1]) if lines and lines[-1].isdigit() else None
        pid = pidf.read().strip()
    # "containers" is filled in from the events once every run is over.
    r = {'wall_s': round(wall, 4), 'cpu_s': round(ru.ru_utime + ru.ru_stime, 3), 'rss_kib': rss,
         'exit': p.returncode, 'window_ns': [since, until], 'pid': pid or None}
    if p.returncode != 0:
        r['stderr'] = (stderr.strip().splitlines() or [''])[-3:]
    return r


def run_api(fn):
    """One measured baseline call from this process: wall time only (this
    process's CPU and RSS are not the engine's)."""
    since = time.time_ns()
    t0 = time.perf_counter()
    try:
        fn()
        failure = None
    except (OSError, RuntimeError, KeyError, ValueError) as e:
        failure = str(e)
    wall = time.perf_counter() - t0
    r = {'wall_s': round(wall, 4), 'cpu_s': None, 'rss_kib': None, 'exit': 0 if failure is None else 1,
         'window_ns': [since, time.time_ns()], 'pid': None}
    if failure:
        r['stderr'] = [failure]
    return r


def failing_tests(argv, env=None):
    """Names of the failing tests of a cst or CST run, from its JSON report."""
    argv = [a for a in argv if a != '-q'] + ['-o', 'json']
    p = subprocess.run(argv, capture_output=True, text=True, env=env)
    try:
        report = json.loads(p.stdout)
    except json.JSONDecodeError:
        return [(p.stderr.strip().splitlines() or ['no report'])[-1]]
    return [f'{r.get("Name")}: {"; ".join(r.get("Errors") or [])}'
            for r in report.get('Results', []) if not r.get('Pass')][:5]


class Row:
    """One tool on one suite.  cache says how a cst docker row's index cache
    is set up: 'cold', a new empty directory for every run; 'warm', one
    directory primed by an untimed run before the timed ones; None, no
    --cache-dir (CST_CACHE_DIR is empty: no cache).  measure, when given,
    is timed here instead of running argv."""

    def __init__(self, suite, tool, image, argv, runs, note=None, cache=None, measure=None, env=None,
                 prime_argv=None):
        self.suite, self.tool, self.image, self.argv = suite, tool, image, argv
        # cache 'base': each run gets a copy of a directory primed by
        # prime_argv (another image: its layers only).
        self.prime_argv = prime_argv
        self.env = env
        self.want_runs, self.runs, self.note = runs, [], note
        self.cache, self.measure = cache, measure
        self.cache_dir = None
        self.prime = None
        self.failures = []

    def prepare(self, cache_root):
        """A warm row's cache, filled by one run that is not measured."""
        if self.cache not in ('warm', 'base') or not self.want_runs:
            return
        self.cache_dir = tempfile.mkdtemp(prefix=self.cache + '-', dir=cache_root)
        argv = (self.prime_argv or self.argv) + ['--cache-dir', self.cache_dir]
        self.prime = run_once(argv, self.env)
        if self.prime['exit'] != 0:
            self.failures = failing_tests(argv, self.env)

    def run(self, cache_root):
        if self.measure:
            res = run_api(self.measure)
            if res['exit'] != 0 and not self.failures:
                self.failures = res['stderr']
            self.runs.append(res)
            return
        cold = tempfile.mkdtemp(prefix='cold-', dir=cache_root) if self.cache in ('cold', 'base') else None
        if self.cache == 'base':
            shutil.copytree(self.cache_dir, cold, dirs_exist_ok=True)
        argv = self.argv + (['--cache-dir', cold or self.cache_dir] if self.cache else [])
        try:
            res = run_once(argv, self.env)
            if res['exit'] != 0 and not self.failures:
                self.failures = (failing_tests(argv, self.env) if self.tool.lower().startswith('cst')
                                 else res.get('stderr', []))
        finally:
            if cold:
                shutil.rmtree(cold, ignore_errors=True)
        self.runs.append(res)

    def command(self):
        if self.measure:
            return None
        extra = {'cold': ['--cache-dir', '<a new empty directory each run>'],
                 'base': ['--cache-dir', '<a copy of one primed by: ' + ' '.join(self.prime_argv or []) + '>'],
                 'warm': ['--cache-dir', self.cache_dir or '<primed directory>']}.get(self.cache, [])
        return ' '.join(self.argv + extra)

    def summary(self):
        d = {'suite': self.suite, 'tool': self.tool, 'image': self.image, 'cache': self.cache}
        if not self.runs:
            d.update({'runs': [], 'skipped': self.note})
            return d
        walls = [r['wall_s'] for r in self.runs]
        cpus = [r['cpu_s'] for r in self.runs if r['cpu_s'] is not None]
        rss = [r['rss_kib'] for r in self.runs if r['rss_kib'] is not None]
        d.update({'command': self.command(), 'runs': self.runs,
                  'median_wall_s': round(statistics.median(walls), 4), 'min_wall_s': min(walls),
                  'median_cpu_s': round(statistics.median(cpus), 3) if cpus else None,
                  'peak_rss_kib': max(rss) if rss else None,
                  'containers': int(statistics.median(r['containers'] for r in self.runs)),
                  'ok': all(r['exit'] == 0 for r in self.runs) and (not self.prime or self.prime['exit'] == 0)})
        if self.prime:
            d['prime'] = {k: v for k, v in self.prime.items() if k in ('wall_s', 'exit', 'containers', 'stderr')}
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


class SshHost:
    """Debian's sshd on a free port of 127.0.0.1 with keys made here, and an
    `ssh` first on PATH that uses them: the environment of the ssh rows.
    Root only (sshd's privilege separation); None with a reason otherwise."""

    def __init__(self, work):
        self.dir = tempfile.mkdtemp(prefix='ssh-', dir=work)
        self.proc = None
        self.env = None
        self.why_not = None
        if os.geteuid() != 0 or not os.access('/usr/sbin/sshd', os.X_OK) or not shutil.which('ssh-keygen'):
            self.why_not = 'skipped: needs root and openssh-server (build-aux/install-deps.sh)'
            return
        d = self.dir
        for k in ('host_key', 'client_key'):
            subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', os.path.join(d, k)], check=True)
        shutil.copy(os.path.join(d, 'client_key.pub'), os.path.join(d, 'authorized_keys'))
        with socket.socket() as s:
            s.bind(('127.0.0.1', 0))
            port = s.getsockname()[1]
        with open(os.path.join(d, 'sshd_config'), 'w') as f:
            f.write(f'ListenAddress 127.0.0.1\nHostKey {d}/host_key\nAuthorizedKeysFile {d}/authorized_keys\n'
                    'PermitRootLogin prohibit-password\nPasswordAuthentication no\nUsePAM no\nStrictModes no\n'
                    'PidFile none\n')
        with open(os.path.join(d, 'ssh_config'), 'w') as f:
            f.write(f'Host *\n  IdentityFile {d}/client_key\n  IdentitiesOnly yes\n'
                    f'  UserKnownHostsFile {d}/known_hosts\n  StrictHostKeyChecking accept-new\n')
        os.makedirs(os.path.join(d, 'bin'))
        wrapper = os.path.join(d, 'bin', 'ssh')
        with open(wrapper, 'w') as f:
            f.write(f'#!/bin/sh\nexec /usr/bin/ssh -F {d}/ssh_config "$@"\n')
        os.chmod(wrapper, 0o755)
        os.makedirs('/run/sshd', exist_ok=True)
        log_path = os.path.join(d, 'sshd.log')
        self.proc = subprocess.Popen(['/usr/sbin/sshd', '-D', '-e', '-f', os.path.join(d, 'sshd_config'),
                                      '-p', str(port)], stderr=open(log_path, 'w'))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.proc.poll() is None:
            if f'port {port}' in open(log_path).read():
                break
            time.sleep(0.05)
        else:
            self.why_not = 'skipped: sshd did not start: ' + open(log_path).read().strip()[-200:]
            return
        self.env = dict(os.environ, PATH=os.path.join(d, 'bin') + ':' + os.environ.get('PATH', ''),
                        DOCKER_HOST=f'ssh://root@127.0.0.1:{port}')

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class LocalRegistry:
    """Debian's docker-registry on a free port of 127.0.0.1 (storage under
    work), holding both Debian images: the registry suite's source.  None
    of it when docker-registry is missing (why_not says so)."""

    def __init__(self, work):
        self.dir = tempfile.mkdtemp(prefix='registry-', dir=work)
        self.proc, self.addr, self.why_not = None, None, None
        exe = shutil.which('docker-registry')
        if not exe:
            self.why_not = 'skipped: docker-registry is not installed'
            return
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            port = sock.getsockname()[1]
        cfg = os.path.join(self.dir, 'config.yml')
        with open(cfg, 'w') as f:
            f.write(f'version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n'
                    f'    rootdirectory: {self.dir}/data\nhttp:\n  addr: 127.0.0.1:{port}\n')
        self.proc = subprocess.Popen([exe, 'serve', cfg], stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, 'log'), 'w'))
        self.addr = f'127.0.0.1:{port}'
        deadline = time.monotonic() + 60
        while not self._up():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.why_not = 'skipped: docker-registry did not start'
                return
            time.sleep(0.1)
        for ref in (BASE, LAYERS):
            tag = f'{self.addr}/{ref}'
            subprocess.run(['docker', 'tag', ref, tag], check=True)
            subprocess.run(['docker', 'push', '-q', tag], check=True, stdout=subprocess.DEVNULL)
            subprocess.run(['docker', 'rmi', tag], check=True, stdout=subprocess.DEVNULL)

    def _up(self):
        try:
            conn = http.client.HTTPConnection(self.addr, timeout=2)
            conn.request('GET', '/v2/')
            return conn.getresponse().status == 200
        except OSError:
            return False

    def blob_urls(self, ref):
        repo, tag = ref.split(':')
        conn = http.client.HTTPConnection(self.addr, timeout=30)
        conn.request('GET', f'/v2/{repo}/manifests/{tag}',
                     headers={'Accept': 'application/vnd.docker.distribution.manifest.v2+json'})
        m = json.loads(conn.getresponse().read())
        return [f'http://{self.addr}/v2/{repo}/blobs/{layer["digest"]}' for layer in m['layers']]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def registry_rows(args, suites_dir, reg, upstream):
    """The registry suite: the files suite on the layered image, served by reg."""
    image = 'registry/' + LAYERS
    if not reg or not reg.addr or reg.why_not:
        return [Row(REG_SUITE, REG_COLD, image, [], 0, reg.why_not if reg else 'skipped')]
    y = os.path.join(suites_dir, 'files.yaml')
    ref = f'docker://{reg.addr}/{LAYERS}'
    argv = [args.cst, 'test', '--driver', 'tar', '--image', ref, '--config', y, '-q']
    base = [args.cst, 'test', '--driver', 'tar', '--image', f'docker://{reg.addr}/{BASE}', '--config', y, '-q']
    rows = [Row(REG_SUITE, REG_COLD, image, argv, args.runs, cache='cold'),
            Row(REG_SUITE, REG_BASE, image, argv, args.runs, cache='base', prime_argv=base),
            Row(REG_SUITE, REG_WARM, image, argv, args.runs, cache='warm'),
            Row(REG_SUITE, REG_CURL, image,
                ['sh', '-c', 'for u; do curl -fsS -o /dev/null "$u" || exit 1; done', 'sh',
                 *reg.blob_urls(LAYERS)], args.runs, 'every layer blob fetched, one after the other')]
    if upstream:
        # It pulls and extracts the whole image every run: minutes each.
        rows.append(Row(REG_SUITE, REG_CST, image,
                        [upstream, 'test', '--driver', 'tar', '--image', f'{reg.addr}/{LAYERS}', '--config', y, '-q'],
                        1))
    return rows


def build_rows(args, suites_dir, tars, engine, ssh=None, reg=None):
    runs = args.runs
    peer_runs = int(os.environ.get('BENCH_PEER_RUNS', runs))
    peer = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'docker-cli-peer.sh')
    upstream = upstream_bin()
    rows = []
    wanted = [x for x in os.environ.get('BENCH_SUITES', '').split(',') if x]
    for suite in SUITES:
        if wanted and suite not in wanted:
            continue
        if suite == REG_SUITE:
            rows += registry_rows(args, suites_dir, reg, upstream)
            continue
        y = os.path.join(suites_dir, suite + '.yaml')
        if suite in HUGE_SUITES:
            if not os.path.exists(y):
                continue
            if upstream:
                rows.append(Row(suite, 'CST', HUGE, [upstream, 'test', '--image', HUGE, '--config', y, '-q'],
                                1 if suite == 'huge200' else runs))
            argv = [args.cst, 'test', '--image', HUGE, '--config', y, '-q']
            rows.append(Row(suite, COLD, HUGE, argv, runs, cache='cold'))
            rows.append(Row(suite, WARM, HUGE, argv, runs, cache='warm'))
            rows.append(Row(suite, COLD_EXPORT, HUGE, argv + ['--read-plan=export'], runs, cache='cold'))
            continue
        plan = os.path.join(suites_dir, suite + '.plan')
        if suite == 'policy':
            rows.append(Row(suite, PEER, BASE, [], 0,
                            'skipped: the docker CLI has no query over the whole file system'))
        elif suite != 'big' or os.environ.get('BENCH_PEER_BIG') == '1':
            rows.append(Row(suite, PEER, BASE, ['bash', peer, BASE, plan],
                            1 if suite == 'big' else peer_runs))
        else:
            rows.append(Row(suite, PEER, BASE, [], 0,
                            'skipped: one container per file test, minutes per run (BENCH_PEER_BIG=1 runs it once)'))
        # CST refuses cst's extensions.
        if upstream and suite != 'policy':
            rows.append(Row(suite, 'CST', BASE, [upstream, 'test', '--image', BASE, '--config', y, '-q'],
                            1 if suite == 'big' else runs))
        images = (BASE, LAYERS) if suite in ('files', 'big', 'policy') else (BASE,)
        for image in images:
            argv = [args.cst, 'test', '--image', image, '--config', y, '-q']
            rows.append(Row(suite, COLD, image, argv, runs, cache='cold'))
            rows.append(Row(suite, WARM, image, argv, runs, cache='warm'))
            if suite in COMMAND_SUITES:
                rows.append(Row(suite, SHARED, image, argv + SHARED_FLAGS, runs, cache='warm'))
            if suite in SSH_SUITES and image == BASE:
                if ssh and ssh.env:
                    rows.append(Row(suite, SSH, image, argv, runs, cache='warm', env=ssh.env))
                else:
                    rows.append(Row(suite, SSH, image, argv, 0, ssh.why_not if ssh else 'skipped'))
            if suite in FILE_SUITES:
                rows.append(Row(suite, TAR, image,
                                [args.cst, 'test', '--driver', 'tar', '--image', tars[image], '--config', y, '-q'],
                                runs))
        if suite == 'dir':
            # What the engine itself takes for what cst asks of it, for the
            # dir target: cst's time is its own only beyond these.
            rows.append(Row(suite, ENGINE_META, BASE, [], runs, 'GET /images/IMAGE/json',
                            measure=lambda: engine.metadata(BASE)))
            rows.append(Row(suite, ENGINE_EXPORT, BASE, [], runs,
                            'POST /containers/create, GET /containers/ID/export read to the end, DELETE',
                            measure=lambda: engine.export(BASE)))
    return rows, upstream


def run_rows(rows, cache_root):
    for suite in SUITES:
        mine = [r for r in rows if r.suite == suite and r.want_runs]
        if not mine:
            continue
        log(f'suite {suite}: ' + ', '.join(f'{r.tool} ({r.image}) x{r.want_runs}' for r in mine))
        for r in mine:
            r.prepare(cache_root)
        # Take turns, so that load from elsewhere falls on every tool alike.
        for i in range(max((r.want_runs for r in mine), default=0)):
            for r in mine:
                if i < r.want_runs:
                    r.run(cache_root)


def ratio(a, b):
    return round(a / b, 2) if a and b else None


def finder(results):
    """The row of suite, tool and image, whether its runs passed or not."""
    def find(suite, tool, image=None):
        if image is None:
            image = HUGE if suite in HUGE_SUITES else BASE
        for r in results:
            if r['suite'] == suite and r['tool'] == tool and r['image'] == image and r.get('runs'):
                return r
        return None
    return find


def add_ratios(results, upstream):
    find = finder(results)
    for r in results:
        if not r.get('ok') or not r['tool'].startswith('cst '):
            continue
        ratios = {}
        if r['suite'] == REG_SUITE:
            for tool in (REG_CST, REG_CURL):
                other = find(REG_SUITE, tool, r['image'])
                if other and other['ok']:
                    ratios[tool] = ratio(other['median_wall_s'], r['median_wall_s'])
            r['faster_than'] = ratios
            continue
        peer = find(r['suite'], PEER)
        if peer and peer['ok']:
            ratios[PEER] = ratio(peer['median_wall_s'], r['median_wall_s'])
        cst = find(r['suite'], 'CST') if upstream else None
        if cst and cst['ok']:
            ratios['CST'] = ratio(cst['median_wall_s'], r['median_wall_s'])
        elif r['suite'] in REFERENCE and not upstream:
            ratios['CST reference'] = ratio(REFERENCE[r['suite']]['wall_s'], r['median_wall_s'])
        r['faster_than'] = ratios


def row_name(r):
    return f'{r["suite"]}: {r["tool"]}' + ('' if r['image'] == BASE else f' [{r["image"].replace("cst-bench/", "")}]')


def targets(results):
    """The issue's targets, each figured from named rows of this run; ratios
    are against the docker CLI peer measured in the same run.  held is None
    when a row it needs is missing or failed."""
    find = finder(results)
    out = []

    def add(target, rows, how, value, unit, op, limit, need_ok=True):
        if need_ok and any(not r or not r['ok'] for r in rows):
            value = None
        held = None if value is None else OPS[op](value, limit)
        out.append({'target': target, 'rows': [row_name(r) for r in rows if r], 'how': how,
                    'value': value, 'unit': unit, 'op': op, 'limit': limit, 'held': held})
        return out[-1]

    for suite, need in TARGETS_RATIO.items():
        peer = find(suite, PEER)
        for tool in (COLD, WARM, SHARED):
            r = find(suite, tool)
            if not r:
                continue
            v = ratio(peer['median_wall_s'], r['median_wall_s']) if peer and r['ok'] and peer['ok'] else None
            add(f'{suite} >= {need:g}x faster than docker CLI', [r, peer], 'docker CLI median / row median',
                v, 'x', '>=', need)
    for suite, need in TARGETS_HUGE.items():
        cst = find(suite, 'CST')
        for tool in (COLD, WARM):
            r = find(suite, tool)
            if not r or not cst:
                continue
            v = ratio(cst['median_wall_s'], r['median_wall_s']) if r['ok'] and cst['ok'] else None
            add(f'{suite} >= {need:g}x faster than CST' if need > 1 else f'{suite} faster than CST', [r, cst],
                'CST median / row median', v, 'x', '>=' if need > 1 else '>', need)
    meta, export = find('dir', ENGINE_META), find('dir', ENGINE_EXPORT)
    for tool, base, how in ((COLD, [export, meta], 'row median - engine export - engine metadata'),
                            (WARM, [meta], 'row median - engine metadata')):
        r = find('dir', tool)
        if not r:
            continue
        v = None
        if r['ok'] and all(b and b['ok'] for b in base):
            v = round(r['median_wall_s'] - sum(b['median_wall_s'] for b in base), 4)
        add('dir: cst\'s own time < 50 ms', [r] + base, how, v, 's', '<', TARGET_DIR_OWN_S)
        add('dir: cst\'s CPU time < 50 ms', [r], 'row median user+sys', r['median_cpu_s'], 's', '<',
            TARGET_DIR_OWN_S)
    for tool in (COLD, WARM, TAR):
        for image in (BASE, LAYERS):
            b, f = find('big', tool, image), find('files', tool, image)
            if b and f:
                add('big < 2x files', [b, f], 'big median / files median',
                    ratio(b['median_wall_s'], f['median_wall_s']), 'x', '<', TARGET_BIG_OVER_FILES)
    cst_rows = [r for r in results if r.get('runs') and r['tool'].startswith('cst ') and r['peak_rss_kib']]
    if cst_rows:
        top = max(cst_rows, key=lambda r: r['peak_rss_kib'])
        # A failed row's RSS was measured all the same: it counts.
        t = add('peak RSS <= 16 MiB, every suite', [top], f'max over all {len(cst_rows)} cst rows',
                round(top['peak_rss_kib'] / 1024, 1), 'MiB', '<=', TARGET_RSS_MIB, need_ok=False)
        by_suite = {}
        for r in cst_rows:
            if r['peak_rss_kib'] > by_suite.get(r['suite'], {}).get('kib', 0):
                by_suite[r['suite']] = {'kib': r['peak_rss_kib'], 'row': row_name(r)}
        t['by_suite'] = {s: {'mib': round(v['kib'] / 1024, 1), 'row': v['row']} for s, v in by_suite.items()}
    return out


def fmt_s(v):
    if v is None:
        return '-'
    if abs(v) < 1:
        return f'{v * 1000:.0f} ms'
    return f'{v:.2f} s'


def fmt_value(v, unit):
    if v is None:
        return '-'
    return fmt_s(v) if unit == 's' else f'{v:g}{unit if unit == "x" else " " + unit}'


def columns(head, lines):
    widths = [max(len(x) for x in col) for col in zip(head, *lines)]
    out = ['  '.join(h.ljust(w) for h, w in zip(head, widths)).rstrip(), '  '.join('-' * w for w in widths)]
    return widths, out


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
        rss = '-' if r['peak_rss_kib'] is None else f'{r["peak_rss_kib"] / 1024:.1f} MiB'
        lines.append([r['suite'], r['tool'], img, str(len(r['runs'])), fmt_s(r['median_wall_s']),
                      fmt_s(r['min_wall_s']), fmt_s(r['median_cpu_s']), rss,
                      str(r['containers']), 'yes' if r['ok'] else 'NO', fast])
    order = {s: i for i, s in enumerate(SUITES)}
    lines.sort(key=lambda l: order[l[0]])
    widths, top = columns(head, lines)
    p = print
    load = ' '.join(f'{x:.1f}' for x in os.getloadavg())
    p(f'cst benchmark: {runs} runs per suite and tool (medians), {os.cpu_count()} CPUs, load average now {load}')
    for ref, im in images.items():
        p(f'image {ref}: {im["size_bytes"] / 1e6:.0f} MB, {im["layers"]} layer(s), {im["entries"]} entries')
    p('suites (tests): ' + ', '.join(f'{k} {v["tests"]}' for k, v in suites['suites'].items())
      + f'; from the {suites["common_entries"]} entries both images share')
    p(f'"{COLD}": a new empty --cache-dir every run (an image\'s first run); "{WARM}": one --cache-dir')
    p('  primed by an untimed run (every later run of the same image ID); "cst tar": no cache')
    p(f'"{SHARED}": flags a user must ask for,')
    p('  command tests without setup as execs in one container; not what cst test does by default')
    p(f'"{SSH}": the warm run through DOCKER_HOST=ssh:// to an sshd of the bench\'s on 127.0.0.1,')
    p('  against the same engine')
    if any(r['suite'] == REG_SUITE for r in results):
        p(f'"{REG_SUITE}": the files suite on debian-layers:12 from a local docker-registry, tar driver;')
        p(f'  "{REG_BASE}": each run starts with a copy of a cache holding debian:12\'s layer only')
    p(f'"{ENGINE_META}", "{ENGINE_EXPORT}": the engine\'s own time over its API, no client start-up:')
    p('  image inspect; container create + export read to the end + remove (what a cold run waits for)')
    p('')
    p('\n'.join(top))
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
        if any(v['peer_s_per_container'] > v['cst_reference_s_per_test'] for v in per.values()):
            p('  here the peer is slower per container than the CST reference was, so "faster than docker CLI"')
            p('  ratios flatter cst compared with CST on a machine like this one.')
        p('')
    for suite, v in ssh_overhead(results, suites['suites']).items():
        p(f'ssh per command test, over the unix socket\'s ({suite}, warm): {fmt_s(v)}')
        p('')
    p('Targets (ratios against the docker CLI peer of this run):')
    thead = ['result', 'target', 'measured', 'limit', 'computed from', 'rows']
    tlines = []
    for t in tgts:
        res = 'n/a' if t['held'] is None else ('held' if t['held'] else 'MISSED')
        lim = f'{t["op"]} {fmt_value(t["limit"], t["unit"])}'
        tlines.append([res, t['target'], fmt_value(t['value'], t['unit']), lim, t['how'], '; '.join(t['rows'])])
    if tlines:
        tw, ttop = columns(thead, tlines)
        p('\n'.join('  ' + x for x in ttop))
        for l in tlines:
            p('  ' + '  '.join(x.ljust(w) for x, w in zip(l, tw)).rstrip())
    rss = next((t for t in tgts if 'by_suite' in t), None)
    if rss:
        p('  peak RSS by suite: ' + ', '.join(f'{s} {v["mib"]} MiB ({v["row"].split(": ", 1)[1]})'
                                             for s, v in rss['by_suite'].items()))
    failed = [r for r in results if r.get('runs') and not r['ok']]
    if failed or any(t['held'] is None for t in tgts):
        p('  n/a: a row it needs is missing or failed (rows whose runs failed have no ratios)')
    for r in failed:
        p(f'note: {r["tool"]} on {r["suite"]} ({r["image"]}) failed: ' + ' | '.join(r.get('failures') or ['?']))


def ssh_overhead(results, suites):
    """What ssh adds per command test: the ssh row's median less the warm
    unix-socket row's, over the suite's command tests."""
    out = {}
    for suite in SSH_SUITES:
        a = next((x for x in results if x['suite'] == suite and x['tool'] == SSH and x.get('ok')), None)
        b = next((x for x in results if x['suite'] == suite and x['tool'] == WARM and x['image'] == BASE
                  and x.get('ok')), None)
        n = (suites.get(suite) or {}).get('commandTests')
        if a and b and n:
            out[suite] = round((a['median_wall_s'] - b['median_wall_s']) / n, 4)
    return out


def peer_per_container(results):
    """The docker CLI peer's cost per container, to set against CST's."""
    out = {}
    for suite, per_test in (('files', REFERENCE_PER_FILE_TEST_S), ('commands', REFERENCE_PER_COMMAND_TEST_S)):
        r = next((x for x in results if x['suite'] == suite and x['tool'] == PEER and x.get('ok')), None)
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
    # Only the cache directories named on the command line are used; the
    # user's own cache (~/.cache/cst) is never read or written.
    os.environ['CST_CACHE_DIR'] = ''
    cache_root = os.path.join(args.work, 'cache')
    shutil.rmtree(cache_root, ignore_errors=True)  # left by an interrupted run
    os.makedirs(cache_root)
    tars = {BASE: os.path.join(args.work, 'debian-12.tar'), LAYERS: os.path.join(args.work, 'debian-layers-12.tar')}
    for ref, path in tars.items():
        save_image(ref, path)
    with open(os.path.join(args.suites, 'suites.json')) as f:
        suites = json.load(f)
    refs = [BASE, LAYERS]
    huge_json = os.path.join(args.suites, 'huge.json')
    if os.path.exists(huge_json):
        with open(huge_json) as f:
            huge = json.load(f)
        suites['suites'].update(huge['suites'])
        suites['entries'][HUGE] = huge['entries']
        refs.append(HUGE)
    images = {}
    for ref in refs:
        info = json.loads(docker_out('image', 'inspect', ref))[0]
        images[ref] = {'id': info['Id'], 'size_bytes': info['Size'], 'layers': len(info['RootFS']['Layers']),
                       'entries': suites['entries'].get(ref)}
    engine_version = docker_out('version', '-f', '{{.Server.Version}}')
    ssh = SshHost(args.work)
    wanted = [x for x in os.environ.get('BENCH_SUITES', '').split(',') if x]
    reg = LocalRegistry(args.work) if not wanted or REG_SUITE in wanted else None
    rows, upstream = build_rows(args, args.suites, tars, Engine(), ssh, reg)
    started = time.time()
    load_before = os.getloadavg()
    events = Events()
    try:
        run_rows(rows, cache_root)
    finally:
        events.stop()
        ssh.stop()
        if reg:
            reg.stop()
        shutil.rmtree(cache_root, ignore_errors=True)
    for r in rows:
        for run in ([r.prime] if r.prime else []) + r.runs:
            window, pid = run.pop('window_ns'), run.pop('pid')
            run['containers'] = events.count(*window, pid)
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
    tgts = targets(results)
    table(results, reference_rows, tgts, upstream, args.runs, images, suites)
    doc = {
        'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'machine': {'cpus': os.cpu_count(), 'kernel': platform.release(), 'load_avg_before': load_before,
                    'load_avg_after': os.getloadavg(),
                    'engine': engine_version},
        'runs_per_suite': args.runs, 'duration_s': round(time.time() - started, 1),
        'images': images, 'suites': suites['suites'],
        'rows': {COLD: 'a new empty --cache-dir each run', WARM: 'one --cache-dir primed by an untimed run',
                 SHARED: 'opt-in flags, warm cache', TAR: 'tar driver, no cache',
                 SSH: 'warm cache, DOCKER_HOST=ssh:// to an sshd on 127.0.0.1, same engine',
                 COLD_EXPORT: 'the export forced, a new empty --cache-dir each run',
                 REG_COLD: 'tar driver from the local registry, a new empty --cache-dir each run',
                 REG_BASE: 'the same, each run with a copy of a --cache-dir holding the base image\'s layer',
                 REG_WARM: 'the same, every layer in the --cache-dir',
                 REG_CURL: 'curl fetching every layer blob of the image, one after the other',
                 REG_CST: 'container-structure-test --driver tar on the same reference',
                 ENGINE_META: 'engine API, timed from here', ENGINE_EXPORT: 'engine API, timed from here'},
        'results': results,
        'cst_reference': None if upstream else {
            'note': 'container-structure-test figures from the issue, measured elsewhere; not this run',
            'suites': REFERENCE, 'per_file_test_s': REFERENCE_PER_FILE_TEST_S,
            'per_command_test_s': REFERENCE_PER_COMMAND_TEST_S},
        'upstream_cst': upstream,
        'docker_cli_peer_per_container': peer_per_container(results),
        'ssh_overhead_per_command_test_s': ssh_overhead(results, suites['suites']),
        'targets': tgts,
    }
    tmp = args.json + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(doc, f, indent=2)
        f.write('\n')
    os.replace(tmp, args.json)
    print(f'\nfigures as JSON: {args.json}')
    # Missed targets are figures to read; a run that failed is an error.
    # CST's tar driver fails the suite's owner checks (it cannot read
    # owners from what it extracts): its figure is a time, not a verdict.
    return 1 if any(r.get('runs') and not r['ok'] and r['tool'] != REG_CST for r in results) else 0


if __name__ == '__main__':
    sys.exit(main())
