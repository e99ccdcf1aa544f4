"""The node package tripleo-upgrade-leapp, installed with rpm into a scratch root."""
import glob
import os
import re
import stat
import subprocess
import sysconfig

import yaml
from tripleo_upgrade_libraries import tripleo_config

from testing.rpm_packages import NEXT_RELEASE_NOTE, REPO_ROOT

PACKAGE = 'tripleo-upgrade-leapp'
REPOSITORY = '/usr/share/leapp-repository/custom-repositories/tripleo_upgrade'
OUR_LINK = '/etc/leapp/repos.d/tripleo_upgrade'
CUSTOM_REPOSITORIES_LINK = '/etc/leapp/repos.d/custom-repositories'
ACTOR_CONFIG = '/etc/leapp/actor_conf.d/tripleo_upgrade.yaml'


def tree_node_commands():
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(REPO_ROOT, 'tools', 'tripleo-*')))


def test_installs_the_leapp_repository_without_tests(scratch_root, rpms):
    scratch_root.install(rpms[PACKAGE])
    repository = scratch_root(REPOSITORY)

    with open(os.path.join(repository, '.leapp', 'info')) as f:
        assert '"name": "tripleo_upgrade"' in f.read()
    assert os.path.isfile(os.path.join(repository, '.leapp', 'leapp.conf'))
    tree_actors = sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob(REPO_ROOT + '/actors/*/actor.py'))
    assert sorted(os.listdir(os.path.join(repository, 'actors'))) == tree_actors
    for directory in ('configs', 'models', 'topics', 'tags'):
        assert os.path.isdir(os.path.join(repository, directory)), directory
    tree_libraries = sorted(os.path.basename(p) for p in glob.glob(REPO_ROOT + '/libraries/tripleo_*.py'))
    assert sorted(os.listdir(os.path.join(repository, 'libraries'))) == tree_libraries
    assert sorted(os.listdir(os.path.join(repository, 'tools'))) == tree_node_commands() + ['tripleo_node_tool.py']

    for top, dirs, files in os.walk(repository):
        assert 'tests' not in dirs and '__pycache__' not in dirs, top
        for name in dirs:
            assert stat.S_IMODE(os.stat(os.path.join(top, name)).st_mode) == 0o755, os.path.join(top, name)
        for name in files:
            mode = stat.S_IMODE(os.stat(os.path.join(top, name)).st_mode)
            command = os.path.basename(top) == 'tools' and name.startswith('tripleo-')
            assert mode == (0o755 if command else 0o644), (os.path.join(top, name), oct(mode))


def test_every_node_command_is_on_the_path(scratch_root, rpms):
    scratch_root.install(rpms[PACKAGE])
    on_path = sorted(os.path.basename(p) for p in glob.glob(scratch_root('/usr/bin/tripleo-*')))
    assert on_path == tree_node_commands()
    for name in on_path:
        assert stat.S_IMODE(os.stat(scratch_root('/usr/bin/' + name)).st_mode) == 0o755, name


