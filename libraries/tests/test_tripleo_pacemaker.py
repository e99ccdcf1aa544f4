"""Pacemaker's real crm_mon reading CIB files (CIB_file=); data/cib/generate.sh made them with crm_simulate."""
import os
import shutil

import pytest

from tripleo_upgrade_libraries import tripleo_pacemaker

CIB_DIR = os.path.join(os.path.dirname(__file__), 'data', 'cib')

pytestmark = pytest.mark.skipif(shutil.which('crm_mon') is None,
                                reason='crm_mon (pacemaker-cli-utils) is not installed; scripts/test installs it')


def status(node, cib_name):
    return tripleo_pacemaker.cluster_status(node, env={'CIB_file': os.path.join(CIB_DIR, cib_name)})


def test_online_member_with_its_resources_and_bundles():
    result = status('controller-0', 'online.xml')
    assert result == {'membership': 'member', 'node_state': 'online', 'resources': ['ip-192.168.24.10'],
                      'bundles': ['galera-bundle', 'haproxy-bundle'], 'reason': None}
    assert status('controller-1', 'online.xml')['resources'] == []


def test_standby_member_runs_nothing():
    result = status('controller-1', 'standby.xml')
    assert (result['membership'], result['node_state']) == ('member', 'standby')
    assert (result['resources'], result['bundles']) == ([], [])
    assert status('controller-0', 'standby.xml')['node_state'] == 'online'


def test_offline_member():
    result = status('controller-2', 'offline.xml')
    assert (result['membership'], result['node_state'], result['bundles']) == ('member', 'offline', [])


def test_node_outside_the_cluster_is_not_a_member_and_says_which_nodes_are():
    result = status('compute-0', 'online.xml')
    assert result['membership'] == 'not_member'
    assert result['reason'] == ('compute-0 is not a node of this cluster '
                                '(cluster nodes: controller-0, controller-1, controller-2)')


def test_missing_cib_exits_0_but_is_unknown_with_crm_mon_error(tmp_path):
    result = tripleo_pacemaker.cluster_status('controller-0', env={'CIB_file': str(tmp_path / 'absent.xml')})
    assert result['membership'] == 'unknown'
    assert 'Could not connect to the CIB' in result['reason']


def test_crm_mon_absent_is_unknown(tmp_path):
    result = tripleo_pacemaker.cluster_status('controller-0', command=(str(tmp_path / 'crm_mon'), '--output-as=xml'))
    assert result['membership'] == 'unknown'
    assert result['reason'].startswith('cannot run {}'.format(tmp_path / 'crm_mon'))


def test_output_that_is_not_xml_is_unknown_with_what_was_printed():
    result = tripleo_pacemaker.parse_status('<pacemaker-result><nodes>', 'controller-0')
    assert result['membership'] == 'unknown'
    assert "not XML" in result['reason'] and "'<pacemaker-result><nodes>'" in result['reason']


def test_bundle_guest_node_is_not_a_cluster_member():
    assert status('galera-bundle-0', 'online.xml')['membership'] == 'not_member'


def test_cluster_not_running_is_unknown_with_crm_mons_own_words():
    # No CIB_file and no cluster on this machine: the real crm_mon exits 102 with its errors in XML.
    result = tripleo_pacemaker.cluster_status('controller-0')
    assert result['membership'] == 'unknown'
    assert result['reason'].startswith('`crm_mon --output-as=xml` exited with code 102: crm_mon could not read the '
                                       'cluster state: ')
    assert 'Connection refused' in result['reason']
    assert '<pacemaker-result' not in result['reason']
