"""The node-side persist and restore path (tripleo_persist: GNU tar with xattrs/ACLs, HelperClient, the daemon
on loopback) against the raw tar pipe and rsync over ssh, measured in the same run.

    .venv/bin/python benchmarks/bench_node_persist.py [--size-mib 1024] [--workdir DIR]

Node-side runs (each in its own process, so its peak RSS is the client's alone, tar excluded):
- persist, streamed (what prepare does): tar -> HelperClient.put_item, the daemon's sha256 compared afterwards;
- persist, spooled (the alternative): tar -> a temp file next to the data, sha256 of it, then put_item with
  Content-Digest; it needs free space for a whole archive on the node;
- persist, streamed with zstd (the tree is random data: this shows zstd's CPU cost, not its gain);
- restore (what FirstBoot does): download to a temp file, verify, tar -x into a staging dir, rename into place.
Every restored tree is checked file by file against the source.
"""
import argparse
import hashlib
import json
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
from testing.libraries import register_libraries_package  # noqa: E402

NODE, ITEM = 'overcloud-controller-0', 'bench-tree'


def node_libraries():
    """libraries/ as the package the node-side modules expect (they import each other relatively)."""
    register_libraries_package()
    from tripleo_upgrade_libraries import tripleo_archive, tripleo_helper_client, tripleo_persist
    return tripleo_archive, tripleo_helper_client, tripleo_persist


def worker(args):
    """One node-side operation, run as its own process; prints its result as JSON."""
    tripleo_archive, tripleo_helper_client, tripleo_persist = node_libraries()
    client = tripleo_helper_client.HelperClient(args.url, args.token, timeout=600)
    if args.worker == 'restore':
        records = json.loads(args.records)
        print(json.dumps(tripleo_persist.restore(client, NODE, records, work_dir=args.spool_dir)))
    elif args.worker == 'persist-spooled':
        sha256 = hashlib.sha256()
        with tempfile.TemporaryFile(dir=args.spool_dir) as spool:
            for chunk in tripleo_archive.stream([args.src]):
                sha256.update(chunk)
                spool.write(chunk)
            spool.seek(0)
            stored = client.put_item(NODE, ITEM, spool, sha256_hex=sha256.hexdigest())
        print(json.dumps([{'item': ITEM, 'paths': [args.src], 'sha256': stored['sha256']}]))
    else:
        compression = 'zstd' if args.worker == 'persist-zstd' else 'none'
        print(json.dumps(tripleo_persist.persist(client, NODE, {ITEM: [args.src]}, compression)))


def run_worker(daemon, token, name, src, spool_dir, records=None):
    """(seconds, peak RSS MiB, parsed output) of one worker process."""
    command = [sys.executable, os.path.abspath(__file__), '--worker', name, '--url', daemon.url, '--token', token,
               '--src', src, '--spool-dir', spool_dir, '--records', json.dumps(records or [])]
    baselines.drop_page_cache()
    with baselines.Stopwatch() as watch:
        process = subprocess.Popen(command, stdout=subprocess.PIPE)
        with baselines.PeakRss(process.pid) as rss:
            out, _ = process.communicate()
    if process.returncode != 0:
        raise RuntimeError('{} failed with exit code {}'.format(name, process.returncode))
    return watch.seconds, rss.peak_mib, json.loads(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--size-mib', type=int, default=1024)
    parser.add_argument('--workdir', help='where the trees and the daemon state go (default: a temp dir)')
    for option in ('--worker', '--url', '--token', '--src', '--spool-dir', '--records'):
        parser.add_argument(option, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)

    work = tempfile.mkdtemp(prefix='bench-node-', dir=args.workdir)
    try:
        src = os.path.join(work, 'var', 'lib', 'nova')
        files, nbytes = baselines.make_tree(src, args.size_mib * baselines.MIB)
        expected = baselines.tree_listing(src)
        print('tree: {} files, {:.0f} MiB in {}'.format(files, nbytes / baselines.MIB, src))
        print('page cache dropped before each run' if baselines.drop_page_cache()
              else 'page cache NOT dropped (not root): warm runs')
        results, memory = baselines.time_baselines(src, work, expected), {}

        def check(copy, name):
            if baselines.tree_listing(copy) != expected:
                raise RuntimeError(name + ': the copy differs from the source')

        with DaemonProcess(os.path.join(work, 'state')) as daemon:
            token = daemon.add_node(NODE, 'Controller')
            spool_dir = os.path.dirname(src)
            records = None
            for label, name in (('node persist, spooled', 'persist-spooled'),
                                ('node persist, zstd', 'persist-zstd'),
                                ('node persist, streamed', 'persist')):
                results[label], memory[label], records = run_worker(daemon, token, name, src, spool_dir)
            original = src + '.orig'
            os.rename(src, original)
            label = 'node restore'
            results[label], memory[label], done = run_worker(daemon, token, 'restore', src, spool_dir, records)
            if done != [[ITEM, src, 'restored']]:
                raise RuntimeError('restore did not restore {}: {}'.format(src, done))
            check(src, label)
            results['node round trip (streamed)'] = results['node persist, streamed'] + results['node restore']
        baselines.print_ratios('node-side persist + restore of a {:.0f} MiB tree through the daemon on loopback'
                               .format(nbytes / baselines.MIB), results, nbytes)
        print('\nclient peak RSS (tar not included):')
        for label, mib in memory.items():
            print('  {:<28} {:>7.1f} MiB'.format(label, mib))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
