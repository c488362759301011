#!/usr/bin/python3
"""Writes the benchmark's suites from the images' own file lists.

Usage: gen_suites.py OUTDIR IMAGE [IMAGE...]
       gen_suites.py --huge OUTDIR IMAGE

Each image's merged file system is read once through `docker export` of a
created (never started) container: the engine's own view, independent of
any tool under test.  Only entries that are identical in every image are
used, so that each suite passes on each image.  The choice is seeded, so
the suites are the same from run to run while the images are.

For every suite NAME it writes NAME.yaml (the structure-test config) and
NAME.plan (the same checks as tab-separated steps for docker-cli-peer.sh),
and suites.json (what was generated, from which images).

With --huge it writes the suites of the large image instead (huge12 and
huge200: 12 and 200 file tests, a tenth of them content tests, half of the
existence tests on the image's data under /data, the rest on Debian's own
files) and huge.json.
"""

import hashlib
import json
import os
import random
import re
import stat
import subprocess
import sys
import tarfile

SEED = 20240607
# Entries the engine puts into every container (mount points, the init
# layer): not part of the image, so not tested.
ENGINE_PATHS = ('/.dockerenv', '/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/etc/mtab')
ENGINE_TREES = ('/dev', '/proc', '/sys')
SAFE_PATH = re.compile(r'^/[A-Za-z0-9._+@:/-]*$')
CONTENT_MAX = 64 * 1024


def go_file_mode(mode, kind):
    """Go's FileMode.String() for a tar entry, as CST compares it."""
    prefix = {'dir': 'd', 'symlink': 'L', 'chr': 'Dc', 'blk': 'D', 'fifo': 'p'}.get(kind, '')
    if mode & stat.S_ISUID:
        prefix += 'u'
    if mode & stat.S_ISGID:
        prefix += 'g'
    if kind == 'chr':  # Go puts the char-device letter after u/g
        prefix = 'D' + prefix[2:] + 'c'
    if mode & stat.S_ISVTX:
        prefix += 't'
    rwx = ''.join(c if mode & (1 << (8 - i)) else '-' for i, c in enumerate('rwxrwxrwx'))
    return (prefix or '-') + rwx


def ls_mode(mode, kind):
    """The same mode as GNU tar -tv prints it, for the docker CLI peer."""
    first = {'dir': 'd', 'symlink': 'l', 'chr': 'c', 'blk': 'b', 'fifo': 'p'}.get(kind, '-')
    s = list(first + ''.join(c if mode & (1 << (8 - i)) else '-' for i, c in enumerate('rwxrwxrwx')))
    if mode & stat.S_ISUID:
        s[3] = 's' if s[3] == 'x' else 'S'
    if mode & stat.S_ISGID:
        s[6] = 's' if s[6] == 'x' else 'S'
    if mode & stat.S_ISVTX:
        s[9] = 't' if s[9] == 'x' else 'T'
    return ''.join(s)


def kind_of(member):
    if member.isdir():
        return 'dir'
    if member.issym():
        return 'symlink'
    if member.islnk():
        return 'hardlink'
    if member.ischr():
        return 'chr'
    if member.isblk():
        return 'blk'
    if member.isfifo():
        return 'fifo'
    return 'file'


def tar_path(name):
    """A tar member name as an absolute path: "./usr/" is "/usr"."""
    if name.startswith('./'):
        name = name[2:]
    name = name.strip('/')
    return '/' + name if name not in ('', '.') else '/'


def read_image(image):
    """Returns {path: entry} for the image's merged file system."""
    cid = subprocess.run(['docker', 'create', image], check=True, capture_output=True,
                         text=True).stdout.strip()
    entries = {}
    hardlinks = []
    try:
        proc = subprocess.Popen(['docker', 'export', cid], stdout=subprocess.PIPE)
        with tarfile.open(fileobj=proc.stdout, mode='r|') as tar:
            for m in tar:
                path = tar_path(m.name)
                if path in ENGINE_PATHS or any(path == t or path.startswith(t + '/') for t in ENGINE_TREES):
                    continue
                e = {'kind': kind_of(m), 'mode': m.mode, 'uid': m.uid, 'gid': m.gid,
                     'size': m.size, 'link': m.linkname}
                if m.isfile() and m.size <= CONTENT_MAX:
                    data = tar.extractfile(m).read()
                    e['sha256'] = hashlib.sha256(data).hexdigest()
                    e['line'] = content_line(data)
                if m.islnk():
                    hardlinks.append(path)
                entries[path] = e
        if proc.wait() != 0:
            raise RuntimeError(f'docker export {image} failed')
    finally:
        subprocess.run(['docker', 'rm', '-f', cid], capture_output=True)
    # A hard link's data is its target's; tests see a regular file.
    for path in hardlinks:
        target = entries.get(tar_path(entries[path]['link']))
        if target:
            entries[path] = dict(target, uid=entries[path]['uid'], gid=entries[path]['gid'])
    return entries


