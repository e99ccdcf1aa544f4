"""Installed packages read with the rpm bindings from a real rpm database built with rpmbuild and rpm."""
import pytest

from testing.rpmdb import rpm_bindings_missing
from tripleo_upgrade_libraries import tripleo_commands, tripleo_rpm

if rpm_bindings_missing():
    pytest.skip(rpm_bindings_missing(), allow_module_level=True)
import rpm  # noqa: E402


@pytest.fixture
def controller_db(rpmdb):
    rpmdb.install(('pacemaker', '2.1.2', '4.el8'), ('corosync', '3.1.5', '2.el8', '1'),
                  ('rhosp-release', '16.2.4', '1.el8ost'), ('openstack-nova-common', '20.6.2', '2.el8ost', '1'))
    return rpmdb


def test_installed_packages_are_namedtuples_with_epoch(controller_db):
    packages = tripleo_rpm.installed_packages(dbpath=controller_db.path)
    assert [p.name for p in packages] == ['corosync', 'openstack-nova-common', 'pacemaker', 'rhosp-release']
    corosync, _, pacemaker, _ = packages
    assert corosync == tripleo_rpm.Package('corosync', '1', '3.1.5', '2.el8', 'noarch')
    assert pacemaker.epoch == '0'
    assert pacemaker.version == '2.1.2'


def test_upgrade_versions_name_cluster_and_release_packages(controller_db, rpmdb):
    versions = tripleo_rpm.upgrade_versions(tripleo_rpm.installed_packages(dbpath=controller_db.path))
    assert versions == {'pacemaker': '2.1.2-4.el8', 'corosync': '3.1.5-2.el8',
                        'openstack_release': [{'name': 'rhosp-release', 'version': '16.2.4-1.el8ost'}]}


def test_rdo_release_marker_and_no_cluster_packages(rpmdb):
    rpmdb.install(('centos-release-openstack-train', '1', '1.el8'))
    versions = tripleo_rpm.upgrade_versions(tripleo_rpm.installed_packages(dbpath=rpmdb.path))
    assert versions == {'pacemaker': None, 'corosync': None,
                        'openstack_release': [{'name': 'centos-release-openstack-train', 'version': '1-1.el8'}]}


def test_dbpath_is_reset_after_reading(controller_db):
    before = rpm.expandMacro('%{_dbpath}')
    tripleo_rpm.installed_packages(dbpath=controller_db.path)
    assert rpm.expandMacro('%{_dbpath}') == before


def test_missing_database_directory_is_a_clear_failure(tmp_path):
    with pytest.raises(tripleo_commands.CommandFailed, match='rpm database directory .*absent does not exist'):
        tripleo_rpm.installed_packages(dbpath=str(tmp_path / 'absent'))
