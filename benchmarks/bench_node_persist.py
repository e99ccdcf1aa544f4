"""The node-side persist and restore path (tripleo_persist: GNU tar with xattrs/ACLs, HelperClient, the daemon
on loopback) against the raw tar pipe and rsync over ssh, measured in the same run.

    .venv/bin/python benchmarks/bench_node_persist.py [--size 1G] [--runs 3] [--content text|random]
                                                      [--workdir DIR]

(--size 256M gives a quick run.)

The tree is node data (--content text, the default: settings, JSON with UUIDs, log lines; it compresses several
times) or random bytes. Every method and baseline runs --runs times (at least 3), in rounds of one run of each (so
a drifting disk moves them alike), from a cold page cache, timed until its data is synced; printed: median wall
time and CPU-seconds (the method's processes and the daemon) with their ranges, and both ratios against the raw
`tar | tar` copy of the same run, against the goals of issue 13 (persist <= 1.2x raw wall, restore <= 1.0x raw
wall: the node's downtime; CPU ratios are printed beside them).

Codec floors, no network and no daemon: what any zstd path pays here (what ours adds is printed after the table):
- persist floor: `tar` running the project's `zstd -1 -T0` into a local file;
- restore floor: `zstd -d < that file | tar -x`.

Node-side runs (each in its own process, so its peak RSS is the client's alone, tar excluded):
- persist, streamed (what prepare does, compression auto: zstd where installed): tar | zstd ->
  HelperClient.put_item, the daemon's sha256 compared afterwards;
- persist, uncompressed (compression: none, or a node without zstd);
- persist, spooled (the alternative, uncompressed): tar -> a temp file next to the data, sha256 of it, then
  put_item with Content-Digest; it needs free space for a whole archive on the node;
- restore (what FirstBoot does) of the streamed (zstd) item: unpacked while it downloads into a staging dir,
  verified, renamed into place;
- restore, uncompressed: the same for the uncompressed item.
Every restored tree is checked file by file against the source.
"""
import argparse
import functools
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
        compression = 'none' if args.worker == 'persist-none' else 'auto'
        print(json.dumps(tripleo_persist.persist(client, NODE, {ITEM: [args.src]}, compression)))


def run_worker(daemon, token, name, src, spool_dir, records=None, out=None):
    """Run one worker process to the end and sync; its parsed output goes to ``out['result']``."""
    # --option=value: a token may begin with "-", which argparse would take for an option.
    command = [sys.executable, os.path.abspath(__file__), '--worker=' + name, '--url=' + daemon.url, '--token=' + token,
               '--src=' + src, '--spool-dir=' + spool_dir, '--records=' + json.dumps(records or [])]
    process = subprocess.Popen(command, stdout=subprocess.PIPE)
    with baselines.PeakRss(process.pid) as rss:
        stdout, _ = process.communicate()
    if process.returncode != 0:
        raise RuntimeError('{} failed with exit code {}'.format(name, process.returncode))
    subprocess.run(['sync'], check=True)
    if out is not None:
        out['result'] = json.loads(stdout)
        out['rss'] = max(out.get('rss', 0), rss.peak_mib)


