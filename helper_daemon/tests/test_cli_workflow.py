"""The undercloud workflow commands as an operator types them, against the daemon as a real process:
transfer plan|open|list|show, lease list|release, nodes show, status --watch; --json and exit codes."""

import io
import json
import subprocess

import pytest

from helper_daemon.tests.helpers import helper
from testing.daemon import REPO_ROOT



@pytest.fixture
def cloud(helper_daemon):
    """Three controllers (ceph-mon), one upgraded to the new OS; a compute."""
    for name, role, mon in (('controller-0', 'Controller', True), ('controller-1', 'Controller', True),
                            ('controller-2', 'Controller', True), ('compute-0', 'Compute', False)):
        helper_daemon.add_node(name, role, ceph_mon=mon)
    for name, phase, release in (('controller-0', 'prepared', '8.4'), ('controller-1', 'upgraded', '9.2'),
                                 ('controller-2', 'preupgrade', '8.4'), ('compute-0', 'preupgrade', '8.4')):
        answer = helper_daemon.session(helper_daemon.tokens[name]).put(
            '{}/v1/nodes/{}/status'.format(helper_daemon.url, name),
            json={'phase': phase, 'os_release': release,
                  'reports': [{'key': 'k1', 'title': 'ceph-mon quorum', 'inhibitor': True}] if name == 'compute-0'
                  else []})
        assert answer.status_code == 200, answer.text
    return helper_daemon


def test_transfer_plan_open_list_show(cloud):
    plan = helper(cloud, 'transfer', 'plan', '--role', 'Controller')
    assert plan.returncode == 0, plan.stderr
    assert 'Controller: can open now' in plan.stdout
    assert 'source  controller-0 (services not reported)' in plan.stdout
    assert 'target  controller-1' in plan.stdout
    assert 'before the push: tripleo-upgrade-stop-services on controller-0' in plan.stdout

    as_json = json.loads(helper(cloud, 'transfer', 'plan', '--json').stdout)
    assert {p['role']: p['valid'] for p in as_json['plans']} == {'Compute': False, 'Controller': True}

    opened = helper(cloud, 'transfer', 'open', '--role', 'Controller', '--json')
    assert opened.returncode == 0, opened.stderr
    transfer = json.loads(opened.stdout)
    assert (transfer['source'], transfer['target'], transfer['items'], transfer['state']) == \
        ('controller-0', 'controller-1', ['mysql'], 'open')

    listed = helper(cloud, 'transfer', 'list')
    assert listed.returncode == 0
    assert listed.stdout.splitlines()[1].split()[:6] == [transfer['id'], 'Controller', 'controller-0',
                                                         'controller-1', 'mysql', 'open']
    shown = helper(cloud, 'transfer', 'show', transfer['id'])
    assert 'source        controller-0' in shown.stdout and 'state         open' in shown.stdout
    unknown = helper(cloud, 'transfer', 'show', '999')
    assert unknown.returncode == 1 and unknown.stderr.strip() == \
        "tripleo-upgrade-helper: there is no transfer '999'; see 'tripleo-upgrade-helper transfer list'"


def test_a_second_transfer_is_refused_with_every_reason(cloud):
    assert helper(cloud, 'transfer', 'open', '--role', 'Controller').returncode == 0
    second = helper(cloud, 'transfer', 'open', '--role', 'Controller')
    assert second.returncode == 1 and not second.stdout
    assert second.stderr.startswith('tripleo-upgrade-helper: no transfer for role Controller now: ')
    assert 'transfer 1 of role Controller (controller-0 -> controller-1) is still open' in second.stderr
    assert 'Traceback' not in second.stderr
    as_json = helper(cloud, 'transfer', 'open', '--role', 'Controller', '--json')
    assert as_json.returncode == 1 and json.loads(as_json.stdout)['error'] == 'transfer refused'


def test_a_wrong_source_is_refused_naming_it(cloud):
    refused = helper(cloud, 'transfer', 'open', '--role', 'Controller', '--source', 'compute-0')
    assert refused.returncode == 1 and 'compute-0' in refused.stderr


@pytest.mark.parametrize('args, message', [
    (('transfer', 'open', '--role', 'Controller', '--force'), '--force needs --reason TEXT'),
    (('transfer', 'open', '--role', 'Controller', '--reason', 'why'), '--reason goes with --force'),
    (('transfer', 'open'), 'the following arguments are required: --role'),
    (('lease', 'release', 'controller-0'), 'the following arguments are required: --reason'),
    (('lease', 'release', 'controller-0', '--reason', ' '), '--reason must say why'),
    (('status', '--watch', '--interval', '0'), 'give between 0.1 and 3600 seconds'),
    (('transfer', 'frobnicate'), "invalid choice: 'frobnicate'"),
])
def test_bad_usage_exits_2_saying_what_is_wrong(cloud, args, message):
    done = helper(cloud, *args)
    assert done.returncode == 2 and message in done.stderr and 'Traceback' not in done.stderr


