"""
The one-shot database transfer end to end: two real MariaDB servers, the real daemon on
loopback, the real push tool (under Python 3.6 when this machine has one) and the real pull
command; then every refusal that keeps it one-shot.
"""
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
from tripleo_upgrade_libraries import tripleo_helper_client, tripleo_transfer

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PUSH = os.path.join(REPO_ROOT, 'tools', 'tripleo-transfer-push')
PULL = os.path.join(REPO_ROOT, 'tools', 'tripleo-transfer-pull')
SOURCE, TARGET, ROLE = 'controller-0', 'controller-1', 'Controller'

DATASET = """
CREATE DATABASE cloud;
USE cloud;
CREATE TABLE instances (id INT PRIMARY KEY, uuid CHAR(36), host VARCHAR(64), created DATETIME) ENGINE=InnoDB;
INSERT INTO instances SELECT seq, UUID_SHORT(), CONCAT('compute-', seq % 17), '2026-01-01' + INTERVAL seq MINUTE
  FROM seq_1_to_5000;
UPDATE instances SET uuid = MD5(id);
CREATE TABLE users (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64) CHARACTER SET utf8mb4,
  extra JSON) ENGINE=InnoDB;
INSERT INTO users (name, extra) SELECT CONCAT('usér-', seq, '-☁'), JSON_OBJECT('n', seq) FROM seq_1_to_3000;
CREATE TABLE ports (id BIGINT PRIMARY KEY, mac BINARY(6), blob_data MEDIUMBLOB, KEY (mac)) ENGINE=InnoDB;
INSERT INTO ports SELECT seq, UNHEX(LPAD(HEX(seq), 12, '0')), REPEAT(SHA2(seq, 256), 40) FROM seq_1_to_2000;
CREATE TABLE audit_log (id INT PRIMARY KEY, line TEXT) ENGINE=Aria;
INSERT INTO audit_log SELECT seq, REPEAT('x', seq % 300) FROM seq_1_to_1500;
"""


def _python36():
    """A real Python 3.6 to run the push tool with, as on RHEL 8; else this interpreter."""
    for candidate in ('/usr/bin/python3.6', os.path.expanduser('~/.pyenv/versions/3.6.15/bin/python3.6')):
        if os.access(candidate, os.X_OK):
            return candidate
    return sys.executable


def run_tool(tool, url, token_file, node, datadir, *extra, python=None):
    command = [python or sys.executable, tool, '--daemon-url', url, '--token-file', token_file, '--node', node,
               '--datadir', str(datadir), '--timeout', '20'] + list(extra)
    return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=300)


def push(cloud, url=None, *extra):
    return run_tool(PUSH, url or cloud.daemon.url, cloud.source_token, SOURCE, cloud.source.datadir, *extra,
                    python=_python36())


def pull(cloud, url=None):
    return run_tool(PULL, url or cloud.daemon.url, cloud.target_token, TARGET, cloud.target.datadir,
                    '--flag-file', cloud.flag)


def snapshot(directory):
    """Everything an operator could notice about a datadir: its inode, every file's path, mode and content."""
    files = {}
    for parent, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(parent, name)
            with open(path, 'rb') as stream:
                files[os.path.relpath(path, directory)] = (os.stat(path).st_mode,
                                                           hashlib.sha256(stream.read()).hexdigest())
    return os.stat(directory).st_ino, files


class Cloud(object):
    """A role with an old-OS source and a new-OS target node, each with its own MariaDB datadir."""

    def __init__(self, daemon, mariadb_servers, tmp_path):
        self.daemon = daemon
        self.source = mariadb_servers('source')
        self.target = mariadb_servers('target')
        self.flag = str(tmp_path / 'transfer-flags' / 'var-lib-mysql')
        daemon.add_node(SOURCE, ROLE)
        self.source_token = daemon.token_file(SOURCE)
        daemon.add_node(TARGET, ROLE)
        self.target_token = daemon.token_file(TARGET)
        self.report(SOURCE, 'prepared', '8.4')
        self.report(TARGET, 'upgraded', '9.2')
        self.services(SOURCE, 'down')

    def services(self, node, state):
        """What tripleo-upgrade-stop-services reports; the daemon refuses the source's push until it says down."""
        token = open(self.daemon.token_file(node)).read().strip()
        response = self.daemon.session(token).put('{}/v1/nodes/{}/services'.format(self.daemon.url, node),
                                                  json={'state': state, 'detail': 'test'})
        assert response.status_code == 200, response.text

    def report(self, node, phase, os_release):
        token = open(self.daemon.token_file(node)).read().strip()
        response = self.daemon.session(token).put(
            '{}/v1/nodes/{}/status'.format(self.daemon.url, node),
            json={'phase': phase, 'os_release': os_release, 'leapp_run_id': None, 'reports': [], 'error': None})
        assert response.status_code == 200, response.text

    def open_transfer(self, force=False, reason=''):
        return self.daemon.admin().post(self.daemon.url + '/v1/transfers', json={
            'role': ROLE, 'source': SOURCE, 'target': TARGET, 'items': ['mysql'], 'force': force, 'reason': reason})

    def transfers(self):
        response = self.daemon.admin().get('{}/v1/nodes/{}/transfers'.format(self.daemon.url, TARGET))
        assert response.status_code == 200, response.text
        return response.json()['transfers']


