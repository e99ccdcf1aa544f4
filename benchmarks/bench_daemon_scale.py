"""The helper daemon at fleet scale: 1000 nodes, 20000 status reports, 200 concurrent lease requests, 8 uploads.

    .venv/bin/python benchmarks/bench_daemon_scale.py [--nodes 1000] [--events 20000] [--rounds 3]
                                                      [--upload-mib 256] [--workdir DIR]

Against a real daemon process on loopback (the default settings: status timeline of 10 per node), with a small
asyncio HTTP/1.1 client (one connection per concurrent caller, so the client's own cost stays out of the
latencies). Prints, each over at least three rounds with median and spread, against the goals of issue 13:

- status updates per second (PUT /v1/nodes/<node>/status, 16 connections; also how the 20000 events are made);
- GET /v1/status latency p50/p99 (sequential, 200 requests per round) at that history;
- 200 concurrent POST /v1/nodes/<node>/lease (3 one-by-one controllers among them) p50/p99, and the check that
  no two nodes of a one-by-one role ever hold a lease;
- the daemon's peak RSS while 8 uploads of --upload-mib each run at once (curl -T, chunked).
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


async def concurrent_leases(port, tokens, names):
    """One POST lease per name, all at once; returns (latencies, granted names). Releases them afterwards."""
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
    return '{:.1f}{} (min {:.1f}, max {:.1f}, n={})'.format(statistics.median(values), unit, min(values),
                                                            max(values), len(values))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--nodes', type=int, default=1000)
    parser.add_argument('--events', type=int, default=20000)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--upload-mib', type=int, default=256)
    parser.add_argument('--workdir')
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix='bench-scale-', dir=args.workdir)
    try:
        with DaemonProcess(os.path.join(work, 'state')) as daemon:
            admin = daemon.admin_token
            nodes = fleet(args.nodes)
            start = time.monotonic()
            tokens = {name: daemon.add_node(name, role, ceph_mon=mon) for name, role, mon in nodes}
            names = [n for n, _, _ in nodes]
            print('{} nodes registered in {:.1f}s; daemon RSS {:.0f} MiB'.format(
                len(names), time.monotonic() - start, baselines.read_status_kib(daemon.pid, 'VmRSS') / 1024))
            rates, status_p50, status_p99, lease_p50, lease_p99 = [], [], [], [], []
            per_round = args.events // args.rounds
            for round_no in range(args.rounds):
                rates.append(asyncio.run(status_updates(daemon.port, tokens, names, per_round, seed=round_no)))
                times, seen = asyncio.run(status_latencies(daemon.port, admin))
                assert seen == len(names), seen
                status_p50.append(percentile(times, 0.5))
                status_p99.append(percentile(times, 0.99))
                rng = random.Random(round_no)
                askers = [n for n in names if n.startswith('controller-')] + rng.sample(
                    [n for n in names if not n.startswith('controller-')], 197)
                rng.shuffle(askers)
                latencies, granted = asyncio.run(concurrent_leases(daemon.port, tokens, askers))
                controllers = [n for n in granted if n.startswith('controller-')]
                if len(controllers) > 1:
                    raise RuntimeError('two nodes of the one-by-one role Controller held leases: {}'.format(
                        controllers))
                lease_p50.append(percentile(latencies, 0.5))
                lease_p99.append(percentile(latencies, 0.99))
                print('round {}: {} status events so far, {} of 200 leases granted ({} controller)'.format(
                    round_no + 1, per_round * (round_no + 1), len(granted), len(controllers)))
            rss_idle = baselines.read_status_kib(daemon.pid, 'VmRSS') / 1024
            uploaders = names[-8:]
            rss_peaks = [concurrent_uploads(daemon, tokens, uploaders, work, args.upload_mib)
                         for _ in range(args.rounds)]
        print('\n== daemon at {} nodes, {} status events (timeline of 10 kept per node)'.format(
            len(names), per_round * args.rounds))
        lines = [
            ('status updates/s (16 connections)', spread(rates, '/s'), statistics.median(rates),
             GOALS['status updates/s'], '>='),
            ('GET /v1/status p99', spread(status_p99, ' ms', 1000), statistics.median(status_p99) * 1000,
             GOALS['status p99 ms'], '<='),
            ('GET /v1/status p50', spread(status_p50, ' ms', 1000), None, None, None),
            ('200 concurrent leases p99', spread(lease_p99, ' ms', 1000), statistics.median(lease_p99) * 1000,
             GOALS['lease p99 ms'], '<='),
            ('200 concurrent leases p50', spread(lease_p50, ' ms', 1000), None, None, None),
            ('daemon peak RSS, 8 x {} MiB uploads'.format(args.upload_mib), spread(rss_peaks, ' MiB'),
             statistics.median(rss_peaks), GOALS['rss MiB'], '<='),
        ]
        for label, text, value, goal, sense in lines:
            verdict = ''
            if goal is not None:
                met = value >= goal if sense == '>=' else value <= goal
                verdict = '  goal {} {:g}: {}'.format(sense, goal, 'met' if met else 'NOT met')
            print('{:<40} {}{}'.format(label, text, verdict))
        print('daemon RSS after the status and lease rounds: {:.0f} MiB'.format(rss_idle))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
