"""Shared pieces for the benchmarks: a test tree, the two baselines, peak RSS, timing, ratios.

Every benchmark measures its own path and, in the same run, the baselines an operator would
otherwise use, so ratios compare like with like on this machine at this moment:

- ``raw_copy(src, dst)``: ``tar -C src -cf - . | tar -C dst -xf -``, the floor for moving bytes;
- ``zstd_copy``, ``zstd_archive`` and ``zstd_unpack``: the raw copy with the project's zstd in the middle, no
  network: the floor of any compressed path, so a ratio can be split into what the codec costs and what is ours;
- ``ThrowawaySshd`` + ``rsync_over_ssh(...)``: what TripleO does today (rsync over ssh), through a
  private sshd on a loopback port with its own host key and authorized_keys, started and stopped
  by the benchmark (the machine's own sshd and ~/.ssh are never touched);
- ``time_baselines(src, workdir)``: both of them, each copy checked and removed.

Plain Python 3.11 (benchmarks run on the undercloud side, never on nodes).
"""
import contextlib
import getpass
import os
import random
import resource
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time

from testing.processes import NotReady, free_port, wait_for  # the benchmarks put the repository on sys.path

MIB = 1 << 20
SSH_CLIENT_OPTIONS = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
                      '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR']


def parse_size(text):
    """Bytes in a size such as ``2G``, ``256M``, ``1.5GiB`` or ``1048576`` (binary units); ValueError if not one."""
    units = {'': 1, 'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30, 'T': 1 << 40}
    number = text.strip().upper()
    for suffix in ('IB', 'B'):
        if number.endswith(suffix) and number[:-len(suffix)][-1:] in 'KMGT':
            number = number[:-len(suffix)]
            break
    unit = number[-1:] if number[-1:] in 'KMGT' else ''
    value = float(number[:len(number) - len(unit)])
    if value <= 0:
        raise ValueError(text)
    return int(value * units[unit])


# ---------------------------------------------------------------------------------------------
# Test tree

def make_tree(root, total_bytes, seed=0, large_share=0.85, content='random'):
    """Fill ``root`` with about ``total_bytes`` of files, the same every time for the same arguments.

    Like a database or config tree: ``large_share`` of the bytes in a few large files (1/8 of the
    total each, at least 1 MiB) and the rest in many small files (512 B - 64 KiB) spread over
    nested directories. ``content='random'``: pseudo-random bytes, which neither compress nor deduplicate;
    ``'text'``: lines like a node's state and configuration (key = value settings, JSON with UUIDs, log lines
    with timestamps and request ids), which compress several times as real node data does.
    Returns ``(files, bytes)`` written.
    """
    rng = random.Random(seed)
    if content == 'text':
        pool = _text_pool(rng)
        _write = lambda path, size, rng: _write_text_file(path, size, rng, pool)  # noqa: E731
    else:
        _write = _write_random_file
    os.makedirs(root, exist_ok=True)
    files = written = 0
    large_left = int(total_bytes * large_share)
    large_size = max(MIB, total_bytes // 8)
    while large_left > 0:
        size = min(large_size, large_left)
        written += _write(os.path.join(root, 'large-{:03d}.ibd'.format(files)), size, rng)
        large_left -= size
        files += 1
    while written < total_bytes:
        size = min(rng.randint(512, 64 * 1024), total_bytes - written)
        directory = os.path.join(root, 'd{:02d}'.format(files % 16), 's{:02d}'.format(files % 7))
        os.makedirs(directory, exist_ok=True)
        written += _write(os.path.join(directory, 'f{:06d}.dat'.format(files)), size, rng)
        files += 1
    return files, written


WORDS = ('nova', 'compute', 'instance', 'neutron', 'port', 'network', 'volume', 'cinder', 'glance', 'image',
         'keystone', 'token', 'project', 'allocation', 'scheduler', 'libvirt', 'qemu', 'ovs', 'bridge', 'active',
         'building', 'error', 'debug', 'info', 'warning', 'request', 'response', 'host', 'agent', 'state')


def _text_pool(rng, size=32 * MIB):
    """32 MiB of node-data-like text, the source of every 'text' file (at random offsets)."""
    lines, total = [], 0
    while total < size:
        kind = rng.random()
        uuid = '{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}'.format(rng.getrandbits(32), rng.getrandbits(16),
                                                             rng.getrandbits(12), rng.getrandbits(12),
                                                             rng.getrandbits(48))
        if kind < 0.4:
            line = '2026-11-{:02d} {:02d}:{:02d}:{:02d}.{:03d} {} {} {} [req-{} - - - - -] {}\n'.format(
                rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999),
                rng.randint(1000, 99999), rng.choice(('INFO', 'DEBUG', 'WARNING')),
                'nova.' + rng.choice(WORDS), uuid, ' '.join(rng.choice(WORDS) for _ in range(rng.randint(4, 14))))
        elif kind < 0.7:
            line = '{{"uuid": "{}", "{}": "{}", "{}": {}, "tags": ["{}", "{}"]}}\n'.format(
                uuid, rng.choice(WORDS), rng.choice(WORDS), rng.choice(WORDS), rng.randint(0, 65535),
                rng.choice(WORDS), rng.choice(WORDS))
        else:
            line = '{}_{} = {}\n'.format(rng.choice(WORDS), rng.choice(WORDS), rng.choice(
                (str(rng.randint(0, 4096)), rng.choice(WORDS), uuid, 'True', 'False')))
        lines.append(line)
        total += len(line)
    return ''.join(lines).encode()


def _write_text_file(path, size, rng, pool):
    with open(path, 'wb') as out:
        left = size
        while left:
            chunk = min(left, MIB)
            start = rng.randrange(0, len(pool) - chunk)
            out.write(pool[start:start + chunk])
            left -= chunk
    return size


def _write_random_file(path, size, rng):
    with open(path, 'wb') as out:
        left = size
        while left:
            chunk = min(left, MIB)
            out.write(rng.randbytes(chunk))
            left -= chunk
    return size


def tree_bytes(root):
    """Total size of the regular files under ``root``."""
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, names in os.walk(root) for f in names)