@pytest.fixture
def cloud(helper_daemon, mariadb_servers, tmp_path):
    return Cloud(helper_daemon, mariadb_servers, tmp_path)


def test_database_moves_once_from_the_old_node_to_the_new_one(cloud):
    source = cloud.source.start()
    source.sql(DATASET)
    expected = source.fingerprint('cloud')
    assert [expected[t][0] for t in ('instances', 'users', 'ports', 'audit_log')] == [5000, 3000, 2000, 1500]
    plan = cloud.daemon.admin().get(cloud.daemon.url + '/v1/transfer/plan', params={'role': ROLE}).json()['plans']
    assert [(p['source'], p['target'], p['valid']) for p in plan] == [(SOURCE, TARGET, True)]
    opened = cloud.open_transfer()
    assert opened.status_code == 201, opened.text
    transfer_id = opened.json()['id']

    refused = push(cloud)
    assert refused.returncode == 1
    assert 'a database server is running on {}'.format(source.datadir) in refused.stderr
    assert 'pcs resource disable galera-bundle' in refused.stderr and 'systemctl stop tripleo_mysql' in refused.stderr

    source.stop()
    pushed = push(cloud)
    assert pushed.returncode == 0, pushed.stderr
    # zstd is installed here: compressed by default, and the daemon's item says so (its sha256 is of those bytes).
    assert 'compressed with zstd' in pushed.stdout
    [item] = cloud.daemon.admin().get('{}/v1/nodes/{}/data'.format(cloud.daemon.url, SOURCE)).json()['items']
    assert item['encoding'] == 'zstd'
    assert item['size'] * 3 < sum(os.path.getsize(os.path.join(d, f))
                                  for d, _, names in os.walk(source.datadir) for f in names)
    pulled = pull(cloud)
    assert pulled.returncode == 0, pulled.stderr
    assert 'transfer sealed' in pulled.stdout

    target = cloud.target.start()
    assert target.fingerprint('cloud') == expected
    with open(cloud.flag) as stream:
        flag = json.load(stream)
    assert (flag['transfer_id'], flag['source'], flag['datadir'], flag['state']) == (
        transfer_id, SOURCE, cloud.target.datadir, 'installed')
    assert [t['state'] for t in cloud.transfers() if t['id'] == transfer_id] == ['sealed']
    target.stop()

    # A second pull is refused by the flag, and the datadir is left as it is.
    before = snapshot(cloud.target.datadir)
    again = pull(cloud)
    assert again.returncode == 1
    assert 'the flag file {} exists'.format(cloud.flag) in again.stderr
    assert 'rm {}'.format(cloud.flag) in again.stderr
    assert snapshot(cloud.target.datadir) == before

    # A second transfer for the role is refused (sealed) ...
    second = cloud.open_transfer()
    assert second.status_code == 409, second.text
    # ... and once the target has started its services, even a forced one.
    cloud.report(TARGET, 'completed', '9.2')
    forced = cloud.open_transfer(force=True, reason='operator re-runs the transfer')
    assert forced.status_code == 409, forced.text


# The plain-curl push of README "Database transfer", for a source node without the push tool (TLS aside).
CURL_PUSH = r"""
set -o pipefail
( umask 077; printf 'Authorization: Bearer %s\n' "$(cat "$TOKEN_FILE")" > "$HEADER_FILE" )
tar -C "$DATADIR" --create --file=- --xattrs --xattrs-include='*' --acls --selinux --numeric-owner --sparse . \
  | tee >(sha256sum >&2) \
  | curl -sS -T - -H @"$HEADER_FILE" -H 'Content-Type: application/x-tar' "$URL/v1/nodes/$NODE/data/mysql"
rm -f "$HEADER_FILE"
"""


