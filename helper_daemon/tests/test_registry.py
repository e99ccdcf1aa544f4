"""Node registry: TripleO inventories, `nodes import|add|list`, tokens handed out once and kept on re-import."""

import os
import subprocess
import sys

import pytest
import requests

from helper_daemon.inventory import InventoryError, load_inventory, one_by_one_roles
from testing.daemon import REPO_ROOT, DaemonProcess

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data')


def inventory(name):
    return os.path.join(DATA, name)


def test_single_stack_inventory_gives_the_overcloud_nodes_and_roles_only():
    nodes = load_inventory(inventory('overcloud_static.yaml'))
    assert [(n.name, n.role, n.ceph_mon) for n in nodes] == [
        ('overcloud-controller-0', 'Controller', False), ('overcloud-novacompute-0', 'Compute', False)]


def test_multi_stack_inventory_reads_every_stack():
    nodes = load_inventory(inventory('merged_static.yaml'))
    assert {n.name: n.role for n in nodes} == {
        'cell1-cellcontrol-0': 'CellController', 'cell1-compute-0': 'Compute',
        'overcloud-controller-0': 'Controller', 'overcloud-novacompute-0': 'Compute'}


def test_pacemaker_and_ceph_mon_groups_mark_hosts_and_one_by_one_roles():
    nodes = {n.name: n for n in load_inventory(inventory('pacemaker_ceph_static.yaml'))}
    assert len(nodes) == 10 and 'undercloud' not in nodes
    assert sorted(n for n, node in nodes.items() if node.ceph_mon) == [
        'overcloud-controller-0', 'overcloud-controller-1', 'overcloud-controller-2']
    assert not nodes['overcloud-cephstorage-0'].ceph_mon
    assert one_by_one_roles(list(nodes.values())) == {'Controller'}


def test_stack_prefixed_service_groups_count(tmp_path):
    (tmp_path / 'inv.yaml').write_text(
        'cell1_CellController:\n  hosts: {cell1-ctl-0: {}}\n  vars: {tripleo_role_name: CellController}\n'
        'cell1_Compute:\n  hosts: {cell1-cmp-0: {}}\n  vars: {tripleo_role_name: Compute}\n'
        'cell1_pacemaker:\n  children: {cell1_CellController: {}}\n'
        'cell1_ceph_mon:\n  children: {cell1_CellController: {}}\n')
    nodes = {n.name: n for n in load_inventory(str(tmp_path / 'inv.yaml'))}
    assert nodes['cell1-ctl-0'].ceph_mon and nodes['cell1-ctl-0'].pacemaker
    assert not nodes['cell1-cmp-0'].ceph_mon


@pytest.mark.parametrize('content, message', [
    ('Undercloud:\n  hosts: {undercloud: {}}\n', 'no role group'),
    ('- a list\n', 'mapping of groups'),
    ('Controller: {hosts: {"bad host": {}}, vars: {tripleo_role_name: Controller}}\n', "'bad host'"),
    ('A: {hosts: {n1: {}}, vars: {tripleo_role_name: A}}\nB: {hosts: {n1: {}}, vars: {tripleo_role_name: B}}\n',
     'two roles'),
    ('key: [unclosed\n', 'not valid YAML'),
])
def test_bad_inventories_are_refused_with_the_file_and_the_reason(tmp_path, content, message):
    path = tmp_path / 'inv.yaml'
    path.write_text(content)
    with pytest.raises(InventoryError) as error:
        load_inventory(str(path))
    assert str(path) in str(error.value) and message in str(error.value)


def cli(*args):
    return subprocess.run([sys.executable, '-m', 'helper_daemon'] + list(args), cwd=REPO_ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=60)