def tree_listing(root):
    """``{relative path: size}`` of every regular file: a cheap check that a copy is complete."""
    listing = {}
    for directory, _, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            listing[os.path.relpath(path, root)] = os.path.getsize(path)
    return listing


def drop_page_cache():
    """Ask the kernel to drop clean caches (root only) so each method starts cold; False if not allowed."""
    subprocess.call(['sync'])
    try:
        with open('/proc/sys/vm/drop_caches', 'w') as knob:
            knob.write('3\n')
        return True
    except OSError:
        return False


# ---------------------------------------------------------------------------------------------
# Baselines

def raw_copy(src, dst):
    """Copy ``src`` into ``dst`` with a tar pipe (the floor), then ``sync``; returns seconds."""
    os.makedirs(dst, exist_ok=True)
    start = time.monotonic()
    subprocess.run(['bash', '-o', 'pipefail', '-c', 'tar -C "$1" -cf - . | tar -C "$2" -xf -', 'raw_copy', src, dst],
                   check=True)
    subprocess.run(['sync'], check=True)
    return time.monotonic() - start


def _zstd_pipeline(script, *args):
    """Run ``script`` (bash, pipefail) then sync, with the project's own tar options in the environment:
    $ZSTD_OPTION (how tar runs zstd) and $STREAM_RECORDS (how tar reads from a pipe)."""
    from testing.libraries import register_libraries_package
    register_libraries_package()
    from tripleo_upgrade_libraries import tripleo_archive
    start = time.monotonic()
    subprocess.run(['bash', '-o', 'pipefail', '-c', script, 'zstd_pipeline'] + list(args), check=True,
                   env=dict(os.environ, ZSTD_OPTION=' '.join(tripleo_archive.ZSTD),
                            STREAM_RECORDS=' '.join(tripleo_archive.STREAM_RECORDS)))
    subprocess.run(['sync'], check=True)
    return time.monotonic() - start


def zstd_copy(src, dst):
    """The raw copy through the project's zstd as the transfer runs it (tar runs ``zstd -1 -T0``, then ``zstd -d |
    tar -x`` reading 1 MiB records), no network, then ``sync``: the floor of every compressed transfer; returns
    seconds."""
    os.makedirs(dst, exist_ok=True)
    return _zstd_pipeline('tar -C "$1" -cf - "$ZSTD_OPTION" . | zstd -d -q -c | tar -C "$2" -xf - $STREAM_RECORDS',
                          src, dst)


