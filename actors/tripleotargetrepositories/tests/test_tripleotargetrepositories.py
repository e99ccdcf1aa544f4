import configparser

import pytest

from leapp.libraries.common import tripleo_packages
from leapp.models import (RPM, CustomTargetRepository, CustomTargetRepositoryFile, DistributionSignedRPM,
                          InstalledRPM, RpmTransactionTasks)
from leapp.reporting import Report
from leapp.utils.report import is_inhibitor
from testing.node_config import upgrade_config

RED_HAT_KEY = 'RSA/SHA256, key ID 199e2f91fd431d51'


def _rpm(name, version, release, pgpsig=RED_HAT_KEY):
    return RPM(name=name, epoch='0', packager='Red Hat', version=version, release=release, arch='noarch',
               pgpsig=pgpsig)


PACKAGES = [
    _rpm('openstack-nova-compute', '20.6.1', '2.el8ost'),
    _rpm('python3-nova', '20.6.1', '2.el8ost'),
    _rpm('podman', '4.0.2', '6.module+el8.6.0'),
]
INSTALLED = InstalledRPM(items=PACKAGES)
SIGNED = DistributionSignedRPM(items=PACKAGES)


@pytest.fixture(autouse=True)
def repo_file(tmp_path, monkeypatch):
    path = str(tmp_path / 'node-state' / 'tripleo-upgrade-target.repo')
    monkeypatch.setattr(tripleo_packages, 'REPO_FILE', path)
    return path


def test_repositories_go_to_a_repo_file_and_packages_are_expanded(current_actor_context, repo_file):
    current_actor_context.feed(INSTALLED, SIGNED, upgrade_config(
        target_repositories=[{'id': 'rhel-9-baseos', 'name': 'RHEL 9 BaseOS', 'baseurl': 'http://mirror/BaseOS',
                              'gpgcheck': True},
                             {'id': 'rhosp-17.1', 'name': 'OSP 17.1', 'baseurl': 'http://mirror/osp17.1'}],
        remove_packages=['*el8ost*'], install_packages=['podman', 'python3-tripleoclient']))
    current_actor_context.run()
    [repo_file_message] = current_actor_context.consume(CustomTargetRepositoryFile)
    assert repo_file_message.file == repo_file
    parser = configparser.ConfigParser()
    parser.read(repo_file)
    assert parser.sections() == ['rhel-9-baseos', 'rhosp-17.1']
    assert parser['rhel-9-baseos']['baseurl'] == 'http://mirror/BaseOS'
    assert parser['rhel-9-baseos']['gpgcheck'] == '1'
    repos = current_actor_context.consume(CustomTargetRepository)
    assert [(r.repoid, r.name) for r in repos] == [('rhel-9-baseos', 'RHEL 9 BaseOS'), ('rhosp-17.1', 'OSP 17.1')]
    [tasks] = current_actor_context.consume(RpmTransactionTasks)
    assert tasks.to_remove == ['openstack-nova-compute', 'python3-nova']
    assert tasks.to_install == ['python3-tripleoclient']
    assert tasks.to_keep == ['podman']
    assert not current_actor_context.consume(Report)


def test_a_pattern_that_matches_nothing_is_reported_not_inhibiting(current_actor_context):
    current_actor_context.feed(INSTALLED, SIGNED, upgrade_config(remove_packages=['*el7ost*']))
    current_actor_context.run()
    [report] = current_actor_context.consume(Report)
    assert not is_inhibitor(report.report)
    assert report.report['key'] == 'tripleo_upgrade.packages.remove_packages'
    assert "'*el7ost*' matches none of the 3 installed packages" in report.report['summary']
    assert not current_actor_context.consume(RpmTransactionTasks)
    assert not current_actor_context.consume(CustomTargetRepositoryFile)


def test_matched_packages_leapp_would_not_remove_are_an_inhibitor(current_actor_context):
    current_actor_context.feed(INSTALLED, DistributionSignedRPM(items=PACKAGES[2:]),
                               upgrade_config(remove_packages=['*el8ost*']))
    current_actor_context.run()
    [report] = current_actor_context.consume(Report)
    assert is_inhibitor(report.report)
    assert report.report['key'] == 'tripleo_upgrade.packages.not_distribution_signed'
    assert {'scheme': 'package', 'title': 'python3-nova'} in report.report['detail']['related_resources']
