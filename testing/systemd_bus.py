"""
Fixture ``systemd_bus``: a private D-Bus system bus with a systemd1 peer on it.

The bus is a real ``dbus-daemon`` with a minimal configuration (not ``--session``, whose service
directories would make the bus try to start the machine's real systemd). The peer
(testing/systemd1_peer.py) runs as its own process with Debian's Python and answers the
org.freedesktop.systemd1 Manager methods with their real signatures and error names.

    def test_x(systemd_bus):
        systemd_bus.load([systemd_bus.unit('tripleo_nova_compute.service')])
        Systemd(systemd_bus.address).stop(['tripleo_nova_compute.service'])
        assert systemd_bus.calls('StopUnit') == [['tripleo_nova_compute.service', 'replace']]
        assert systemd_bus.units()['tripleo_nova_compute.service']['active_state'] == 'inactive'
"""
import json
import os
import shutil
import subprocess

import pytest

from testing.processes import wait_for

PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'systemd1_peer.py')
PEER_PYTHON = '/usr/bin/python3'
BUS_NAME = 'org.freedesktop.systemd1'
READY_TIMEOUT = 15.0

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""


class SystemdBus(object):
    def __init__(self, workdir):
        self.workdir = workdir
        self.socket = os.path.join(workdir, 'bus')
        self.address = 'unix:path=' + self.socket
        self.units_file = os.path.join(workdir, 'units.json')
        self.calls_file = os.path.join(workdir, 'calls.jsonl')
        self.state_file = os.path.join(workdir, 'state.json')
        self.bus = None
        self.peer = None

    @staticmethod
    def unit(name, active_state='active', unit_file_state='enabled', **extra):
        """One unit for load(); sub_state and load_state follow from active_state."""
        sub_state = {'active': 'running', 'inactive': 'dead', 'failed': 'failed'}.get(active_state, active_state)
        unit = {'name': name, 'load_state': 'loaded', 'active_state': active_state, 'sub_state': sub_state,
                'unit_file_state': unit_file_state}
        unit.update(extra)
        return unit

    def start_bus(self):
        config = os.path.join(self.workdir, 'bus.conf')
        with open(config, 'w') as f:
            f.write(BUS_CONFIG.format(socket=self.socket))
        self.bus = subprocess.Popen(['dbus-daemon', '--config-file=' + config, '--nofork', '--nopidfile'],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: os.path.exists(self.socket), 'dbus-daemon socket {}'.format(self.socket), READY_TIMEOUT)

    def load(self, units):
        """(Re)start the peer with these units (dicts as from unit()); the call record starts empty."""
        self.stop_peer()
        with open(self.units_file, 'w') as f:
            json.dump(units, f)
        open(self.calls_file, 'w').close()
        with open(os.path.join(self.workdir, 'peer.log'), 'w') as log:
            self.peer = subprocess.Popen([PEER_PYTHON, PEER, self.address, self.units_file, self.calls_file,
                                          self.state_file], stderr=log)
        wait_for(self._peer_ready, 'the systemd1 peer on {}'.format(self.address), READY_TIMEOUT, self.peer)

    def _peer_ready(self):
        out = subprocess.run(['dbus-send', '--bus=' + self.address, '--print-reply', '--dest=org.freedesktop.DBus',
                              '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner', 'string:' + BUS_NAME],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True).stdout
        return 'boolean true' in out

    def calls(self, *methods):
        """The recorded calls, in order: [(method, args)], or only the args of the given methods."""
        with open(self.calls_file) as f:
            calls = [json.loads(line) for line in f if line.strip()]
        if methods:
            return [c['args'] for c in calls if c['method'] in methods]
        return [(c['method'], c['args']) for c in calls]

    def units(self):
        """The peer's current units: name -> unit dict."""
        with open(self.state_file) as f:
            return {u['name']: u for u in json.load(f)}

    def stop_peer(self):
        if self.peer is not None:
            self.peer.terminate()
            self.peer.wait(10)
            self.peer = None

    def close(self):
        self.stop_peer()
        if self.bus is not None:
            self.bus.terminate()
            self.bus.wait(10)


@pytest.fixture
def systemd_bus(tmp_path_factory):
    if not os.access(PEER_PYTHON, os.X_OK) or shutil.which('dbus-daemon') is None:
        pytest.fail('the systemd_bus fixture needs dbus-daemon and {} with python3-dbus and python3-gi '
                    '(Debian packages dbus python3-dbus python3-gi; scripts/test installs them)'.format(PEER_PYTHON))
    # A short directory: a unix socket path is limited to 108 bytes.
    bus = SystemdBus(str(tmp_path_factory.mktemp('bus')))
    bus.start_bus()
    try:
        yield bus
    finally:
        bus.close()
