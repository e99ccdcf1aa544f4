"""This node's pre-upgrade report sent to the helper daemon (a real process) as its preupgrade status."""
from tripleo_upgrade_libraries import tripleo_status_report
from tripleo_upgrade_libraries.tripleo_helper_client import HelperClient

LEAPP_REPORTS = [
    {'title': 'Corosync changes', 'summary': 'Corosync 3.1.5', 'severity': 'info', 'groups': ['upgrade process'],
     'key': 'tripleo_upgrade.info.corosync_non_rolling',
     'detail': {'remediations': [{'type': 'hint', 'context': 'Upgrade one controller at a time.'}]}},
    {'title': 'Lease refused', 'summary': 'controller-0 holds the lease', 'severity': 'high',
     'groups': ['upgrade process', 'inhibitor'], 'key': 'tripleo_upgrade.lease.refused',
     'detail': {'remediations': [{'type': 'hint', 'context': 'Wait.'},
                                 {'type': 'command', 'context': ['tripleo-upgrade-helper', 'status']}]}},
]


def test_entries_carry_inhibitor_flag_and_remediation_inhibitors_first():
    lease, corosync = tripleo_status_report.status_entries(LEAPP_REPORTS)
    assert lease == {'key': 'tripleo_upgrade.lease.refused', 'title': 'Lease refused',
                     'summary': 'controller-0 holds the lease', 'severity': 'high', 'inhibitor': True,
                     'remediation': 'Wait. Run: tripleo-upgrade-helper status'}
    assert corosync['inhibitor'] is False
    assert tripleo_status_report.status_entries([{'title': 'old leapp', 'flags': ['inhibitor']}])[0]['inhibitor']


def test_preupgrade_status_reaches_the_fleet_view(helper_daemon, tmp_path):
    token = helper_daemon.add_node('controller-1', 'Controller')
    os_release = tmp_path / 'os-release'
    os_release.write_text('NAME="Red Hat Enterprise Linux"\nVERSION_ID="8.4"\n')
    entries = tripleo_status_report.status_entries(LEAPP_REPORTS)
    client = HelperClient(helper_daemon.url, token, timeout=10)
    assert tripleo_status_report.send_preupgrade(client, 'controller-1', entries, leapp_run_id='run-1',
                                                 os_release_path=str(os_release)) is None
    fleet = helper_daemon.admin().get(helper_daemon.url + '/v1/status').json()
    [node] = [n for n in fleet['nodes'] if n['name'] == 'controller-1']
    assert (node['phase'], node['os_release'], node['leapp_run_id']) == ('preupgrade', '8.4', 'run-1')
    assert 'tripleo_upgrade.lease.refused' in str(node['inhibitors'])
    assert 'corosync' not in str(node['inhibitors'])


def test_unreachable_daemon_gives_a_sentence_not_an_exception(helper_daemon):
    token = helper_daemon.add_node('controller-1', 'Controller')
    helper_daemon.kill()
    client = HelperClient(helper_daemon.url, token, timeout=5, retries=0)
    message = tripleo_status_report.send_preupgrade(client, 'controller-1', [])
    assert message.startswith('the pre-upgrade report of controller-1 was not sent to the helper daemon: PUT ')
    # Refused, or reset by whatever took the freed port meanwhile (other test runs on this machine): no answer.
    assert 'unreachable' in message or 'the connection to the daemon failed' in message


def test_the_report_carries_the_quorum_this_node_sees_and_the_daemon_counts_it(helper_daemon, ceph_cluster):
    for name in ('controller-0', 'controller-1', 'controller-2'):
        helper_daemon.add_node(name, 'Controller', ceph_mon=True, one_by_one=True)
    ceph_cluster.set_quorum(['controller-0', 'controller-1'])
    client = HelperClient(helper_daemon.url, helper_daemon.tokens['controller-1'], timeout=10)
    assert tripleo_status_report.send_preupgrade(client, 'controller-1', [],
                                                 ceph_command=ceph_cluster.command) is None
    assert ceph_cluster.calls() == ['quorum_status -f json']
    # controller-0 asks without facts of its own: controller-1's report is what keeps controller-2 from counting.
    refused = helper_daemon.admin().post(helper_daemon.url + '/v1/nodes/controller-0/lease', params={'dry_run': 'true'})
    assert refused.status_code == 409
    assert 'controller-2: out of quorum per controller-1 at ' in ' '.join(refused.json()['reasons'])
