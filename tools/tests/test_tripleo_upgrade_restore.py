"""tools/tripleo-upgrade-restore on a reinstalled node, against the daemon started as a real process."""
import os
import shutil
import subprocess
import sys

from testing.trees import make_tree, snapshot
from tripleo_upgrade_libraries import tripleo_node, tripleo_persist
from tripleo_upgrade_libraries.tripleo_helper_client import HelperClient

TOOL = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tripleo-upgrade-restore')
# A configuration directory without files: every value comes from the flags, as on a node without leapp.
NO_CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'no-actor-conf.d')
NODE = 'compute-0'


def run(daemon, work_dir, *extra):
    return subprocess.run([sys.executable, TOOL, '--config-dir', NO_CONFIG,
                           '--daemon-url', daemon.url, '--token-file', daemon.token_file(NODE),
                           '--node', NODE, '--work-dir', work_dir] + list(extra),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=120)


def test_a_reinstalled_node_gets_its_data_back_and_reports_upgraded(helper_daemon, tmp_path):
    client = HelperClient(helper_daemon.url, helper_daemon.add_node(NODE, 'Compute'), retries=0)
    nova = make_tree(str(tmp_path / 'var' / 'lib' / 'nova'))
    before = snapshot(nova)
    tripleo_persist.persist(client, NODE, {'nova-state': [nova]})
    shutil.rmtree(nova)
    work_dir = str(tmp_path / 'work')

    done = run(helper_daemon, work_dir)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ['nova-state {}: restored'.format(nova),
                                        '{} reported upgraded on OS {}'.format(NODE, tripleo_node.os_release())]
    assert 'compute-0: downloading nova-state (' in done.stderr
    assert snapshot(nova) == before
    assert os.listdir(work_dir) == []
    status = helper_daemon.admin().get(helper_daemon.url + '/v1/nodes/{}/status'.format(NODE)).json()
    assert status['phase'] == 'upgraded'

    again = run(helper_daemon, work_dir, '--mode', 'missing-only')
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0] == 'nova-state {}: present'.format(nova)

    # Once TripleO has started the node's services, the data is theirs: no restore any more.
    client.put_status(NODE, 'completed')
    (tmp_path / 'var' / 'lib' / 'nova' / 'written-since').write_text('new')
    refused = run(helper_daemon, work_dir)
    assert refused.returncode == 1
    assert 'compute-0 reported its services started on the new OS (phase completed)' in refused.stderr
    assert (tmp_path / 'var' / 'lib' / 'nova' / 'written-since').read_text() == 'new'


def test_an_item_the_daemon_does_not_hold_is_one_clear_error(helper_daemon, tmp_path):
    helper_daemon.add_node(NODE, 'Compute')
    done = run(helper_daemon, str(tmp_path / 'work'), '--item', 'keystone')
    assert done.returncode == 1
    assert done.stderr == ('tripleo-upgrade-restore: error: restoring the data of compute-0 failed: the daemon holds '
                           'no item keystone of compute-0 (it holds: nothing). Fix the cause and run the restore '
                           'again\n')
    status = helper_daemon.admin().get(helper_daemon.url + '/v1/nodes/{}/status'.format(NODE)).json()
    assert status['phase'] != 'upgraded'
