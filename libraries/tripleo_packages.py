"""
What the upgrade transaction needs from the TripleO configuration: the newer OS and OpenStack
repositories, and the packages to remove, install or keep. This replaces the ``--enablerepo``
options and the to_remove/to_install files TripleO passed to leapp.

``remove_packages`` holds names or glob patterns such as ``*el8ost*`` (the release tag of the
old OpenStack builds). They are expanded here against the installed packages, as dnf would
match a package spec: against the name, name-version-release and name-version-release.arch.
The transaction only ever gets exact package names: a glob reaching dnf could remove anything
installed on the new OS by then. A pattern that matches nothing is reported (not an inhibitor:
the packages may already be gone), so a typo does not go unnoticed.

``install_packages`` are names: an installed one is kept (to_keep), a missing one installed
(to_install), and one that a remove pattern also matches is replaced by the target repositories'
build (in to_remove and to_install, the way TripleO's own files listed them).
"""
from collections import namedtuple
from fnmatch import fnmatchcase

from . import tripleo_findings

Transaction = namedtuple('Transaction', ('to_remove', 'to_install', 'to_keep', 'findings'))

GLOB_CHARS = ('*', '?', '[')


def target_repositories(repositories):
    """[{id, name, baseurl}] as configured (validated by the config scanner), name defaulting to the id."""
    return [{'id': r['id'], 'name': r.get('name') or r['id'], 'baseurl': r['baseurl']} for r in repositories]


def _specs(package):
    nvr = '{}-{}-{}'.format(package.name, package.version, package.release)
    return (package.name, nvr, '{}.{}'.format(nvr, package.arch))


def _matches(pattern, package):
    return any(fnmatchcase(spec, pattern) for spec in _specs(package))


def transaction(remove_patterns, install_packages, installed):
    """
    :param remove_patterns: names or glob patterns of packages to remove
    :param install_packages: names of packages the target system must have
    :param installed: the installed packages, objects with name, version, release and arch
    :return: Transaction(to_remove, to_install, to_keep, findings), names sorted
    """
    to_remove, findings = set(), []
    for pattern in remove_patterns:
        matched = set(p.name for p in installed if _matches(pattern, p))
        if not matched:
            findings.append(_unmatched('remove_packages', pattern, len(installed),
                                       'Check the pattern; if none of these packages is installed any more, '
                                       'remove it from tripleo_upgrade.remove_packages.'))
        to_remove |= matched
    installed_names = set(p.name for p in installed)
    to_install, to_keep = set(), set()
    for name in install_packages:
        if any(c in name for c in GLOB_CHARS):
            findings.append(_unmatched(
                'install_packages', name, len(installed),
                'List the exact package names to install in tripleo_upgrade.install_packages; a pattern '
                'cannot say which package the target system must have.', pattern_kind='is a pattern, not a name'))
        elif name in to_remove or name not in installed_names:
            to_install.add(name)
        else:
            to_keep.add(name)
    return Transaction(sorted(to_remove), sorted(to_install), sorted(to_keep), findings)


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
