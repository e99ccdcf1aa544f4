"""The operator's workflow end to end, as README "The upgrade, step by step" types it, for a cloud with three
controllers (Pacemaker, ceph-mon), a database role of two nodes and two computes.

Real parts: the daemon as a process over HTTP, `tripleo-upgrade-helper` subcommands, the node commands as
processes reading each node's own actor configuration, units on a private D-Bus with the systemd1 peer, the
cluster as a CIB file changed by real `pcs -f` and read by real `crm_mon` (Pacemaker's scheduler applying each
transition, testing/pacemaker_cib.py), the databases moved between real MariaDB servers. Only leapp itself is
stood in for (`leapp preupgrade`/`upgrade` and the first boot report the node's phase and OS release).
"""
import json
import os
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET

import pytest

from testing.daemon import REPO_ROOT
from testing.pacemaker_cib import SettlingCluster

TOOLS = os.path.join(REPO_ROOT, 'tools')
CONTROLLERS = ('controller-0', 'controller-1', 'controller-2')
DATABASES = ('database-0', 'database-1')
COMPUTES = ('compute-0', 'compute-1')
OLD, NEW = '8.4', '9.2'
DATASET = ("CREATE DATABASE nova; USE nova; CREATE TABLE instances (id INT PRIMARY KEY, name VARCHAR(64)); "
           "INSERT INTO instances VALUES (1, 'vm-a'), (2, 'vm-b'), (3, 'vm-c');")


class Operator(object):
    """Types the commands: `helper(...)` on the undercloud, `node(name, tool, ...)` on an overcloud node."""

    def __init__(self, daemon, tmp_path, bus_address):
        self.daemon = daemon
        self.tmp = tmp_path
        self.tokens = str(tmp_path / 'node-tokens')
        self.bus_address = bus_address

    def helper(self, *args):
        return subprocess.run(self.daemon.command(*args), cwd=REPO_ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, timeout=120)

    def configure(self, node):
        """The node's /etc/leapp/actor_conf.d/tripleo_upgrade.yaml (its own directory here)."""
        directory = self.tmp / 'actor_conf.d' / node
        directory.mkdir(parents=True)
        (directory / 'tripleo_upgrade.yaml').write_text(
            'tripleo_upgrade:\n  daemon_url: {}\n  token_file: {}\n  node_name: {}\n'.format(
                self.daemon.url, os.path.join(self.tokens, node + '.token'), node))
        return str(directory)

    def node(self, name, tool, *args, timeout=300):
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus_address)
        return subprocess.run([sys.executable, os.path.join(TOOLS, tool), '--config-dir',
                               str(self.tmp / 'actor_conf.d' / name)] + list(args), env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                              timeout=timeout)

    def leapp_reports(self, node, phase, release):
        """What leapp's actors send (not ours to run here): the node's phase and OS release."""
        token = open(os.path.join(self.tokens, node + '.token')).read().strip()
        answer = self.daemon.session(token).put('{}/v1/nodes/{}/status'.format(self.daemon.url, node),
                                                json={'phase': phase, 'os_release': release})
        assert answer.status_code == 200, answer.text

    def leapp_takes_lease(self, node):
        token = open(os.path.join(self.tokens, node + '.token')).read().strip()
        return self.daemon.session(token).post('{}/v1/nodes/{}/lease'.format(self.daemon.url, node))


def ok(done):
    assert done.returncode == 0, (done.args, done.stdout, done.stderr)
    return done.stdout


def refused(done, *expected):
    assert done.returncode == 1, (done.args, done.stdout, done.stderr)
    assert 'Traceback' not in done.stderr
    for text in expected:
        assert text in done.stderr, (text, done.stderr)
    return done.stderr


def galera_active(status_xml):
    root = ET.fromstring(status_xml)
    bundle = next(b for b in root.iter('bundle') if b.get('id') == 'galera-bundle')
    return any(r.get('active') == 'true' for r in bundle.iter('resource'))


@pytest.fixture
def operator(helper_daemon, tmp_path, systemd_bus):
    return Operator(helper_daemon, tmp_path, systemd_bus.address)