def zstd_archive(src, archive):
    """``src`` archived with the project's zstd into the local file ``archive``, then ``sync``: the floor of a
    compressed persist (the same work, no network, no daemon); returns seconds."""
    return _zstd_pipeline('tar -C "$1" -cf "$2" "$ZSTD_OPTION" .', src, archive)


def zstd_unpack(archive, dst):
    """``zstd -d < archive | tar -x`` into ``dst``, then ``sync``: the floor of a compressed restore."""
    os.makedirs(dst, exist_ok=True)
    return _zstd_pipeline('zstd -d -q -c "$1" | tar -C "$2" -xf - $STREAM_RECORDS', archive, dst)


class ThrowawaySshd(object):
    """A private sshd on 127.0.0.1:<free port>, for the rsync-over-ssh baseline.

    Own host key, own client key and authorized_keys, own config (key-only login, root allowed
    by key only in this config), all in a temporary directory removed on ``stop()``.
    """

    def __init__(self):
        self.port = free_port()
        self.user = getpass.getuser()
        self.dir = tempfile.mkdtemp(prefix='bench-sshd-')
        self.client_key = os.path.join(self.dir, 'client_key')
        self._process = None

    def start(self):
        host_key = os.path.join(self.dir, 'host_key')
        for key in (host_key, self.client_key):
            subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', key], check=True)
        shutil.copy(self.client_key + '.pub', os.path.join(self.dir, 'authorized_keys'))
        config = os.path.join(self.dir, 'sshd_config')
        with open(config, 'w') as out:
            out.write('\n'.join([
                'Port {}'.format(self.port), 'ListenAddress 127.0.0.1', 'HostKey ' + host_key,
                'AuthorizedKeysFile ' + os.path.join(self.dir, 'authorized_keys'),
                'PermitRootLogin prohibit-password', 'PasswordAuthentication no',
                'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no',
                'PidFile ' + os.path.join(self.dir, 'sshd.pid'), 'Subsystem sftp internal-sftp', '']))
        if os.geteuid() == 0:
            os.makedirs('/run/sshd', mode=0o755, exist_ok=True)  # sshd's privilege separation directory
        log_path = os.path.join(self.dir, 'sshd.log')
        with open(log_path, 'w') as log:
            self._process = subprocess.Popen([shutil.which('sshd') or '/usr/sbin/sshd', '-D', '-e', '-f', config],
                                             stderr=log)
        try:
            wait_for(self._listening, 'throwaway sshd on 127.0.0.1:{}'.format(self.port), 10, self._process)
        except NotReady as exc:
            with open(log_path, errors='replace') as log:
                message = '{}; its log:\n{}'.format(exc, log.read())
            self.stop()
            raise RuntimeError(message) from None
        return self

    def _listening(self):
        with contextlib.suppress(OSError), socket.create_connection(('127.0.0.1', self.port), timeout=1):
            return True
        return False

    def ssh_command(self):
        """The ``ssh`` command line for this sshd (for ``rsync -e``)."""
        return ['ssh', '-i', self.client_key, '-p', str(self.port)] + SSH_CLIENT_OPTIONS

    def stop(self):
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def rsync_over_ssh(sshd, src, dst):
    """Copy ``src`` into ``dst`` with rsync through ``sshd`` (as TripleO's transfer does); returns seconds."""
    os.makedirs(dst, exist_ok=True)
    start = time.monotonic()
    subprocess.run(['rsync', '-a', '--xattrs', '--acls', '-e', ' '.join(sshd.ssh_command()),
                    src.rstrip('/') + '/', '{}@127.0.0.1:{}/'.format(sshd.user, dst.rstrip('/'))], check=True)
    subprocess.run(['sync'], check=True)
    return time.monotonic() - start


