"""Node status reports with their timeline, and the cleanup that removes all stored data at the end."""

import os
import sqlite3
import subprocess

import pytest

from helper_daemon.tests.helpers import sha256
from testing.daemon import REPO_ROOT

REPORT = {'key': 'tripleo.pacemaker.maintenance', 'title': 'Pacemaker cluster in maintenance mode',
          'summary': 'maintenance-mode=true', 'severity': 'high', 'inhibitor': True,
          'remediation': 'pcs property set maintenance-mode=false'}


def test_status_is_stored_with_its_timeline(helper_daemon):
    token = helper_daemon.add_node('ctl-0', 'Controller')
    session, url = helper_daemon.session(token), helper_daemon.url + '/v1/nodes/ctl-0/status'
    first = session.put(url, json={'phase': 'preupgrade', 'os_release': '8.4', 'leapp_run_id': 'run-1',
                                   'reports': [REPORT], 'error': None})
    assert first.status_code == 200 and first.json()['inhibitors'] == 1
    assert session.put(url, json={'phase': 'failed', 'os_release': '8.4', 'error': 'dnf transaction failed'}
                       ).status_code == 200
    status = session.get(url).json()
    assert (status['phase'], status['os_release'], status['error']) == ('failed', '8.4', 'dnf transaction failed')
    assert [(e['phase'], e['leapp_run_id']) for e in status['timeline']] == [('preupgrade', 'run-1'), ('failed', None)]
    assert status['timeline'][0]['reports'][0]['remediation'] == REPORT['remediation']


def test_a_report_without_os_release_keeps_the_last_known_one(helper_daemon):
    token = helper_daemon.add_node('ctl-0', 'Controller')
    session, url = helper_daemon.session(token), helper_daemon.url + '/v1/nodes/ctl-0/status'
    assert session.put(url, json={'phase': 'upgraded', 'os_release': '9.2', 'leapp_run_id': 'run-1'}).status_code == 200
    answer = session.put(url, json={'phase': 'failed', 'error': 'restore failed early'})
    assert answer.status_code == 200 and answer.json()['os_release'] == '9.2'
    status = session.get(url).json()
    assert (status['phase'], status['os_release'], status['leapp_run_id']) == ('failed', '9.2', 'run-1')
    assert status['timeline'][-1]['os_release'] is None, 'the timeline keeps what was reported'
    node = helper_daemon.admin().get(helper_daemon.url + '/v1/status').json()['nodes'][0]
    assert (node['os_release'], node['os']) == ('9.2', 'new')


@pytest.mark.parametrize('body, where', [
    ({'phase': 'rebooting'}, 'phase'),
    ({'phase': 'prepared', 'os_release': '8.4; DROP TABLE'}, 'os_release'),
    ({'phase': 'prepared', 'reports': [{'severity': 'high'}]}, 'reports.0.title'),
    ({'os_release': '8.4'}, 'phase'),
])
def test_bad_status_is_a_400_naming_the_field_and_changes_nothing(helper_daemon, body, where):
    token = helper_daemon.add_node('ctl-0', 'Controller')
    session, url = helper_daemon.session(token), helper_daemon.url + '/v1/nodes/ctl-0/status'
    response = session.put(url, json=body)
    assert (response.status_code, response.json()['error']) == (400, 'bad request')
    assert where in response.json()['detail']
    assert session.get(url).json()['timeline'] == []


def test_non_json_status_body_is_a_400(helper_daemon):
    token = helper_daemon.add_node('ctl-0', 'Controller')
    response = helper_daemon.session(token).put(helper_daemon.url + '/v1/nodes/ctl-0/status', data=b'{not json')
    assert response.status_code == 400 and set(response.json()) == {'error', 'detail'}


def run_cleanup(daemon, *args):
    return subprocess.run(daemon.command('cleanup', *args), cwd=REPO_ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=60)


def test_cleanup_refuses_while_a_node_has_not_restored_then_forced_removes_all_and_audits(helper_daemon):
    daemon = helper_daemon
    stored = {}
    for node, phase in (('ctl-0', 'completed'), ('ctl-1', 'upgraded'), ('cmp-0', 'prepared')):
        session = daemon.session(daemon.add_node(node, 'Controller' if node.startswith('ctl') else 'Compute'))
        stored[node] = os.urandom(1000) + node.encode()
        assert session.put(daemon.url + '/v1/nodes/{}/data/etc'.format(node), data=stored[node]).status_code == 201
        session.put(daemon.url + '/v1/nodes/{}/status'.format(node), json={'phase': phase})
    daemon.add_node('cmp-1', 'Compute')  # no data, no report: no reason to refuse

    refused = daemon.admin().post(daemon.url + '/v1/cleanup', json={'force': False})
    assert refused.status_code == 409
    assert refused.json()['nodes'] == ['cmp-0']
    assert 'cmp-0' in refused.json()['reasons'][0] and 'prepared' in refused.json()['reasons'][0]
    cli_refused = run_cleanup(daemon)
    assert cli_refused.returncode == 1 and 'node cmp-0' in cli_refused.stderr
    assert daemon.admin().get(daemon.url + '/v1/nodes/cmp-0/data/etc').content == stored['cmp-0']

    forced = run_cleanup(daemon, '--force', '--reason', 'cmp-0 was redeployed')
    assert forced.returncode == 0, forced.stderr
    assert 'cleanup done: 3 item(s) removed' in forced.stdout
    for node in stored:
        assert daemon.admin().get(daemon.url + '/v1/nodes/{}/data'.format(node)).json()['items'] == []
    assert os.listdir(os.path.join(daemon.state_dir, 'nodes')) == []

    db = sqlite3.connect(os.path.join(daemon.state_dir, 'helper.sqlite3'))
    rows = db.execute("SELECT actor, node, item, size, sha256, detail FROM audit WHERE action = 'cleanup-remove' "
                      "ORDER BY node").fetchall()
    db.close()
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows] == [
        ('admin', node, 'etc', len(stored[node]), sha256(stored[node])) for node in sorted(stored)]
    assert all('cmp-0 was redeployed' in r[5] for r in rows)


def test_cleanup_goes_through_when_every_node_restored(helper_daemon):
    token = helper_daemon.add_node('ctl-0', 'Controller')
    session = helper_daemon.session(token)
    session.put(helper_daemon.url + '/v1/nodes/ctl-0/data/etc', data=b'x')
    session.put(helper_daemon.url + '/v1/nodes/ctl-0/status', json={'phase': 'completed'})
    done = helper_daemon.admin().post(helper_daemon.url + '/v1/cleanup')
    assert done.status_code == 200
    assert done.json()['forced'] is False and [r['item'] for r in done.json()['removed']] == ['etc']