def test_import_before_start_hands_out_working_tokens_and_reimport_keeps_them(tmp_path):
    state, tokens = tmp_path / 'state', tmp_path / 'tokens'
    first = cli('nodes', 'import', inventory('pacemaker_ceph_static.yaml'), '--state-dir', str(state),
                '--token-dir', str(tokens))
    assert first.returncode == 0, first.stderr
    assert '10 overcloud node(s)' in first.stdout and '10 new token(s)' in first.stdout
    assert sorted(os.listdir(str(tokens))) == sorted(n.name + '.token' for n in
                                                     load_inventory(inventory('pacemaker_ceph_static.yaml')))
    token_file = tokens / 'overcloud-controller-1.token'
    assert os.stat(str(token_file)).st_mode & 0o777 == 0o600
    token = token_file.read_text().strip()
    assert len(token) >= 43  # 256 bits in URL-safe base64
    assert token not in (state / 'helper.sqlite3').read_bytes().decode('latin-1')

    listing = cli('nodes', 'list', '--state-dir', str(state)).stdout.splitlines()
    row = next(line.split() for line in listing if line.startswith('overcloud-controller-1 '))
    assert row[:4] == ['overcloud-controller-1', 'Controller', 'yes', 'yes']
    row = next(line.split() for line in listing if line.startswith('overcloud-cephstorage-0 '))
    assert row[:2] == ['overcloud-cephstorage-0', 'CephStorage'] and 'yes' not in row

    again = cli('nodes', 'import', inventory('pacemaker_ceph_static.yaml'), '--state-dir', str(state),
                '--token-dir', str(tokens))
    assert again.returncode == 0 and '0 new token(s)' in again.stdout
    assert token_file.read_text().strip() == token

    with DaemonProcess(state) as daemon:
        session = daemon.session(token)
        assert session.put(daemon.url + '/v1/nodes/overcloud-controller-1/data/etc', data=b'x').status_code == 201
        assert session.get(daemon.url + '/v1/nodes/overcloud-controller-0/data').status_code == 403

        rotated = cli('nodes', 'import', inventory('pacemaker_ceph_static.yaml'), '--state-dir', str(state),
                      '--token-dir', str(tokens), '--rotate-tokens')
        assert rotated.returncode == 0, rotated.stderr
        assert token_file.read_text().strip() != token
        assert session.get(daemon.url + '/v1/nodes/overcloud-controller-1/data').status_code == 401
        fresh = daemon.session(token_file.read_text().strip())
        assert fresh.get(daemon.url + '/v1/nodes/overcloud-controller-1/data/etc').content == b'x'


def test_nodes_add_prints_the_token_once_and_marks_ceph_mon_roles_one_by_one(tmp_path):
    state = tmp_path / 'state'
    added = cli('nodes', 'add', 'ctl-0', '--role', 'Controller', '--ceph-mon', '--state-dir', str(state))
    assert added.returncode == 0, added.stderr
    assert 'ceph-mon one-by-one' in added.stdout and 'token (shown once): ' in added.stdout
    plain = cli('nodes', 'add', 'ctl-1', '--role', 'Controller', '--state-dir', str(state))
    assert 'one-by-one' in plain.stdout  # the role already is
    again = cli('nodes', 'add', 'ctl-1', '--role', 'Controller', '--state-dir', str(state))
    assert 'kept its existing token' in again.stdout
    bad = cli('nodes', 'add', '../etc', '--role', 'Controller', '--state-dir', str(state))
    assert bad.returncode == 2 and "'../etc'" in bad.stderr


def test_import_of_a_missing_file_says_which(tmp_path):
    result = cli('nodes', 'import', str(tmp_path / 'nope.yaml'), '--state-dir', str(tmp_path / 'state'))
    assert result.returncode == 2 and 'nope.yaml: cannot read the inventory' in result.stderr


def test_admin_token_is_created_once_0600_and_kept(helper_daemon):
    path = os.path.join(helper_daemon.state_dir, 'admin-token')
    assert os.stat(path).st_mode & 0o777 == 0o600
    token = helper_daemon.admin_token
    helper_daemon.stop()
    helper_daemon.start()
    assert helper_daemon.admin_token == token
    assert helper_daemon.admin().get(helper_daemon.url + '/v1/nodes').status_code == 200


