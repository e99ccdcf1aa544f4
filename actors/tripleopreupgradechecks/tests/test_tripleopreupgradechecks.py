"""The pre-upgrade checks actor against the helper daemon started as a real process."""
import pytest

from leapp.libraries.common import tripleo_transfer
from leapp.models import (TripleoCephFacts, TripleoCephQuorum, TripleoNodeFacts, TripleoNodeIdentity,
                          TripleoPackageFacts, TripleoPacemakerFacts, TripleoUnitFacts)
from leapp.reporting import Report
from leapp.utils.report import is_inhibitor
from testing.node_config import upgrade_config


def controller_facts(node, **parts):
    facts = dict(
        identity=TripleoNodeIdentity(kind='overcloud', service_names=['pacemaker'],
                                     database_nodes=['controller-0', 'controller-1', 'controller-2']),
        units=TripleoUnitFacts(known=True),
        pacemaker=TripleoPacemakerFacts(membership='member', node_state='online'),
        ceph=TripleoCephFacts(hosts_mon=True),
        packages=TripleoPackageFacts(known=True, pacemaker='2.1.2-4.el8', corosync='3.1.5-2.el8'))
    facts.update(parts)
    return TripleoNodeFacts(node_name=node, **facts)


@pytest.fixture
def controllers(helper_daemon, tmp_path, monkeypatch):
    monkeypatch.setattr(tripleo_transfer, 'FLAG_DIR', str(tmp_path / 'transfer-flags'))
    for name in ('controller-0', 'controller-1', 'controller-2'):
        helper_daemon.add_node(name, 'Controller', ceph_mon=True, one_by_one=True)
    return helper_daemon


def config(daemon, node, tmp_path):
    return upgrade_config(daemon_url=daemon.url, token_file=daemon.token_file(node), node_name=node,
                          persist_dropin_dir=str(tmp_path / 'persist.d'), request_timeout=10.0)


def reports(context):
    return dict((r.report['key'], r.report) for r in context.consume(Report))


def test_second_controller_is_inhibited_while_the_first_holds_the_lease(current_actor_context, controllers,
                                                                        tmp_path):
    controllers.admin().post(controllers.url + '/v1/nodes/controller-0/lease').raise_for_status()
    current_actor_context.feed(config(controllers, 'controller-1', tmp_path), controller_facts('controller-1'))
    current_actor_context.run()
    found = reports(current_actor_context)
    refused = found['tripleo_upgrade.lease.refused']
    assert is_inhibitor(refused)
    assert 'controller-0 of one-by-one role Controller already holds a lease' in refused['summary']
    assert not is_inhibitor(found['tripleo_upgrade.info.corosync_non_rolling'])


def test_free_controller_gets_only_informational_reports(current_actor_context, controllers, tmp_path):
    current_actor_context.feed(config(controllers, 'controller-1', tmp_path), controller_facts('controller-1'))
    current_actor_context.run()
    found = reports(current_actor_context)
    assert [key for key, report in found.items() if is_inhibitor(report)] == []
    assert 'tripleo_upgrade.info.corosync_non_rolling' in found


def test_transfer_flag_is_an_inhibitor(current_actor_context, controllers, tmp_path):
    flags = tmp_path / 'transfer-flags'
    flags.mkdir()
    (flags / 'var-lib-mysql').write_text('sealed\n')
    current_actor_context.feed(config(controllers, 'controller-1', tmp_path), controller_facts('controller-1'))
    current_actor_context.run()
    assert is_inhibitor(reports(current_actor_context)['tripleo_upgrade.transfer_flag'])


def test_unknown_facts_are_one_low_report_that_does_not_inhibit(current_actor_context, controllers, tmp_path):
    facts = controller_facts(
        'controller-1', units=TripleoUnitFacts(known=False, reason='cannot reach systemd on the system bus: no socket'),
        ceph=TripleoCephFacts(hosts_mon=True, container='ceph-mon-controller-1', quorum=TripleoCephQuorum(
            known=False, reason='`podman exec ceph-mon-controller-1 ceph quorum_status -f json` did not answer')))
    current_actor_context.feed(config(controllers, 'controller-1', tmp_path), facts)
    current_actor_context.run()
    found = reports(current_actor_context)
    unknown = found['tripleo_upgrade.facts.unknown']
    assert not is_inhibitor(unknown)
    assert unknown['severity'] == 'low'
    assert 'TripleO systemd units (cannot reach systemd on the system bus: no socket)' in unknown['summary']
    assert 'ceph-mon quorum (`podman exec ceph-mon-controller-1 ceph quorum_status -f json` did not answer)' in \
        unknown['summary']
    assert 'Pacemaker' not in unknown['summary']


def test_known_facts_give_no_unknown_facts_report(current_actor_context, controllers, tmp_path):
    current_actor_context.feed(config(controllers, 'controller-1', tmp_path), controller_facts('controller-1'))
    current_actor_context.run()
    assert 'tripleo_upgrade.facts.unknown' not in reports(current_actor_context)


def test_no_configuration_no_checks(current_actor_context):
    current_actor_context.run()
    assert not current_actor_context.consume(Report)


def test_an_accepted_inhibitor_is_reported_without_inhibiting(current_actor_context, controllers, tmp_path):
    flags = tmp_path / 'transfer-flags'
    flags.mkdir()
    (flags / 'var-lib-mysql').write_text('sealed\n')
    accepted = controllers.admin().post(controllers.url + '/v1/inhibitors/accepted', json={
        'key': 'tripleo_upgrade.transfer_flag', 'scope': 'role', 'target': 'Controller',
        'reason': 'the controllers are rebuilt, their databases are not used'})
    assert accepted.status_code == 201, accepted.text
    current_actor_context.feed(config(controllers, 'controller-1', tmp_path), controller_facts('controller-1'))
    current_actor_context.run()
    report = reports(current_actor_context)['tripleo_upgrade.transfer_flag']
    assert not is_inhibitor(report)
    assert report['title'].startswith('Accepted inhibitor: ')
    assert 'accepted for its role Controller by admin' in report['summary']
    assert report['summary'].endswith('the controllers are rebuilt, their databases are not used')