def content_line(data):
    """A distinctive printable line of a small text file, or None."""
    try:
        text = data.decode('ascii')
    except UnicodeDecodeError:
        return None
    best = None
    for line in text.split('\n'):
        line = line.strip()
        if 12 <= len(line) <= 100 and all(32 <= ord(c) < 127 for c in line) and "'" not in line:
            if text.count(line) == 1:
                best = line
                break
    return best


def regex_escape(s):
    """Escapes RE2 and PCRE2 metacharacters only, so the pattern reads well."""
    return re.sub(r'([\\.^$*+?()\[\]{}|])', r'\\\1', s)


def common_entries(images):
    views = [read_image(img) for img in images]
    common = {}
    for path, e in views[0].items():
        if all(v.get(path) == e for v in views[1:]):
            common[path] = e
    return common, [len(v) for v in views]


def yaml_str(s):
    return json.dumps(s)  # a JSON string is a valid YAML flow scalar


def existence_tests(common, rng, n_present, n_absent, prefix):
    paths = sorted(p for p, e in common.items()
                   if SAFE_PATH.match(p) and e['kind'] in ('file', 'dir', 'symlink', 'hardlink') and p != '/')
    files = [p for p in paths if common[p]['kind'] in ('file', 'hardlink')]
    others = [p for p in paths if common[p]['kind'] in ('dir', 'symlink')]
    # Mostly regular files, as real suites have, plus directories and links.
    n_other = n_present // 5
    chosen = rng.sample(files, n_present - n_other) + rng.sample(others, n_other)
    chosen.sort()
    tests = []
    for i, p in enumerate(chosen):
        e = common[p]
        kind = 'file' if e['kind'] == 'hardlink' else e['kind']
        t = {'name': f'{prefix}{i:04d} {p}', 'path': p, 'shouldExist': True,
             'permissions': go_file_mode(e['mode'], kind),
             'ls': ls_mode(e['mode'], kind), 'uid': e['uid'], 'gid': e['gid']}
        if kind == 'file' and e['mode'] & 0o111:
            t['isExecutableBy'] = 'any'
        tests.append(t)
    for i in range(n_absent):
        tests.append({'name': f'{prefix}absent{i:02d}', 'path': f'/usr/share/cst-bench-absent-{i}',
                      'shouldExist': False})
    return tests


def content_tests(common, rng, n, prefix):
    paths = sorted(p for p, e in common.items()
                   if SAFE_PATH.match(p) and e['kind'] == 'file' and e.get('line'))
    chosen = sorted(rng.sample(paths, n))
    return [{'name': f'{prefix}{i:03d} {p}', 'path': p, 'line': common[p]['line']}
            for i, p in enumerate(chosen)]


def command_tests(n):
    tests = []
    for i in range(n - 1):
        word = f'bench-{i:02d}'
        tests.append({'name': f'echo {i:02d}', 'command': 'sh', 'args': ['-c', f'echo {word}'],
                      'expected': word})
    tests.append({'name': 'echo after setup', 'setup': 'echo prepared-by-setup > /tmp/cst-bench-setup',
                  'command': 'sh', 'args': ['-c', 'cat /tmp/cst-bench-setup'],
                  'expected': 'prepared-by-setup'})
    return tests


METADATA = {
    'env': ('PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'),
    'cmd': ['bash'],
    'label': ('dev.cst.bench.source', '^[0-9a-f]{16}$'),
}