def test_configured_admin_token_file_is_used(tmp_path):
    token_file = tmp_path / 'admin.token'
    token_file.write_text('configured-admin-token-' + 'x' * 40 + '\n')
    with DaemonProcess(tmp_path / 'state', config={'admin_token_file': str(token_file)}) as daemon:
        session = requests.Session()
        session.trust_env = False
        session.headers['Authorization'] = 'Bearer configured-admin-token-' + 'x' * 40
        assert session.get(daemon.url + '/v1/nodes').status_code == 200
        assert not os.path.exists(os.path.join(daemon.state_dir, 'admin-token'))


@pytest.mark.parametrize('config, message', [
    ({'max_item_bytes': -1}, 'max_item_bytes'),
    ({'bogus_setting': 1}, 'unknown setting(s) bogus_setting'),
    ({'tls_cert': '/nonexistent.pem'}, 'tls_cert and tls_key go together'),
    ({'one_by_one_roles': 'Controller'}, 'one_by_one_roles'),
    ({'listen': 8990}, 'listen: expected text'),
    ({'admin_token_file': ['/srv/token']}, 'admin_token_file: expected text'),
    ({'tls_cert': '/nonexistent.pem', 'tls_key': '/nonexistent.key'}, 'tls_cert /nonexistent.pem'),
])
def test_bad_config_is_refused_naming_the_file_and_key(tmp_path, config, message):
    import yaml
    path = tmp_path / 'helper.yaml'
    path.write_text(yaml.safe_dump(config))
    result = cli('serve', '--config', str(path), '--state-dir', str(tmp_path / 'state'))
    assert result.returncode == 2 and message in result.stderr and 'Traceback' not in result.stderr


def test_tls_key_that_does_not_match_is_refused_before_serving(tmp_path):
    import yaml
    path = tmp_path / 'helper.yaml'
    (tmp_path / 'not-a-cert.pem').write_text('not a certificate\n')
    path.write_text(yaml.safe_dump({'tls_cert': str(tmp_path / 'not-a-cert.pem'),
                                    'tls_key': str(tmp_path / 'not-a-cert.pem')}))
    result = cli('serve', '--config', str(path), '--state-dir', str(tmp_path / 'state'))
    assert result.returncode == 2 and 'not a matching PEM certificate' in result.stderr
    assert 'Traceback' not in result.stderr


def test_nodes_add_without_a_role_is_one_clear_error(tmp_path):
    result = cli('nodes', 'add', 'ctl-0', '--role', '', '--state-dir', str(tmp_path / 'state'))
    assert result.returncode == 2 and 'ctl-0 needs a role' in result.stderr and 'Traceback' not in result.stderr


@pytest.mark.parametrize('sample, roles, one_by_one', [
    ('overcloud_static.yaml', {'Controller': 1, 'Compute': 1}, set()),
    ('merged_static.yaml', {'CellController': 1, 'Compute': 2, 'Controller': 1}, set()),
    ('pacemaker_ceph_static.yaml', {'Controller': 3, 'CephStorage': 3, 'Networker': 2, 'Compute': 2}, {'Controller'}),
])
def test_import_registers_every_node_with_role_and_one_by_one(tmp_path, sample, roles, one_by_one):
    from helper_daemon import registry
    from helper_daemon.db import Database

    db = Database.in_state_dir(tmp_path)
    regs = registry.import_nodes(db, load_inventory(inventory(sample)))
    assert all(r.token for r in regs)
    nodes = registry.list_nodes(db)
    counted = {}
    for node in nodes:
        counted[node['role']] = counted.get(node['role'], 0) + 1
    assert counted == roles
    assert {n['role'] for n in nodes if n['one_by_one']} == one_by_one
    assert {n['name'] for n in nodes if n['ceph_mon']} == (
        {'overcloud-controller-0', 'overcloud-controller-1', 'overcloud-controller-2'} if one_by_one else set())
    again = registry.import_nodes(db, load_inventory(inventory(sample)))
    assert [r.name for r in again] == [r.name for r in regs] and not any(r.token or r.created for r in again)
