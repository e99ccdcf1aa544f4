"""The helper daemon at fleet scale: 1000 nodes, 20000 status reports, 200 concurrent lease requests, 8 uploads.

    .venv/bin/python benchmarks/bench_daemon_scale.py [--nodes 1000] [--events 20000] [--rounds 3]
                                                      [--upload-mib 256] [--baseline GIT_REF] [--workdir DIR]

Against a real daemon process on loopback (the default settings: status timeline of 10 per node), with a small
asyncio HTTP/1.1 client (one connection per concurrent caller, so the client's own cost stays out of the
latencies). Prints, each over at least three rounds with median and spread, against the goals of issue 13:

- status updates per second (PUT /v1/nodes/<node>/status, 16 connections; also how the 20000 events are made);
- GET /v1/status latency p50/p99 (sequential, 200 requests per round) at that history;
- 200 concurrent POST /v1/nodes/<node>/lease (3 one-by-one controllers among them) p50/p99, and the check that
  no two nodes of a one-by-one role ever hold a lease;
- the daemon's peak RSS while 8 uploads of --upload-mib each run at once (curl -T, chunked);
and the daemon's CPU time per status update (and its event loop thread's share: the rest is the SQLite writer
thread's and the other threads'), per GET /v1/status and for the 200 lease requests (on a loaded machine the wall
times stretch, the CPU times much less), and GET /v1/status while 4 connections keep reporting
(so most answers are built anew, not served from the kept answer). With --baseline REF the daemon of that git ref
runs the same rounds, interleaved with this tree's (same load), and a ratio column compares them. The load average
is printed at the start, after every round and at the end.
"""
import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)
sys.path[:0] = [HERE, REPO_ROOT]

import baselines  # noqa: E402
import testing.daemon  # noqa: E402
from testing.daemon import DaemonProcess  # noqa: E402

GOALS = {'status p99 ms': 30.0, 'lease p99 ms': 250.0, 'status updates/s': 1500.0, 'rss MiB': 100.0}


