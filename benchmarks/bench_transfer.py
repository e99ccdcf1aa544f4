"""The one-shot database transfer (control-plane downtime) against a raw copy and rsync over ssh, same run.

    .venv/bin/python benchmarks/bench_transfer.py [--size 2G] [--runs 3] [--workdir DIR] [--warm]
        [--skip-rsync] [--source-cache DIR]

--size 256M gives a quick run. --source-cache DIR keeps the grown source datadir in DIR and uses it again when a
later run asks for the same size (growing 2 GiB of rows takes minutes); it is never modified by a run.

The datadir is a real MariaDB datadir grown with OpenStack-like rows (nova instances with UUIDs, JSON metadata
and names; instance action events with tracebacks; neutron ports with JSON bindings) to about --size, then
stopped cleanly; how well it compresses with zstd -1 is printed. Every method runs --runs times (at least 3), in
rounds of one run of each (so a drifting disk moves them alike), each from a cold page cache (unless --warm) and
timed until its data is on disk (`sync`):

- raw copy: `tar | tar` then sync (benchmarks/baselines.py), the baseline of every ratio;
- codec floor: the raw copy through the project's zstd (tar running `zstd -1 -T0`, then `zstd -d | tar`), no
  network: what any zstd transfer pays here; what push || pull adds to it is printed after the table;
- rsync over ssh: through a throwaway sshd on loopback (what TripleO does today);
- daemon push, then pull: `tools/tripleo-transfer-push` on the source, then `tools/tripleo-transfer-pull` on the
  target, through the helper daemon on loopback (plain HTTP), a fresh daemon and transfer per run;
- daemon push || pull (downtime): both started together, the pull following the push through the daemon;
  the downtime is push start to pull sealed (zstd, the push's default where zstd is installed);
  every pull replaces a freshly installed target datadir (put back before each run, untimed), so no run also
  pays for removing the 2 GiB that the previous run pulled;
- push || pull, uncompressed: the same with `--compress none` (a node without zstd).

Printed per method: median wall time and its range, MiB/s, median CPU-seconds (every process of the method: tar,
zstd, curl, the tools and the daemon) and its range, and both ratios to the raw copy against the goals of
issue 13. The last pulled datadir is started and every table's row count and CHECKSUM TABLE compared with the
source.
"""
import argparse
import contextlib
import functools
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
from testing.mariadb import MariaDBServer  # noqa: E402

SOURCE, TARGET, ROLE = 'controller-0', 'controller-1', 'Controller'
ROWS_PER_STATEMENT = 5000
GOALS = {'daemon push || pull (downtime)': (1.3, 2.0)}
CODEC_FLOOR = 'codec floor (tar|zstd|zstd -d|tar)'

# OpenStack-like tables: what a controller's galera datadir holds (nova, neutron), with the column kinds that
# decide how it compresses: UUIDs, hex ids, names, timestamps, JSON documents and free text.
SCHEMA = """
CREATE DATABASE bench;
CREATE TABLE bench.instances (
  id INT AUTO_INCREMENT PRIMARY KEY, uuid CHAR(36) NOT NULL, project_id CHAR(32), user_id CHAR(32),
  hostname VARCHAR(255), display_name VARCHAR(255), host VARCHAR(255), vm_state VARCHAR(255),
  task_state VARCHAR(255), created_at DATETIME, updated_at DATETIME, metadata TEXT, system_metadata TEXT,
  KEY (uuid), KEY (project_id)) ENGINE=InnoDB;
CREATE TABLE bench.instance_actions_events (
  id INT AUTO_INCREMENT PRIMARY KEY, instance_uuid CHAR(36), request_id VARCHAR(255), event VARCHAR(255),
  result VARCHAR(255), start_time DATETIME, finish_time DATETIME, host VARCHAR(255), traceback TEXT,
  details TEXT, KEY (instance_uuid)) ENGINE=InnoDB;
CREATE TABLE bench.ports (
  id CHAR(36) PRIMARY KEY, network_id CHAR(36), device_id CHAR(36), mac_address VARCHAR(32),
  device_owner VARCHAR(255), status VARCHAR(16), binding_profile TEXT, fixed_ips TEXT, KEY (network_id))
  ENGINE=InnoDB;
"""
WORD = "ELT(1 + FLOOR(RAND() * 12), 'compute', 'network', 'volume', 'image', 'server', 'port', 'flavor', " \
       "'active', 'building', 'error', 'scheduler', 'allocation')"
