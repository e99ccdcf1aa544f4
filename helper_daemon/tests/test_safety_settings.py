"""Issue 15's settings and inventory import: budgets in the config file (and the deprecated batch_size of an old
one), `nodes import --keep-old-os ROLE` and the inventory's ceph_osd group."""

import os
import subprocess
import sys

import pytest
import yaml

from testing.daemon import REPO_ROOT, DaemonProcess

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data')


def cli(*args):
    return subprocess.run([sys.executable, '-m', 'helper_daemon'] + list(args), cwd=REPO_ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=60)


@pytest.mark.parametrize('config, message', [
    ({'default_lease_budget': 0}, 'default_lease_budget: a budget is at least 1 node, got 0'),
    ({'default_lease_budget': '0%'}, 'default_lease_budget: expected a percentage above 0%'),
    ({'lease_budgets': {'Compute': '150%'}}, 'lease_budgets.Compute: expected a percentage above 0% and at most 100%'),
    ({'lease_budgets': ['Compute']}, 'lease_budgets: expected a mapping of role name -> budget'),
    ({'batch_size': 2, 'default_lease_budget': 3}, 'batch_size and default_lease_budget both given'),
    ({'batch_size': 0}, 'batch_size: expected a whole number >= 1'),
    ({'silent_node_pause_after': -5}, 'silent_node_pause_after: expected a whole number >= 0'),
    ({'ceph_mon_facts_max_age': 0}, 'ceph_mon_facts_max_age: expected a whole number >= 1'),
])
def test_bad_budget_settings_are_refused_naming_the_file_and_key(tmp_path, config, message):
    path = tmp_path / 'helper.yaml'
    path.write_text(yaml.safe_dump(config))
    result = cli('serve', '--config', str(path), '--state-dir', str(tmp_path / 'state'))
    assert result.returncode == 2 and message in result.stderr and str(path) in result.stderr, result.stderr
    assert 'Traceback' not in result.stderr


def test_an_old_config_with_batch_size_still_works_as_the_default_budget(tmp_path):
    with DaemonProcess(str(tmp_path / 'state'), config={'batch_size': 1}) as daemon:
        for name in ('cmp-0', 'cmp-1', 'cmp-2'):
            daemon.add_node(name, 'Compute')
        fleet = daemon.admin().get(daemon.url + '/v1/status').json()
        assert fleet['policy']['default_lease_budget'] == 1
        assert fleet['roles'][0]['budget_source'] == 'default_lease_budget'
        granted = daemon.session(daemon.tokens['cmp-0']).post(daemon.url + '/v1/nodes/cmp-0/lease')
        assert granted.status_code == 200
        refused = daemon.session(daemon.tokens['cmp-1']).post(daemon.url + '/v1/nodes/cmp-1/lease')
        assert refused.status_code == 409 and refused.json()['blockers'][0]['rule'] == 'budget'
        assert 'batch_size is deprecated: read as default_lease_budget: 1' in daemon.log()


def test_import_marks_osd_hosts_and_roles_kept_on_the_old_os(tmp_path):
    state = str(tmp_path / 'state')
    sample = os.path.join(DATA, 'pacemaker_ceph_static.yaml')
    unknown = cli('nodes', 'import', sample, '--keep-old-os', 'Nope', '--state-dir', state)
    assert unknown.returncode == 2
    assert '--keep-old-os Nope: no such role in the inventory (roles: CephStorage, Compute, Controller, ' \
        'Networker)' in unknown.stderr
    done = cli('nodes', 'import', sample, '--keep-old-os', 'CephStorage', '--token-dir', str(tmp_path / 'tokens'),
               '--state-dir', state)
    assert done.returncode == 0, done.stderr
    assert 'Ceph OSD hosts (group ceph_osd): overcloud-cephstorage-0, overcloud-cephstorage-1, ' \
        'overcloud-cephstorage-2' in done.stdout
    assert 'role CephStorage stays on the old OS' in done.stdout
    with DaemonProcess(state) as daemon:
        fleet = daemon.admin().get(daemon.url + '/v1/status').json()
        assert sorted(n['name'] for n in fleet['nodes'] if n['ceph_osd']) == [
            'overcloud-cephstorage-0', 'overcloud-cephstorage-1', 'overcloud-cephstorage-2']
        kept = {r['role']: r['keep_old_os'] for r in fleet['roles']}
        assert kept['CephStorage']['reason'] == 'marked at inventory import (--keep-old-os)'
        assert kept['Compute'] is None
        assert all(n['kept_on_old_os'] == (n['role'] == 'CephStorage') for n in fleet['nodes'])
