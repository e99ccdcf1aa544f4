"""The facts scanner on a node made of real components: private system bus, CIB file, rpm db, hieradata."""
import json
import os
import stat

import pytest

from leapp.libraries.common import tripleo_node
from leapp.models import TripleoNodeFacts
from testing.node_config import upgrade_config

DATA = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'libraries', 'tests', 'data')


@pytest.fixture
def controller_1(tmp_path, monkeypatch, systemd_bus, rpmdb):
    rpm = pytest.importorskip('rpm')
    systemd_bus.load([systemd_bus.unit('tripleo_nova_api.service'),
                      systemd_bus.unit('tripleo_neutron_l3_agent.service', active_state='failed')])
    monkeypatch.setenv('DBUS_SYSTEM_BUS_ADDRESS', systemd_bus.address)
    monkeypatch.setenv('CIB_file', os.path.join(DATA, 'cib', 'standby.xml'))
    hieradata = tmp_path / 'hieradata'
    hieradata.mkdir()
    (hieradata / 'service_names.json').write_text(json.dumps({'service_names': ['neutron_l3', 'pacemaker']}))
    (hieradata / 'all_nodes.json').write_text(json.dumps({'pacemaker_short_bootstrap_node_name': 'controller-0'}))
    monkeypatch.setattr(tripleo_node, 'HIERADATA_DIR', str(hieradata))
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    podman = bindir / 'podman'
    podman.write_text('#!/bin/sh\nexit 1\n')  # `podman container exists ceph-mon-controller-1`: no
    podman.chmod(podman.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv('PATH', '{}:{}'.format(bindir, os.environ['PATH']))
    rpmdb.install(('corosync', '3.1.5', '2.el8'))
    rpm.addMacro('_dbpath', rpmdb.path)
    yield upgrade_config(daemon_url='http://127.0.0.1:9', node_name='controller-1',
                         persist_dropin_dir=str(tmp_path / 'persist.d'))
    rpm.delMacro('_dbpath')


def test_facts_of_a_standby_controller(current_actor_context, controller_1):
    current_actor_context.feed(controller_1)
    current_actor_context.run()
    [facts] = current_actor_context.consume(TripleoNodeFacts)
    assert facts.node_name == 'controller-1'
    assert (facts.identity.kind, facts.identity.is_bootstrap) == ('overcloud', False)
    assert [(u.name, u.active_state) for u in facts.units.units] == [
        ('tripleo_neutron_l3_agent.service', 'failed'), ('tripleo_nova_api.service', 'active')]
    assert (facts.pacemaker.membership, facts.pacemaker.node_state) == ('member', 'standby')
    assert (facts.ceph.hosts_mon, facts.ceph.quorum) == (False, None)
    assert (facts.packages.corosync, facts.packages.pacemaker) == ('3.1.5-2.el8', None)


def test_unknown_facts_carry_their_reason(current_actor_context, controller_1, monkeypatch, tmp_path):
    monkeypatch.setenv('CIB_file', str(tmp_path / 'no-cib.xml'))
    monkeypatch.setenv('DBUS_SYSTEM_BUS_ADDRESS', 'unix:path={}'.format(tmp_path / 'no-bus'))
    current_actor_context.feed(controller_1)
    current_actor_context.run()
    [facts] = current_actor_context.consume(TripleoNodeFacts)
    assert facts.pacemaker.membership == 'unknown'
    assert 'Could not connect to the CIB' in facts.pacemaker.reason
    assert facts.units.known is False and 'cannot reach systemd' in facts.units.reason