INSERTS = [
    "INSERT INTO instances (uuid, project_id, user_id, hostname, display_name, host, vm_state, task_state, "
    "created_at, updated_at, metadata, system_metadata) SELECT UUID(), MD5(seq DIV 50), MD5(seq DIV 7), "
    "CONCAT('vm-', seq), CONCAT(" + WORD + ", '-', " + WORD + ", '-', seq), "
    "CONCAT('overcloud-novacompute-', FLOOR(RAND() * 300), '.localdomain'), " + WORD + ", NULL, "
    "NOW() - INTERVAL seq MINUTE, NOW(), "
    "JSON_OBJECT('image_ref', UUID(), 'flavor', " + WORD + ", 'owner', MD5(seq DIV 50), 'tags', "
    "JSON_ARRAY(" + WORD + ", " + WORD + "), 'description', CONCAT_WS(' ', " + ", ".join([WORD] * 12) + ")), "
    "JSON_OBJECT('image_min_ram', '0', 'image_disk_format', 'qcow2', 'image_base_image_ref', UUID(), "
    "'clean_attempts', FLOOR(RAND() * 3), 'boot_roles', 'member,reader', 'image_hw_qemu_guest_agent', 'yes', "
    "'image_os_distro', 'rhel', 'image_container_format', 'bare') FROM seq_{lo}_to_{hi}",
    "INSERT INTO instance_actions_events (instance_uuid, request_id, event, result, start_time, finish_time, "
    "host, traceback, details) SELECT UUID(), CONCAT('req-', UUID()), CONCAT('compute_', " + WORD + "), "
    "IF(RAND() < 0.9, 'Success', 'Error'), NOW() - INTERVAL seq SECOND, NOW(), "
    "CONCAT('overcloud-novacompute-', FLOOR(RAND() * 300), '.localdomain'), "
    "IF(RAND() < 0.3, CONCAT('Traceback (most recent call last):\\n  File \"/usr/lib/python3.9/site-packages/"
    "nova/compute/manager.py\", line ', FLOOR(RAND() * 9000), ', in _build_and_run_instance\\n    ', "
    "CONCAT_WS(' ', " + ", ".join([WORD] * 8) + "), '\\nnova.exception.', " + WORD + ", 'Error: ', UUID()), "
    "NULL), CONCAT_WS(' ', " + ", ".join([WORD] * 6) + ") FROM seq_{lo}_to_{hi}",
    "INSERT INTO ports SELECT UUID(), CONCAT('5a1d', LEFT(MD5(seq DIV 200), 4), '-0000-4000-8000-', "
    "LEFT(MD5(seq DIV 200), 12)), UUID(), CONCAT('fa:16:3e:', LEFT(MD5(seq), 2), ':', MID(MD5(seq), 3, 2), ':', "
    "MID(MD5(seq), 5, 2)), ELT(1 + FLOOR(RAND() * 3), 'compute:nova', 'network:dhcp', 'network:router_interface'), "
    "'ACTIVE', JSON_OBJECT('host', CONCAT('overcloud-novacompute-', FLOOR(RAND() * 300)), 'vif_type', 'ovs', "
    "'vnic_type', 'normal', 'vif_details', JSON_OBJECT('port_filter', true, 'connectivity', 'l2', "
    "'bridge_name', 'br-int', 'datapath_type', 'system')), JSON_ARRAY(JSON_OBJECT('subnet_id', UUID(), "
    "'ip_address', CONCAT('172.16.', FLOOR(RAND() * 255), '.', FLOOR(RAND() * 255)))) FROM seq_{lo}_to_{hi}",
]


def grow_datadir(server, size_bytes):
    """Fill the OpenStack-like tables until the datadir holds about ``size_bytes``."""
    server.sql(SCHEMA)
    lo = 1
    while baselines.tree_bytes(server.datadir) < size_bytes:
        hi = lo + ROWS_PER_STATEMENT - 1
        server.sql(';\n'.join(statement.format(lo=lo, hi=hi) for statement in INSERTS), 'bench')
        lo = hi + 1


