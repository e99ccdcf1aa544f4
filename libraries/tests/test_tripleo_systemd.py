import os
import subprocess
import sys

import pytest

from tripleo_upgrade_libraries.tripleo_systemd import Systemd, SystemdError, Unit


@pytest.fixture
def bus(systemd_bus):
    systemd_bus.load([
        systemd_bus.unit('tripleo_nova_compute.service', job_seconds=0.5),
        systemd_bus.unit('tripleo_nova_compute_healthcheck.timer', sub_state='waiting'),
        systemd_bus.unit('tripleo_logrotate_crond.service', active_state='inactive', unit_file_state='disabled'),
        systemd_bus.unit('ceph-mon@controller-0.service'),
        systemd_bus.unit('sshd.service'),
    ])
    return systemd_bus


def test_list_units_matches_patterns_with_unit_file_state(bus):
    units = Systemd(bus.address).list_units(['tripleo_*', 'ceph-mon@*'])
    assert units == [
        Unit('ceph-mon@controller-0.service', 'loaded', 'active', 'running', 'enabled'),
        Unit('tripleo_logrotate_crond.service', 'loaded', 'inactive', 'dead', 'disabled'),
        Unit('tripleo_nova_compute.service', 'loaded', 'active', 'running', 'enabled'),
        Unit('tripleo_nova_compute_healthcheck.timer', 'loaded', 'active', 'waiting', 'enabled'),
    ]


def test_stop_returns_once_the_jobs_have_finished(bus):
    names = ['tripleo_nova_compute.service', 'tripleo_nova_compute_healthcheck.timer']
    Systemd(bus.address).stop(names)
    units = bus.units()
    assert [units[n]['active_state'] for n in names] == ['inactive', 'inactive']
    assert units['ceph-mon@controller-0.service']['active_state'] == 'active'
    assert bus.calls('StopUnit') == [[n, 'replace'] for n in names]


def test_disable_then_enable_does_not_start_anything(bus):
    systemd = Systemd(bus.address)
    systemd.stop(['tripleo_nova_compute.service'])
    systemd.disable(['tripleo_nova_compute.service'])
    assert bus.units()['tripleo_nova_compute.service']['unit_file_state'] == 'disabled'
    systemd.enable(['tripleo_nova_compute.service'])
    unit = bus.units()['tripleo_nova_compute.service']
    assert (unit['unit_file_state'], unit['active_state']) == ('enabled', 'inactive')
    assert [method for method, _ in bus.calls() if method != 'GetUnitFileState'] == [
        'StopUnit', 'DisableUnitFiles', 'Reload', 'EnableUnitFiles', 'Reload']
    assert bus.calls('EnableUnitFiles') == [[['tripleo_nova_compute.service'], False, False]]


def test_start_tries_every_unit_and_names_the_one_that_failed(systemd_bus):
    systemd_bus.load([
        systemd_bus.unit('tripleo_a.service', active_state='inactive', start_result='failed'),
        systemd_bus.unit('tripleo_b.service', active_state='inactive'),
    ])
    with pytest.raises(SystemdError) as error:
        Systemd(systemd_bus.address).start(['tripleo_a.service', 'tripleo_b.service'])
    assert str(error.value) == ('systemd could not start 1 of 2 unit(s): '
                                'tripleo_a.service: failed after the start job')
    assert systemd_bus.units()['tripleo_b.service']['active_state'] == 'active'


def test_unknown_unit_is_reported_with_systemds_error(bus):
    with pytest.raises(SystemdError) as error:
        Systemd(bus.address).stop(['tripleo_missing.service', 'tripleo_nova_compute.service'])
    assert str(error.value) == (
        'systemd could not stop 1 of 2 unit(s): tripleo_missing.service: Unit tripleo_missing.service '
        'not loaded. (org.freedesktop.systemd1.NoSuchUnit)')
    assert bus.units()['tripleo_nova_compute.service']['active_state'] == 'inactive'


def test_a_job_that_does_not_finish_in_time_is_an_error(systemd_bus):
    systemd_bus.load([systemd_bus.unit('tripleo_slow.service', job_seconds=30)])
    with pytest.raises(SystemdError) as error:
        Systemd(systemd_bus.address, job_timeout=0.5).stop(['tripleo_slow.service'])
    assert str(error.value) == ('systemd could not stop 1 of 1 unit(s): '
                                'tripleo_slow.service: the stop job did not finish within 0.5s')


def test_unreachable_bus_is_one_clear_message(tmp_path):
    with pytest.raises(SystemdError) as error:
        Systemd('unix:path={}/nothing'.format(tmp_path))
    assert str(error.value).startswith('cannot reach systemd on unix:path={}/nothing: '.format(tmp_path))


def test_without_dbus_python_every_library_loads_and_the_checks_say_what_to_install(tmp_path):
    """Leapp imports every library of the repository at start: one missing module must not stop all of leapp."""
    script = '''
import importlib, os, sys
sys.modules["dbus"] = None  # as on a node without python3-dbus: `import dbus` raises ImportError
from testing.libraries import register_libraries_package
package = register_libraries_package()
for name in sorted(os.listdir(package.__path__[0])):
    if name.startswith("tripleo_") and name.endswith(".py"):
        importlib.import_module(package.__name__ + "." + name[:-3])
from tripleo_upgrade_libraries import tripleo_checks, tripleo_systemd
[finding] = [f for f in [tripleo_checks._dbus_bindings()] if f]
print(finding.key, finding.inhibitor, finding.remediation)
try:
    tripleo_systemd.Systemd()
except tripleo_systemd.SystemdError as exc:
    print("SystemdError:", exc)
'''
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    done = subprocess.run([sys.executable, '-c', script], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert 'tripleo_upgrade.python3_dbus True Install the package: `dnf install python3-dbus`' in done.stdout
    assert 'SystemdError: the D-Bus Python bindings cannot be imported' in done.stdout
