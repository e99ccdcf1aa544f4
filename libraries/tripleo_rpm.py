"""
Installed packages from the rpm database, read with the ``rpm`` Python bindings.

Versions that matter to the upgrade:
- ``pacemaker`` and ``corosync``: Corosync's major version decides whether controllers can be
  upgraded rolling (they cannot when it changes);
- the OpenStack release marker packages, RELEASE_PACKAGE_PATTERNS: ``rhosp-release`` on Red Hat
  OpenStack Platform, ``centos-release-openstack-<series>`` (and ``rdo-release``) on RDO / CentOS.
  They name the release the node runs; nothing else on a node states it as reliably.
"""
import fnmatch
import os
from collections import namedtuple

from . import tripleo_commands

Package = namedtuple('Package', ('name', 'epoch', 'version', 'release', 'arch'))

CLUSTER_PACKAGES = ('pacemaker', 'corosync')
RELEASE_PACKAGE_PATTERNS = ('rhosp-release', 'centos-release-openstack-*', 'rdo-release')


def installed_packages(dbpath=None):
    """
    Every installed package, sorted by name (gpg-pubkey pseudo-packages left out).

    :param dbpath: the rpm database directory; None for the system's (the ``_dbpath`` macro)
    :return: list of Package; epoch is a string, '0' when the package has none (as in leapp's RPM model)
    :raises tripleo_commands.CommandFailed: when the bindings are missing or the database cannot be read
    """
    try:
        import rpm
    except ImportError as exc:
        raise tripleo_commands.CommandFailed('the rpm Python bindings (python3-rpm) are not installed') from exc
    if dbpath is not None and not os.path.isdir(dbpath):
        raise tripleo_commands.CommandFailed('the rpm database directory {} does not exist'.format(dbpath))
    if dbpath is not None:
        rpm.addMacro('_dbpath', dbpath)
    try:
        transaction = rpm.TransactionSet()
        # Never verify signatures here: a read of what is installed must not depend on keys.
        transaction.setVSFlags(rpm._RPMVSF_NOSIGNATURES | rpm._RPMVSF_NODIGESTS)
        packages = [_package(header) for header in transaction.dbMatch()]
    except rpm.error as exc:
        raise tripleo_commands.CommandFailed('cannot read the rpm database {}: {}'.format(
            dbpath or rpm.expandMacro('%{_dbpath}'), exc)) from exc
    finally:
        if dbpath is not None:
            rpm.delMacro('_dbpath')
    return sorted((p for p in packages if p.name != 'gpg-pubkey'), key=lambda p: (p.name, p.arch))


def upgrade_versions(packages):
    """
    The versions the upgrade decisions need.

    :param packages: list of Package (installed_packages())
    :return: {'pacemaker': 'V-R' or None, 'corosync': 'V-R' or None,
              'openstack_release': [{'name', 'version'}] of the release marker packages}
    """
    result = dict((name, None) for name in CLUSTER_PACKAGES)
    release = []
    for package in packages:
        if package.name in CLUSTER_PACKAGES:
            result[package.name] = _vr(package)
        if any(fnmatch.fnmatchcase(package.name, pattern) for pattern in RELEASE_PACKAGE_PATTERNS):
            release.append({'name': package.name, 'version': _vr(package)})
    result['openstack_release'] = release
    return result


def _vr(package):
    return '{}-{}'.format(package.version, package.release)


def _text(value):
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    return value


def _package(header):
    epoch = header['epoch']
    return Package(name=_text(header['name']), epoch='0' if epoch is None else str(epoch),
                   version=_text(header['version']), release=_text(header['release']),
                   arch=_text(header['arch']))
