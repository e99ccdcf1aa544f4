"""
What prepare disabled stays disabled through the stock systemd actors of a real upgrade.

Leapp records the unit file state of every service in FactsCollection (scan_systemd_source, all
still enabled), again after the RPM upgrade (scan_systemd_target: what prepare left), and
transition_systemd_services_states asks to enable every service that was enabled before and is
disabled after; set_systemd_services_state applies it at Finalization, before the first boot of the
new OS. The units here live on the private bus's systemd1 peer; prepare runs for real against it
and the daemon; the stock libraries run with leapp-repository's own test utilities.
"""
import pytest

from leapp.libraries.common import systemd as stock_systemd
from leapp.libraries.common.testutils import CurrentActorMocked, produce_mocked
from leapp.libraries.stdlib import api
from leapp.models import (SystemdServiceFile, SystemdServicePreset, SystemdServicesInfoSource,
                          SystemdServicesInfoTarget, SystemdServicesPresetInfoSource,
                          SystemdServicesPresetInfoTarget, SystemdServicesTasks)
from stock import stock_actor_library
from tripleo_upgrade_libraries import tripleo_helper_client, tripleo_prepare
from tripleo_upgrade_libraries.tripleo_systemd import Systemd

NODE = 'controller-0'
OURS = ['pacemaker.service', 'corosync.service', 'tripleo_haproxy.service', 'tripleo_nova_api.service']
OUR_TIMER = 'tripleo_nova_api_healthcheck.timer'
KEPT_RUNNING = ['ceph-mon@controller-0.service', 'chronyd.service']


@pytest.fixture
def controller(tmp_path, systemd_bus, helper_daemon, leapp_repository):
    systemd_bus.load([systemd_bus.unit(name) for name in OURS + [OUR_TIMER] + KEPT_RUNNING])
    token = helper_daemon.add_node(NODE, 'Controller', one_by_one=True)
    helper_daemon.add_node('controller-1', 'Controller', one_by_one=True)
    pcs = tmp_path / 'pcs'
    pcs.write_text('#!/bin/sh\nexit 0\n')  # no cluster here; the lease decides, prepare stops the units
    pcs.chmod(0o755)

    def prepare():
        client = tripleo_helper_client.HelperClient(helper_daemon.url, token, retries=0)
        record = tripleo_prepare.prepare(client, Systemd(systemd_bus.address), NODE, {},
                                         state_file=str(tmp_path / 'prepare-state.json'), pcs_command=[str(pcs)])
        return SystemdServicesTasks(to_disable=tripleo_prepare.services_kept_disabled(record))
    return systemd_bus, prepare


def service_files(bus, model):
    """What scan_systemd_source/target record: the .service unit files and their state (systemctl --type=service)."""
    return model(service_files=[SystemdServiceFile(name=name, state=unit['unit_file_state'])
                                for name, unit in sorted(bus.units().items()) if name.endswith('.service')])


def presets(model, bus):
    # RHEL's presets disable these services; the stock actor's own default for a service without a preset too.
    return model(presets=[SystemdServicePreset(service=name, state='disable')
                          for name in bus.units() if name.endswith('.service')])


def stock_upgrade(manager, monkeypatch, bus, source, ours):
    """The stock transition and Finalization, applied to the units on the bus; returns the stock tasks."""
    target = service_files(bus, SystemdServicesInfoTarget)
    monkeypatch.setattr(api, 'current_actor', CurrentActorMocked(msgs=[
        source, target, presets(SystemdServicesPresetInfoSource, bus), presets(SystemdServicesPresetInfoTarget, bus)]))
    produced = produce_mocked()
    monkeypatch.setattr(api, 'produce', produced)
    with stock_actor_library(manager, 'systemd/transitionsystemdservicesstates',
                             'transitionsystemdservicesstates') as transition:
        monkeypatch.setattr(transition.reporting, 'create_report', lambda entries: None)
        transition.process()
    [theirs] = produced.model_instances

    systemd = Systemd(bus.address)
    monkeypatch.setattr(stock_systemd, 'enable_unit', lambda unit: systemd.enable([unit]))
    monkeypatch.setattr(stock_systemd, 'disable_unit', lambda unit: systemd.disable([unit]))
    monkeypatch.setattr(api, 'current_actor', CurrentActorMocked(msgs=[theirs] + ([ours] if ours else [])))
    with stock_actor_library(manager, 'systemd/setsystemdservicesstates', 'setsystemdservicesstate') as finalization:
        finalization.process()
    return theirs


def enabled(bus):
    return sorted(name for name, unit in bus.units().items() if unit['unit_file_state'] == 'enabled')


def test_what_prepare_disabled_stays_disabled_at_the_first_boot(controller, monkeypatch, leapp_repository):
    bus, prepare = controller
    source = service_files(bus, SystemdServicesInfoSource)
    ours = prepare()
    theirs = stock_upgrade(leapp_repository, monkeypatch, bus, source, ours)

    # Without our message leapp would enable every service prepare disabled...
    assert sorted(theirs.to_enable) == sorted(OURS)
    # ...with it, nothing of ours is enabled, and what prepare left running keeps its state.
    assert enabled(bus) == sorted(KEPT_RUNNING)
    assert bus.units()[OUR_TIMER]['unit_file_state'] == 'disabled'


def test_without_our_tasks_the_stock_actors_enable_the_cluster_again(controller, monkeypatch, leapp_repository):
    """The failure this guards against, reproduced: it is what happened before prepare told leapp."""
    bus, prepare = controller
    source = service_files(bus, SystemdServicesInfoSource)
    prepare()
    stock_upgrade(leapp_repository, monkeypatch, bus, source, None)
    assert 'pacemaker.service' in enabled(bus) and 'tripleo_nova_api.service' in enabled(bus)
    # Timers are not services: leapp leaves them as prepare did.
    assert bus.units()[OUR_TIMER]['unit_file_state'] == 'disabled'