def test_the_whole_upgrade_by_its_commands(operator, systemd_bus, mariadb_servers, tmp_path):
    op = operator
    # --- undercloud, once: register the fleet ----------------------------------------------------------------
    for node in CONTROLLERS:
        ok(op.helper('nodes', 'add', node, '--role', 'Controller', '--ceph-mon', '--token-dir', op.tokens))
    for node in DATABASES:
        ok(op.helper('nodes', 'add', node, '--role', 'Database', '--token-dir', op.tokens))
    for node in COMPUTES:
        ok(op.helper('nodes', 'add', node, '--role', 'Compute', '--token-dir', op.tokens))
    for node in CONTROLLERS + DATABASES + COMPUTES:
        op.configure(node)
        op.leapp_reports(node, 'preupgrade', OLD)  # step 1: leapp preupgrade on every node
    assert 'ceph-mon hosts running: 3 (min 2, OK)' in ok(op.helper('status'))
    systemd_bus.load([systemd_bus.unit('tripleo_nova_api.service'), systemd_bus.unit('tripleo_ceph_mon.service'),
                      systemd_bus.unit('tripleo_mysql.service'), systemd_bus.unit('tripleo_keystone.service',
                                                                                  active_state='inactive')])

    # --- step 2-3 for the first controller: leapp upgrade takes the lease, the first boot reports upgraded ------
    assert op.leapp_takes_lease('controller-1').status_code == 200
    second = op.node('controller-2', 'tripleo-upgrade-prepare', '--record', str(tmp_path / 'c2-prepare.json'))
    refused(second, 'controller-1 of one-by-one role Controller already holds a lease',
            'ceph-mon hosts without a lease would drop to 1, below min_ceph_mons=2')
    assert systemd_bus.calls('StopUnit') == []  # refused before anything was touched
    op.leapp_reports('controller-1', 'upgraded', NEW)
    leases = ok(op.helper('lease', 'list'))
    assert leases.splitlines()[1].split()[:2] == ['controller-1', 'Controller']

    # --- step 4: the database of the Controller role ----------------------------------------------------------
    source_db, target_db = mariadb_servers('controller-0'), mariadb_servers('controller-1')
    source_db.start().sql(DATASET)
    expected = source_db.fingerprint('nova')

    def galera_agent(status_xml):  # what the galera resource agent does when the cluster stops it
        if not galera_active(status_xml):
            threading.Thread(target=source_db.stop).start()

    plan = ok(op.helper('transfer', 'plan', '--role', 'Controller'))
    assert 'Controller: can open now' in plan and 'source  controller-0 (services not reported)' in plan
    opened = json.loads(ok(op.helper('transfer', 'open', '--role', 'Controller', '--json')))
    assert (opened['source'], opened['target']) == ('controller-0', 'controller-1')
    refused(op.helper('transfer', 'open', '--role', 'Controller'), 'is still open')

    push_args = ('--datadir', source_db.datadir)
    refused(op.node('controller-0', 'tripleo-transfer-push', *push_args), 'a database server is running')
    source_db.stop()  # by hand: the push passes its own check, and the daemon refuses it
    refused(op.node('controller-0', 'tripleo-transfer-push', *push_args), 'source services not down',
            'tripleo-upgrade-stop-services')
    source_db.start()
    with SettlingCluster(tmp_path, galera_agent) as cluster:
        source_db_was = source_db.process
        stopped = ok(op.node('controller-0', 'tripleo-upgrade-stop-services', '--cib-file', cluster.cib,
                             '--datadir', source_db.datadir, '--record', str(tmp_path / 'c0-stopped.json')))
        assert 'Disabled in the cluster: galera-bundle, haproxy-bundle, ip-192.168.24.10.' in stopped
        assert 'Stopped units: tripleo_mysql.service, tripleo_nova_api.service.' in stopped
        assert source_db_was.poll() is not None and cluster.errors == []
        again = ok(op.node('controller-2', 'tripleo-upgrade-stop-services', '--cib-file', cluster.cib,
                           '--datadir', str(tmp_path / 'no-datadir'), '--record', str(tmp_path / 'c2-stopped.json')))
        assert 'Stopped on every node of the cluster: galera-bundle, haproxy-bundle, ip-192.168.24.10.' in again
    units = systemd_bus.units()
    assert units['tripleo_ceph_mon.service']['active_state'] == 'active'  # never stopped
    assert units['tripleo_nova_api.service']['active_state'] == 'inactive'
    assert 'source  controller-0 (services down since ' in ok(op.helper('transfer', 'plan', '--role', 'Controller'))
    assert 'services    down since' in ok(op.helper('nodes', 'show', 'controller-0'))
    assert 'Services (tripleo-upgrade-stop-services): controller-0 down since ' in ok(op.helper('status'))

    pushed = ok(op.node('controller-0', 'tripleo-transfer-push', *push_args))
    assert 'now run tripleo-transfer-pull on controller-1' in pushed
    flag = str(tmp_path / 'flags' / 'controller-1-mysql')
    ok(op.node('controller-1', 'tripleo-transfer-pull', '--datadir', target_db.datadir, '--flag-file', flag))
    assert target_db.start().fingerprint('nova') == expected
    assert '{} open'.format(opened['id']) not in ok(op.helper('transfer', 'list'))
    refused(op.helper('transfer', 'open', '--role', 'Controller'), 'sealed')
    refused(op.node('controller-1', 'tripleo-transfer-pull', '--datadir', target_db.datadir, '--flag-file', flag),
            flag)

    # --- step 5: TripleO starts the services; the node reports completed and frees the next controller --------
    ok(op.node('controller-1', 'tripleo-upgrade-complete'))
    refused(op.helper('transfer', 'open', '--role', 'Controller', '--force', '--reason', 'redo'), 'completed')
    assert op.leapp_takes_lease('controller-2').status_code == 200

    # --- the Database role (no Pacemaker): tripleo_mysql through systemd ------------------------------------
    op.leapp_reports('database-1', 'upgraded', NEW)
    db_source, db_target = mariadb_servers('database-0'), mariadb_servers('database-1')
    db_source.start().sql(DATASET)
    systemd_bus.load([systemd_bus.unit('tripleo_mysql.service'), systemd_bus.unit('tripleo_iscsid.service')])
    ok(op.helper('transfer', 'open', '--role', 'Database'))
    watcher_done = threading.Event()

    def tripleo_mysql_unit():  # the unit's ExecStop: the server exits when systemd stops the unit
        while not watcher_done.wait(0.1):
            if systemd_bus.units()['tripleo_mysql.service']['active_state'] == 'inactive':
                db_source.stop()
                return
    watcher = threading.Thread(target=tripleo_mysql_unit)
    watcher.start()
    try:
        stopped = ok(op.node('database-0', 'tripleo-upgrade-stop-services', '--cib-file', str(tmp_path / 'none.xml'),
                             '--datadir', db_source.datadir, '--record', str(tmp_path / 'd0-stopped.json')))
    finally:
        watcher_done.set()
        watcher.join()
    assert 'Not a Pacemaker cluster member' in stopped and 'tripleo_mysql.service' in stopped
    ok(op.node('database-0', 'tripleo-transfer-push', '--datadir', db_source.datadir))
    db_flag = str(tmp_path / 'flags' / 'database-1-mysql')
    pull_args = ('--datadir', db_target.datadir, '--flag-file', db_flag)
    ok(op.node('database-1', 'tripleo-transfer-pull', *pull_args))
    assert db_target.start().fingerprint('nova') == expected

    # --- a deliberate redo (README "Redoing a transfer deliberately"), before database-1 started services ----
    db_target.sql('USE nova; INSERT INTO instances VALUES (4, "lost-by-the-redo");')
    db_target.stop()
    shown = refused(op.node('database-1', 'tripleo-transfer-pull', '--forget-flag', *pull_args), 'Run again with --yes')
    assert 'from node     database-0' in shown and os.path.exists(db_flag)
    refused(op.helper('transfer', 'open', '--role', 'Database'), 'already had its one-shot transfer')
    ok(op.node('database-1', 'tripleo-transfer-pull', '--forget-flag', '--yes', *pull_args))
    assert not os.path.exists(db_flag)
    ok(op.helper('transfer', 'open', '--role', 'Database', '--force', '--reason', 'pulled before a fix on database-0'))
    ok(op.node('database-0', 'tripleo-transfer-push', '--datadir', db_source.datadir))
    ok(op.node('database-1', 'tripleo-transfer-pull', *pull_args))
    assert db_target.start().fingerprint('nova') == expected
    # controller-1 reported completed: its flag stays whatever the operator answers
    refused(op.node('controller-1', 'tripleo-transfer-pull', '--forget-flag', '--yes', '--datadir', target_db.datadir,
                    '--flag-file', flag), 'has reported completed')
    assert os.path.exists(flag)

    # --- the fleet at the end ------------------------------------------------------------------------------------
    fleet = json.loads(ok(op.helper('status', '--json')))
    assert [(t['role'], t['state'], t['forced_reason']) for t in fleet['transfers']] == [
        ('Controller', 'sealed', None), ('Database', 'sealed', None),
        ('Database', 'sealed', 'pulled before a fix on database-0')]
    assert {n['name']: (n['services'] or {}).get('state') for n in fleet['nodes']
            if n['services']} == {'controller-0': 'down', 'controller-2': 'down', 'database-0': 'down'}