GOALS = {'node persist, streamed': (1.2, None), 'node restore': (1.0, None)}
PERSIST_FLOOR, RESTORE_FLOOR = 'codec floor: tar|zstd > file', 'codec floor: zstd -d < file|tar'


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--size', default='1G', help='tree size, such as 1G (the default) or 256M')
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--content', choices=('text', 'random'), default='text')
    parser.add_argument('--workdir', help='where the trees and the daemon state go (default: a temp dir)')
    for option in ('--worker', '--url', '--token', '--src', '--spool-dir', '--records'):
        parser.add_argument(option, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    if args.runs < 3:
        parser.error('--runs: at least 3 (median and spread)')
    try:
        size_bytes = baselines.parse_size(args.size)
    except ValueError:
        parser.error('--size {!r}: give a size such as 1G or 256M'.format(args.size))

    # Here, not at the top: testing.daemon imports pytest, which a node-side worker process must not pay for.
    from testing.daemon import DaemonProcess

    work = tempfile.mkdtemp(prefix='bench-node-', dir=args.workdir)
    try:
        src = os.path.join(work, 'var', 'lib', 'nova')
        files, nbytes = baselines.make_tree(src, size_bytes, content=args.content)
        expected = baselines.tree_listing(src)
        print('tree: {} files, {:.0f} MiB of {} content in {}'.format(files, nbytes / baselines.MIB, args.content,
                                                                      src))
        cold = baselines.drop_page_cache()
        print('page cache dropped before each run' if cold else 'page cache NOT dropped (not root): warm runs')
        memory = {}
        raw_dst = os.path.join(work, 'raw-copy')

        def check_and_remove(copy, name):
            if baselines.tree_listing(copy) != expected:
                raise RuntimeError(name + ': the copy differs from the source')
            shutil.rmtree(copy)

        def raw_copy():
            measured = baselines.measure_once(lambda: baselines.raw_copy(src, raw_dst), cold=cold)
            check_and_remove(raw_dst, 'raw copy')
            return measured

        with DaemonProcess(os.path.join(work, 'state')) as daemon:
            token = daemon.add_node(NODE, 'Controller')
            spool_dir = os.path.dirname(src)

            def persist(label, name):
                out = {}
                measured = baselines.measure_once(
                    functools.partial(run_worker, daemon, token, name, src, spool_dir, out=out), (daemon.pid,), cold)
                memory[label] = max(memory.get(label, 0), out['rss'])
                return measured

            def restore(label, persisted_by):
                # The item as that persist makes it (each persist replaces the stored item: put it back, untimed).
                again, restored = {}, {}
                run_worker(daemon, token, persisted_by, src, spool_dir, out=again)
                original = src + '.orig'
                os.rename(src, original)
                measured = baselines.measure_once(functools.partial(
                    run_worker, daemon, token, 'restore', src, spool_dir, again['result'], out=restored),
                    (daemon.pid,), cold)
                if restored['result'] != [[ITEM, src, 'restored']]:
                    raise RuntimeError('restore did not restore {}: {}'.format(src, restored['result']))
                check_and_remove(src, label)
                os.rename(original, src)
                memory[label] = max(memory.get(label, 0), restored['rss'])
                return measured

            floor_archive, floor_dst = os.path.join(work, 'floor.tar.zst'), os.path.join(work, 'floor-copy')
            baselines.zstd_archive(src, floor_archive)  # what the restore floor unpacks

            def persist_floor():
                return baselines.measure_once(lambda: baselines.zstd_archive(src, floor_archive + '.new'), cold=cold)

            def restore_floor():
                measured = baselines.measure_once(lambda: baselines.zstd_unpack(floor_archive, floor_dst), cold=cold)
                check_and_remove(floor_dst, RESTORE_FLOOR)
                return measured

            methods = {'raw copy': raw_copy, PERSIST_FLOOR: persist_floor, RESTORE_FLOOR: restore_floor}
            for label, name in (('node persist, spooled', 'persist-spooled'),
                                ('node persist, uncompressed', 'persist-none'),
                                ('node persist, streamed', 'persist')):
                methods[label] = functools.partial(persist, label, name)
            for label, name in (('node restore, uncompressed', 'persist-none'), ('node restore', 'persist')):
                methods[label] = functools.partial(restore, label, name)
            results = baselines.interleaved(methods, args.runs)
        baselines.print_runs('node-side persist + restore of a {:.0f} MiB tree through the daemon on loopback'
                             .format(nbytes / baselines.MIB), results, nbytes, goals=GOALS)
        baselines.print_over_floor(results, [('node persist, streamed', PERSIST_FLOOR),
                                             ('node restore', RESTORE_FLOOR)])
        print('\nclient peak RSS (tar not included):')
        for label, mib in memory.items():
            print('  {:<28} {:>7.1f} MiB'.format(label, mib))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