def test_every_command_says_when_the_daemon_is_down_or_its_token_is_unreadable(cloud, tmp_path):
    commands = [('transfer', 'plan'), ('transfer', 'open', '--role', 'Controller'), ('transfer', 'list'),
                ('transfer', 'show', '1'), ('lease', 'list'), ('lease', 'release', 'controller-0', '--reason', 'x'),
                ('nodes', 'show', 'controller-0'), ('status',)]
    for command in commands:
        unreadable = helper(cloud, *command, '--admin-token-file', str(tmp_path / 'missing'))
        assert unreadable.returncode == 2, command
        assert unreadable.stderr.strip().endswith('missing: cannot read the token file: No such file or directory')
    cloud.stop()
    for command in commands:
        down = helper(cloud, *command)
        assert down.returncode == 1, (command, down.stderr)
        assert 'cannot reach the daemon' in down.stderr and len(down.stderr.strip().splitlines()) == 1, command


def test_lease_list_and_the_admin_release_of_a_dead_node(cloud):
    session = cloud.session(cloud.tokens['controller-0'])
    assert session.post(cloud.url + '/v1/nodes/controller-0/lease').status_code == 200
    listed = helper(cloud, 'lease', 'list')
    assert listed.returncode == 0
    assert listed.stdout.splitlines()[1].split()[:2] == ['controller-0', 'Controller']
    assert 'ceph-mon hosts running: 2 (min 2)' in listed.stdout

    released = helper(cloud, 'lease', 'release', 'controller-0', '--reason', 'controller-0 died during the upgrade')
    assert released.returncode == 0, released.stderr
    assert released.stdout.startswith('lease of controller-0 (held since ')
    assert json.loads(helper(cloud, 'lease', 'list', '--json').stdout)['leases'] == []
    again = helper(cloud, 'lease', 'release', 'controller-0', '--reason', 'again')
    assert again.returncode == 0 and 'held no lease' in again.stdout
    unknown = helper(cloud, 'lease', 'release', 'nobody', '--reason', 'x')
    assert unknown.returncode == 1 and unknown.stderr.strip() == \
        "tripleo-upgrade-helper: node 'nobody' is not registered"


def test_nodes_show_gathers_everything_about_one_node(cloud):
    session = cloud.session(cloud.tokens['compute-0'])
    assert session.put(cloud.url + '/v1/nodes/compute-0/data/nova', data=b'x' * 2048).status_code == 201
    # Its inhibitor stops the lease until the admin accepts it.
    assert session.post(cloud.url + '/v1/nodes/compute-0/lease').status_code == 409
    accepted = helper(cloud, 'inhibitors', 'accept', 'k1', '--node', 'compute-0', '--reason', 'quorum checked')
    assert accepted.returncode == 0, accepted.stderr
    assert session.post(cloud.url + '/v1/nodes/compute-0/lease').status_code == 200
    session.put(cloud.url + '/v1/nodes/compute-0/services', json={'state': 'down', 'detail': 'tripleo_nova_compute'})
    shown = helper(cloud, 'nodes', 'show', 'compute-0')
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    for expected in ('node        compute-0 (role Compute)', 'phase       preupgrade', 'OS release  8.4 (old)',
                     'services    down since', ': tripleo_nova_compute', 'lease       held since',
                     '  - ceph-mon quorum [k1]', '  - nova: 2.0 KiB, sha256 ', 'transfers   none', 'timeline'):
        assert expected in text, (expected, text)
    as_json = json.loads(helper(cloud, 'nodes', 'show', 'compute-0', '--json').stdout)
    assert as_json['items'][0]['item'] == 'nova' and as_json['status']['phase'] == 'preupgrade'
    unknown = helper(cloud, 'nodes', 'show', 'nobody')
    assert unknown.returncode == 1 and "node 'nobody' is not registered" in unknown.stderr


def test_status_watch_redraws_until_interrupted(cloud):
    from helper_daemon.admin_http import AdminHTTP
    from helper_daemon.cli_workflow import watch

    http = AdminHTTP(cloud.url, cloud.admin_token)
    out, sleeps = io.StringIO(), []

    def sleep(seconds):
        sleeps.append(seconds)
        if len(sleeps) == 2:
            cloud.stop()  # the daemon goes away between two frames: the watch says so and goes on
        if len(sleeps) == 3:
            raise KeyboardInterrupt

    assert watch(http, False, 2.0, out=out, sleep=sleep) == 0
    frames = out.getvalue().split('\x1b[H\x1b[2J')[1:]
    assert len(frames) == 3 and sleeps == [2.0, 2.0, 2.0]
    assert 'controller-1' in frames[0] and 'every 2s (Ctrl-C ends)' in frames[0]
    assert 'cannot reach the daemon' in frames[2]


def test_status_watch_as_a_process_ends_cleanly_on_ctrl_c(cloud):
    import signal
    import threading

    process = subprocess.Popen(cloud.command('status', '--watch', '--interval', '0.2', '--json'), cwd=REPO_ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    # Ctrl-C once two frames have come (each is flushed as it is drawn), however slow the machine is to start it.
    hung = threading.Timer(60, process.kill)
    hung.start()
    try:
        first = [process.stdout.readline(), process.stdout.readline()]
    finally:
        hung.cancel()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    frames = [json.loads(line) for line in first + out.splitlines() if line.strip()]
    assert len(frames) >= 2 and 'Traceback' not in err
