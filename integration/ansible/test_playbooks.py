"""The collection's playbooks run for real: ansible-core from PyPI drives test hosts behind sshd (RHEL 8's Python
3.6 as their interpreter) against the helper daemon as a process; leapp, the reboot and the openstack CLI are
stand-ins that speak their real command lines (integration/ansible/standins/)."""
import json
import os

PLAY_FAILED = 2  # ansible-playbook's exit status when a host failed


def ok(done):
    assert done.returncode == 0, done.stdout[-6000:]
    return done.stdout


def has(out, *expected):
    """Each text is in the playbook's output; else the failure shows the output's end."""
    for text in expected:
        assert text in out, (text, out[-8000:])
    return out


def failed(done, *expected):
    assert done.returncode != 0, done.stdout[-6000:]
    for text in expected:
        assert text in done.stdout, (text, done.stdout[-6000:])
    return done.stdout


def test_a_step_without_limit_is_refused_before_anything_runs(fleet):
    fleet.register()
    out = failed(fleet.play('system_upgrade_prepare'), 'Refusing to run a system upgrade step without --limit')
    assert 'leapp' not in out.split('Refusing', 1)[1]
    assert all(node['phase'] is None and node['lease'] is None for node in fleet.status().values())


def test_nothing_runs_without_its_tag(fleet):
    fleet.register()
    # The whole workflow in one playbook: every play is tagged `never`, so without --tags nothing is done.
    out = ok(fleet.play('system_upgrade', 'compute-0', '--skip-tags', 'nothing'))
    assert 'skipping: no hosts matched' not in out and 'TASK [' not in out


def test_a_limit_holding_a_whole_role_is_refused(fleet):
    fleet.register()
    out = failed(fleet.play('system_upgrade_prepare', 'compute-0,compute-1,compute-2,database-0'),
                 'it holds every node of role Compute (compute-0, compute-1, compute-2)')
    assert 'TASK [tripleo.system_upgrade.leapp_upgrade' not in out
    assert fleet.nova_services()['compute-0.localdomain']['Status'] == 'enabled'


def test_two_controllers_are_refused_by_the_daemon_with_its_reason(fleet):
    fleet.register()
    out = failed(fleet.play('system_upgrade_prepare', 'controller-0,controller-1'),
                 'The helper daemon refuses --limit controller-0,controller-1')
    assert 'one-by-one role Controller' in out
    assert 'TASK [tripleo.system_upgrade.leapp_upgrade' not in out
    assert all(node['lease'] is None for node in fleet.status().values())


DATASET = ("CREATE DATABASE nova; USE nova; CREATE TABLE instances (id INT PRIMARY KEY, name VARCHAR(64)); "
           "INSERT INTO instances VALUES (1, 'vm-a'), (2, 'vm-b'), (3, 'vm-c');")


