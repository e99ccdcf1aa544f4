"""How the status page should learn of changes, measured at a fleet of N nodes (default 1000) on loopback.

    .venv/bin/python benchmarks/bench_status_updates.py [--nodes 1000] [--changes 10] [--idle-seconds 20]

Three ways, against the daemon as a real process:
- poll GET /v1/status every second (what a page without a change counter would do);
- poll GET /v1/status/version every second, fetch GET /v1/status when it changed (what the page does);
- server-sent events: a prototype SSE endpoint (not in the daemon; in this process, on the daemon's database) that
  checks SQLite's data_version every 100 ms and pushes one event per change; the client then fetches GET /v1/status.
For each: bytes and server time per check, latency from a status report to the client holding the new status, and
the CPU the server spends over an idle window with one client connected.
"""

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)
sys.path[:0] = [REPO_ROOT]

from testing.daemon import DaemonProcess  # noqa: E402
from testing.processes import free_port  # noqa: E402

POLL_S = 1.0
SSE_CHECK_S = 0.1


def cpu_seconds(pid=None):
    """User+system CPU seconds of a process (this one by default)."""
    if pid is None:
        t = os.times()
        return t.user + t.system
    with open('/proc/{}/stat'.format(pid)) as stream:
        fields = stream.read().rpartition(')')[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def build(daemon, size):
    admin = daemon.admin()
    tokens = {}
    for index in range(size):
        name = 'compute-{}'.format(index)
        answer = admin.post(daemon.url + '/v1/nodes', json={'name': name, 'role': 'Compute' if index > 2
                                                            else 'Controller', 'ceph_mon': index <= 2})
        tokens[name] = answer.json()['token']
        admin.put(daemon.url + '/v1/nodes/{}/status'.format(name), json={
            'phase': 'preupgrade', 'os_release': '8.4', 'reports': [
                {'key': 'k', 'title': 'an inhibitor', 'inhibitor': True}] if index % 7 == 0 else []})
    return tokens


def timed_get(session, url, headers=None):
    started = time.perf_counter()
    answer = session.get(url, headers=headers or {})
    return (time.perf_counter() - started) * 1000, answer


def sse_server(db_path, port):
    """A prototype SSE endpoint on the daemon's database: `data: <n>` whenever data_version moves."""
    from starlette.applications import Starlette
    from starlette.responses import StreamingResponse
    from starlette.routing import Route
    import uvicorn

    async def events(request):
        conn = sqlite3.connect('file:{}?mode=ro'.format(db_path), uri=True, check_same_thread=False)

        async def stream():
            seen, count = None, 0
            try:
                while not await request.is_disconnected():
                    version = conn.execute('PRAGMA data_version').fetchone()[0]
                    if version != seen:
                        seen, count = version, count + 1
                        yield 'data: {}\n\n'.format(count)
                    await asyncio.sleep(SSE_CHECK_S)
            finally:
                conn.close()
        return StreamingResponse(stream(), media_type='text/event-stream')

    server = uvicorn.Server(uvicorn.Config(Starlette(routes=[Route('/events', events)]), host='127.0.0.1', port=port,
                                           log_level='warning'))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--nodes', type=int, default=1000)
    parser.add_argument('--changes', type=int, default=10)
    parser.add_argument('--idle-seconds', type=float, default=20)
    args = parser.parse_args()
    results = {'nodes': args.nodes}
    with tempfile.TemporaryDirectory() as workdir, DaemonProcess(os.path.join(workdir, 'state')) as daemon:
        tokens = build(daemon, args.nodes)
        admin = daemon.admin()
        status_url, version_url = daemon.url + '/v1/status', daemon.url + '/v1/status/version'

        full = [timed_get(admin, status_url) for _ in range(20)]
        gzipped = admin.get(status_url, headers={'Accept-Encoding': 'gzip'})
        results['status'] = {'median_ms': round(statistics.median(ms for ms, _ in full), 1),
                              'bytes': len(full[0][1].content),
                              'gzip_offered': gzipped.headers.get('Content-Encoding') == 'gzip'}
        small = [timed_get(admin, version_url) for _ in range(200)]
        results['version'] = {'median_ms': round(statistics.median(ms for ms, _ in small), 2),
                              'bytes': len(small[0][1].content)}

        def report(i):
            node = 'compute-{}'.format(5 + i)
            answer = requests.put(daemon.url + '/v1/nodes/{}/status'.format(node),
                                  headers={'Authorization': 'Bearer ' + tokens[node]},
                                  json={'phase': 'prepared', 'os_release': '8.4', 'error': 'change {}'.format(i)})
            assert answer.status_code == 200, answer.text
            return node, 'change {}'.format(i)

        def holds(status, node, error):
            return any(n['name'] == node and n['error'] == error for n in status['nodes'])

        # Polling: a client checks every POLL_S; a change happens at a random moment between two checks.
        for label, check in (('poll_status', lambda: admin.get(status_url).json()),
                             ('poll_version', None)):
            latencies, last_version = [], admin.get(version_url).json()['version']
            for i in range(args.changes):
                time.sleep(POLL_S * ((i * 0.37) % 1))  # spread the report over the poll period
                node, error = report(i + (100 if label == 'poll_version' else 0))
                sent = time.perf_counter()
                next_check = POLL_S - (time.perf_counter() % POLL_S)
                while True:
                    time.sleep(next_check)
                    next_check = POLL_S
                    if check is not None:
                        status = check()
                    else:
                        version = admin.get(version_url).json()['version']
                        if version == last_version:
                            continue
                        last_version, status = version, admin.get(status_url).json()
                    if holds(status, node, error):
                        break
                latencies.append((time.perf_counter() - sent) * 1000)
            results[label] = {'latency_ms_mean': round(statistics.mean(latencies)),
                              'latency_ms_max': round(max(latencies))}

        # SSE prototype.
        port = free_port()
        server = sse_server(os.path.join(daemon.state_dir, 'helper.sqlite3'), port)
        stream = requests.get('http://127.0.0.1:{}/events'.format(port), stream=True)
        lines = stream.iter_lines()
        next(line for line in lines if line.startswith(b'data:'))
        latencies = []
        for i in range(args.changes):
            time.sleep(POLL_S * ((i * 0.37) % 1))
            node, error = report(200 + i)
            sent = time.perf_counter()
            next(line for line in lines if line.startswith(b'data:'))
            status = admin.get(status_url).json()
            assert holds(status, node, error)
            latencies.append((time.perf_counter() - sent) * 1000)
        results['sse'] = {'latency_ms_mean': round(statistics.mean(latencies)),
                          'latency_ms_max': round(max(latencies)), 'server_check_every_ms': SSE_CHECK_S * 1000}

        # Idle cost, one client, nothing changing.
        before = cpu_seconds()
        time.sleep(args.idle_seconds)
        results['sse']['idle_cpu_ms_per_s'] = round((cpu_seconds() - before) * 1000 / args.idle_seconds, 1)
        stream.close()
        server.should_exit = True
        for label, url in (('poll_status', status_url), ('poll_version', version_url)):
            before, deadline = cpu_seconds(daemon.pid), time.monotonic() + args.idle_seconds
            while time.monotonic() < deadline:
                admin.get(url)
                time.sleep(POLL_S)
            results[label]['idle_cpu_ms_per_s'] = round((cpu_seconds(daemon.pid) - before) * 1000 / args.idle_seconds,
                                                        1)
    print(json.dumps(results, indent=2))


if __name__ == '__main__':
    main()