def time_baselines(src, workdir, expected=None, before_each=drop_page_cache):
    """Copy ``src`` with each baseline into a new directory under ``workdir``, calling ``before_each()`` first.

    Every copy is compared with ``expected`` (default: ``tree_listing(src)``) and removed afterwards.
    Returns ``{'raw copy': seconds, 'rsync over ssh': seconds}``.
    """
    expected = tree_listing(src) if expected is None else expected
    results = {}

    def measure(name, copy, *args):
        dst = os.path.join(workdir, name.replace(' ', '-'))
        before_each()
        results[name] = copy(*args + (src, dst))
        if tree_listing(dst) != expected:
            raise RuntimeError(name + ': the copy differs from the source')
        shutil.rmtree(dst)

    measure('raw copy', raw_copy)
    with ThrowawaySshd() as sshd:
        measure('rsync over ssh', rsync_over_ssh, sshd)
    return results


# ---------------------------------------------------------------------------------------------
# Repeated runs: wall time and CPU-seconds (this process's children and a daemon), median and spread

def process_cpu_seconds(pid):
    """utime + stime of a live process and of its reaped children, in seconds (0.0 once it is gone)."""
    try:
        with open('/proc/{}/stat'.format(pid)) as stat:
            fields = stat.read().rpartition(')')[2].split()
    except OSError:
        return 0.0
    # After the ")": state is field 0, utime 11, stime 12, cutime 13, cstime 14.
    return sum(int(f) for f in fields[11:15]) / os.sysconf('SC_CLK_TCK')


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Run(object):
    """One measured run: ``wall`` seconds and ``cpu`` seconds (children of this process plus ``daemon_pids``)."""

    def __init__(self, wall, cpu):
        self.wall, self.cpu = wall, cpu


def measure_once(function, daemon_pids=(), cold=True):
    """Call ``function()`` after ``sync`` and (``cold``) dropping the page cache; it must end with its data synced.

    CPU-seconds count every child process this benchmark reaped during the call (tar, curl, the tools, sync) and
    the given long-running processes (the daemon) through /proc. The function's own Python work in this process
    is added too (``time.process_time``), so in-process clients count.
    """
    subprocess.run(['sync'], check=True)
    if cold:
        drop_page_cache()
    children, own = children_cpu_seconds(), time.process_time()
    daemons = [process_cpu_seconds(pid) for pid in daemon_pids]
    start = time.monotonic()
    function()
    wall = time.monotonic() - start
    cpu = (children_cpu_seconds() - children) + (time.process_time() - own)
    cpu += sum(process_cpu_seconds(pid) - before for pid, before in zip(daemon_pids, daemons))
    return Run(wall, cpu)


def interleaved(methods, runs=3):
    """``{name: [Run, ...]}`` of ``methods`` (``{name: function returning one Run}``, in order) measured in ``runs``
    rounds of one run each: a disk or a neighbour that drifts over minutes moves every method and baseline alike,
    where running each method's runs back to back would charge the drift to whichever ran at the time."""
    results = {name: [] for name in methods}
    for round_number in range(1, runs + 1):
        for name, function in methods.items():
            results[name].append(function())
        print('round {} of {}: {}'.format(round_number, runs, ', '.join(
            '{} {:.2f}s'.format(name, results[name][-1].wall) for name in methods)), flush=True)
    return results


def _spread(values):
    return '{:.2f} ({:.2f}-{:.2f})'.format(statistics.median(values), min(values), max(values))