def grown_source(directory, size_bytes):
    """The source MariaDBServer under ``directory`` grown to ``size_bytes`` and stopped, and its fingerprint; a
    source grown earlier to the same size there (its fingerprint.json says so) is used as it is."""
    record = os.path.join(directory, 'fingerprint.json')
    source = MariaDBServer(os.path.join(directory, 'source'), log_file_size='96M', buffer_pool_size='256M')
    try:
        with open(record) as stream:
            kept = json.load(stream)
        if kept['size'] == size_bytes and os.path.isdir(source.datadir):
            print('source datadir: grown earlier in {} (--source-cache)'.format(directory))
            return source, {table: tuple(value) for table, value in kept['fingerprint'].items()}
    except (OSError, ValueError, KeyError):
        pass
    shutil.rmtree(source.base_dir, ignore_errors=True)
    source = MariaDBServer(os.path.join(directory, 'source'), log_file_size='96M', buffer_pool_size='256M')
    with source.install():
        with baselines.Stopwatch() as growing:
            grow_datadir(source, size_bytes)
        expected = source.fingerprint('bench')
    print('source datadir grown in {:.1f}s'.format(growing.seconds))
    with open(record, 'w') as stream:
        json.dump({'size': size_bytes, 'fingerprint': expected}, stream)
    return source, expected


def zstd_ratio(datadir):
    """Size of the datadir's tar archive / its zstd -1 size (as the push would compress it)."""
    out = subprocess.run(['bash', '-o', 'pipefail', '-c', 'tar -C "$1" -cf - . | tee >(wc -c >&2) | zstd -1 -T0 -c '
                          '| wc -c', 'ratio', datadir], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True,
                         universal_newlines=True)
    return int(out.stderr.split()[-1]) / int(out.stdout)


def run_tool(command):
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    return process


def finish(process, rss=None):
    out, err = process.communicate()
    if process.returncode != 0:
        raise RuntimeError('{} failed: {}{}'.format(process.args[1], out, err))