def test_installed_node_commands_run_and_load_the_installed_libraries(scratch_root, rpms):
    scratch_root.install(rpms[PACKAGE])
    # The wrapper runs the OS's Python (here Debian's /usr/bin/python3); requests comes from the project's
    # virtualenv as it would from python3-requests on the node. Nothing else leads to the libraries.
    env = dict(os.environ, PYTHONPATH=sysconfig.get_paths()['purelib'])
    env.pop('PYTHONDONTWRITEBYTECODE', None)  # as on a node: whether bytecode is written is the wrapper's choice
    for name in tree_node_commands():
        result = subprocess.run([scratch_root('/usr/bin/' + name), '--help'], env=env, cwd=scratch_root.path,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        assert result.returncode == 0, '{} --help: {}'.format(name, result.stderr)
        assert result.stdout.startswith('usage: ' + name), result.stdout

    traced = subprocess.run([scratch_root('/usr/bin/tripleo-upgrade-complete'), '--help'],
                            env=dict(env, PYTHONVERBOSE='1'), cwd=scratch_root.path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert traced.returncode == 0, traced.stderr
    loaded = re.findall(r'code object from \'?([^\s\']+tripleo_helper_client\.py)', traced.stderr)
    assert loaded == [scratch_root(REPOSITORY + '/libraries/tripleo_helper_client.py')]
    # -B in the wrapper: nothing written into the packaged tree, which rpm could then not remove.
    assert not glob.glob(scratch_root(REPOSITORY) + '/**/__pycache__', recursive=True)


def test_links_the_repository_into_repos_d_and_removes_only_its_link(scratch_root, rpms):
    scratch_root.install(rpms[PACKAGE])
    assert os.readlink(scratch_root(OUR_LINK)) == REPOSITORY

    scratch_root.erase(PACKAGE)
    assert not os.path.lexists(scratch_root(OUR_LINK))

    scratch_root.install(rpms[PACKAGE])
    os.remove(scratch_root(OUR_LINK))
    os.symlink('/srv/leapp/tripleo_upgrade-patched', scratch_root(OUR_LINK))
    scratch_root.erase(PACKAGE)
    assert os.readlink(scratch_root(OUR_LINK)) == '/srv/leapp/tripleo_upgrade-patched'


def test_no_link_of_its_own_where_leapp_repository_links_custom_repositories(scratch_root, rpms):
    # leapp-repository >= 0.26 ships this link; leapp then finds our repository through it.
    os.symlink('/usr/share/leapp-repository/custom-repositories', scratch_root(CUSTOM_REPOSITORIES_LINK))
    scratch_root.install(rpms[PACKAGE])
    assert sorted(os.listdir(scratch_root('/etc/leapp/repos.d'))) == ['custom-repositories']
    scratch_root.erase(PACKAGE)
    assert os.readlink(scratch_root(CUSTOM_REPOSITORIES_LINK)) == '/usr/share/leapp-repository/custom-repositories'


def test_example_configuration_cannot_break_leapp(scratch_root, rpms):
    scratch_root.install(rpms[PACKAGE])
    assert scratch_root.file_flags(PACKAGE)[ACTOR_CONFIG] == 'cn'  # %config(noreplace)
    with open(scratch_root(ACTOR_CONFIG)) as f:
        text = f.read()
    # leapp reads every *.yaml there, fails on one that is not a mapping, and fails when two files define
    # the same section: the packaged file is an empty mapping.
    assert yaml.safe_load(text) == {}
    # Its commented example is a complete, valid tripleo_upgrade section once uncommented.
    example = yaml.safe_load('\n'.join(re.sub(r'^# ?', '', line) for line in text.splitlines()
                                       if re.match(r'^# ?(tripleo_upgrade:|  )', line)))
    assert sorted(example['tripleo_upgrade']) == sorted(tripleo_config.DEFAULTS)
    token = scratch_root('/etc/tripleo-upgrade/node-token')
    os.makedirs(os.path.dirname(token))
    with open(token, 'w') as f:
        f.write('a' * 43 + '\n')
    os.chmod(token, 0o600)
    section = dict(example['tripleo_upgrade'], token_file=token, ca_file='')
    values, findings = tripleo_config.validate(section, tripleo_config.read_section(
        scratch_root('/etc/leapp/actor_conf.d')))
    assert findings == [] and values['daemon_url'] == example['tripleo_upgrade']['daemon_url']


def test_operator_configuration_survives_upgrades_and_erase(scratch_root, rpms, rpms_same_config,
                                                            rpms_changed_config):
    scratch_root.install(rpms[PACKAGE])
    with open(scratch_root(ACTOR_CONFIG)) as f:
        packaged = f.read()
    operator = 'tripleo_upgrade:\n  daemon_url: https://undercloud-0.ctlplane.localdomain:8990\n'
    with open(scratch_root(ACTOR_CONFIG), 'w') as f:
        f.write(operator)

    scratch_root.upgrade(rpms_same_config[PACKAGE])
    with open(scratch_root(ACTOR_CONFIG)) as f:
        assert f.read() == operator
    assert not os.path.exists(scratch_root(ACTOR_CONFIG + '.rpmnew'))  # the packaged file did not change

    scratch_root.upgrade(rpms_changed_config[PACKAGE])
    with open(scratch_root(ACTOR_CONFIG)) as f:
        assert f.read() == operator
    with open(scratch_root(ACTOR_CONFIG + '.rpmnew')) as f:
        assert f.read() == packaged + NEXT_RELEASE_NOTE
    assert os.readlink(scratch_root(OUR_LINK)) == REPOSITORY
    assert scratch_root.rpm_ok('-q', PACKAGE).strip().endswith('-3.noarch')

    scratch_root.erase(PACKAGE)
    with open(scratch_root(ACTOR_CONFIG + '.rpmsave')) as f:
        assert f.read() == operator
    assert not os.path.exists(scratch_root(ACTOR_CONFIG))


def test_erase_leaves_nothing_behind(scratch_root, rpms):
    before = scratch_root.snapshot()
    scratch_root.install(rpms[PACKAGE])
    # leapp writes bytecode next to the actors and libraries it loads, on each OS's Python.
    for directory in ('libraries', 'actors/tripleoprepare'):
        cache = scratch_root('{}/{}/__pycache__'.format(REPOSITORY, directory))
        os.makedirs(cache)
        with open(os.path.join(cache, 'tripleo_x.cpython-36.pyc'), 'wb') as f:
            f.write(b'\x33\x0d\x0d\x0a')

    output = scratch_root.erase(PACKAGE)
    assert 'warning:' not in output, output
    assert scratch_root.snapshot() == before
    assert scratch_root.rpm('-q', PACKAGE)[0] == 1


def test_requires_the_supported_leapp_and_no_one_python(scratch_root, rpms):
    requires = set(scratch_root.rpm_ok('-qp', '--requires', rpms[PACKAGE]).splitlines())
    assert {'leapp-framework >= 6.0', 'leapp-framework < 7', 'leapp-upgrade-el8toel9 >= 0.22.0',
            'python3-requests', 'python3-dbus'} <= requires
    # Installed on RHEL 8's Python 3.6, still there at FirstBoot on RHEL 9's 3.9.
    assert not [r for r in requires if r.startswith(('python(abi)', '/usr/bin/python', '/usr/libexec/platform-python'))]
