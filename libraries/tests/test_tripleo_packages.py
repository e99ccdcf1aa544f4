"""Pattern expansion against a real rpm database (testing/rpmdb.py), read with tripleo_rpm as the node does."""
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


def test_patterns_expand_to_exact_names_of_installed_packages(installed):
    result = tripleo_packages.transaction(['*el8ost*'], [], installed)
    assert result.to_remove == ['openstack-nova-common', 'openstack-nova-compute', 'puppet-tripleo', 'python3-nova']
    assert result.findings == []


def test_patterns_match_names_and_full_specs_but_never_reach_the_transaction(installed):
    result = tripleo_packages.transaction(['openstack-nova-*', 'python3-nova-20.6.1-*.noarch', 'pacemaker'], [],
                                          installed)
    assert result.to_remove == ['openstack-nova-common', 'openstack-nova-compute', 'pacemaker', 'python3-nova']
    assert not [n for n in result.to_remove if any(c in n for c in '*?[')]


def test_a_pattern_matching_nothing_is_reported_naming_it(installed):
    result = tripleo_packages.transaction(['*el8ost*', '*el7ost*'], [], installed)
    [finding] = result.findings
    assert not finding.inhibitor
    assert finding.key == 'tripleo_upgrade.packages.remove_packages'
    assert finding.summary == ("tripleo_upgrade.remove_packages entry '*el7ost*' matches none of the 6 installed "
                               'packages, so it changes nothing in the upgrade transaction.')
    assert 'remove it from tripleo_upgrade.remove_packages' in finding.remediation


def test_install_packages_are_kept_installed_or_replaced(installed):
    result = tripleo_packages.transaction(['*el8ost*'], ['podman', 'openstack-nova-compute', 'python3-tripleoclient',
                                                         'openstack-*'], installed)
    assert result.to_keep == ['podman']
    assert result.to_install == ['openstack-nova-compute', 'python3-tripleoclient']
    assert 'openstack-nova-compute' in result.to_remove
    [finding] = result.findings
    assert finding.summary.startswith("tripleo_upgrade.install_packages entry 'openstack-*' is a pattern, not a name")


def test_target_repositories_take_the_id_as_default_name():
    assert tripleo_packages.target_repositories([
        {'id': 'rhel-9-baseos', 'name': 'RHEL 9 BaseOS', 'baseurl': 'http://mirror/rhel9/BaseOS'},
        {'id': 'rhosp-17.1', 'baseurl': 'http://mirror/osp17.1'},
    ]) == [{'id': 'rhel-9-baseos', 'name': 'RHEL 9 BaseOS', 'baseurl': 'http://mirror/rhel9/BaseOS'},
           {'id': 'rhosp-17.1', 'name': 'rhosp-17.1', 'baseurl': 'http://mirror/osp17.1'}]