def write_suite(outdir, name, exist=(), content=(), commands=(), metadata=False):
    y = ['schemaVersion: "2.0.0"', '']
    plan = []
    if commands:
        y.append('commandTests:')
        for t in commands:
            y.append(f'  - name: {yaml_str(t["name"])}')
            if 'setup' in t:
                y.append(f'    setup: [["sh", "-c", {yaml_str(t["setup"])}]]')
            y.append(f'    command: {yaml_str(t["command"])}')
            y.append('    args: [' + ', '.join(yaml_str(a) for a in t['args']) + ']')
            y.append(f'    expectedOutput: [{yaml_str(regex_escape(t["expected"]))}]')
            plan.append(['cmd', t['name'], t['expected'], t.get('setup', '-'), t['command'], *t['args']])
    if content:
        y.append('fileContentTests:')
        for t in content:
            y.append(f'  - name: {yaml_str(t["name"])}')
            y.append(f'    path: {yaml_str(t["path"])}')
            y.append(f'    expectedContents: [{yaml_str(regex_escape(t["line"]))}]')
            y.append('    excludedContents: ["cst-bench: not in any file"]')
            plan.append(['content', t['name'], t['path'], t['line']])
    if exist:
        y.append('fileExistenceTests:')
        for t in exist:
            y.append(f'  - name: {yaml_str(t["name"])}')
            y.append(f'    path: {yaml_str(t["path"])}')
            y.append(f'    shouldExist: {"true" if t["shouldExist"] else "false"}')
            if not t['shouldExist']:
                plan.append(['absent', t['name'], t['path']])
                continue
            if 'permissions' in t:
                y.append(f'    permissions: {yaml_str(t["permissions"])}')
                y.append(f'    uid: {t["uid"]}')
                y.append(f'    gid: {t["gid"]}')
            if 'isExecutableBy' in t:
                y.append(f'    isExecutableBy: {t["isExecutableBy"]}')
            plan.append(['exist', t['name'], t['path'], t.get('ls', '*'),
                         f'{t["uid"]}/{t["gid"]}' if 'uid' in t else '*'])
    if metadata:
        k, v = METADATA['env']
        lk, lv = METADATA['label']
        y += ['metadataTest:',
              f'  envVars: [{{key: {yaml_str(k)}, value: {yaml_str(v)}}}]',
              f'  labels: [{{key: {yaml_str(lk)}, value: {yaml_str(lv)}, isRegex: true}}]',
              '  cmd: [' + ', '.join(yaml_str(c) for c in METADATA['cmd']) + ']']
        plan.append(['meta', 'Metadata Test', f'{k}={v}', json.dumps(METADATA['cmd'], separators=(',', ':')),
                     lk, lv])
    for step in plan:
        for field in step:
            # The peer splits on tabs and needs every field non-empty.
            if not field or '\t' in field or '\n' in field:
                raise ValueError(f'plan field unusable: {field!r}')
    with open(os.path.join(outdir, name + '.yaml'), 'w') as f:
        f.write('\n'.join(y) + '\n')
    with open(os.path.join(outdir, name + '.plan'), 'w') as f:
        f.write(''.join('\t'.join(step) + '\n' for step in plan))
    return {'fileExistenceTests': len(exist), 'fileContentTests': len(content),
            'commandTests': len(commands), 'metadataTest': bool(metadata),
            'tests': len(exist) + len(content) + len(commands) + (1 if metadata else 0)}


# cst's policy extensions: whole-tree assertions, one pass over the index
# each; the figures to read are the tests' own durations in the report.
POLICY = '''schemaVersion: "2.0.0"

fileSystemTests:
  - name: no setuid beyond the usual
    paths: ["/**"]
    exclude: ["/proc/**", "/sys/**"]
    setuidAllowed: ["/usr/bin/passwd", "/usr/bin/su", "/usr/bin/chfn", "/usr/bin/chsh", "/usr/bin/gpasswd",
                    "/usr/bin/newgrp", "/usr/bin/mount", "/usr/bin/umount"]
  - name: nothing world-writable
    paths: ["/**"]
    noWorldWritable: true
  - name: no secrets
    paths: ["/**"]
    mustNotExist: ["**/*.pem", "**/id_rsa", "**/.git"]
  - name: system trees in root's ids
    paths: ["/usr/**", "/bin/**", "/sbin/**", "/lib/**"]
    uidRange: [0, 0]
    maxTotalSize: 1000000000
layerTests:
  maxLayers: 20
'''


