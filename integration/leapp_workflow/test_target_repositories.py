"""
The configured target repositories are found by the stock target_userspace_creator.

It copies every CustomTargetRepositoryFile into the target userspace's /etc/yum.repos.d and accepts a
custom repository id only when a repo file there defines it; otherwise it inhibits the upgrade with
"Some required custom target repositories have not been found". setup_target_repos hands the
CustomTargetRepository messages on unchanged as TargetRepositories.custom_repos (its own tests).
"""
import os

import pytest

from leapp.libraries.common import mounting, repofileutils
from leapp.libraries.common.testutils import CurrentActorMocked, create_report_mocked
from leapp.libraries.stdlib import api
from leapp.models import (CustomTargetRepository, CustomTargetRepositoryFile, DistroTargetRepository,
                          TargetRepositories)
from stock import stock_actor_library
from tripleo_upgrade_libraries import tripleo_config, tripleo_packages

REPOSITORIES = [
    {'id': 'rhel-9-for-x86_64-baseos-rpms', 'name': 'RHEL 9 BaseOS', 'baseurl': 'https://satellite/BaseOS',
     'sslclientcert': '/etc/pki/entitlement/1.pem', 'sslclientkey': '/etc/pki/entitlement/1-key.pem',
     'sslcacert': '/etc/rhsm/ca/katello-server-ca.pem', 'gpgcheck': True},
    {'id': 'openstack-17.1-for-rhel-9-x86_64-rpms', 'baseurl': ['https://satellite/osp', 'https://mirror/osp'],
     'priority': 1, 'module_hotfixes': True, 'proxy': 'http://proxy:3128'},
]


def gather(manager, monkeypatch, tmp_path, messages, distro_ids=()):
    """The stock gathering of target repositories in a target userspace at tmp_path; returns (ids, reports)."""
    userspace = tmp_path / 'userspace'
    (userspace / 'etc' / 'yum.repos.d').mkdir(parents=True)
    files = [m for m in messages if isinstance(m, CustomTargetRepositoryFile)]
    custom = [m for m in messages if isinstance(m, CustomTargetRepository)]
    monkeypatch.setattr(api, 'current_actor', CurrentActorMocked(msgs=[TargetRepositories(
        rhel_repos=[], distro_repos=[DistroTargetRepository(repoid=i) for i in distro_ids], custom_repos=custom)]))
    reports = create_report_mocked()
    with stock_actor_library(manager, 'targetuserspacecreator', 'userspacegen') as userspacegen:
        monkeypatch.setattr(userspacegen.reporting, 'create_report', reports)
        userspacegen._install_custom_repofiles(mounting.NotIsolatedActions(base_dir=str(userspace)), files)
        # What `dnf` reports as repository directories of the userspace (no dnf on this machine), and the
        # distribution's repositories that RHSM or the distribution's repo files would provide.
        monkeypatch.setattr(repofileutils, 'get_repodirs', lambda: [str(userspace / 'etc' / 'yum.repos.d')])
        monkeypatch.setattr(userspacegen, '_get_distro_available_repoids', lambda context, indata: set(distro_ids))
        try:
            found = userspacegen.gather_target_repositories(mounting.NotIsolatedActions(base_dir='/'), None)
        except Exception as exc:  # StopActorExecution after an inhibitor
            found = exc
    return found, reports.reports


def our_messages(repo_file, repositories):
    path = tripleo_packages.write_repo_file(repositories, tripleo_config.DEFAULT_CONFIG_DIR, path=repo_file)
    return [CustomTargetRepositoryFile(file=path)] + [
        CustomTargetRepository(repoid=r['id'], name=r.get('name') or r['id']) for r in repositories]


def test_our_repositories_are_found_and_nothing_inhibits(leapp_repository, monkeypatch, tmp_path):
    messages = our_messages(str(tmp_path / 'tripleo-upgrade-target.repo'), REPOSITORIES)
    found, reports = gather(leapp_repository, monkeypatch, tmp_path, messages)
    assert reports == []
    assert sorted(found) == sorted(r['id'] for r in REPOSITORIES)
    copied = tmp_path / 'userspace' / 'etc' / 'yum.repos.d' / 'tripleo-upgrade-target.repo'
    options = dict((repo.repoid, repo) for repo in repofileutils.parse_repofile(str(copied)).data)
    assert options['openstack-17.1-for-rhel-9-x86_64-rpms'].baseurl == 'https://satellite/osp https://mirror/osp'
    assert oct(os.stat(str(copied)).st_mode & 0o777) == '0o600'


def test_ids_without_a_repo_file_are_what_inhibited_every_node(leapp_repository, monkeypatch, tmp_path):
    """The failure this guards against: the baseurl on CustomTargetRepository alone is never used."""
    messages = [CustomTargetRepository(repoid=r['id'], name=r['id'], baseurl='https://satellite/x')
                for r in REPOSITORIES]
    found, reports = gather(leapp_repository, monkeypatch, tmp_path, messages, distro_ids=['rhel-9-appstream'])
    assert isinstance(found, Exception)
    [report] = reports
    assert report['title'] == 'Some required custom target repositories have not been found'
    assert 'inhibitor' in report['groups']


@pytest.fixture(autouse=True)
def no_rhsm(monkeypatch):
    monkeypatch.setenv('LEAPP_NO_RHSM', '1')
