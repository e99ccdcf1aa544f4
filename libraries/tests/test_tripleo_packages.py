"""Pattern expansion against a real rpm database (testing/rpmdb.py), read with tripleo_rpm as the node does."""
import configparser
import os

import pytest

from tripleo_upgrade_libraries import tripleo_packages, tripleo_rpm

INSTALLED = [
    ('openstack-nova-common', '20.6.1', '2.20220622.el8ost'),
    ('openstack-nova-compute', '20.6.1', '2.20220622.el8ost'),
    ('python3-nova', '20.6.1', '2.20220622.el8ost'),
    ('puppet-tripleo', '11.7.0', '1.el8ost'),
    ('podman', '4.0.2', '6.module+el8.6.0', '3'),
    ('pacemaker', '2.1.2', '4.el8'),
]


@pytest.fixture
def installed(rpmdb, rpm_bindings):
    rpmdb.install(*INSTALLED)
    packages = tripleo_rpm.installed_packages(dbpath=rpmdb.path)
    assert len(packages) == len(INSTALLED)
    return packages


def signed(packages, *unsigned):
    return [p.name for p in packages if p.name not in unsigned]


def test_patterns_expand_to_exact_names_of_installed_packages(installed):
    result = tripleo_packages.transaction(['*el8ost*'], [], installed, signed(installed))
    assert result.to_remove == ['openstack-nova-common', 'openstack-nova-compute', 'puppet-tripleo', 'python3-nova']
    assert result.findings == []


def test_patterns_match_names_and_full_specs_but_never_reach_the_transaction(installed):
    result = tripleo_packages.transaction(['openstack-nova-*', 'python3-nova-20.6.1-*.noarch', 'pacemaker'], [],
                                          installed, signed(installed))
    assert result.to_remove == ['openstack-nova-common', 'openstack-nova-compute', 'pacemaker', 'python3-nova']
    assert not [n for n in result.to_remove if any(c in n for c in '*?[')]


def test_a_pattern_matching_nothing_is_reported_naming_it(installed):
    result = tripleo_packages.transaction(['*el8ost*', '*el7ost*'], [], installed, signed(installed))
    [finding] = result.findings
    assert not finding.inhibitor
    assert finding.key == 'tripleo_upgrade.packages.remove_packages'
    assert finding.summary == ("tripleo_upgrade.remove_packages entry '*el7ost*' matches none of the 6 installed "
                               'packages, so it changes nothing in the upgrade transaction.')
    assert 'remove it from tripleo_upgrade.remove_packages' in finding.remediation


def test_matched_packages_leapp_would_not_remove_are_an_inhibitor_naming_them(installed):
    # RDO on CentOS: the OpenStack packages are not signed by the distribution, and leapp's
    # check_rpm_transaction_events keeps only distribution-signed packages in to_remove.
    result = tripleo_packages.transaction(['*el8ost*'], [], installed,
                                          signed(installed, 'openstack-nova-compute', 'python3-nova'))
    [finding] = result.findings
    assert finding.inhibitor
    assert finding.key == 'tripleo_upgrade.packages.not_distribution_signed'
    assert "openstack-nova-compute (pattern '*el8ost*'), python3-nova (pattern '*el8ost*')" in finding.summary
    assert finding.resources == (('package', 'openstack-nova-compute'), ('package', 'python3-nova'))


def test_install_packages_are_kept_or_installed_and_never_also_removed(installed):
    result = tripleo_packages.transaction(['*el8ost*'], ['podman', 'openstack-nova-compute', 'python3-tripleoclient',
                                                         'openstack-*'], installed, signed(installed))
    assert result.to_keep == ['openstack-nova-compute', 'podman']
    assert result.to_install == ['python3-tripleoclient']
    assert 'openstack-nova-compute' not in result.to_remove
    pattern, overlap = result.findings
    assert pattern.summary.startswith("tripleo_upgrade.install_packages entry 'openstack-*' is a pattern, not a name")
    assert overlap.key == 'tripleo_upgrade.packages.install_and_remove' and not overlap.inhibitor
    assert 'lists openstack-nova-compute, which tripleo_upgrade.remove_packages also matches' in overlap.summary


def test_the_repo_file_defines_every_configured_repository_with_its_options(tmp_path):
    path = str(tmp_path / 'node' / 'tripleo-upgrade-target.repo')
    written = tripleo_packages.write_repo_file([
        {'id': 'rhel-9-baseos', 'name': 'RHEL 9 BaseOS', 'baseurl': ['https://sat/BaseOS', 'https://m/BaseOS'],
         'gpgcheck': True, 'sslclientkey': '/etc/pki/entitlement/1-key.pem', 'priority': 10},
        {'id': 'rhosp-17.1', 'mirrorlist': 'https://mirror/osp17.1/mirrors', 'module_hotfixes': False},
    ], '/etc/leapp/actor_conf.d', path=path)
    assert written == path
    assert oct(os.stat(path).st_mode & 0o777) == '0o600'
    parser = configparser.ConfigParser()
    parser.read(path)
    assert parser.sections() == ['rhel-9-baseos', 'rhosp-17.1']
    assert dict(parser['rhel-9-baseos']) == {
        'name': 'RHEL 9 BaseOS', 'enabled': '1', 'baseurl': 'https://sat/BaseOS https://m/BaseOS', 'gpgcheck': '1',
        'priority': '10', 'sslclientkey': '/etc/pki/entitlement/1-key.pem'}
    assert dict(parser['rhosp-17.1']) == {'name': 'rhosp-17.1', 'enabled': '1', 'module_hotfixes': '0',
                                          'mirrorlist': 'https://mirror/osp17.1/mirrors'}


def test_no_repositories_leave_no_repo_file(tmp_path):
    path = tmp_path / 'tripleo-upgrade-target.repo'
    path.write_text('[stale]\n')
    assert tripleo_packages.write_repo_file([], '/etc/leapp/actor_conf.d', path=str(path)) is None
    assert not path.exists()
