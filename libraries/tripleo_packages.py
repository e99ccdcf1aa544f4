"""
What the upgrade transaction needs from the TripleO configuration: the newer OS and OpenStack
repositories, and the packages to remove, install or keep. This replaces the ``--enablerepo``
options and the to_remove/to_install files TripleO passed to leapp.

The repositories go into a repo file of our own (``REPO_FILE``) that leapp copies into the target
userspace: leapp's target_userspace_creator accepts a custom repository id only when a repo file
there defines it, and never reads the baseurl of a CustomTargetRepository message.

``remove_packages`` holds names or glob patterns such as ``*el8ost*`` (the release tag of the
old OpenStack builds). They are expanded here against the installed packages, as dnf would
match a package spec: against the name, name-version-release and name-version-release.arch.
The transaction only ever gets exact package names: a glob reaching dnf could remove anything
installed on the new OS by then. A pattern that matches nothing is reported (not an inhibitor:
the packages may already be gone), so a typo does not go unnoticed. Leapp removes only packages
signed by the distribution (check_rpm_transaction_events drops the others from the transaction
without a word): a pattern matching packages of another vendor (RDO on CentOS) is an inhibitor
that names them, as they would stay behind, built for the old OS.

``install_packages`` are names: an installed one is kept (to_keep), a missing one installed
(to_install). One that a remove pattern also matches is not removed: it is kept and upgraded
from the target repositories, and the report says so (given to dnf as both, the outcome would
depend on dnf's order of operations).
"""
import os
from collections import namedtuple
from fnmatch import fnmatchcase

from . import tripleo_files, tripleo_findings

Transaction = namedtuple('Transaction', ('to_remove', 'to_install', 'to_keep', 'findings'))

GLOB_CHARS = ('*', '?', '[')
REPO_FILE = '/var/lib/tripleo-upgrade-node/tripleo-upgrade-target.repo'


def repo_file_text(repositories, config_dir):
    """
    The repo file for the validated ``target_repositories`` (tripleo_config checked every option
    and that no value holds a line break). Lists become space-separated, booleans 1 or 0.
    """
    lines = ['# Target repositories of the TripleO upgrade, written by the tripleo_upgrade leapp repository',
             '# from tripleo_upgrade.target_repositories in {}: change them there, not here.'.format(config_dir)]
    for repo in repositories:
        lines.extend(['', '[{}]'.format(repo['id']), 'name={}'.format(repo.get('name') or repo['id']),
                      'enabled=1'])
        for option in sorted(set(repo) - {'id', 'name'}):
            value = repo[option]
            if isinstance(value, bool):
                value = int(value)
            elif isinstance(value, list):
                value = ' '.join(value)
            lines.append('{}={}'.format(option, value))
    return '\n'.join(lines) + '\n'


def write_repo_file(repositories, config_dir, path=None):
    """
    Write the repo file (default REPO_FILE) atomically, mode 0600 (it may hold repository passwords),
    or remove it when no repository is configured. :return: the path written, or None
    """
    path = path or REPO_FILE
    if not repositories:
        if os.path.exists(path):
            os.unlink(path)
        return None
    tripleo_files.write_text(path, repo_file_text(repositories, config_dir))
    return path


def _specs(package):
    nvr = '{}-{}-{}'.format(package.name, package.version, package.release)
    return (package.name, nvr, '{}.{}'.format(nvr, package.arch))


def _matches(pattern, package):
    return any(fnmatchcase(spec, pattern) for spec in _specs(package))


def transaction(remove_patterns, install_packages, installed, distribution_signed):
    """
    :param remove_patterns: names or glob patterns of packages to remove
    :param install_packages: names of packages the target system must have
    :param installed: the installed packages, objects with name, version, release and arch
    :param distribution_signed: names of the installed packages signed by the distribution (leapp's
                                DistributionSignedRPM), the only ones leapp will remove
    :return: Transaction(to_remove, to_install, to_keep, findings), names sorted
    """
    to_remove, findings, unsigned = set(), [], {}
    for pattern in remove_patterns:
        matched = set(p.name for p in installed if _matches(pattern, p))
        if not matched:
            findings.append(_unmatched('remove_packages', pattern, len(installed),
                                       'Check the pattern; if none of these packages is installed any more, '
                                       'remove it from tripleo_upgrade.remove_packages.'))
        for name in matched - set(distribution_signed):
            unsigned.setdefault(name, pattern)
        to_remove |= matched
    if unsigned:
        findings.append(_unsigned(unsigned))
    installed_names = set(p.name for p in installed)
    to_install, to_keep, overlap = set(), set(), []
    for name in install_packages:
        if any(c in name for c in GLOB_CHARS):
            findings.append(_unmatched(
                'install_packages', name, len(installed),
                'List the exact package names to install in tripleo_upgrade.install_packages; a pattern '
                'cannot say which package the target system must have.', pattern_kind='is a pattern, not a name'))
            continue
        if name in to_remove:
            overlap.append(name)
            to_remove.discard(name)
        if name in installed_names:
            to_keep.add(name)
        else:
            to_install.add(name)
    if overlap:
        findings.append(_overlap(sorted(overlap)))
    return Transaction(sorted(to_remove), sorted(to_install), sorted(to_keep), findings)


def _unsigned(unsigned):
    names = sorted(unsigned)
    return tripleo_findings.Finding(
        key='tripleo_upgrade.packages.not_distribution_signed',
        title='Leapp will not remove {} package(s) that tripleo_upgrade.remove_packages matches'.format(len(names)),
        summary='Leapp removes only packages signed by the distribution, and silently drops every other package '
                'from the upgrade transaction. These installed packages match tripleo_upgrade.remove_packages but '
                'are signed by another vendor (or not at all), so they would stay behind, built for the old OS: '
                '{}.'.format(', '.join('{} (pattern {!r})'.format(n, unsigned[n]) for n in names)),
        remediation='Remove them before the upgrade (`dnf remove` while the node is out of service), or narrow the '
                    'pattern if they must stay; then run `leapp preupgrade` again.',
        groups=('UPGRADE_PROCESS',),
        resources=[('package', n) for n in names])


def _overlap(names):
    return tripleo_findings.Finding(
        key='tripleo_upgrade.packages.install_and_remove',
        title='Packages both to remove and to install: they are kept and upgraded',
        summary='tripleo_upgrade.install_packages lists {}, which tripleo_upgrade.remove_packages also matches. '
                'They are not removed: the upgrade keeps them and installs their build from the target '
                'repositories.'.format(', '.join(names)),
        severity='medium', inhibitor=False,
        remediation='If they must go, remove them from tripleo_upgrade.install_packages; otherwise narrow the '
                    'remove_packages pattern so the report goes away.',
        groups=('UPGRADE_PROCESS',),
        resources=[('package', n) for n in names])


def _unmatched(key, pattern, count, remediation, pattern_kind=None):
    what = pattern_kind or 'matches none of the {} installed packages'.format(count)
    return tripleo_findings.Finding(
        key='tripleo_upgrade.packages.{}'.format(key),
        title='TripleO upgrade: a package in tripleo_upgrade.{} is not used'.format(key),
        summary='tripleo_upgrade.{} entry {!r} {}, so it changes nothing in the upgrade transaction.'.format(
            key, pattern, what),
        severity='medium',
        inhibitor=False,
        remediation=remediation,
        groups=('UPGRADE_PROCESS',),
    )
