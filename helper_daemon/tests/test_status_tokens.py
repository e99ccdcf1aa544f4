"""Status reports recognise a node's token from memory (auth.NodeWrite): a token rotated or a node removed, by the
daemon's API or by the CLI on the state dir, is refused at the next report all the same; and each report is one
log line that says what was reported."""

import json
import os
import re
import sqlite3

from helper_daemon.tests.helpers import helper

URL = '/v1/nodes/{}/status'


def report(daemon, node, token, phase='preupgrade'):
    return daemon.session(token).put(daemon.url + URL.format(node), json={'phase': phase, 'os_release': '8.4'})


def timeline(daemon, node):
    return [e['phase'] for e in daemon.admin().get(daemon.url + URL.format(node)).json()['timeline']]


def test_a_token_rotated_through_the_api_is_refused_at_the_next_report(helper_daemon):
    old = helper_daemon.add_node('ctl-0', 'Controller')
    assert report(helper_daemon, 'ctl-0', old).status_code == 200  # the daemon now knows this token
    new = helper_daemon.add_node('ctl-0', 'Controller')  # rotate_token: True
    refused = report(helper_daemon, 'ctl-0', old, 'failed')
    assert (refused.status_code, refused.json()['error']) == (401, 'unauthorized')
    assert refused.headers['WWW-Authenticate'] == 'Bearer'
    assert timeline(helper_daemon, 'ctl-0') == ['preupgrade'], 'the refused report left nothing behind'
    assert report(helper_daemon, 'ctl-0', new, 'prepared').status_code == 200
    assert report(helper_daemon, 'ctl-0', old).status_code == 401, 'the old token stays refused'
    assert timeline(helper_daemon, 'ctl-0') == ['preupgrade', 'prepared']


def test_a_token_rotated_by_the_cli_on_the_state_dir_is_refused_at_the_next_report(helper_daemon, tmp_path):
    old = helper_daemon.add_node('cmp-0', 'Compute')
    assert report(helper_daemon, 'cmp-0', old).status_code == 200
    # Another process (the CLI) changes the registry in SQLite while the daemon runs.
    done = helper(helper_daemon, 'nodes', 'add', 'cmp-0', '--role', 'Compute', '--rotate-token',
                  '--token-dir', str(tmp_path / 'tokens'))
    assert done.returncode == 0, done.stderr
    new = (tmp_path / 'tokens' / 'cmp-0.token').read_text().strip()
    assert report(helper_daemon, 'cmp-0', old, 'failed').status_code == 401
    assert report(helper_daemon, 'cmp-0', new, 'prepared').status_code == 200
    assert timeline(helper_daemon, 'cmp-0') == ['preupgrade', 'prepared']


def test_a_removed_node_is_refused_at_the_next_report(helper_daemon):
    token = helper_daemon.add_node('cmp-1', 'Compute')
    assert report(helper_daemon, 'cmp-1', token).status_code == 200
    # No command removes a node; an operator's repair of the registry in SQLite stands in for one.
    db = sqlite3.connect(os.path.join(helper_daemon.state_dir, 'helper.sqlite3'))
    with db:
        db.execute("DELETE FROM nodes WHERE name = 'cmp-1'")
        db.execute("DELETE FROM node_events WHERE node = 'cmp-1'")
    db.close()
    assert report(helper_daemon, 'cmp-1', token, 'failed').status_code == 401
    by_admin = report(helper_daemon, 'cmp-1', helper_daemon.admin_token)
    assert (by_admin.status_code, by_admin.json()['error']) == (404, 'unknown node')
    fleet = helper_daemon.admin().get(helper_daemon.url + '/v1/status').json()['nodes']
    assert 'cmp-1' not in [n['name'] for n in fleet]


def test_a_known_token_still_reaches_no_other_node(helper_daemon):
    mine, other = helper_daemon.add_node('ctl-0', 'Controller'), helper_daemon.add_node('ctl-1', 'Controller')
    assert report(helper_daemon, 'ctl-0', mine).status_code == 200
    refused = report(helper_daemon, 'ctl-1', mine, 'failed')
    assert (refused.status_code, refused.json()['error']) == (403, 'forbidden')
    assert "'ctl-0' reaches only that node" in refused.json()['detail']
    assert report(helper_daemon, 'ctl-1', other).status_code == 200
    assert timeline(helper_daemon, 'ctl-1') == ['preupgrade']


def test_the_admin_reports_for_a_registered_node_only(helper_daemon):
    helper_daemon.add_node('ctl-0', 'Controller')
    assert report(helper_daemon, 'ctl-0', helper_daemon.admin_token, 'prepared').status_code == 200
    unknown = report(helper_daemon, 'ctl-9', helper_daemon.admin_token)
    assert (unknown.status_code, unknown.json()['error']) == (404, 'unknown node')
    assert "see 'tripleo-upgrade-helper nodes add'" in unknown.json()['detail']
    assert timeline(helper_daemon, 'ctl-0') == ['prepared']


def log_lines(daemon, path):
    lines = [json.loads(line) for line in daemon.log().splitlines() if line.startswith('{')]
    return [line for line in lines if line.get('path') == path]


def test_each_status_report_is_one_log_line_saying_what_was_reported(helper_daemon):
    token = helper_daemon.add_node('ctl-0', 'Controller')
    path = URL.format('ctl-0')
    body = {'phase': 'preupgrade', 'os_release': '8.4', 'reports': [
        {'key': 'k1', 'title': 'an inhibitor', 'summary': '', 'severity': 'high', 'inhibitor': True},
        {'key': 'k2', 'title': 'a finding', 'summary': '', 'severity': 'low', 'inhibitor': False}]}
    assert helper_daemon.session(token).put(helper_daemon.url + path, json=body).status_code == 200
    assert report(helper_daemon, 'ctl-0', helper_daemon.admin_token, 'prepared').status_code == 200
    assert report(helper_daemon, 'ctl-0', 'wrong-token').status_code == 401
    lines = log_lines(helper_daemon, path)
    assert [(line['msg'], line['method'], line['status']) for line in lines] == [
        ('node status', 'PUT', 200), ('node status', 'PUT', 200), ('request', 'PUT', 401)]
    first, by_admin, refused = lines
    assert {k: first[k] for k in ('node', 'actor', 'phase', 'os_release', 'reports', 'inhibitors')} == {
        'node': 'ctl-0', 'actor': 'node:ctl-0', 'phase': 'preupgrade', 'os_release': '8.4', 'reports': 2,
        'inhibitors': 1}
    assert (by_admin['actor'], by_admin['phase']) == ('admin', 'prepared')
    assert first['client'] == '127.0.0.1' and isinstance(first['ms'], (int, float))
    assert re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$', first['ts'])
    assert 'phase' not in refused, 'a refused report says nothing of what it claimed'
    assert not [line for line in helper_daemon.log().splitlines() if '"msg": "node status"' in line
                and '"path"' not in line], 'no second line per report'