def test_an_abandoned_transfer_brings_the_services_back(operator, systemd_bus, tmp_path):
    op = operator
    ok(op.helper('nodes', 'add', 'controller-0', '--role', 'Controller', '--ceph-mon', '--token-dir', op.tokens))
    op.configure('controller-0')
    systemd_bus.load([systemd_bus.unit('tripleo_nova_api.service')])
    record = str(tmp_path / 'stopped.json')
    with SettlingCluster(tmp_path) as cluster:
        # The operator had disabled haproxy on purpose: --start must not enable it.
        subprocess.check_call(['pcs', '-f', cluster.cib, 'resource', 'disable', 'haproxy-bundle'])
        args = ('--cib-file', cluster.cib, '--datadir', str(tmp_path / 'none'), '--record', record)
        ok(op.node('controller-0', 'tripleo-upgrade-stop-services', *args))
        ok(op.node('controller-0', 'tripleo-upgrade-stop-services', *args))  # safe to re-run
        started = ok(op.node('controller-0', 'tripleo-upgrade-stop-services', '--start', *args))
        assert 'Enabled again in the cluster: galera-bundle, ip-192.168.24.10.' in started
        config = subprocess.run(['pcs', '-f', cluster.cib, 'resource', 'config'], stdout=subprocess.PIPE,
                                universal_newlines=True).stdout
    assert systemd_bus.units()['tripleo_nova_api.service']['active_state'] == 'active'
    assert not os.path.exists(record)
    fleet = json.loads(ok(op.helper('status', '--json')))
    assert fleet['nodes'][0]['services']['state'] == 'up'
    assert config.count('target-role=Stopped') == 1  # haproxy-bundle only, as the operator left it


