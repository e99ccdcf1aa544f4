"""The undercloud package tripleo-upgrade-helper, installed with rpm into a scratch root."""
import os
import shlex
import stat
import subprocess
import sysconfig

import requests
import yaml

from testing.processes import free_port, wait_for
from testing.rpm_packages import NEXT_RELEASE_NOTE

PACKAGE = 'tripleo-upgrade-helper'
SITELIB = '/usr/lib/python3.9/site-packages'
UNIT = '/usr/lib/systemd/system/tripleo-upgrade-helper.service'
SETTINGS = '/etc/tripleo-upgrade/helper.yaml'
STATE_DIR = '/var/lib/tripleo-upgrade'


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def installed_command_env(scratch_root):
    # The installed package first; fastapi, uvicorn and PyYAML from the project's virtualenv, as they come from
    # python3-fastapi, python3-uvicorn and python3-pyyaml on the undercloud.
    env = dict(os.environ, PYTHONPATH='{}:{}'.format(scratch_root(SITELIB), sysconfig.get_paths()['purelib']))
    # On RHEL the package carries the bytecode of its Python; this build host compiles none, so the run
    # must not write any into the scratch root either.
    env['PYTHONDONTWRITEBYTECODE'] = '1'
    return env


def exec_start(scratch_root):
    """The unit's ExecStart, every absolute path moved into the scratch root (and checked to be there)."""
    with open(scratch_root(UNIT)) as f:
        lines = [line for line in f.read().splitlines() if line.startswith('ExecStart=')]
    assert len(lines) == 1, lines
    argv = shlex.split(lines[0][len('ExecStart='):])
    for i, arg in enumerate(argv):
        if arg.startswith('/'):
            assert os.path.exists(scratch_root(arg)), 'ExecStart names {}, which the package does not install'.format(
                arg)
            argv[i] = scratch_root(arg)
    return argv


def test_installs_command_unit_settings_and_state_dir_with_their_modes(scratch_root, rpms):
    scratch_root.install(rpms[PACKAGE])
    package = scratch_root(SITELIB + '/helper_daemon')
    assert os.path.isfile(os.path.join(package, 'cli.py')) and os.path.isfile(os.path.join(package, 'routers',
                                                                                             '__init__.py'))
    assert not os.path.exists(os.path.join(package, 'tests'))
    assert mode(scratch_root('/usr/bin/tripleo-upgrade-helper')) == 0o755
    assert mode(scratch_root(UNIT)) == 0o644
    assert mode(scratch_root(STATE_DIR)) == 0o700  # the daemon refuses a state dir others can enter
    assert mode(scratch_root('/etc/tripleo-upgrade')) == 0o700
    assert scratch_root.file_flags(PACKAGE)[SETTINGS] == 'cn'  # %config(noreplace)
    with open(scratch_root(SETTINGS)) as f:
        assert yaml.safe_load(f) is None  # every setting commented out: the embedded defaults


def test_the_unit_starts_the_installed_daemon_with_the_packaged_settings(scratch_root, rpms, tmp_path):
    scratch_root.install(rpms[PACKAGE])
    argv = exec_start(scratch_root)
    assert argv[1] == 'serve' and scratch_root(SETTINGS) in argv and scratch_root(STATE_DIR) in argv
    port = free_port()
    log = open(str(tmp_path / 'daemon.log'), 'w+')
    daemon = subprocess.Popen(argv + ['--listen', '127.0.0.1:{}'.format(port)], env=installed_command_env(scratch_root),
                              cwd=scratch_root.path, stdout=log, stderr=subprocess.STDOUT)
    try:
        def healthy():
            try:
                return requests.get('http://127.0.0.1:{}/healthz'.format(port), timeout=1).status_code == 200
            except requests.ConnectionError:
                return False
        wait_for(healthy, 'the daemon started as the unit starts it', 30, process=daemon)
        assert mode(scratch_root(STATE_DIR + '/admin-token')) == 0o600
        # the status page's files are in the package
        for path, text in (('/ui/', 'fleet status'), ('/ui/app.js', 'GET /v1/status/version'), ('/ui/app.css', 'body')):
            page = requests.get('http://127.0.0.1:{}{}'.format(port, path), timeout=5)
            assert page.status_code == 200 and text in page.text, (path, page.status_code)
    finally:
        daemon.terminate()
        daemon.wait(30)
        log.seek(0)
        print(log.read())
        log.close()

    # The nodes' data and tokens outlive the package: rpm removes only what it installed.
    scratch_root.erase(PACKAGE)
    assert os.path.isfile(scratch_root(STATE_DIR + '/admin-token'))
    assert not os.path.exists(scratch_root(SITELIB + '/helper_daemon'))
    assert not os.path.exists(scratch_root(UNIT))


def test_the_command_runs_from_the_installed_package(scratch_root, rpms):
    scratch_root.install(rpms[PACKAGE])
    env = installed_command_env(scratch_root)
    where = subprocess.run(['/usr/bin/python3', '-c', 'import helper_daemon; print(helper_daemon.__file__)'],
                           env=env, cwd=scratch_root.path, stdout=subprocess.PIPE, universal_newlines=True,
                           check=True)
    assert where.stdout.strip() == scratch_root(SITELIB + '/helper_daemon/__init__.py')
    result = subprocess.run([scratch_root('/usr/bin/tripleo-upgrade-helper'), '--help'], env=env, cwd=scratch_root.path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith('usage: tripleo-upgrade-helper'), result.stdout


def test_settings_survive_upgrades_and_erase(scratch_root, rpms, rpms_same_config, rpms_changed_config):
    scratch_root.install(rpms[PACKAGE])
    with open(scratch_root(SETTINGS)) as f:
        packaged = f.read()
    operator = 'listen: 192.0.2.1:8990\nmin_ceph_mons: 3\n'
    with open(scratch_root(SETTINGS), 'w') as f:
        f.write(operator)

    scratch_root.upgrade(rpms_same_config[PACKAGE])
    with open(scratch_root(SETTINGS)) as f:
        assert f.read() == operator
    assert not os.path.exists(scratch_root(SETTINGS + '.rpmnew'))

    scratch_root.upgrade(rpms_changed_config[PACKAGE])
    with open(scratch_root(SETTINGS)) as f:
        assert f.read() == operator
    with open(scratch_root(SETTINGS + '.rpmnew')) as f:
        assert f.read() == packaged + NEXT_RELEASE_NOTE
    assert mode(scratch_root(STATE_DIR)) == 0o700

    scratch_root.erase(PACKAGE)
    with open(scratch_root(SETTINGS + '.rpmsave')) as f:
        assert f.read() == operator


def test_erase_leaves_nothing_behind(scratch_root, rpms):
    before = scratch_root.snapshot()
    scratch_root.install(rpms[PACKAGE])
    output = scratch_root.erase(PACKAGE)
    assert 'warning:' not in output, output
    assert scratch_root.snapshot() == before


def test_requires_the_daemon_dependencies_by_their_rhel_names(scratch_root, rpms):
    requires = set(scratch_root.rpm_ok('-qp', '--requires', rpms[PACKAGE]).splitlines())
    assert {'python3-fastapi', 'python3-uvicorn', 'python3-pyyaml', 'python3 >= 3.9'} <= requires