def test_the_steps_across_the_fleet_with_failing_nodes_and_the_database_transfer(fleet, tmp_path):
    from testing.mariadb import MariaDBServer
    fleet.start('database-0', 'database-1', 'compute-0', 'compute-1', 'compute-2').register()
    db0, db1, c0, c1 = (fleet.hosts[n] for n in ('database-0', 'database-1', 'compute-0', 'compute-1'))
    # database-0's database, as the old OS leaves it: its server stopped (tripleo_mysql's job) before the push.
    source = MariaDBServer(tmp_path / 'mariadb-database-0')
    source.datadir = db0.path('/var/lib/tripleo/mysql')
    source.install().start().sql(DATASET)
    expected = source.fingerprint('nova')
    source.stop()
    for host in (c0, c1):
        nova = host.path('/var/lib/tripleo/nova')
        os.makedirs(nova)
        open(nova + '/instance-1.xml', 'w').write('<domain>{}</domain>'.format(host.name))

    # --- pre-upgrade: installs the repository, configuration and token; a node with an inhibitor fails alone ----
    inhibitor = {'key': 'checkmemory.inhibitor', 'title': 'Minimum memory requirements for RHEL 9 are not met',
                 'summary': 'Memory detected: 1 GiB, required: 1.5 GiB', 'severity': 'high', 'inhibitor': True,
                 'remediation': 'Add memory to the node.'}
    with open(fleet.hosts['compute-2'].path('/etc/leapp/standin-inhibitors.json'), 'w') as stream:
        json.dump([inhibitor], stream)
    failed(fleet.play('system_upgrade_preupgrade', 'database-0,compute-2'),
           'compute-2 (phase preupgrade at the helper daemon) has 1 inhibitor(s) not accepted',
           '[checkmemory.inhibitor] Minimum memory requirements for RHEL 9 are not met -- Add memory to the node.',
           'database-0: no inhibitor left at the helper daemon')
    report = json.loads(fleet.hosts['compute-2'].read('/var/log/leapp/leapp-report.json'))
    assert [(e['key'], e['groups']) for e in report['entries']] == [('checkmemory.inhibitor', ['inhibitor'])]
    status = fleet.status()
    assert [i['key'] for i in status['compute-2']['inhibitors']] == ['checkmemory.inhibitor']
    assert status['database-0']['inhibitors'] == []
    # The admin accepts it for compute-2 (the daemon records who and why): the step passes there.
    ok(fleet.helper('inhibitors', 'accept', 'checkmemory.inhibitor', '--node', 'compute-2', '--reason', 'lab node'))
    has(ok(fleet.play('system_upgrade_preupgrade', 'compute-2')),
        'compute-2: no inhibitor left at the helper daemon (1 accepted)')
    out = ok(fleet.play('system_upgrade_preupgrade', 'database-1,compute-0,compute-1'))
    has(out, 'compute-1: no inhibitor left at the helper daemon')
    assert 'token_file: /etc/tripleo-upgrade/node-token' in db1.read('/etc/leapp/actor_conf.d/tripleo_upgrade.yaml')
    assert db1.read('/etc/tripleo-upgrade/node-token').strip() == open(
        fleet.tokens + '/database-1.token').read().strip()
    status = fleet.status()
    assert [status[n]['phase'] for n in ('database-0', 'database-1', 'compute-0')] == ['preupgrade'] * 3
    assert status['database-0']['os_release'] == '8.4'

    # --- prepare: compute-1's leapp fails after our preparation; it alone is stopped and put back ------------
    open(c1.path('/etc/leapp/standin-fail-upgrade'), 'w').close()
    out = failed(fleet.play('system_upgrade_prepare', 'database-1,compute-0,compute-1'),
                 'leapp upgrade failed on compute-1', 'Actor add_upgrade_boot_entry unexpectedly terminated')
    has(out, 'compute-0: prepared on OS 8.4', 'database-1: prepared on OS 8.4')
    status = fleet.status()
    assert (status['compute-0']['phase'], status['database-1']['phase']) == ('prepared', 'prepared')
    assert status['compute-0']['lease'] and status['database-1']['lease']
    assert status['compute-1']['phase'] == 'failed' and status['compute-1']['lease'] is None
    paused = json.loads(fleet.helper('status', '--json').stdout)['paused']  # the daemon's own safety
    assert (paused['rule'], paused['node']) == ('node-failed', 'compute-1')
    assert {u['active_state'] for u in c1.units().values()} == {'active'}  # tripleo-upgrade-abort started them
    assert {u['active_state'] for u in c0.units().values()} == {'inactive'}
    assert [i['item'] for i in status['compute-0']['items']] == ['nova-state']
    nova = fleet.nova_services()
    assert nova['compute-0.localdomain']['Status'] == 'disabled'
    assert nova['compute-1.localdomain']['history'] == ['disable', 'enable']
    assert nova['compute-2.localdomain']['Status'] == 'enabled'

    # --- run: the reboot into the upgrade; FirstBoot restores and reports upgraded on the new OS --------------
    out = ok(fleet.play('system_upgrade_run', 'database-1,compute-0'))
    has(out, 'compute-0: upgraded on OS 9.2 (new) at the helper daemon')
    assert 'VERSION_ID="9.2"' in c0.read('/etc/os-release') and 'VERSION_ID="8.4"' in c1.read('/etc/os-release')
    assert {u['unit_file_state'] for u in c0.units().values()} == {'enabled'}

    # --- transfer_data: the Database role's datadir from database-0 (old OS) to database-1 (new OS) -----------
    out = ok(fleet.play('system_upgrade_transfer_data', 'database-1'))
    has(out, 'Database: from database-0 to database-1', 'sealed')
    target = MariaDBServer(tmp_path / 'mariadb-database-1')
    target.datadir = db1.path('/var/lib/tripleo/mysql')
    try:
        assert target.start().fingerprint('nova') == expected
    finally:
        target.stop()
    assert db0.units()['tripleo_mysql.service']['active_state'] == 'inactive'
    transfers = json.loads(fleet.helper('transfer', 'list', '--json').stdout)['transfers']
    assert [(t['role'], t['source'], t['target'], t['state']) for t in transfers] == [
        ('Database', 'database-0', 'database-1', 'sealed')]

    # --- complete: completed, lease ended, nova-compute enabled again ------------------------------------------
    out = ok(fleet.play('system_upgrade_complete', 'database-1,compute-0'))
    status = fleet.status()
    assert (status['compute-0']['phase'], status['compute-0']['lease']) == ('completed', None)
    assert fleet.nova_services()['compute-0.localdomain']['history'] == ['disable', 'enable']
    # The untouched nodes stayed as they were.
    assert status['compute-2']['phase'] == 'preupgrade' and status['compute-2']['lease'] is None
    assert fleet.nova_services()['compute-2.localdomain'].get('history') is None


    # --- cleanup: compute-1's failure paused the fleet, so the guard refuses until the operator resumes it; then
    # the nodes' tokens go and the daemon keeps the data while compute-1 (failed) has not upgraded ---------------
    failed(fleet.play('system_upgrade_cleanup', 'database-1,compute-0'),
           'The helper daemon refuses --limit database-1,compute-0:', 'the fleet is paused', 'rule node-failed')
    assert os.path.exists(db1.path('/etc/tripleo-upgrade/node-token'))
    ok(fleet.helper('resume', '--reason', 'compute-1 stays on the old OS until its memory is replaced'))
    failed(fleet.play('system_upgrade_cleanup', 'database-1,compute-0'),
           'The helper daemon refused the cleanup:', 'node compute-1 has 1 stored item(s) (nova-state)')
    assert not os.path.exists(db1.path('/etc/tripleo-upgrade/node-token'))
    assert os.path.exists(c1.path('/etc/tripleo-upgrade/node-token'))
    assert [i['item'] for i in fleet.status()['compute-1']['items']] == ['nova-state']