class DaemonTransfers(object):
    """A daemon on loopback with the source and target registered; a fresh daemon (and transfer) per run."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.daemon = None
        self.count = 0
        self.rss = []

    def open(self):
        self.count += 1
        state = os.path.join(self.workdir, 'daemon-state-{}'.format(self.count))
        self.daemon = DaemonProcess(state).start()
        self.tokens, secrets = {}, {}
        for node, os_release, phase in ((SOURCE, '8.4', 'prepared'), (TARGET, '9.2', 'upgraded')):
            token = secrets[node] = self.daemon.add_node(node, ROLE)
            self.tokens[node] = self.daemon.token_file(node)
            self.daemon.session(token).put('{}/v1/nodes/{}/status'.format(self.daemon.url, node), json={
                'phase': phase, 'os_release': os_release}).raise_for_status()
        self.daemon.admin().post(self.daemon.url + '/v1/transfers', json={
            'role': ROLE, 'source': SOURCE, 'target': TARGET, 'items': ['mysql']}).raise_for_status()
        # The daemon takes a push only from a source that reported its services down.
        self.daemon.session(secrets[SOURCE]).put(
            '{}/v1/nodes/{}/services'.format(self.daemon.url, SOURCE), json={'state': 'down'}).raise_for_status()
        self.flag = os.path.join(self.workdir, 'transfer-flag-{}'.format(self.count))
        return self.daemon.pid

    def close(self):
        self.daemon.stop()
        shutil.rmtree(self.daemon.state_dir, ignore_errors=True)

    def tool(self, name, node, datadir, *extra):
        return [sys.executable, os.path.join(REPO_ROOT, 'tools', name), '--daemon-url', self.daemon.url,
                '--token-file', self.tokens[node], '--node', node, '--datadir', datadir] + list(extra)

    def push_then_pull(self, source, target):
        finish(run_tool(self.tool('tripleo-transfer-push', SOURCE, source)))
        subprocess.run(['sync'], check=True)
        finish(run_tool(self.tool('tripleo-transfer-pull', TARGET, target, '--flag-file', self.flag)))
        subprocess.run(['sync'], check=True)

    def push_and_pull(self, source, target, *push_options):
        """Both at once: the pull follows the push through the daemon (the downtime: push start to sealed)."""
        push = run_tool(self.tool('tripleo-transfer-push', SOURCE, source, *push_options))
        pull = run_tool(self.tool('tripleo-transfer-pull', TARGET, target, '--flag-file', self.flag, '--follow'))
        with baselines.PeakRss(self.daemon.pid) as rss:
            finish(push)
            finish(pull)
        self.rss.append(rss.peak_mib)
        subprocess.run(['sync'], check=True)


def measure_daemon(transfers, method, source, target, cold, fresh_target):
    """One run of ``method(source, target)`` through a fresh daemon, into a freshly installed target datadir."""
    shutil.rmtree(target)
    shutil.copytree(fresh_target, target, symlinks=True)
    pid = transfers.open()
    try:
        return baselines.measure_once(lambda: method(source, target), (pid,), cold)
    finally:
        transfers.close()


def pull_follows():
    """Does this checkout's pull tool follow a push in progress (--follow)?"""
    out = subprocess.run([sys.executable, os.path.join(REPO_ROOT, 'tools', 'tripleo-transfer-pull'), '--help'],
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    return '--follow' in out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size', default='2G', help='datadir size, such as 2G (the default) or 256M')
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--workdir', help='where the datadirs go (default: a new directory in /var/tmp)')
    parser.add_argument('--warm', action='store_true', help='do not drop the page cache between runs')
    parser.add_argument('--skip-rsync', action='store_true', help='leave the rsync-over-ssh baseline out')
    parser.add_argument('--source-cache', help='keep the grown source datadir here and use it again (see above)')
    args = parser.parse_args()
    try:
        size_bytes = baselines.parse_size(args.size)
    except ValueError:
        parser.error('--size {!r}: give a size such as 2G or 256M'.format(args.size))
    if args.runs < 3:
        parser.error('--runs: at least 3 (median and spread)')
    cold = not args.warm
    if cold and not baselines.drop_page_cache():
        print('note: cannot drop the page cache (not root); every run starts with a warm cache')
        cold = False
    workdir = tempfile.mkdtemp(prefix='bench-transfer-', dir=args.workdir or '/var/tmp')
    try:
        if args.source_cache:
            os.makedirs(args.source_cache, exist_ok=True)
        source, expected = grown_source(args.source_cache or workdir, size_bytes)
        nbytes = baselines.tree_bytes(source.datadir)
        print('source datadir: {} MiB, {} rows; its tar archive compresses {:.1f}x with zstd -1'.format(
            nbytes >> 20, sum(count for count, _ in expected.values()), zstd_ratio(source.datadir)))
        listing = baselines.tree_listing(source.datadir)

        def copied(dst):
            def check():
                if baselines.tree_listing(dst) != listing:
                    raise RuntimeError('the copy in {} differs from the source'.format(dst))
                shutil.rmtree(dst)
            return check

        def checked_copy(copy, dst):
            def run():
                measured = baselines.measure_once(lambda: copy(source.datadir, dst), cold=cold)
                copied(dst)()
                return measured
            return run

        methods = {'raw copy': checked_copy(baselines.raw_copy, os.path.join(workdir, 'raw-copy')),
                   CODEC_FLOOR: checked_copy(baselines.zstd_copy, os.path.join(workdir, 'zstd-copy'))}
        target = MariaDBServer(os.path.join(workdir, 'target'), log_file_size='96M').install()
        fresh_target = target.datadir + '.fresh'
        shutil.copytree(target.datadir, fresh_target, symlinks=True)
        transfers = DaemonTransfers(workdir)
        through_daemon = functools.partial(measure_daemon, transfers, source=source.datadir, target=target.datadir,
                                           cold=cold, fresh_target=fresh_target)
        methods['daemon push, then pull'] = functools.partial(through_daemon, transfers.push_then_pull)
        if pull_follows():
            methods['daemon push || pull (downtime)'] = functools.partial(through_daemon, transfers.push_and_pull)
            methods['push || pull, uncompressed'] = functools.partial(
                through_daemon, lambda src, dst: transfers.push_and_pull(src, dst, '--compress', 'none'))
        else:
            print('note: this pull tool has no --follow: push || pull not measured')
        with contextlib.ExitStack() as stack:
            if not args.skip_rsync:
                sshd = stack.enter_context(baselines.ThrowawaySshd())
                methods['rsync over ssh'] = checked_copy(functools.partial(baselines.rsync_over_ssh, sshd),
                                                         os.path.join(workdir, 'rsync'))
            results = baselines.interleaved(methods, args.runs)
        with target:
            assert target.fingerprint('bench') == expected, 'the pulled datadir differs from the source'
        print('last pulled datadir started; row count and CHECKSUM TABLE of every table equal to the source')

        baselines.print_runs('database transfer of a {} MiB MariaDB datadir ({} cache)'.format(
            nbytes >> 20, 'cold' if cold else 'warm'), results, nbytes, goals=GOALS)
        baselines.print_over_floor(results, [('daemon push || pull (downtime)', CODEC_FLOOR)])
        if transfers.rss:
            print('daemon peak RSS during push || pull: {:.0f} MiB (max of {} runs)'.format(
                max(transfers.rss), len(transfers.rss)))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    main()
