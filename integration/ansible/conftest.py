"""Fixture ``fleet``: the helper daemon, a TripleO-shaped inventory and test hosts behind sshd (fleet.py), and
``fleet.play(step, limit)`` running a playbook of the collection with ansible-core from .venv-ansible."""
import json
import os
import shutil
import subprocess

import pytest
import yaml

from testing import ansible_fleet as fleet_module
from testing.daemon import REPO_ROOT

ANSIBLE_BIN = os.environ.get('TRIPLEO_UPGRADE_ANSIBLE_BIN', os.path.join(REPO_ROOT, '.venv-ansible', 'bin'))
NODE_PYTHON = os.environ.get('TRIPLEO_UPGRADE_ANSIBLE_NODE_PYTHON', os.path.join(REPO_ROOT, '.venv-rhel8', 'bin',
                                                                                  'python'))
ROLES = {'Controller': ['controller-0', 'controller-1', 'controller-2'],
         'Database': ['database-0', 'database-1'],
         'Compute': ['compute-0', 'compute-1', 'compute-2']}
GROUPS = {'pacemaker': ['Controller'], 'ceph_mon': ['Controller'], 'mysql': ['Controller', 'Database'],
          'nova_compute': ['Compute']}
UNITS = {'Controller': ['tripleo_nova_api.service', 'tripleo_ceph_mon.service'],
         'Database': ['tripleo_mysql.service', 'tripleo_iscsid.service'],
         'Compute': ['tripleo_nova_compute.service', 'tripleo_nova_libvirt.service']}
PLAY_TIMEOUT = 300


def _missing():
    if os.geteuid() != 0:
        return 'the test hosts need root (mount namespaces, sshd)'
    for tool in ('/usr/sbin/sshd', shutil.which('unshare'), shutil.which('ssh'), shutil.which('dbus-daemon')):
        if not tool or not os.access(tool, os.X_OK):
            return 'the test hosts need sshd, ssh, unshare and dbus-daemon (scripts/test installs them)'
    if not os.access(os.path.join(ANSIBLE_BIN, 'ansible-playbook'), os.X_OK):
        return 'no ansible-playbook in {} (scripts/test makes .venv-ansible)'.format(ANSIBLE_BIN)
    if not os.access(NODE_PYTHON, os.X_OK):
        return 'no RHEL 8 Python for the test hosts at {} (scripts/test makes .venv-rhel8)'.format(NODE_PYTHON)
    return None


class Fleet(object):
    def __init__(self, tmp_path, daemon):
        self.tmp = tmp_path
        self.daemon = daemon
        self.keys = fleet_module.make_keys(str(tmp_path / 'keys'))
        self.hosts = {}
        index = 0
        for role, names in ROLES.items():
            for name in names:
                index += 1
                self.hosts[name] = fleet_module.Host(str(tmp_path / 'hosts'), name, index, NODE_PYTHON, self.keys)
                self.hosts[name].role = role
        self.tokens = str(tmp_path / 'node-tokens')
        self.bin = str(tmp_path / 'undercloud-bin')
        os.makedirs(self.bin)
        shutil.copy(os.path.join(fleet_module.STANDINS, 'openstack'), self.bin)
        self.nova = str(tmp_path / 'nova-services.json')
        fleet_module.write_json(self.nova, {h + '.localdomain': {'Binary': 'nova-compute', 'Status': 'enabled'}
                                            for h in ROLES['Compute']})
        self.settings = {
            'system_upgrade_helper': daemon.command()[:3],
            'system_upgrade_helper_args': ['--config', daemon.config_path],
            'system_upgrade_token_dir': self.tokens,
            'system_upgrade_daemon_url': daemon.url,
            'system_upgrade_repository_source': REPO_ROOT,
            'system_upgrade_database_datadir': fleet_module.DATADIR,
            'system_upgrade_poll_interval': 1,
            'system_upgrade_node_config': {'persist_items': {'nova-state': ['/var/lib/tripleo/nova']}},
        }
        self.inventory = str(tmp_path / 'inventory.yaml')
        # Every playbook's output, kept after the test (pytest removes old temporary directories).
        artifacts = os.environ.get('TRIPLEO_UPGRADE_ARTIFACTS', os.path.join(REPO_ROOT, 'integration', 'ansible',
                                                                              'artifacts'))
        os.makedirs(artifacts, exist_ok=True)
        self.artifact = os.path.join(artifacts, 'ansible-{}.log'.format(os.path.basename(str(tmp_path))))
        open(self.artifact, 'w').close()

    def start(self, *names):
        """Start the test hosts (sshd, bus) of these nodes; then write the inventory and register the fleet."""
        for name in names:
            host = self.hosts[name]
            host.start([host_unit for host_unit in (
                {'name': u, 'load_state': 'loaded', 'active_state': 'active', 'sub_state': 'running',
                 'unit_file_state': 'enabled'} for u in UNITS[host.role])])
        return self

    def register(self):
        for host in self.hosts.values():
            host.port = host.port or 22
        doc = fleet_module.inventory(self.hosts, ROLES, GROUPS, NODE_PYTHON, self.keys, self.settings)
        with open(self.inventory, 'w') as stream:
            yaml.safe_dump(doc, stream)
        done = self.helper('nodes', 'import', self.inventory, '--token-dir', self.tokens)
        assert done.returncode == 0, done.stderr
        return self

    def helper(self, *args):
        return subprocess.run(self.daemon.command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=120)

    def status(self):
        done = self.helper('status', '--json')
        assert done.returncode == 0, done.stderr
        return {n['name']: n for n in json.loads(done.stdout)['nodes']}

    def play(self, step, limit=None, *extra):
        command = [os.path.join(ANSIBLE_BIN, 'ansible-playbook'), '-i', self.inventory,
                   'tripleo.system_upgrade.' + step, '--tags', step, '--forks', '10']
        if limit:
            command += ['--limit', limit]
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=REPO_ROOT, ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0',
                   ANSIBLE_HOST_KEY_CHECKING='False', ANSIBLE_RETRY_FILES_ENABLED='False',
                   ANSIBLE_LOCAL_TEMP=str(self.tmp / 'ansible-local'), STANDIN_OPENSTACK_STATE=self.nova,
                   ANSIBLE_LOG_PATH=str(self.tmp / 'ansible-timed.log'),
                   PATH=self.bin + os.pathsep + os.path.join(ANSIBLE_BIN) + os.pathsep + os.environ['PATH'])
        done = subprocess.run(command + list(extra), env=env, cwd=str(self.tmp), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, universal_newlines=True, timeout=PLAY_TIMEOUT)
        for path in (str(self.tmp / 'ansible.log'), self.artifact):
            with open(path, 'a') as log:
                log.write('$ {}\n{}\n'.format(' '.join(command), done.stdout))
        return done

    def nova_services(self):
        with open(self.nova) as stream:
            return json.load(stream)

    def close(self):
        for host in self.hosts.values():
            host.stop()


@pytest.fixture
def fleet(tmp_path, helper_daemon):
    missing = _missing()
    if missing:
        pytest.skip('Ansible fleet tests skipped: ' + missing)
    fleet = Fleet(tmp_path, helper_daemon)
    try:
        yield fleet
    finally:
        fleet.close()
