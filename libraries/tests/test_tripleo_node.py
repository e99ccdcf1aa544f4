"""Node identity from hieradata files as TripleO writes them under /etc/puppet/hieradata."""
import json

import pytest

from tripleo_upgrade_libraries import tripleo_node

CONTROLLER_SERVICES = ['ceph_mon', 'haproxy', 'mysql', 'neutron_l3', 'pacemaker', 'tripleo_firewall']


@pytest.fixture
def hieradata(tmp_path):
    def write(files):
        for name, content in files.items():
            (tmp_path / name).write_text(content if isinstance(content, str) else json.dumps(content))
        return str(tmp_path)
    return write


def controller_files(**extra):
    files = {
        'service_names.json': {'service_names': CONTROLLER_SERVICES},
        'all_nodes.json': {
            'enabled_services': CONTROLLER_SERVICES,
            'pacemaker_short_node_names': ['controller-0', 'controller-1', 'controller-2'],
            'pacemaker_short_bootstrap_node_name': 'controller-0',
            'mysql_short_node_names': ['controller-0', 'controller-1', 'controller-2'],
            'controller_node_names': 'controller-0,controller-1,controller-2',
        },
        'bootstrap_node.json': {'bootstrap_nodeid': 'controller-0'},
    }
    files.update(extra)
    return files


def test_controller_identity(hieradata):
    result = tripleo_node.identity('controller-1', hieradata(controller_files()))
    assert result == {
        'kind': 'overcloud', 'role': None, 'bootstrap_node': 'controller-0', 'is_bootstrap': False,
        'service_names': CONTROLLER_SERVICES,
        'cluster_nodes': ['controller-0', 'controller-1', 'controller-2'],
        'database_nodes': ['controller-0', 'controller-1', 'controller-2'],
        'reason': None,
    }
    assert tripleo_node.identity('controller-0', hieradata(controller_files()))['is_bootstrap'] is True


def test_role_from_role_extraconfig_and_older_bootstrap_key(hieradata):
    files = controller_files(**{'role_extraconfig.json': {'tripleo_role_name': 'ControllerOpenstack'}})
    del files['all_nodes.json']['pacemaker_short_bootstrap_node_name']
    files['bootstrap_node.json'] = {'bootstrap_nodeid': 'controller-2.localdomain'}
    result = tripleo_node.identity('controller-2', hieradata(files))
    assert (result['role'], result['bootstrap_node'], result['is_bootstrap']) == (
        'ControllerOpenstack', 'controller-2', True)


def test_undercloud(hieradata):
    result = tripleo_node.identity('undercloud-0', hieradata({
        'service_names.json': {'service_names': ['ironic_conductor', 'undercloud_upgrade', 'heat_api']},
        'all_nodes.json': {}}))
    assert result['kind'] == 'undercloud'


def test_missing_hieradata_file_is_unknown_with_the_path(hieradata, tmp_path):
    files = controller_files()
    del files['service_names.json']
    result = tripleo_node.identity('controller-1', hieradata(files))
    assert result['kind'] == 'unknown'
    assert result['reason'] == 'cannot read {}: No such file or directory'.format(tmp_path / 'service_names.json')
    assert result['cluster_nodes'] == ['controller-0', 'controller-1', 'controller-2']


def test_broken_json_names_the_file(hieradata, tmp_path):
    result = tripleo_node.identity('controller-1', hieradata(controller_files(**{'all_nodes.json': '{"mysql'})))
    assert result['reason'].startswith('{} is not valid JSON'.format(tmp_path / 'all_nodes.json'))
    assert result['database_nodes'] == [] and result['bootstrap_node'] == 'controller-0'


def test_no_hieradata_at_all(tmp_path):
    result = tripleo_node.identity('compute-0', str(tmp_path / 'absent'))
    assert (result['kind'], result['service_names'], result['is_bootstrap']) == ('unknown', [], None)
    assert 'service_names.json' in result['reason'] and 'all_nodes.json' in result['reason']