@pytest.mark.parametrize('tool', ['tripleo-upgrade-stop-services', 'tripleo-transfer-push', 'tripleo-transfer-pull',
                                  'tripleo-upgrade-complete', 'tripleo-upgrade-restore', 'tripleo-upgrade-abort',
                                  'tripleo-upgrade-prepare'])
def test_each_node_command_fails_clearly(operator, systemd_bus, tool, tmp_path):
    op = operator
    systemd_bus.load([])
    assert 'usage:' in ok(op.node('nowhere', tool, '--help'))
    bad = op.node('nowhere', tool, '--no-such-flag')
    assert bad.returncode == 2 and 'unrecognized arguments: --no-such-flag' in bad.stderr

    missing = op.node('nowhere', tool, *SCRATCH[tool](tmp_path))  # its configuration directory does not exist
    assert missing.returncode == 1 and 'Traceback' not in missing.stderr
    assert len(missing.stderr.strip().splitlines()) <= 3, missing.stderr

    ok(op.helper('nodes', 'add', 'compute-0', '--role', 'Compute', '--token-dir', op.tokens))
    op.configure('compute-0')
    op.daemon.stop()
    down = op.node('compute-0', tool, *SCRATCH[tool](tmp_path))
    assert down.returncode == 1 and 'Traceback' not in down.stderr, down.stderr
    assert down.stderr.startswith(tool + ': error: '), down.stderr
    assert 'Connection refused' in down.stderr or 'unreachable' in down.stderr, down.stderr


# Per command: the flags that keep it in the test's directory (records, datadirs, work files).
SCRATCH = {
    'tripleo-upgrade-stop-services': lambda tmp: ['--datadir', str(tmp / 'mysql'), '--record', str(tmp / 'rec')],
    'tripleo-transfer-push': lambda tmp: ['--datadir', str(tmp)],
    'tripleo-transfer-pull': lambda tmp: ['--datadir', str(tmp / 'mysql'), '--flag-file', str(tmp / 'flag')],
    'tripleo-upgrade-complete': lambda tmp: [],
    'tripleo-upgrade-restore': lambda tmp: ['--work-dir', str(tmp / 'work')],
    'tripleo-upgrade-abort': lambda tmp: ['--record', str(tmp / 'prepare.json')],
    'tripleo-upgrade-prepare': lambda tmp: ['--record', str(tmp / 'prepare.json')],
}