def test_the_documented_curl_push_is_pulled_like_the_tool(cloud, tmp_path):
    source = cloud.source.start()
    source.sql(DATASET)
    expected = source.fingerprint('cloud')
    source.stop()
    assert cloud.open_transfer().status_code == 201
    pushed = subprocess.run(['bash', '-c', CURL_PUSH], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, env=dict(
                                os.environ, TOKEN_FILE=cloud.source_token, HEADER_FILE=str(tmp_path / 'auth'),
                                DATADIR=source.datadir, URL=cloud.daemon.url, NODE=SOURCE))
    assert pushed.returncode == 0, pushed.stderr
    assert json.loads(pushed.stdout)['sha256'] == pushed.stderr.split()[0]
    assert not os.path.exists(str(tmp_path / 'auth'))

    pulled = pull(cloud)
    assert pulled.returncode == 0, pulled.stderr
    assert cloud.target.start().fingerprint('cloud') == expected


def test_push_is_refused_until_the_source_reported_its_services_down(cloud):
    cloud.services(SOURCE, 'up')
    assert cloud.open_transfer().status_code == 201
    refused = push(cloud)
    assert refused.returncode == 1
    assert 'source services not down' in refused.stderr and 'tripleo-upgrade-stop-services' in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


def test_push_is_refused_without_an_open_transfer(cloud):
    refused = push(cloud)
    assert refused.returncode == 1
    assert 'no open transfer' in refused.stderr and SOURCE in refused.stderr


def test_pull_is_refused_while_a_server_runs_on_the_target_datadir(cloud):
    assert cloud.open_transfer().status_code == 201
    assert push(cloud).returncode == 0
    cloud.target.start()
    refused = pull(cloud)
    assert refused.returncode == 1
    assert 'a database server is running on {}'.format(cloud.target.datadir) in refused.stderr
    assert not os.path.exists(cloud.flag)


