"""
Fixture: a real rpm database in a private directory (never Debian's default ``~/.rpmdb``).

Packages are built with ``rpmbuild -bb`` from tiny specs (no files, noarch) and recorded with
``rpm -i --dbpath D --nodeps --justdb``. Built packages are cached for the whole session.

    def test_x(rpmdb):
        rpmdb.install(('pacemaker', '2.0.5', '9.el8'), ('corosync', '3.1.5', '1.el8', '1'))
        tripleo_rpm.installed_packages(dbpath=rpmdb.path)
"""
import os
import shutil
import subprocess
import sys

import pytest

SPEC = """Name: {name}
Version: {version}
Release: {release}
{epoch_line}Summary: test package {name}
License: ASL 2.0
BuildArch: noarch
%description
Test package built by testing/rpmdb.py.
%files
"""


def rpm_bindings_missing():
    """Why ``import rpm`` fails on this interpreter, or None.

    The bindings come with the OS's rpm for the OS's own Python only (Debian's python3-rpm here, platform-python's
    on RHEL): the node-side suites that scripts/test also runs under RHEL's Python 3.6 and 3.9 go without them.
    """
    try:
        import rpm  # noqa: F401
    except ImportError:
        return ('the rpm Python bindings are not importable on this Python {}.{}: they exist only for the OS\'s own '
                'Python (python3-rpm)'.format(*sys.version_info[:2]))
    return None


@pytest.fixture
def rpm_bindings():
    """The ``rpm`` module; skips the test, saying why, where this interpreter has none."""
    missing = rpm_bindings_missing()
    if missing:
        pytest.skip(missing)
    import rpm
    return rpm


def _require_rpm_tools():
    missing = [tool for tool in ('rpm', 'rpmbuild') if shutil.which(tool) is None]
    if missing:
        pytest.skip('{} not installed; scripts/test installs the rpm package'.format(' and '.join(missing)))


class RpmBuilder(object):
    """Builds noarch test packages once per session: (name, version, release[, epoch]) -> path."""

    def __init__(self, topdir):
        self.topdir = topdir
        self._built = {}

    def build(self, name, version, release, epoch=None):
        key = (name, version, release, epoch)
        if key not in self._built:
            spec = os.path.join(self.topdir, '{}-{}-{}-{}.spec'.format(name, epoch or 'none', version, release))
            with open(spec, 'w') as f:
                f.write(SPEC.format(name=name, version=version, release=release,
                                    epoch_line='Epoch: {}\n'.format(epoch) if epoch is not None else ''))
            rpmdir = os.path.join(self.topdir, 'rpms', str(len(self._built)))
            subprocess.run(['rpmbuild', '-bb', '--quiet', '--define', '_topdir ' + self.topdir,
                            '--define', '_rpmdir ' + rpmdir, spec],
                           check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self._built[key] = os.path.join(rpmdir, 'noarch', '{}-{}-{}.noarch.rpm'.format(name, version, release))
        return self._built[key]


class RpmDb(object):
    def __init__(self, path, builder):
        self.path = path
        self._builder = builder

    def install(self, *packages):
        """Record packages, each (name, version, release) or (name, version, release, epoch), in the db."""
        paths = [self._builder.build(*package) for package in packages]
        subprocess.run(['rpm', '-i', '--dbpath', self.path, '--nodeps', '--justdb'] + paths,
                       check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.fixture(scope='session')
def rpm_builder(tmp_path_factory):
    _require_rpm_tools()
    return RpmBuilder(str(tmp_path_factory.mktemp('rpmbuild')))


@pytest.fixture
def rpmdb(tmp_path, rpm_builder):
    """An empty real rpm database; ``.install(...)`` adds packages, ``.path`` is its --dbpath."""
    path = tmp_path / 'rpmdb'
    path.mkdir()
    subprocess.run(['rpm', '--initdb', '--dbpath', str(path)], check=True)
    return RpmDb(str(path), rpm_builder)