class Connection(object):
    """One keep-alive HTTP/1.1 connection: request() -> (status, body bytes)."""

    def __init__(self, port):
        self.port = port
        self.reader = self.writer = None

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection('127.0.0.1', self.port)
        return self

    async def request(self, method, path, token, body=None):
        data = json.dumps(body).encode() if body is not None else b''
        head = ('{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\n'
                .format(method, path, token, len(data)))
        if body is not None:
            head += 'Content-Type: application/json\r\n'
        self.writer.write(head.encode() + b'\r\n' + data)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b'\r\n', b''):
                break
            name, _, value = line.decode().partition(':')
            if name.lower() == 'content-length':
                length = int(value)
        payload = await self.reader.readexactly(length) if length else b''
        return status, payload

    def close(self):
        self.writer.close()


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def fleet(count):
    """(name, role, ceph_mon) for a fleet like a large TripleO cloud: 3 controllers with ceph-mon, the rest."""
    nodes = [('controller-{}'.format(i), 'Controller', True) for i in range(3)]
    rest = count - 3
    for i in range(rest * 6 // 100):
        nodes.append(('ceph-{}'.format(i), 'CephStorage', False))
    for i in range(rest * 3 // 100):
        nodes.append(('networker-{}'.format(i), 'Networker', False))
    i = 0
    while len(nodes) < count:
        nodes.append(('compute-{}'.format(i), 'Compute', False))
        i += 1
    return nodes


def report_body(rng, node, phase):
    """A status report like leapp's: a handful of report entries, some of them inhibitors."""
    entries = [{'key': '{:040x}'.format(rng.getrandbits(160)), 'title': 'Check {} on {}'.format(n, node),
                'summary': 'A finding about this node. ' * 8, 'severity': rng.choice(['info', 'low', 'high']),
                'inhibitor': n == 0 and rng.random() < 0.1,
                'remediation': 'Do something about it.'} for n in range(rng.randint(2, 8))]
    return {'phase': phase, 'os_release': '8.4', 'leapp_run_id': '{:032x}'.format(rng.getrandbits(128)),
            'reports': entries}


async def status_updates(port, tokens, names, count, connections=16, seed=0):
    """Send `count` status reports over `connections` connections; returns reports per second."""
    rng = random.Random(seed)
    bodies = [(n, report_body(rng, n, rng.choice(['preupgrade', 'prepared']))) for n in names]
    queue = [bodies[i % len(bodies)] for i in range(count)]
    conns = [await Connection(port).open() for _ in range(connections)]

    async def worker(conn, share):
        for node, body in share:
            status, payload = await conn.request('PUT', '/v1/nodes/{}/status'.format(node), tokens[node], body)
            if status != 200:
                raise RuntimeError('status update of {}: {} {}'.format(node, status, payload[:200]))

    start = time.monotonic()
    await asyncio.gather(*(worker(c, queue[i::connections]) for i, c in enumerate(conns)))
    seconds = time.monotonic() - start
    for c in conns:
        c.close()
    return count / seconds


async def status_latencies(port, admin, requests=200):
    conn = await Connection(port).open()
    times = []
    for _ in range(requests):
        start = time.monotonic()
        status, payload = await conn.request('GET', '/v1/status', admin)
        times.append(time.monotonic() - start)
        if status != 200:
            raise RuntimeError('GET /v1/status: {} {}'.format(status, payload[:200]))
    conn.close()
    return times, len(json.loads(payload)['nodes'])


async def concurrent_leases(port, tokens, names, measure=None):
    """One POST lease per name, all at once; returns (latencies, granted names). Releases them afterwards.
    `measure()` is called once every answer is in, before the releases."""
    conns = [await Connection(port).open() for _ in names]
    gate = asyncio.Event()

    async def ask(conn, node):
        await gate.wait()
        start = time.monotonic()
        status, payload = await conn.request('POST', '/v1/nodes/{}/lease'.format(node), tokens[node])
        seconds = time.monotonic() - start
        if status not in (200, 409):
            raise RuntimeError('lease of {}: {} {}'.format(node, status, payload[:200]))
        return seconds, node if status == 200 else None

    tasks = [asyncio.ensure_future(ask(c, n)) for c, n in zip(conns, names)]
    await asyncio.sleep(0.2)
    gate.set()
    results = await asyncio.gather(*tasks)
    if measure is not None:
        measure()
    granted = [node for _, node in results if node]
    for conn, node in zip(conns, names):
        if node in granted:
            status, _ = await conn.request('DELETE', '/v1/nodes/{}/lease'.format(node), tokens[node])
            assert status == 204, status
        conn.close()
    return [s for s, _ in results], granted


def concurrent_uploads(daemon, tokens, names, work, mib):
    """8 uploads of `mib` MiB each at once (curl -T, chunked); returns the daemon's peak RSS in MiB."""
    payload = os.path.join(work, 'upload.bin')
    with open(payload, 'wb') as out:
        rng = random.Random(1)
        for _ in range(mib):
            out.write(rng.randbytes(1 << 20))
    with baselines.PeakRss(daemon.pid, interval=0.02) as rss:
        procs = [subprocess.Popen(['curl', '-sS', '--fail', '-o', '/dev/null', '-T', '-', '-H',
                                   'Authorization: Bearer ' + tokens[node],
                                   '{}/v1/nodes/{}/data/bench-upload'.format(daemon.url, node)],
                                  stdin=open(payload, 'rb')) for node in names]
        codes = [p.wait() for p in procs]
    if any(codes):
        raise RuntimeError('an upload failed: {}'.format(codes))
    os.unlink(payload)
    return rss.peak_mib


def spread(values, unit='', scale=1.0):
    values = [v * scale for v in values]
    return '{:.1f}{} ({:.1f}-{:.1f}, n={})'.format(statistics.median(values), unit, min(values), max(values),
                                                   len(values))


def cpu_seconds(pid):
    """User+system CPU seconds of a process so far."""
    with open('/proc/{}/stat'.format(pid)) as stream:
        fields = stream.read().rpartition(')')[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def loop_cpu_seconds(pid):
    """User+system CPU seconds of the process's main thread (the daemon's event loop) so far."""
    with open('/proc/{}/task/{}/stat'.format(pid, pid)) as stream:
        fields = stream.read().rpartition(')')[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def load():
    with open('/proc/loadavg') as stream:
        return ' '.join(stream.read().split()[:3])


def exported(ref, work):
    """The tree of git `ref` (the baseline daemon), exported into `work`."""
    tree = os.path.join(work, 'baseline-tree')
    os.makedirs(tree)
    archive = subprocess.run(['git', '-C', REPO_ROOT, 'archive', ref], stdout=subprocess.PIPE, check=True).stdout
    subprocess.run(['tar', '-x', '-C', tree], input=archive, check=True)
    return tree


def start_daemon(tree, state_dir):
    """A daemon running the code of `tree` (testing.daemon starts `python -m helper_daemon` in REPO_ROOT)."""
    saved = testing.daemon.REPO_ROOT
    testing.daemon.REPO_ROOT = tree
    try:
        return DaemonProcess(state_dir).start()
    finally:
        testing.daemon.REPO_ROOT = saved


async def status_latencies_while_reporting(port, admin, tokens, names, requests=100):
    """GET /v1/status latencies while 4 connections send status reports (so most answers are built anew)."""
    stop = asyncio.Event()

    async def reporter(conn, share):
        rng = random.Random(len(share))
        while not stop.is_set():
            node = rng.choice(share)
            await conn.request('PUT', '/v1/nodes/{}/status'.format(node), tokens[node],
                               report_body(rng, node, 'prepared'))

    conns = [await Connection(port).open() for _ in range(4)]
    tasks = [asyncio.ensure_future(reporter(c, names[i::4])) for i, c in enumerate(conns)]
    await asyncio.sleep(0.2)
    try:
        times, _ = await status_latencies(port, admin, requests)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        for c in conns:
            c.close()
    return times


class Measured(object):
    """One daemon (baseline or this tree) and what was measured of it, round by round."""

    def __init__(self, label, daemon):
        self.label, self.daemon = label, daemon
        self.values = {}

    def add(self, name, value):
        self.values.setdefault(name, []).append(value)

    def cpu(self):
        return cpu_seconds(self.daemon.pid)

    def loop_cpu(self):
        return loop_cpu_seconds(self.daemon.pid)


def one_round(m, tokens, names, per_round, round_no):
    daemon = m.daemon
    cpu, loop_cpu = m.cpu(), m.loop_cpu()
    rate = asyncio.run(status_updates(daemon.port, tokens, names, per_round, seed=round_no))
    m.add('updates', rate)
    m.add('updates cpu', (m.cpu() - cpu) / per_round)
    m.add('updates loop cpu', (m.loop_cpu() - loop_cpu) / per_round)
    cpu = m.cpu()
    times, seen = asyncio.run(status_latencies(daemon.port, daemon.admin_token))
    assert seen == len(names), seen
    m.add('status p50', percentile(times, 0.5))
    m.add('status p99', percentile(times, 0.99))
    m.add('status cpu', (m.cpu() - cpu) / len(times))
    busy = asyncio.run(status_latencies_while_reporting(daemon.port, daemon.admin_token, tokens, names))
    m.add('busy status p50', percentile(busy, 0.5))
    m.add('busy status p99', percentile(busy, 0.99))
    rng = random.Random(round_no)
    askers = [n for n in names if n.startswith('controller-')] + rng.sample(
        [n for n in names if not n.startswith('controller-')], 197)
    rng.shuffle(askers)
    cpu = m.cpu()
    latencies, granted = asyncio.run(concurrent_leases(daemon.port, tokens, askers,
                                                       measure=lambda: m.add('lease cpu', m.cpu() - cpu)))
    controllers = [n for n in granted if n.startswith('controller-')]
    if len(controllers) > 1:
        raise RuntimeError('{}: two nodes of the one-by-one role Controller held leases: {}'.format(
            m.label, controllers))
    m.add('lease p50', percentile(latencies, 0.5))
    m.add('lease p99', percentile(latencies, 0.99))
    print('{}, round {}: {} status events so far, {} of 200 leases granted ({} controller); load {}'.format(
        m.label, round_no + 1, per_round * (round_no + 1), len(granted), len(controllers), load()), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--nodes', type=int, default=1000)
    parser.add_argument('--events', type=int, default=20000)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--upload-mib', type=int, default=256)
    parser.add_argument('--baseline', metavar='GIT_REF',
                        help='also run the daemon of this git ref (e.g. main), interleaved, and print ratios')
    parser.add_argument('--workdir')
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix='bench-scale-', dir=args.workdir)
    print('load average at start: {}'.format(load()), flush=True)
    measured = []
    try:
        trees = [('baseline ' + args.baseline, exported(args.baseline, work))] if args.baseline else []
        trees.append(('this tree', REPO_ROOT))
        nodes = fleet(args.nodes)
        names = [n for n, _, _ in nodes]
        tokens_of = {}
        for label, tree in trees:
            daemon = start_daemon(tree, os.path.join(work, 'state-{}'.format(len(measured))))
            m = Measured(label, daemon)
            measured.append(m)
            start = time.monotonic()
            tokens_of[label] = {name: daemon.add_node(name, role, ceph_mon=mon) for name, role, mon in nodes}
            print('{}: {} nodes registered in {:.1f}s; daemon RSS {:.0f} MiB'.format(
                label, len(names), time.monotonic() - start,
                baselines.read_status_kib(daemon.pid, 'VmRSS') / 1024), flush=True)
        per_round = args.events // args.rounds
        for round_no in range(args.rounds):
            for m in measured:  # interleaved: each daemon's round under the same load
                one_round(m, tokens_of[m.label], names, per_round, round_no)
        for m in measured:
            m.rss_idle = baselines.read_status_kib(m.daemon.pid, 'VmRSS') / 1024
        for _ in range(args.rounds):
            for m in measured:
                m.add('rss', concurrent_uploads(m.daemon, tokens_of[m.label], names[-8:], work, args.upload_mib))
        for m in measured:
            m.daemon.stop()
        print('load average at the end: {}'.format(load()))
        report(measured, args, per_round * args.rounds, len(names))
    finally:
        for m in measured:
            m.daemon.kill()
        shutil.rmtree(work, ignore_errors=True)


# (key, label, unit, scale, goal, sense): what the summary prints, this tree against the goals of issue 13.
LINES = [
    ('updates', 'status updates/s (16 connections)', '/s', 1, GOALS['status updates/s'], '>='),
    ('updates cpu', '  daemon CPU per status update', ' us', 1e6, None, None),
    ('updates loop cpu', '    of which its event loop thread', ' us', 1e6, None, None),
    ('status p99', 'GET /v1/status p99 (between writes)', ' ms', 1000, GOALS['status p99 ms'], '<='),
    ('status p50', 'GET /v1/status p50 (between writes)', ' ms', 1000, None, None),
    ('status cpu', '  daemon CPU per GET /v1/status', ' ms', 1000, None, None),
    ('busy status p99', 'GET /v1/status p99 (4 reporters busy)', ' ms', 1000, None, None),
    ('busy status p50', 'GET /v1/status p50 (4 reporters busy)', ' ms', 1000, None, None),
    ('lease p99', '200 concurrent leases p99', ' ms', 1000, GOALS['lease p99 ms'], '<='),
    ('lease p50', '200 concurrent leases p50', ' ms', 1000, None, None),
    ('lease cpu', '  daemon CPU for the 200 requests', ' s', 1, None, None),
    ('rss', 'daemon peak RSS (8 concurrent uploads)', ' MiB', 1, GOALS['rss MiB'], '<='),
]


def report(measured, args, events, node_count):
    print('\n== daemon at {} nodes, {} status events (timeline of 10 kept per node), 8 x {} MiB uploads; '
          'median (min-max) of {} rounds'.format(node_count, events, args.upload_mib, args.rounds))
    header = '{:<40}'.format('') + ''.join('{:<32}'.format(m.label) for m in measured)
    print(header + ('ratio (this / baseline)' if len(measured) > 1 else ''))
    for key, label, unit, scale, goal, sense in LINES:
        cells = ''.join('{:<32}'.format(spread(m.values[key], unit, scale)) for m in measured)
        ratio = ''
        if len(measured) > 1:
            ratio = '{:.2f}  '.format(statistics.median(measured[-1].values[key])
                                      / statistics.median(measured[0].values[key]))
        verdict = ''
        if goal is not None:
            value = statistics.median(measured[-1].values[key]) * scale
            met = value >= goal if sense == '>=' else value <= goal
            verdict = 'goal {} {:g}: {}'.format(sense, goal, 'met' if met else 'NOT met')
        print('{:<40}{}{}{}'.format(label, cells, ratio, verdict))
    for m in measured:
        print('{}: daemon RSS after the status and lease rounds {:.0f} MiB'.format(m.label, m.rss_idle))


if __name__ == '__main__':
    main()
