"""tools/tripleo-upgrade-complete run as a command against the daemon started as a real process."""
import os
import subprocess
import sys

TOOL = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tripleo-upgrade-complete')
# A configuration directory without files: every value comes from the flags, as on a node without leapp.
NO_CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'no-actor-conf.d')


def run(daemon, node, *extra):
    return subprocess.run([sys.executable, TOOL, '--config-dir', NO_CONFIG,
                           '--daemon-url', daemon.url, '--token-file', daemon.token_file(node),
                           '--node', node] + list(extra),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=60)


def fleet_node(daemon, node):
    status = daemon.admin().get(daemon.url + '/v1/status').json()
    return next(n for n in status['nodes'] if n['name'] == node)


def test_completed_node_releases_its_lease_so_the_next_controller_may_go(helper_daemon):
    for name in ('controller-0', 'controller-1', 'controller-2'):
        helper_daemon.add_node(name, 'Controller', ceph_mon=True, one_by_one=True)
    admin = helper_daemon.admin()
    assert admin.post(helper_daemon.url + '/v1/nodes/controller-0/lease').status_code == 200
    assert admin.post(helper_daemon.url + '/v1/nodes/controller-1/lease').status_code == 409

    done = run(helper_daemon, 'controller-0')
    assert done.returncode == 0, done.stderr
    assert 'controller-0 reported completed' in done.stdout and 'lease is released' in done.stdout
    assert fleet_node(helper_daemon, 'controller-0')['phase'] == 'completed'
    assert admin.post(helper_daemon.url + '/v1/nodes/controller-1/lease').status_code == 200

    again = run(helper_daemon, 'controller-0')
    assert again.returncode == 0, again.stderr


def test_keep_lease_reports_but_keeps_the_lease(helper_daemon):
    helper_daemon.add_node('compute-0', 'Compute')
    helper_daemon.add_node('compute-1', 'Compute')
    assert helper_daemon.admin().post(helper_daemon.url + '/v1/nodes/compute-0/lease').status_code == 200
    done = run(helper_daemon, 'compute-0', '--keep-lease')
    assert done.returncode == 0, done.stderr
    node = fleet_node(helper_daemon, 'compute-0')
    assert node['phase'] == 'completed' and node['lease'] is not None


def test_refused_token_is_one_clear_error(helper_daemon, tmp_path):
    helper_daemon.add_node('compute-0', 'Compute')
    wrong = tmp_path / 'token'
    wrong.write_text('w' * 43)
    wrong.chmod(0o600)
    done = subprocess.run([sys.executable, TOOL, '--config-dir', NO_CONFIG,
                           '--daemon-url', helper_daemon.url, '--token-file', str(wrong),
                           '--node', 'compute-0'], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.startswith('tripleo-upgrade-complete: error: PUT {}/v1/nodes/compute-0/status: HTTP 401'
                                  .format(helper_daemon.url))
    assert 'Traceback' not in done.stderr
