"""
Test support for the project's RPMs (integration/): the packages, built once per session by packaging/build-rpms
with the real rpmbuild, and scratch roots to install them into with the real rpm (``--root``, its own
database inside the root, no dependency resolution).
"""
import os
import re
import shutil
import stat
import subprocess

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ('tripleo-upgrade-leapp', 'tripleo-upgrade-helper')
# What a changed settings example looks like in the next release of the packages.
NEXT_RELEASE_NOTE = '# Next release: this example changed.\n'

# Directories that the OS and the packages ours require own (filesystem, systemd, python3-libs, leapp,
# leapp-repository): present before ours are installed, and after they are erased.
BASE_DIRECTORIES = (
    'bin', 'run', 'var/tmp', 'var/lib/rpm',
    'etc/leapp/repos.d', 'etc/leapp/actor_conf.d',
    'usr/bin', 'usr/share/doc', 'usr/share/licenses', 'usr/share/leapp-repository/custom-repositories',
    'usr/lib/systemd/system', 'usr/lib/python3.9/site-packages',
)
# The commands the scriptlets run, from a static busybox: the chroot rpm runs them in has no libraries.
SCRIPTLET_COMMANDS = ('sh', 'readlink', 'ln', 'rm', 'find')


def build_packages(tree, output, release):
    result = subprocess.run([os.path.join(tree, 'packaging', 'build-rpms'), str(output), str(release)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    assert result.returncode == 0, 'packaging/build-rpms failed:\n' + result.stdout
    built = {}
    for name in PACKAGES:
        matches = [f for f in os.listdir(str(output)) if re.match(re.escape(name) + r'-[^-]+-' + re.escape(str(release))
                                                                   + r'\.noarch\.rpm$', f)]
        assert len(matches) == 1, 'build-rpms did not write one {} package of release {}: {}'.format(
            name, release, os.listdir(str(output)))
        built[name] = os.path.join(str(output), matches[0])
    return built


@pytest.fixture(scope='session')
def rpms(tmp_path_factory):
    """Release 1 of both packages, from the working tree."""
    return build_packages(REPO_ROOT, tmp_path_factory.mktemp('rpms-1'), 1)


@pytest.fixture(scope='session')
def rpms_same_config(tmp_path_factory):
    """Release 2, from the working tree: the packaged configuration files are those of release 1."""
    return build_packages(REPO_ROOT, tmp_path_factory.mktemp('rpms-2'), 2)


@pytest.fixture(scope='session')
def rpms_changed_config(tmp_path_factory):
    """Release 3, from a copy of the tree whose packaged configuration examples changed."""
    tree = str(tmp_path_factory.mktemp('next-tree') / 'tree')
    shutil.copytree(REPO_ROOT, tree, symlinks=True,
                    ignore=shutil.ignore_patterns('.git', '.venv', '__pycache__', '.pytest_cache', '.ruff_cache'))
    for example in ('tripleo_upgrade.yaml', 'helper.yaml'):
        with open(os.path.join(tree, 'packaging', example), 'a') as f:
            f.write(NEXT_RELEASE_NOTE)
    return build_packages(tree, tmp_path_factory.mktemp('rpms-3'), 3)


class ScratchRoot(object):
    """A directory tree rpm installs into as if it were /, with its rpm database in /var/lib/rpm."""

    def __init__(self, path):
        self.path = str(path)

    def __call__(self, absolute):
        """The path inside the root of ``absolute``."""
        return os.path.join(self.path, absolute.lstrip('/'))

    def rpm(self, *args):
        """Run rpm on this root; returns (exit code, output)."""
        result = subprocess.run(['rpm', '--root', self.path, '--dbpath', '/var/lib/rpm'] + list(args),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
        return result.returncode, result.stdout

    def rpm_ok(self, *args):
        code, output = self.rpm(*args)
        assert code == 0, 'rpm {} exited {}:\n{}'.format(' '.join(args), code, output)
        return output

    def install(self, *packages):
        # Debian's rpm warns that Alien should be used; the exit code is what counts.
        return self.rpm_ok('--nodeps', '-i', *packages)

    def upgrade(self, *packages):
        return self.rpm_ok('--nodeps', '-U', *packages)

    def erase(self, *names):
        return self.rpm_ok('--nodeps', '-e', *names)

    def file_flags(self, package):
        """{path: rpm file flags such as 'cn' for %config(noreplace)} of an installed package."""
        output = self.rpm_ok('-q', '--qf', '[%{FILENAMES}\t%{FILEFLAGS:fflags}\n]', package)
        return dict(line.split('\t', 1) for line in output.splitlines() if '\t' in line)

    def snapshot(self):
        """Every path under the root but the rpm database: {relative path: (kind, mode, link target)}."""
        entries = {}
        for top, dirs, files in os.walk(self.path):
            for name in dirs + files:
                full = os.path.join(top, name)
                relative = os.path.relpath(full, self.path)
                if relative == 'var/lib/rpm' or relative.startswith('var/lib/rpm/'):
                    continue
                info = os.lstat(full)
                target = os.readlink(full) if stat.S_ISLNK(info.st_mode) else None
                entries[relative] = (stat.S_IFMT(info.st_mode), stat.S_IMODE(info.st_mode), target)
        return entries


@pytest.fixture
def scratch_root(tmp_path):
    busybox = shutil.which('busybox')
    assert busybox, 'busybox (Debian package busybox-static) is needed to run the scriptlets in a scratch root'
    root = ScratchRoot(tmp_path / 'root')
    for directory in BASE_DIRECTORIES:
        os.makedirs(root(directory))
    shutil.copy(busybox, root('/usr/bin/busybox'))
    for command in SCRIPTLET_COMMANDS:
        os.symlink('/usr/bin/busybox', root('/bin/' + command))
    return root
