"""The one-shot database transfer (control-plane downtime) against a raw copy and rsync over ssh, same run.

    .venv/bin/python benchmarks/bench_transfer.py [--size-gib 2] [--workdir DIR] [--warm]

The datadir is a real MariaDB datadir grown with InnoDB rows (64 KiB blobs) to about --size-gib,
then stopped cleanly. Methods, each from a cold page cache (unless --warm) and each timed until
its data is on disk (`sync`):

- raw copy: `tar | tar` (benchmarks/baselines.py);
- rsync over ssh: through a throwaway sshd on loopback (what TripleO does today);
- daemon: `tools/tripleo-transfer-push` on the source + `tools/tripleo-transfer-pull` on the target,
  through the helper daemon on loopback (plain HTTP), transfer opened by the admin API.

The pulled datadir is started and every table's row count and CHECKSUM TABLE compared with the
source. Prints seconds, MiB/s, ratios, and the peak RSS of the daemon and of both tools.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)
sys.path[:0] = [HERE, REPO_ROOT]

import baselines  # noqa: E402
from testing.daemon import DaemonProcess  # noqa: E402
from testing.mariadb import MariaDBServer  # noqa: E402

SOURCE, TARGET, ROLE = 'controller-0', 'controller-1', 'Controller'
ROW_BYTES = 64 * 1024
ROWS_PER_STATEMENT = 2000


def grow_datadir(server, size_bytes):
    """Fill ``bench.blobs`` until the datadir holds about ``size_bytes``."""
    server.sql('CREATE DATABASE bench; CREATE TABLE bench.blobs (id INT PRIMARY KEY, data MEDIUMBLOB) ENGINE=InnoDB')
    next_id = 1
    while baselines.tree_bytes(server.datadir) < size_bytes:
        server.sql('INSERT INTO blobs SELECT seq, REPEAT(RANDOM_BYTES(1024), {}) FROM seq_{}_to_{}'.format(
            ROW_BYTES // 1024, next_id, next_id + ROWS_PER_STATEMENT - 1), 'bench')
        next_id += ROWS_PER_STATEMENT


def settle(cold):
    subprocess.run(['sync'], check=True)
    if cold and not baselines.drop_page_cache():
        print('note: cannot drop the page cache (not root); every method runs with a warm cache')


def run_measured(command):
    """Run a command to the end; returns (seconds including `sync`, peak RSS MiB)."""
    with baselines.Stopwatch() as watch:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        with baselines.PeakRss(process.pid) as rss:
            out, err = process.communicate()
        if process.returncode != 0:
            raise RuntimeError('{} failed: {}{}'.format(command[1], out, err))
        subprocess.run(['sync'], check=True)
    return watch.seconds, rss.peak_mib


def daemon_transfer(workdir, source, target, cold):
    """Push + pull through a fresh daemon; returns ({name: seconds}, {process: peak RSS MiB})."""
    with DaemonProcess(os.path.join(workdir, 'daemon-state')) as daemon:
        tokens = {}
        for node, os_release, phase in ((SOURCE, '8.4', 'prepared'), (TARGET, '9.2', 'upgraded')):
            token = daemon.add_node(node, ROLE)
            tokens[node] = daemon.token_file(node)
            daemon.session(token).put('{}/v1/nodes/{}/status'.format(daemon.url, node), json={
                'phase': phase, 'os_release': os_release}).raise_for_status()
        daemon.admin().post(daemon.url + '/v1/transfers', json={
            'role': ROLE, 'source': SOURCE, 'target': TARGET, 'items': ['mysql']}).raise_for_status()

        def tool(name, node, datadir, *extra):
            return [sys.executable, os.path.join(REPO_ROOT, 'tools', name), '--daemon-url', daemon.url,
                    '--token-file', tokens[node], '--node', node, '--datadir', datadir] + list(extra)

        with baselines.PeakRss(daemon.pid) as daemon_rss:
            settle(cold)
            push_seconds, push_rss = run_measured(tool('tripleo-transfer-push', SOURCE, source))
            settle(cold)
            pull_seconds, pull_rss = run_measured(tool('tripleo-transfer-pull', TARGET, target, '--flag-file',
                                                       os.path.join(workdir, 'transfer-flag')))
    times = {'daemon push': push_seconds, 'daemon pull': pull_seconds,
             'daemon push + pull': push_seconds + pull_seconds}
    return times, {'daemon': daemon_rss.peak_mib, 'push tool': push_rss, 'pull tool': pull_rss}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size-gib', type=float, default=2.0)
    parser.add_argument('--workdir', help='where the datadirs go (default: a new directory in /var/tmp)')
    parser.add_argument('--warm', action='store_true', help='do not drop the page cache between methods')
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix='bench-transfer-', dir=args.workdir or '/var/tmp')
    try:
        source = MariaDBServer(os.path.join(workdir, 'source'), log_file_size='96M', buffer_pool_size='256M')
        with source.install():
            with baselines.Stopwatch() as growing:
                grow_datadir(source, int(args.size_gib * (1 << 30)))
            expected = source.fingerprint('bench')
        nbytes = baselines.tree_bytes(source.datadir)
        print('source datadir: {} MiB, {} rows, grown in {:.1f}s'.format(
            nbytes >> 20, expected['blobs'][0], growing.seconds))

        results = baselines.time_baselines(source.datadir, workdir, before_each=lambda: settle(not args.warm))

        target = MariaDBServer(os.path.join(workdir, 'target'), log_file_size='96M').install()
        times, peaks = daemon_transfer(workdir, source.datadir, target.datadir, not args.warm)
        results.update(times)
        with target:
            assert target.fingerprint('bench') == expected, 'the pulled datadir differs from the source'
        print('pulled datadir started; row count and CHECKSUM TABLE equal to the source')

        baselines.print_ratios('database transfer of a {} MiB MariaDB datadir ({} cache); lower is better'.format(
            nbytes >> 20, 'warm' if args.warm else 'cold'), results, nbytes)
        print('\npeak RSS: ' + ', '.join('{} {:.0f} MiB'.format(name, mib) for name, mib in peaks.items()))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    main()
