"""
All facts of one node from real components at once: a private D-Bus with a systemd1 peer, crm_mon
reading a CIB file, a real rpm database, hieradata files, and a fake podman (Ceph cannot run here).
"""
import json
import os
import stat

import pytest

from testing.rpmdb import rpm_bindings_missing
from tripleo_upgrade_libraries import tripleo_facts

# Under RHEL's Python 3.6/3.9 (scripts/test) there are no rpm bindings: the packages fact is then unknown, saying so.
NO_RPM_BINDINGS = rpm_bindings_missing() is not None
UNKNOWN_PACKAGES = {'known': False, 'reason': 'the rpm Python bindings (python3-rpm) are not installed',
                    'pacemaker': None, 'corosync': None, 'openstack_release': []}

DATA = os.path.join(os.path.dirname(__file__), 'data')


@pytest.fixture
def controller(tmp_path, monkeypatch, rpmdb, systemd_bus):
    """controller-0 of a 3-controller cloud: units on the bus, a CIB, packages, hieradata, a ceph-mon."""
    systemd_bus.load([
        systemd_bus.unit('tripleo_nova_api.service'),
        systemd_bus.unit('tripleo_nova_api_healthcheck.timer'),
        systemd_bus.unit('tripleo_neutron_l3_agent.service', active_state='failed'),
        systemd_bus.unit('tripleo_cinder_api.service', active_state='inactive', unit_file_state='disabled'),
        systemd_bus.unit('sshd.service'),
    ])
    rpmdb.install(('pacemaker', '2.1.2', '4.el8'), ('corosync', '3.1.5', '2.el8'),
                  ('rhosp-release', '16.2.4', '1.el8ost'))
    hieradata = tmp_path / 'hieradata'
    hieradata.mkdir()
    (hieradata / 'service_names.json').write_text(json.dumps({'service_names': ['ceph_mon', 'pacemaker']}))
    (hieradata / 'all_nodes.json').write_text(json.dumps({
        'pacemaker_short_node_names': ['controller-0', 'controller-1', 'controller-2'],
        'pacemaker_short_bootstrap_node_name': 'controller-0',
        'mysql_short_node_names': ['controller-0', 'controller-1', 'controller-2']}))
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    podman = bindir / 'podman'
    podman.write_text('#!/bin/sh\n[ "$1" = container ] && exit 0\ncat {}\n'.format(
        os.path.join(DATA, 'ceph', 'quorum_status-3mons.json')))
    podman.chmod(podman.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv('PATH', '{}:{}'.format(bindir, os.environ['PATH']))
    return dict(node_name='controller-0', hieradata_dir=str(hieradata),
                crm_mon_env={'CIB_file': os.path.join(DATA, 'cib', 'online.xml')},
                rpm_dbpath=rpmdb.path, bus_address=systemd_bus.address)


def test_all_facts_of_a_controller(controller):
    facts = tripleo_facts.gather(**controller)
    assert facts['node_name'] == 'controller-0'
    assert (facts['identity']['kind'], facts['identity']['is_bootstrap']) == ('overcloud', True)
    units = dict((u['name'], (u['active_state'], u['unit_file_state'])) for u in facts['units']['units'])
    assert units == {
        'tripleo_cinder_api.service': ('inactive', 'disabled'),
        'tripleo_neutron_l3_agent.service': ('failed', 'enabled'),
        'tripleo_nova_api.service': ('active', 'enabled'),
        'tripleo_nova_api_healthcheck.timer': ('active', 'enabled'),
    }
    assert (facts['pacemaker']['membership'], facts['pacemaker']['node_state']) == ('member', 'online')
    assert facts['pacemaker']['bundles'] == ['galera-bundle', 'haproxy-bundle']
    assert facts['ceph']['hosts_mon'] is True
    assert facts['ceph']['quorum']['in_quorum'] == ['controller-0', 'controller-1', 'controller-2']
    assert facts['packages'] == (UNKNOWN_PACKAGES if NO_RPM_BINDINGS else {
        'known': True, 'reason': None, 'pacemaker': '2.1.2-4.el8', 'corosync': '3.1.5-2.el8',
        'openstack_release': [{'name': 'rhosp-release', 'version': '16.2.4-1.el8ost'}]})


def test_every_probe_that_cannot_run_is_unknown_with_its_reason(tmp_path, monkeypatch):
    monkeypatch.setenv('PATH', str(tmp_path / 'empty-bin'))
    facts = tripleo_facts.gather(node_name='controller-0', hieradata_dir=str(tmp_path / 'no-hieradata'),
                                 rpm_dbpath=str(tmp_path / 'no-rpmdb'),
                                 bus_address='unix:path={}'.format(tmp_path / 'no-bus'))
    assert facts['identity']['kind'] == 'unknown'
    assert 'no-hieradata/service_names.json' in facts['identity']['reason']
    assert facts['units']['known'] is False
    assert facts['units']['reason'].startswith('cannot reach systemd on unix:path=')
    assert facts['pacemaker']['membership'] == 'unknown'
    assert facts['pacemaker']['reason'].startswith('cannot run crm_mon')
    assert facts['ceph']['hosts_mon'] is None
    assert 'cannot run podman' in facts['ceph']['reason']
    assert facts['packages']['known'] is False
    if NO_RPM_BINDINGS:
        assert facts['packages']['reason'] == UNKNOWN_PACKAGES['reason']
    else:
        assert 'no-rpmdb does not exist' in facts['packages']['reason']