def write_policy(outdir):
    with open(os.path.join(outdir, 'policy.yaml'), 'w') as f:
        f.write(POLICY)
    with open(os.path.join(outdir, 'policy.plan'), 'w') as f:
        f.write('')
    return {'fileSystemTests': 4, 'layerTests': 1, 'tests': 5}


def huge_suites(outdir, image):
    entries = read_image(image)
    rng = random.Random(SEED + 2)
    data = {p: e for p, e in entries.items() if p.startswith('/data/')}
    system = {p: e for p, e in entries.items() if not p.startswith('/data/')}
    suites = {}
    for name, n in (('huge12', 12), ('huge200', 200)):
        n_content = max(2, n // 10)
        n_exist = n - n_content
        # The four large files are always among them: what makes the
        # image large is what a suite of such an image tests.
        blobs = sorted(p for p in data if p.startswith('/data/blobs/') and data[p]['kind'] == 'file')
        exist = existence_tests(system, rng, n_exist - n_exist // 2, 0, 'exists ')
        small = sorted(p for p in data if p not in blobs and data[p]['kind'] == 'file')
        for i, p in enumerate(sorted(rng.sample(small, n_exist // 2 - len(blobs)))):
            e = data[p]
            exist.append({'name': f'data {i:04d} {p}', 'path': p, 'shouldExist': True,
                          'permissions': go_file_mode(e['mode'], 'file'), 'ls': ls_mode(e['mode'], 'file'),
                          'uid': e['uid'], 'gid': e['gid']})
        for i, p in enumerate(blobs):
            e = data[p]
            exist.append({'name': f'blob{i} {p}', 'path': p, 'shouldExist': True,
                          'permissions': go_file_mode(e['mode'], 'file'), 'ls': ls_mode(e['mode'], 'file'),
                          'uid': e['uid'], 'gid': e['gid']})
        content = content_tests(system, rng, n_content, 'content ')
        suites[name] = write_suite(outdir, name, exist, content)
    with open(os.path.join(outdir, 'huge.json'), 'w') as f:
        json.dump({'image': image, 'entries': len(entries), 'seed': SEED + 2, 'suites': suites}, f, indent=2)
        f.write('\n')
    for name, s in suites.items():
        print(f'gen_suites: {name}: {s["tests"]} tests', file=sys.stderr)
    return 0


def main(argv):
    if len(argv) == 4 and argv[1] == '--huge':
        os.makedirs(argv[2], exist_ok=True)
        return huge_suites(argv[2], argv[3])
    if len(argv) < 3:
        print(__doc__.strip().split('\n\n')[1], file=sys.stderr)
        return 2
    outdir, images = argv[1], argv[2:]
    os.makedirs(outdir, exist_ok=True)
    common, sizes = common_entries(images)
    rng = random.Random(SEED)
    files_exist = existence_tests(common, rng, 48, 2, 'exists ')
    files_content = content_tests(common, rng, 10, 'content ')
    commands = command_tests(10)
    rng_big = random.Random(SEED + 1)
    big_exist = existence_tests(common, rng_big, 880, 20, 'big exists ')
    big_content = content_tests(common, rng_big, 100, 'big content ')
    root = {'name': 'dir /', 'path': '/', 'shouldExist': True}
    usr = common['/usr']
    dirs = [root, {'name': 'dir /usr', 'path': '/usr', 'shouldExist': True,
                   'permissions': go_file_mode(usr['mode'], 'dir'), 'ls': ls_mode(usr['mode'], 'dir'),
                   'uid': usr['uid'], 'gid': usr['gid']}]
    suites = {
        'files': write_suite(outdir, 'files', files_exist, files_content, metadata=True),
        'commands': write_suite(outdir, 'commands', commands=commands),
        'mixed': write_suite(outdir, 'mixed', files_exist, files_content, commands, metadata=True),
        'dir': write_suite(outdir, 'dir', dirs),
        'big': write_suite(outdir, 'big', big_exist, big_content),
        'policy': write_policy(outdir),
    }
    with open(os.path.join(outdir, 'suites.json'), 'w') as f:
        json.dump({'images': images, 'entries': dict(zip(images, sizes)), 'common_entries': len(common),
                   'seed': SEED, 'suites': suites}, f, indent=2)
        f.write('\n')
    for name, s in suites.items():
        print(f'gen_suites: {name}: {s["tests"]} tests', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
