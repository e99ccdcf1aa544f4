"""The safety controls of issue 15 against the daemon as a real process: accepted inhibitors, pause and resume
(by the admin, a failed node, a silent leased node), live ceph-mon quorum, Ceph OSD flags, per-role budgets and
roles kept on the old OS; each through the API and the command line an operator uses."""


import pytest

from helper_daemon.tests.helpers import helper

INHIBITOR = {'key': 'tripleo_nic_names', 'title': 'Network interfaces named ethX', 'inhibitor': True}
OTHER = {'key': 'xfs_ftype', 'title': 'XFS ftype=0', 'inhibitor': True}



@pytest.fixture
def cloud(helper_daemon):
    for name, role, mon in (('ctl-0', 'Controller', True), ('ctl-1', 'Controller', True),
                            ('ctl-2', 'Controller', True), ('cmp-0', 'Compute', False),
                            ('cmp-1', 'Compute', False), ('cmp-2', 'Compute', False), ('cmp-3', 'Compute', False)):
        helper_daemon.add_node(name, role, ceph_mon=mon)
    return helper_daemon


def node(daemon, name):
    return daemon.session(daemon.tokens[name])


def report(daemon, name, **body):
    answer = node(daemon, name).put('{}/v1/nodes/{}/status'.format(daemon.url, name), json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def lease(daemon, name, body=None, dry_run=False):
    return node(daemon, name).post('{}/v1/nodes/{}/lease'.format(daemon.url, name), json=body,
                                   params={'dry_run': 'true'} if dry_run else None)


def status(daemon):
    return daemon.admin().get(daemon.url + '/v1/status').json()


def audit_actions(daemon):
    import sqlite3

    db = sqlite3.connect('{}/helper.sqlite3'.format(daemon.state_dir))
    try:
        return [row[0] for row in db.execute('SELECT action FROM audit ORDER BY id')]
    finally:
        db.close()


# --- accepted inhibitors --------------------------------------------------------------------------------------------


def test_an_accepted_inhibitor_lets_the_lease_through_and_every_other_stops_it(cloud):
    report(cloud, 'cmp-0', phase='preupgrade', os_release='8.4', reports=[INHIBITOR, OTHER])
    refused = lease(cloud, 'cmp-0')
    assert refused.status_code == 409
    [blocker] = refused.json()['blockers']
    assert (blocker['rule'], blocker['nodes']) == ('inhibitors', ['tripleo_nic_names', 'xfs_ftype'])
    admin = cloud.admin()
    by_role = admin.post(cloud.url + '/v1/inhibitors/accepted', json={
        'key': 'tripleo_nic_names', 'scope': 'role', 'target': 'Compute', 'reason': 'renamed by os-net-config'})
    assert by_role.status_code == 201, by_role.text
    assert (by_role.json()['by'], by_role.json()['scope']) == ('admin', 'role')
    still = lease(cloud, 'cmp-0')
    assert still.status_code == 409 and still.json()['blockers'][0]['nodes'] == ['xfs_ftype']
    assert 'XFS ftype=0 [xfs_ftype]' in still.json()['reasons'][0]
    for_node = admin.post(cloud.url + '/v1/inhibitors/accepted', json={
        'key': 'xfs_ftype', 'scope': 'node', 'target': 'cmp-0', 'reason': 'no overlay use on this node'}).json()
    assert lease(cloud, 'cmp-0').status_code == 200

    # What the node (its prepare step) reads: every acceptance that applies to it.
    mine = node(cloud, 'cmp-0').get(cloud.url + '/v1/nodes/cmp-0/accepted-inhibitors').json()
    assert [(a['key'], a['scope'], a['target']) for a in mine['accepted']] == [
        ('tripleo_nic_names', 'role', 'Compute'), ('xfs_ftype', 'node', 'cmp-0')]
    other = node(cloud, 'cmp-1').get(cloud.url + '/v1/nodes/cmp-1/accepted-inhibitors').json()
    assert [a['key'] for a in other['accepted']] == ['tripleo_nic_names']
    assert node(cloud, 'cmp-1').get(cloud.url + '/v1/nodes/cmp-0/accepted-inhibitors').status_code == 403

    # The fleet view separates accepted from unresolved.
    report(cloud, 'cmp-1', phase='preupgrade', os_release='8.4', reports=[INHIBITOR, OTHER])
    fleet = status(cloud)
    nodes = {n['name']: n for n in fleet['nodes']}
    assert [(i['key'], i['accepted']) for i in nodes['cmp-1']['inhibitors']] == [
        ('tripleo_nic_names', True), ('xfs_ftype', False)]
    assert fleet['inhibitors'] == {'unresolved': 1, 'accepted': 3}

    # Revoked: it stops the next lease again.
    assert admin.delete(cloud.url + '/v1/inhibitors/accepted/{}'.format(for_node['id'])).status_code == 204
    assert admin.delete(cloud.url + '/v1/inhibitors/accepted/{}'.format(for_node['id'])).status_code == 404
    assert [a['key'] for a in admin.get(cloud.url + '/v1/inhibitors/accepted').json()['accepted']] == [
        'tripleo_nic_names']
    assert lease(cloud, 'cmp-1').status_code == 409
    assert audit_actions(cloud).count('inhibitor-accept') == 2 and 'inhibitor-revoke' in audit_actions(cloud)


def test_acceptance_input_is_checked(cloud):
    admin = cloud.admin()
    url = cloud.url + '/v1/inhibitors/accepted'
    for body, code in (({'key': 'k', 'scope': 'node', 'target': 'cmp-9', 'reason': 'r'}, 404),
                       ({'key': 'k', 'scope': 'role', 'target': 'Nope', 'reason': 'r'}, 404),
                       ({'key': 'k', 'scope': 'fleet', 'target': 'cmp-0', 'reason': 'r'}, 400),
                       ({'key': 'k', 'scope': 'node', 'reason': 'r'}, 400),
                       ({'key': 'k', 'scope': 'fleet', 'reason': ' '}, 400),
                       ({'key': 'k', 'scope': 'planet', 'reason': 'r'}, 400)):
        answer = admin.post(url, json=body)
        assert answer.status_code == code, (body, answer.text)
    assert admin.get(url).json()['accepted'] == []


def test_inhibitors_commands(cloud):
    missing = helper(cloud, 'inhibitors', 'accept', 'k1', '--reason', 'r')
    assert missing.returncode == 2 and 'exactly one of --node NODE, --role ROLE, --fleet' in missing.stderr
    done = helper(cloud, 'inhibitors', 'accept', 'k1', '--fleet', '--reason', 'known false positive')
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith('accepted #1 k1 for the fleet, by admin at ')
    listed = helper(cloud, 'inhibitors', 'list')
    assert listed.stdout.strip().endswith('known false positive') and listed.stdout.startswith('#1 k1 for the fleet')
    assert helper(cloud, 'inhibitors', 'revoke', '1').returncode == 0
    gone = helper(cloud, 'inhibitors', 'revoke', '1')
    assert gone.returncode == 1 and 'there is no accepted inhibitor #1' in gone.stderr
    assert helper(cloud, 'inhibitors', 'list').stdout.strip() == 'no inhibitor is accepted'


# --- pause and resume -----------------------------------------------------------------------------------------------


def test_admin_pause_stops_new_leases_only_and_resume_lets_them_through(cloud):
    assert lease(cloud, 'cmp-0').status_code == 200
    paused = helper(cloud, 'pause', '--reason', 'storage maintenance')
    assert paused.returncode == 0, paused.stderr
    assert paused.stdout.startswith('PAUSED since ') and '(rule admin): storage maintenance' in paused.stdout
    refused = lease(cloud, 'cmp-1')
    assert refused.status_code == 409
    assert [b['rule'] for b in refused.json()['blockers']] == ['paused']
    assert '(rule admin, by admin): storage maintenance' in refused.json()['reasons'][0]
    # The node already down carries on.
    again = lease(cloud, 'cmp-0')
    assert again.status_code == 200 and again.json()['already_held']
    fleet = status(cloud)
    assert (fleet['paused']['rule'], fleet['paused']['reason'], fleet['paused']['by']) == \
        ('admin', 'storage maintenance', 'admin')
    shown = helper(cloud, 'status')
    assert shown.stdout.splitlines()[0].endswith('by admin (rule admin): storage maintenance')
    # Group checks see the pause too.
    assert check_nodes(cloud, ['cmp-1'])['allowed'] is False
    resumed = helper(cloud, 'resume', '--reason', 'maintenance done')
    assert resumed.returncode == 0 and resumed.stdout.strip() == 'resumed: leases are granted again'
    assert lease(cloud, 'cmp-1').status_code == 200
    assert status(cloud)['paused'] is None
    assert helper(cloud, 'resume', '--reason', 'again').stdout.strip() == 'was not paused; nothing changed'
    assert audit_actions(cloud).count('fleet-pause') == 1 and audit_actions(cloud).count('fleet-resume') == 2
    no_reason = helper(cloud, 'pause', '--reason', ' ')
    assert no_reason.returncode == 2 and '--reason must say why' in no_reason.stderr


def check_nodes(daemon, nodes):
    return daemon.admin().post(daemon.url + '/v1/leases/check', json={'nodes': nodes}).json()


def test_a_failed_node_pauses_the_fleet_naming_it(cloud):
    assert lease(cloud, 'cmp-0').status_code == 200
    answer = report(cloud, 'cmp-0', phase='failed', os_release='8.4', error='leapp upgrade failed\nTraceback ...')
    assert answer['paused_fleet'] is True
    pause = status(cloud)['paused']
    assert (pause['rule'], pause['node'], pause['by']) == ('node-failed', 'cmp-0', 'node:cmp-0')
    assert pause['reason'] == 'cmp-0 reported phase failed: leapp upgrade failed'
    refused = lease(cloud, 'cmp-1')
    assert refused.status_code == 409
    assert '(rule node-failed, node cmp-0, by node:cmp-0)' in refused.json()['reasons'][0]
    # A second failure keeps the first pause (the rule that paused it first).
    assert report(cloud, 'cmp-1', phase='failed', error='x')['paused_fleet'] is False
    assert status(cloud)['paused']['node'] == 'cmp-0'


def test_leapp_result_record_failed_makes_an_upgraded_report_failed(cloud):
    result = {'success': False, 'activity': 'upgrade', 'executed': '2026-11-26T09:00:00Z',
              'source': '/etc/migration-results'}
    answer = report(cloud, 'cmp-2', phase='upgraded', os_release='9.2', leapp_result=result)
    assert (answer['phase'], answer['paused_fleet']) == ('failed', True)
    fleet = status(cloud)
    row = {n['name']: n for n in fleet['nodes']}['cmp-2']
    assert row['phase'] == 'failed' and row['leapp_result'] == result
    assert row['error'].startswith("leapp's result record /etc/migration-results says the upgrade failed")
    ok = report(cloud, 'cmp-3', phase='upgraded', os_release='9.2', leapp_result=dict(result, success=True))
    assert ok['phase'] == 'upgraded'


def test_a_silent_leased_node_pauses_the_fleet(tmp_path):
    from helper_daemon.tests.helpers import wait_until
    from testing.daemon import DaemonProcess

    with DaemonProcess(str(tmp_path / 'state'), config={'silent_node_pause_after': 1}) as daemon:
        for name in ('cmp-0', 'cmp-1', 'cmp-2'):
            daemon.add_node(name, 'Compute')
        assert lease(daemon, 'cmp-0').status_code == 200

        def paused():
            return daemon.admin().get(daemon.url + '/v1/fleet/pause').json()['paused']
        wait_until(lambda: paused() is not None, what='the node-silent pause to be due')
        assert (paused()['rule'], paused()['node']) == ('node-silent', 'cmp-0')
        refused = lease(daemon, 'cmp-1')
        assert refused.status_code == 409 and 'rule node-silent, node cmp-0' in refused.json()['reasons'][0]
        assert 'cmp-0 holds a lease and was silent for' in refused.json()['reasons'][0]
        # Written once it refused a lease: audited.
        assert 'fleet-pause' in audit_actions(daemon)
        assert daemon.admin().post(daemon.url + '/v1/fleet/resume', json={'reason': 'cmp-0 console checked'}
                                   ).json()['changed'] is True


# --- live ceph-mon quorum -------------------------------------------------------------------------------------------


def quorum(inq, outq=(), at=None):
    import datetime

    at = at or datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    return {'ceph_mon_quorum': {'in': list(inq), 'out': list(outq), 'observed_at': at}}


def test_a_monitor_out_of_quorum_does_not_count(cloud):
    # ctl-1 sees ctl-2 out of quorum (its dry run records that too): neither ctl-1 nor ctl-0 may go (one live
    # monitor would stay), naming ctl-2 and why.
    body = quorum(['ctl-0.localdomain', 'ctl-1'], ['ctl-2'])
    dry = lease(cloud, 'ctl-1', body, dry_run=True)
    assert dry.status_code == 409 and dry.json()['blockers'][0]['rule'] == 'live-quorum'
    refused = lease(cloud, 'ctl-0')
    assert refused.status_code == 409
    [blocker] = refused.json()['blockers']
    assert (blocker['rule'], blocker['nodes']) == ('live-quorum', ['ctl-2'])
    assert 'ctl-2: out of quorum per ctl-1 at ' in refused.json()['reasons'][0]
    mon = status(cloud)['ceph_mon']
    assert mon['not_live'].keys() == {'ctl-2'} and mon['live'] == ['ctl-0', 'ctl-1']
    # The monitor out of quorum may itself go down: no live monitor is lost.
    assert lease(cloud, 'ctl-2').status_code == 200
    # Back in quorum, as its peer reports with its own status.
    report(cloud, 'ctl-0', phase='preupgrade', **quorum(['ctl-0', 'ctl-1', 'ctl-2']))
    assert status(cloud)['ceph_mon']['not_live'] == {}


def test_stale_quorum_facts_do_not_count(tmp_path):
    from testing.daemon import DaemonProcess

    with DaemonProcess(str(tmp_path / 'state'), config={'ceph_mon_facts_max_age': 600}) as daemon:
        for name in ('ctl-0', 'ctl-1', 'ctl-2'):
            daemon.add_node(name, 'Controller', ceph_mon=True)
        old = quorum(['ctl-0', 'ctl-1', 'ctl-2'], at='2026-01-01T00:00:00Z')
        refused = lease(daemon, 'ctl-0', old)
        assert refused.status_code == 409
        assert refused.json()['blockers'][0]['rule'] == 'live-quorum'
        assert 'its quorum facts are older than 10 min 0 s (last from ctl-0 at 2026-01-01T00:00:00' \
            in refused.json()['reasons'][0]
        assert lease(daemon, 'ctl-0', quorum(['ctl-0', 'ctl-1', 'ctl-2'])).status_code == 200


# --- Ceph OSD flags -------------------------------------------------------------------------------------------------

FLAGS = ['noout', 'norecover', 'nobackfill', 'norebalance', 'nodeep-scrub']


def flags_url(daemon, name, tail=''):
    return '{}/v1/nodes/{}/ceph-osd-flags{}'.format(daemon.url, name, tail)


def test_osd_flags_are_held_cleared_by_the_last_node_back_and_never_left_silently(cloud):
    cmp0, cmp1 = node(cloud, 'cmp-0'), node(cloud, 'cmp-1')
    held = cmp0.put(flags_url(cloud, 'cmp-0'), json={'flags': FLAGS})
    assert held.status_code == 200, held.text
    assert held.json()['holders'] == {flag: ['cmp-0'] for flag in FLAGS}
    both = cmp1.put(flags_url(cloud, 'cmp-1'), json={'flags': ['noout']}).json()
    assert both['holders']['noout'] == ['cmp-0', 'cmp-1']

    # cmp-0 back first: noout still held by cmp-1, the rest are cmp-0's to clear.
    back = cmp0.delete(flags_url(cloud, 'cmp-0')).json()
    assert back == {'node': 'cmp-0', 'clear': sorted(set(FLAGS) - {'noout'}), 'still_held': {'noout': ['cmp-1']}}
    rows = status(cloud)['ceph_osd_flags']
    assert {(r['flag'], r['node'], r['state']) for r in rows} == {('noout', 'cmp-1', 'held')} | {
        (f, 'cmp-0', 'clearing') for f in FLAGS if f != 'noout'}
    text = helper(cloud, 'status').stdout
    assert 'Ceph OSD flags set by the upgrade: nobackfill being cleared by cmp-0 since' in text
    # While cmp-0 clears norecover, another node may not take it (it would be unset under it).
    busy = cmp1.put(flags_url(cloud, 'cmp-1'), json={'flags': ['norecover']})
    assert busy.status_code == 409 and 'norecover is being cleared by cmp-0' in busy.json()['reasons'][0]
    # The DELETE again (a retry) answers the pending clear again; cleared ends it.
    assert cmp0.delete(flags_url(cloud, 'cmp-0')).json()['clear'] == back['clear']
    assert cmp0.post(flags_url(cloud, 'cmp-0', '/cleared'), json={'flags': back['clear']}).status_code == 204
    assert cmp0.delete(flags_url(cloud, 'cmp-0')).json() == {'node': 'cmp-0', 'clear': [], 'still_held': {}}
    assert cmp1.put(flags_url(cloud, 'cmp-1'), json={'flags': ['norecover']}).status_code == 200

    # cmp-1 dies holding its flags: the admin forgets them, audited.
    forgot = cloud.admin().post(cloud.url + '/v1/ceph-osd-flags/forget',
                                json={'flags': ['noout', 'norecover'], 'reason': 'cmp-1 replaced'})
    assert forgot.status_code == 200 and {r['node'] for r in forgot.json()['forgotten']} == {'cmp-1'}
    assert status(cloud)['ceph_osd_flags'] == []
    assert 'osd-flags-forget' in audit_actions(cloud)
    assert cmp0.put(flags_url(cloud, 'cmp-0'), json={'flags': ['nodown']}).status_code == 400


# --- budgets and roles kept on the old OS ---------------------------------------------------------------------------


def test_role_budget_from_the_admin_is_shown_and_enforced(cloud):
    assert helper(cloud, 'roles', 'budget', 'Compute', '50%').returncode == 0
    roles = {r['role']: r for r in status(cloud)['roles']}
    assert (roles['Compute']['budget'], roles['Compute']['budget_source'], roles['Compute']['allowed_down']) == \
        ('50%', 'admin', 2)
    assert (roles['Controller']['budget'], roles['Controller']['allowed_down']) == (1, 1)
    assert lease(cloud, 'cmp-0').status_code == 200 and lease(cloud, 'cmp-1').status_code == 200
    refused = lease(cloud, 'cmp-2')
    assert refused.status_code == 409 and refused.json()['blockers'][0]['rule'] == 'budget'
    assert 'the budget of role Compute (50% of 4 nodes = 2 down at once, from admin)' in refused.json()['reasons'][0]
    listed = helper(cloud, 'roles', 'list')
    assert listed.stdout.splitlines()[1].split()[:7] == ['Compute', '4', '50%', '=', '2', 'admin', '2']
    bad = helper(cloud, 'roles', 'budget', 'Compute', '0')
    assert bad.returncode == 2 and 'a budget is at least 1 node' in bad.stderr
    assert cloud.admin().put(cloud.url + '/v1/roles/Nope/budget', json={'budget': 1}).status_code == 404
    assert helper(cloud, 'roles', 'budget', 'Compute', 'default').returncode == 0
    assert lease(cloud, 'cmp-2').status_code == 200


def test_a_role_kept_on_the_old_os_is_intended_not_pending(cloud):
    for name in ('cmp-0', 'cmp-1'):
        assert node(cloud, name).put('{}/v1/nodes/{}/data/nova'.format(cloud.url, name), data=b'x').status_code == 201
    refused = cloud.admin().post(cloud.url + '/v1/cleanup', json={})
    assert refused.status_code == 409 and refused.json()['nodes'] == ['cmp-0', 'cmp-1']
    kept = helper(cloud, 'roles', 'keep-old-os', 'Compute', '--reason', 'hardware not certified for RHEL 9')
    assert kept.returncode == 0, kept.stderr
    fleet = status(cloud)
    compute = {r['role']: r for r in fleet['roles']}['Compute']
    assert compute['keep_old_os']['reason'] == 'hardware not certified for RHEL 9'
    assert all(n['kept_on_old_os'] for n in fleet['nodes'] if n['role'] == 'Compute')
    assert 'kept on old OS (intended)' in helper(cloud, 'status').stdout
    plans = cloud.admin().get(cloud.url + '/v1/transfer/plan').json()['plans']
    assert [p['role'] for p in plans] == ['Controller']
    named = cloud.admin().get(cloud.url + '/v1/transfer/plan', params={'role': 'Compute'}).json()['plans'][0]
    assert not named['valid'] and 'role Compute stays on the old OS (hardware not certified' in named['reasons'][0]
    opened = cloud.admin().post(cloud.url + '/v1/transfers', json={'role': 'Compute', 'items': ['nova']})
    assert opened.status_code == 409
    # Cleanup no longer waits for the kept nodes' data.
    done = cloud.admin().post(cloud.url + '/v1/cleanup', json={})
    assert done.status_code == 200 and done.json()['forced'] is False
    undo = helper(cloud, 'roles', 'keep-old-os', 'Compute', '--undo')
    assert undo.returncode == 0 and status(cloud)['roles'][0]['keep_old_os'] is None