def print_runs(title, results, nbytes=None, baseline='raw copy', goals=None):
    """A table of ``{method: [Run, ...]}``: median wall (min-max), MiB/s, median CPU-s (min-max) and both ratios
    of the medians to ``baseline``'s, with ``goals`` ``{method: (max wall ratio, max CPU ratio or None)}`` judged."""
    base = results[baseline]
    base_wall = statistics.median(r.wall for r in base)
    base_cpu = statistics.median(r.cpu for r in base)
    print('\n== ' + title)
    print('{:<34} {:>4} {:>20} {:>8} {:>20} {:>9} {:>9}  {}'.format(
        'method', 'runs', 'wall s median (range)', 'MiB/s', 'CPU s median (range)', 'x wall', 'x CPU', 'goal'))
    for name, runs in results.items():
        wall = statistics.median(r.wall for r in runs)
        cpu = statistics.median(r.cpu for r in runs)
        rate = '{:8.1f}'.format(nbytes / MIB / wall) if nbytes and wall else '{:>8}'.format('-')
        verdict = ''
        if goals and name in goals:
            max_wall, max_cpu = goals[name]  # None: no goal for that one
            met = wall / base_wall <= max_wall and (max_cpu is None or cpu / base_cpu <= max_cpu)
            verdict = '<= {:g}x wall{}: {}'.format(max_wall, '' if max_cpu is None else
                                                   ', <= {:g}x CPU'.format(max_cpu), 'met' if met else 'NOT met')
        print('{:<34} {:>4} {:>20} {} {:>20} {:>9.2f} {:>9.2f}  {}'.format(
            name, len(runs), _spread([r.wall for r in runs]), rate, _spread([r.cpu for r in runs]),
            wall / base_wall, cpu / base_cpu, verdict))
    print('(ratios: median of the method / median of {}, measured in this run; every run from a cold page cache '
          'unless said otherwise, timed until its data was synced to disk)'.format(baseline))
    print('load average at the end (1, 5, 15 min): {:.2f} {:.2f} {:.2f} on {} CPUs'.format(
        *os.getloadavg(), os.cpu_count()))


def print_over_floor(results, pairs):
    """For each ``(method, floor)``: what the method adds to the floor measured in the same run (medians): the
    part of its ratio that is the project's own, as against the part every path with that codec pays."""
    for method, floor in pairs:
        if method not in results or floor not in results:
            continue
        wall, cpu = ({name: statistics.median(getattr(r, field) for r in results[name]) for name in (method, floor)}
                     for field in ('wall', 'cpu'))
        print('{} over {}: {:+.2f} s wall ({:.2f}x), {:+.2f} CPU-s ({:.2f}x)'.format(
            method, floor, wall[method] - wall[floor], wall[method] / wall[floor], cpu[method] - cpu[floor],
            cpu[method] / cpu[floor]))


# ---------------------------------------------------------------------------------------------
# Peak memory and timing

def read_status_kib(pid, field):
    """A ``VmRSS``/``VmHWM``-style field of /proc/<pid>/status in KiB, or None once the process is gone."""
    try:
        with open('/proc/{}/status'.format(pid)) as status:
            for line in status:
                if line.startswith(field + ':'):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


class PeakRss(object):
    """Peak resident memory of a running process, in KiB.

    ``VmHWM`` is the kernel's own high-water mark; it is read on every poll and at ``stop()``
    (while the process is alive) and combined with sampled ``VmRSS`` so a process that exits
    between polls still reports the largest value seen. Use as a context manager around the work.
    """

    def __init__(self, pid, interval=0.05):
        self.pid = pid
        self.interval = interval
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _sample(self):
        for field in ('VmHWM', 'VmRSS'):
            value = read_status_kib(self.pid, field)
            if value is not None:
                self.peak_kib = max(self.peak_kib, value)

    def _poll(self):
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self):
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def peak_mib(self):
        return self.peak_kib / 1024.0


class Stopwatch(object):
    """``with Stopwatch() as watch: ...`` then ``watch.seconds``."""

    def __enter__(self):
        self._start = time.monotonic()
        self.seconds = None
        return self

    def __exit__(self, *exc):
        self.seconds = time.monotonic() - self._start


# ---------------------------------------------------------------------------------------------
# Reporting

def print_ratios(title, results, nbytes=None, baselines=('raw copy', 'rsync over ssh')):
    """Print a table of ``{name: seconds}`` with throughput and the ratio to each baseline present.

    A ratio of 1.50 means 1.5 times as long as that baseline (lower is better).
    """
    present = [name for name in baselines if name in results]
    print('\n== ' + title)
    header = '{:<32} {:>9}'.format('method', 'seconds')
    if nbytes:
        header += ' {:>9}'.format('MiB/s')
    header += ''.join(' {:>16}'.format('x ' + name) for name in present)
    print(header)
    for name, seconds in results.items():
        line = '{:<32} {:>9.2f}'.format(name, seconds)
        if nbytes:
            line += ' {:>9.1f}'.format(nbytes / MIB / seconds if seconds else float('inf'))
        line += ''.join(' {:>16.2f}'.format(seconds / results[b] if results[b] else float('inf')) for b in present)
        print(line)
