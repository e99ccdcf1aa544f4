"""The report upload actor sends this run's reports to the helper daemon started as a real process."""
import json

from leapp.reporting import Report
from testing.node_config import upgrade_config

INHIBITOR = {'title': 'This node may not be taken down for its upgrade now', 'summary': 'controller-0 holds it',
             'severity': 'high', 'groups': ['upgrade process', 'inhibitor'], 'key': 'tripleo_upgrade.lease.refused',
             'detail': {'remediations': [{'type': 'hint', 'context': 'Wait for controller-0.'}]}}
INFO = {'title': 'Controllers are upgraded one by one', 'summary': 'Corosync 3.1.5', 'severity': 'info',
        'groups': ['upgrade process'], 'key': 'tripleo_upgrade.info.corosync_non_rolling'}


def config(daemon, node, tmp_path):
    return upgrade_config(daemon_url=daemon.url, token_file=daemon.token_file(node), node_name=node,
                          persist_dropin_dir=str(tmp_path / 'persist.d'), request_timeout=5.0)


def test_reports_become_the_node_preupgrade_status(current_actor_context, helper_daemon, tmp_path, monkeypatch):
    monkeypatch.setenv('LEAPP_EXECUTION_ID', 'run-7')
    helper_daemon.add_node('controller-1', 'Controller')
    current_actor_context.feed(config(helper_daemon, 'controller-1', tmp_path), Report(report=INHIBITOR),
                               Report(report=INFO))
    current_actor_context.run()
    fleet = helper_daemon.admin().get(helper_daemon.url + '/v1/status').json()
    [node] = [n for n in fleet['nodes'] if n['name'] == 'controller-1']
    assert (node['phase'], node['leapp_run_id']) == ('preupgrade', 'run-7')
    assert 'tripleo_upgrade.lease.refused' in json.dumps(node['inhibitors'])
    assert 'corosync' not in json.dumps(node['inhibitors'])


def test_unreachable_daemon_does_not_fail_the_run(current_actor_context, helper_daemon, tmp_path):
    helper_daemon.add_node('controller-1', 'Controller')
    node_config = config(helper_daemon, 'controller-1', tmp_path)
    helper_daemon.kill()
    current_actor_context.feed(node_config, Report(report=INHIBITOR))
    current_actor_context.run()
    assert current_actor_context._messaging.errors() == []
