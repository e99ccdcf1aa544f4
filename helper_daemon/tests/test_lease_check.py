"""The group lease check (POST /v1/leases/check and `tripleo-upgrade-helper lease check`): what the Ansible
--limit guard asks before it runs, against the daemon as a real process."""

import json

import pytest

from helper_daemon.tests.helpers import helper



@pytest.fixture
def cloud(helper_daemon):
    for name, role, mon in (('ctl-0', 'Controller', True), ('ctl-1', 'Controller', True),
                            ('ctl-2', 'Controller', True), ('cmp-0', 'Compute', False),
                            ('cmp-1', 'Compute', False), ('cmp-2', 'Compute', False)):
        helper_daemon.add_node(name, role, ceph_mon=mon)
    return helper_daemon


def check(daemon, nodes):
    return daemon.admin().post(daemon.url + '/v1/leases/check', json={'nodes': nodes})


def held(daemon):
    return [lease['node'] for lease in daemon.admin().get(daemon.url + '/v1/status').json()['leases']]


def test_two_controllers_the_second_is_refused_and_nothing_is_written(cloud):
    answer = check(cloud, ['ctl-0', 'ctl-1', 'cmp-0'])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body['allowed'] is False
    assert [(n['node'], n['granted']) for n in body['nodes']] == [('ctl-0', True), ('ctl-1', False), ('cmp-0', True)]
    assert [b['rule'] for b in body['nodes'][1]['blockers']] == ['one-by-one', 'min-ceph-mons']
    assert body['reasons'][0].startswith('ctl-1: ctl-0 of one-by-one role Controller already holds a lease')
    assert held(cloud) == []


def test_a_limit_holding_a_whole_role_is_refused(cloud):
    body = check(cloud, ['cmp-0', 'cmp-1', 'cmp-2']).json()
    assert not body['allowed']
    assert [b['rule'] for b in body['nodes'][2]['blockers']] == ['whole-role']


def test_held_leases_count(cloud):
    assert cloud.session(cloud.tokens['cmp-0']).post(cloud.url + '/v1/nodes/cmp-0/lease').status_code == 200
    assert check(cloud, ['cmp-1', 'cmp-2']).json()['allowed'] is False
    body = check(cloud, ['cmp-0', 'ctl-2']).json()
    assert body['allowed'] and body['nodes'][0]['already_held']


def test_unknown_node_is_404_naming_it_and_bad_input_400(cloud):
    unknown = check(cloud, ['cmp-0', 'cmp-9', 'nope'])
    assert unknown.status_code == 404
    assert unknown.json()['detail'] == 'not registered: cmp-9, nope' and unknown.json()['nodes'] == ['cmp-9', 'nope']
    assert check(cloud, []).status_code == 400
    assert check(cloud, ['-bad']).status_code == 400
    assert cloud.session(cloud.tokens['cmp-0']).post(cloud.url + '/v1/leases/check',
                                                      json={'nodes': ['cmp-0']}).status_code == 403


def test_cli_exit_codes_and_the_ansible_limit_form(cloud):
    allowed = helper(cloud, 'lease', 'check', 'ctl-0,cmp-0')
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.splitlines() == ['ctl-0: granted', 'cmp-0: granted',
                                           'allowed: these nodes may be down together now']
    refused = helper(cloud, 'lease', 'check', 'ctl-0', 'ctl-1')
    assert refused.returncode == 1
    assert refused.stdout.splitlines()[1] == 'ctl-1: refused'
    assert refused.stdout.splitlines()[2].startswith('  - ctl-0 of one-by-one role Controller')
    as_json = helper(cloud, 'lease', 'check', 'cmp-0,cmp-1,cmp-2', '--json')
    assert as_json.returncode == 1 and json.loads(as_json.stdout)['allowed'] is False
    unknown = helper(cloud, 'lease', 'check', 'cmp-7')
    assert unknown.returncode == 2 and 'not registered: cmp-7' in unknown.stderr
    unreachable = helper(cloud, 'lease', 'check', 'cmp-0', '--url', 'http://127.0.0.1:9')
    assert unreachable.returncode == 2 and 'cannot reach the daemon' in unreachable.stderr
    assert held(cloud) == []