class CuttingProxy(object):
    """A TCP relay to the daemon that, once ``limit`` bytes went one way on a connection, runs ``on_cut``
    (for example: SIGKILL the daemon) and resets both sides. Every connection is cut, so retries are too."""

    def __init__(self, upstream_port, direction, limit, on_cut=lambda: None):
        self.upstream_port = upstream_port
        self.direction = direction  # 'up': client -> daemon (push), 'down': daemon -> client (pull)
        self.limit = limit
        self.on_cut = on_cut
        self.on_chunk = lambda moved: None  # called with the bytes moved so far, before each chunk is relayed
        self.cuts = 0
        self._listener = socket.socket()
        self._listener.bind(('127.0.0.1', 0))
        self._listener.listen(8)
        self.url = 'http://127.0.0.1:{}'.format(self._listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(('127.0.0.1', self.upstream_port))
            except OSError:
                client.close()
                continue
            pair = {'up': (client, upstream), 'down': (upstream, client)}
            for direction, (src, dst) in pair.items():
                threading.Thread(target=self._pump, args=(direction, src, dst, client, upstream), daemon=True).start()

    def _pump(self, direction, src, dst, client, upstream):
        moved = 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    dst.shutdown(socket.SHUT_WR)
                    return
                if direction == self.direction and moved + len(data) >= self.limit:
                    self.cuts += 1
                    self.on_cut()
                    self._cut(client, upstream)
                    return
                if direction == self.direction:
                    self.on_chunk(moved)
                dst.sendall(data)
                moved += len(data)
        except OSError:
            self._cut(client, upstream)

    @staticmethod
    def _cut(*sockets):
        for sock in sockets:
            try:
                # shutdown, not only close: the other pump thread still blocks in recv() on the same socket.
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def close(self):
        self._listener.close()


@pytest.mark.parametrize('stage', ['push', 'pull'])
@pytest.mark.parametrize('failure', ['connection cut', 'daemon killed'])
def test_interrupted_transfer_leaves_the_target_datadir_untouched(cloud, stage, failure):
    cloud.target.start().sql('CREATE DATABASE fresh_install')
    cloud.target.stop()
    parent = os.path.dirname(cloud.target.datadir)
    before, parent_before = snapshot(cloud.target.datadir), sorted(os.listdir(parent))
    assert cloud.open_transfer().status_code == 201
    if stage == 'pull':
        assert push(cloud, None, '--compress', 'none').returncode == 0

    on_cut = cloud.daemon.kill if failure == 'daemon killed' else (lambda: None)
    proxy = CuttingProxy(cloud.daemon.port, 'up' if stage == 'push' else 'down', 4 << 20, on_cut)
    try:
        # Uncompressed, so the archive is many times the cut's 4 MiB.
        interrupted = push(cloud, proxy.url, '--compress', 'none') if stage == 'push' else pull(cloud, proxy.url)
    finally:
        proxy.close()
    assert proxy.cuts >= 1
    assert interrupted.returncode == 1, interrupted.stdout
    assert 'error:' in interrupted.stderr and 'Traceback' not in interrupted.stderr
    if failure == 'daemon killed':
        cloud.daemon.start()

    if stage == 'push':
        # Nothing half-uploaded is served: the target has nothing to pull.
        refused = pull(cloud)
        assert refused.returncode == 1
        assert 'holds no \'mysql\' of {} yet'.format(SOURCE) in refused.stderr
    assert snapshot(cloud.target.datadir) == before
    assert sorted(os.listdir(parent)) == parent_before
    assert not os.path.exists(cloud.flag)

    # Re-running after the failure completes the transfer.
    if stage == 'push':
        assert push(cloud).returncode == 0
    rerun = pull(cloud)
    assert rerun.returncode == 0, rerun.stderr
    assert 'fresh_install' not in os.listdir(cloud.target.datadir)


def test_a_pull_whose_sealing_failed_only_seals_when_run_again(cloud):
    class DaemonGoneAtSealing(tripleo_helper_client.HelperClient):
        def complete_transfer(self, transfer_id):
            raise tripleo_helper_client.DaemonError('POST .../complete: the daemon is unreachable')

    assert cloud.open_transfer().status_code == 201
    assert push(cloud).returncode == 0
    token = open(cloud.target_token).read().strip()
    with pytest.raises(tripleo_transfer.TransferError) as failed:
        tripleo_transfer.pull(DaemonGoneAtSealing(cloud.daemon.url, token, retries=0), TARGET,
                              datadir=cloud.target.datadir, flag_file=cloud.flag)
    assert 'the database is in place' in str(failed.value) and 'Run the pull again' in str(failed.value)
    assert [t['state'] for t in cloud.transfers()] == ['open']
    installed = snapshot(cloud.target.datadir)

    resumed = pull(cloud)
    assert resumed.returncode == 0, resumed.stderr
    assert 'it is now sealed' in resumed.stdout
    assert [t['state'] for t in cloud.transfers()] == ['sealed']
    assert snapshot(cloud.target.datadir) == installed


def test_a_flag_that_cannot_be_written_leaves_the_datadir_as_it_was(cloud):
    # The flag's directory cannot be created (a file is in the way): the datadir must not be swapped without one.
    os.makedirs(os.path.dirname(os.path.dirname(cloud.flag)), exist_ok=True)
    open(os.path.dirname(cloud.flag), 'w').close()
    assert cloud.open_transfer().status_code == 201
    assert push(cloud).returncode == 0
    before = snapshot(cloud.target.datadir)
    token = open(cloud.target_token).read().strip()

    with pytest.raises(tripleo_transfer.TransferError) as failed:
        tripleo_transfer.pull(tripleo_helper_client.HelperClient(cloud.daemon.url, token, retries=0), TARGET,
                              datadir=cloud.target.datadir, flag_file=cloud.flag)

    assert 'was not changed, run this again' in str(failed.value)
    assert snapshot(cloud.target.datadir) == before
    assert [t['state'] for t in cloud.transfers()] == ['open']


def test_a_flag_left_by_an_interrupted_swap_refuses_and_never_seals(cloud):
    assert cloud.open_transfer().status_code == 201
    transfer_id = cloud.transfers()[0]['id']
    assert push(cloud).returncode == 0
    os.makedirs(os.path.dirname(cloud.flag))
    with open(cloud.flag, 'w') as stream:
        json.dump({'transfer_id': transfer_id, 'state': tripleo_transfer.FLAG_SWAPPING}, stream)

    refused = pull(cloud)

    assert refused.returncode == 1
    assert 'interrupted while swapping the datadir' in refused.stderr
    assert [t['state'] for t in cloud.transfers()] == ['open']


def test_a_datadir_whose_parent_is_missing_is_a_clear_refusal(cloud, tmp_path):
    assert cloud.open_transfer().status_code == 201
    assert push(cloud).returncode == 0
    datadir = tmp_path / 'no-such-parent' / 'mysql'
    refused = run_tool(PULL, cloud.daemon.url, cloud.target_token, TARGET, datadir, '--flag-file', cloud.flag)
    assert refused.returncode == 1
    assert 'Traceback' not in refused.stderr
    assert 'cannot stage the transfer next to {}'.format(datadir) in refused.stderr
    assert not os.path.exists(cloud.flag)


def _wait_for_follower(daemon, timeout=30):
    """Until the daemon logged a pull following the upload in progress (the audit detail of GET ?follow=true)."""
    deadline = time.monotonic() + timeout
    while 'following the upload in progress' not in daemon.log():
        assert time.monotonic() < deadline, 'the pull never followed the upload'
        time.sleep(0.05)


def test_a_pull_that_follows_the_push_installs_the_same_database(cloud):
    cloud.source.start().sql(DATASET)
    expected = cloud.source.fingerprint('cloud')
    cloud.source.stop()
    assert cloud.open_transfer().status_code == 201
    # The pull starts first and waits for the push; the push goes through a relay that holds it until the pull
    # follows, so the pull reads the upload while it is being stored.
    following = subprocess.Popen([sys.executable, PULL, '--daemon-url', cloud.daemon.url, '--token-file',
                                  cloud.target_token, '--node', TARGET, '--datadir', str(cloud.target.datadir),
                                  '--timeout', '60', '--flag-file', cloud.flag, '--follow'],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    proxy = CuttingProxy(cloud.daemon.port, 'up', 1 << 40)
    proxy.on_chunk = lambda moved: moved > (2 << 20) and _wait_for_follower(cloud.daemon)
    try:
        pushed = push(cloud, proxy.url)
    finally:
        proxy.close()
    out, err = following.communicate(timeout=300)
    assert pushed.returncode == 0, pushed.stderr
    assert following.returncode == 0, err
    assert 'transfer sealed' in out
    assert json.load(open(cloud.flag))['state'] == 'installed'
    assert cloud.target.start().fingerprint('cloud') == expected


@pytest.mark.parametrize('failure', ['connection cut', 'daemon killed'])
def test_a_push_that_dies_while_the_pull_follows_leaves_the_target_untouched(cloud, failure):
    cloud.target.start().sql('CREATE DATABASE fresh_install')
    cloud.target.stop()
    parent = os.path.dirname(cloud.target.datadir)
    before, parent_before = snapshot(cloud.target.datadir), sorted(os.listdir(parent))
    assert cloud.open_transfer().status_code == 201
    following = subprocess.Popen([sys.executable, PULL, '--daemon-url', cloud.daemon.url, '--token-file',
                                  cloud.target_token, '--node', TARGET, '--datadir', str(cloud.target.datadir),
                                  '--timeout', '20', '--flag-file', cloud.flag, '--follow'],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)

    def cut():
        _wait_for_follower(cloud.daemon)
        time.sleep(0.3)  # the pull has unpacked some of it
        if failure == 'daemon killed':
            cloud.daemon.kill()

    proxy = CuttingProxy(cloud.daemon.port, 'up', 6 << 20, cut)
    try:
        interrupted = push(cloud, proxy.url, '--compress', 'none')
    finally:
        proxy.close()
    _, err = following.communicate(timeout=120)
    assert proxy.cuts >= 1
    assert interrupted.returncode == 1
    assert following.returncode == 1, err
    assert 'error:' in err and 'Traceback' not in err
    assert snapshot(cloud.target.datadir) == before
    assert sorted(os.listdir(parent)) == parent_before
    assert not os.path.exists(cloud.flag)

    if failure == 'daemon killed':
        cloud.daemon.start()
    assert push(cloud).returncode == 0
    rerun = pull(cloud)
    assert rerun.returncode == 0, rerun.stderr
    assert 'fresh_install' not in os.listdir(cloud.target.datadir)


def test_push_without_zstd_sends_an_uncompressed_archive_and_says_so(cloud, tmp_path):
    assert cloud.open_transfer().status_code == 201
    # A bare RHEL 8 node: tar and Python, no zstd binary on PATH.
    bare = tmp_path / 'bin'
    bare.mkdir()
    os.symlink(subprocess.check_output(['bash', '-c', 'command -v tar'], universal_newlines=True).strip(),
               str(bare / 'tar'))
    env = dict(os.environ, PATH=str(bare))
    command = [_python36(), PUSH, '--daemon-url', cloud.daemon.url, '--token-file', cloud.source_token, '--node',
               SOURCE, '--datadir', cloud.source.datadir]
    insisted = subprocess.run(command + ['--compress', 'zstd'], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True)
    assert insisted.returncode == 1 and 'no zstd binary on this node' in insisted.stderr
    pushed = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert pushed.returncode == 0, pushed.stderr
    assert 'not compressed' in pushed.stdout
    [item] = cloud.daemon.admin().get('{}/v1/nodes/{}/data'.format(cloud.daemon.url, SOURCE)).json()['items']
    assert item['encoding'] == 'identity'
    assert pull(cloud).returncode == 0
