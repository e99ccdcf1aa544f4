"""Persist and restore a generated tree through the helper daemon on loopback, against the baselines.

    .venv/bin/python benchmarks/bench_daemon_store.py [--size-gib 2] [--workdir DIR]

Persist is `tar -cf - | <client> PUT`, restore is `<client> GET | tar -xf -`, with two clients: curl (what a
node without our code would use) and the node-side `HelperClient` (requests, hashing both ways). Baselines in
the same run (benchmarks/baselines.py): a raw `tar | tar` pipe and rsync over ssh through a throwaway sshd.
Every copy is checked file by file. Prints seconds, MiB/s, ratios and the daemon's peak RSS.
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
from testing.libraries import register_libraries_package  # noqa: E402

NODE, ITEM = 'overcloud-controller-0', 'bench-tree'


def helper_client_module():
    register_libraries_package()
    from tripleo_upgrade_libraries import tripleo_helper_client
    return tripleo_helper_client


def shell(script, *args):
    subprocess.run(['bash', '-o', 'pipefail', '-c', script, 'bench'] + list(args), check=True)


def curl_persist(daemon, token, src):
    with baselines.Stopwatch() as watch:
        shell('tar -C "$1" -cf - . | curl -sS --fail -o /dev/null -T - -H "Authorization: Bearer $2" "$3"',
              src, token, daemon.url + '/v1/nodes/{}/data/{}'.format(NODE, ITEM))
    return watch.seconds


def curl_restore(daemon, token, dst):
    os.makedirs(dst)
    with baselines.Stopwatch() as watch:
        shell('curl -sS --fail -H "Authorization: Bearer $2" "$3" | tar -C "$1" -xf -',
              dst, token, daemon.url + '/v1/nodes/{}/data/{}'.format(NODE, ITEM))
    return watch.seconds


def client_persist(client, src):
    with baselines.Stopwatch() as watch:
        tar = subprocess.Popen(['tar', '-C', src, '-cf', '-', '.'], stdout=subprocess.PIPE)
        client.put_item(NODE, ITEM, iter(lambda: tar.stdout.read(1 << 20), b''))
        if tar.wait() != 0:
            raise RuntimeError('tar -c failed')
    return watch.seconds


def client_restore(client, dst):
    os.makedirs(dst)
    with baselines.Stopwatch() as watch:
        tar = subprocess.Popen(['tar', '-C', dst, '-xf', '-'], stdin=subprocess.PIPE)
        client.get_item(NODE, ITEM, tar.stdin)
        tar.stdin.close()
        if tar.wait() != 0:
            raise RuntimeError('tar -x failed')
    return watch.seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--size-gib', type=float, default=2.0)
    parser.add_argument('--workdir', help='where the trees and the daemon state go (default: a temp dir)')
    args = parser.parse_args()
    if args.workdir:
        os.makedirs(args.workdir, exist_ok=True)
    work = tempfile.mkdtemp(prefix='bench-daemon-', dir=args.workdir)
    try:
        src = os.path.join(work, 'src')
        files, nbytes = baselines.make_tree(src, int(args.size_gib * (1 << 30)))
        expected = baselines.tree_listing(src)
        print('tree: {} files, {:.0f} MiB in {}'.format(files, nbytes / baselines.MIB, src))
        cold = baselines.drop_page_cache()
        print('page cache dropped before each run' if cold else 'page cache NOT dropped (not root): warm runs')
        results = baselines.time_baselines(src, work, expected)

        def measured(name, function, *fargs, dst=None):
            baselines.drop_page_cache()
            results[name] = function(*fargs)
            if dst is not None:
                if baselines.tree_listing(dst) != expected:
                    raise RuntimeError(name + ': the copy differs from the source')
                shutil.rmtree(dst)

        with DaemonProcess(os.path.join(work, 'state')) as daemon:
            token = daemon.add_node(NODE, 'Controller')
            client = helper_client_module().HelperClient(daemon.url, token, timeout=600)
            with baselines.PeakRss(daemon.pid) as rss:
                measured('daemon persist (curl)', curl_persist, daemon, token, src)
                measured('daemon restore (curl)', curl_restore, daemon, token, os.path.join(work, 'c'),
                         dst=os.path.join(work, 'c'))
                measured('daemon persist (HelperClient)', client_persist, client, src)
                measured('daemon restore (HelperClient)', client_restore, client, os.path.join(work, 'h'),
                         dst=os.path.join(work, 'h'))
            results['daemon round trip (curl)'] = results['daemon persist (curl)'] + results['daemon restore (curl)']
            results['daemon round trip (HelperClient)'] = (results['daemon persist (HelperClient)']
                                                           + results['daemon restore (HelperClient)'])
            stored = daemon.admin().get(daemon.url + '/v1/nodes/{}/data'.format(NODE)).json()['items'][0]['size']
        baselines.print_ratios('persist + restore of a {:.1f} GiB tree on loopback'.format(nbytes / (1 << 30)),
                               results, nbytes)
        print('archive stored by the daemon: {:.0f} MiB; daemon peak RSS during the daemon runs: {:.1f} MiB'.format(
            stored / baselines.MIB, rss.peak_mib))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
