"""
A stand-in for systemd's D-Bus API (``org.freedesktop.systemd1``), for tests only.

Runs as its own process with Debian's ``/usr/bin/python3`` (python3-dbus, python3-gi), on a
private bus started by the ``systemd_bus`` fixture. It owns ``org.freedesktop.systemd1`` and
answers the Manager methods the node-side code uses with their real signatures and error names:
units and their states come from a JSON file the test writes, jobs live as
``/org/freedesktop/systemd1/job/N`` objects until they finish (then ``JobRemoved`` is emitted and
the object is gone, as in systemd), and every call is appended to a JSON-lines record so tests can
check what was called and in which order. The units' current states are written to a JSON file
after every change.

Usage: systemd1_peer.py BUS_ADDRESS UNITS_JSON CALLS_JSONL STATE_JSON
Per unit in UNITS_JSON: name, load_state, active_state, sub_state, unit_file_state, and optionally
``job_seconds`` (how long its jobs run, default 0.2) and ``start_result`` ("done" or "failed").
"""
import fnmatch
import json
import os
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

BUS_NAME = 'org.freedesktop.systemd1'
ROOT = '/org/freedesktop/systemd1'
MANAGER = 'org.freedesktop.systemd1.Manager'
UNIT_IFACE = 'org.freedesktop.systemd1.Unit'
JOB_IFACE = 'org.freedesktop.systemd1.Job'
PROPS = 'org.freedesktop.DBus.Properties'
UNIT_DIR = '/etc/systemd/system'


class SystemdError(dbus.exceptions.DBusException):
    def __init__(self, name, message):
        super().__init__(message, name=name)


def escape_path(name):
    """systemd's bus path escaping of a unit name (sd_bus_path_encode)."""
    return ''.join(c if c.isalnum() else '_%02x' % ord(c) for c in name)


class World(object):
    def __init__(self, units_file, calls_file, state_file):
        with open(units_file) as f:
            self.units = {u['name']: dict(u) for u in json.load(f)}
        self.calls_file = calls_file
        self.state_file = state_file
        self.next_job = 1
        self.jobs = {}
        self.save()

    def record(self, method, *args):
        with open(self.calls_file, 'a') as f:
            f.write(json.dumps({'method': method, 'args': [_plain(a) for a in args]}) + '\n')

    def save(self):
        tmp = self.state_file + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(list(self.units.values()), f)
        os.rename(tmp, self.state_file)

    def unit(self, name, verb):
        if name not in self.units:
            raise SystemdError('org.freedesktop.systemd1.NoSuchUnit', 'Unit {} {}.'.format(
                name, 'not loaded' if verb == 'stop' else 'not found'))
        return self.units[name]


def _plain(value):
    if isinstance(value, (list, dbus.Array)):
        return [_plain(v) for v in value]
    if isinstance(value, dbus.Boolean):
        return bool(value)
    return str(value)


class Manager(dbus.service.Object):
    def __init__(self, bus, world):
        super().__init__(bus, ROOT)
        self.world = world

    @dbus.service.signal(MANAGER, signature='uoss')
    def JobRemoved(self, job_id, job_path, unit, result):
        pass

    @dbus.service.method(MANAGER, in_signature='', out_signature='')
    def Subscribe(self):
        self.world.record('Subscribe')

    @dbus.service.method(MANAGER, in_signature='', out_signature='')
    def Reload(self):
        self.world.record('Reload')

    @dbus.service.method(MANAGER, in_signature='asas', out_signature='a(ssssssouso)')
    def ListUnitsByPatterns(self, states, patterns):
        self.world.record('ListUnitsByPatterns', states, patterns)
        result = []
        for unit in sorted(self.world.units.values(), key=lambda u: u['name']):
            if states and not {unit['load_state'], unit['active_state'], unit['sub_state']} & set(states):
                continue
            if patterns and not any(fnmatch.fnmatchcase(unit['name'], p) for p in patterns):
                continue
            job = self.world.jobs.get(unit['name'])
            result.append((unit['name'], unit.get('description', unit['name']), unit['load_state'],
                           unit['active_state'], unit['sub_state'], '',
                           dbus.ObjectPath(ROOT + '/unit/' + escape_path(unit['name'])),
                           dbus.UInt32(job['id'] if job else 0), job['type'] if job else '',
                           dbus.ObjectPath(job['path'] if job else '/')))
        return result

    @dbus.service.method(MANAGER, in_signature='s', out_signature='s')
    def GetUnitFileState(self, name):
        self.world.record('GetUnitFileState', name)
        unit = self.world.units.get(name)
        if unit is None:
            raise SystemdError('org.freedesktop.DBus.Error.FileNotFound', 'No such file or directory')
        return unit['unit_file_state']

    @dbus.service.method(MANAGER, in_signature='s', out_signature='o')
    def GetUnit(self, name):
        self.world.unit(name, 'stop')
        return dbus.ObjectPath(ROOT + '/unit/' + escape_path(name))

    @dbus.service.method(MANAGER, in_signature='ss', out_signature='o')
    def StopUnit(self, name, mode):
        self.world.record('StopUnit', name, mode)
        return self._queue(self.world.unit(name, 'stop'), 'stop')

    @dbus.service.method(MANAGER, in_signature='ss', out_signature='o')
    def StartUnit(self, name, mode):
        self.world.record('StartUnit', name, mode)
        return self._queue(self.world.unit(name, 'start'), 'start')

    @dbus.service.method(MANAGER, in_signature='asb', out_signature='a(sss)')
    def DisableUnitFiles(self, names, runtime):
        self.world.record('DisableUnitFiles', names, runtime)
        changes = []
        for name in names:
            unit = self.world.unit(name, 'disable')
            if unit['unit_file_state'] == 'enabled':
                unit['unit_file_state'] = 'disabled'
                changes.append(('unlink', UNIT_DIR + '/multi-user.target.wants/' + name, ''))
        self.world.save()
        return changes

    @dbus.service.method(MANAGER, in_signature='asbb', out_signature='ba(sss)')
    def EnableUnitFiles(self, names, runtime, force):
        self.world.record('EnableUnitFiles', names, runtime, force)
        changes = []
        for name in names:
            unit = self.world.unit(name, 'enable')
            if unit['unit_file_state'] == 'disabled':
                unit['unit_file_state'] = 'enabled'
                changes.append(('symlink', UNIT_DIR + '/multi-user.target.wants/' + name,
                                '/usr/lib/systemd/system/' + name))
        self.world.save()
        return True, changes

    def _queue(self, unit, job_type):
        world = self.world
        job_id = world.next_job
        world.next_job += 1
        job = {'id': job_id, 'type': job_type, 'path': '{}/job/{}'.format(ROOT, job_id), 'unit': unit['name']}
        world.jobs[unit['name']] = job
        seconds = float(unit.get('job_seconds', 0.2))
        GLib.timeout_add(int(seconds * 1000), self._finish, job)
        return dbus.ObjectPath(job['path'])

    def _finish(self, job):
        world = self.world
        unit = world.units[job['unit']]
        result = 'done'
        if job['type'] == 'stop':
            unit['active_state'], unit['sub_state'] = 'inactive', 'dead'
        elif unit.get('start_result', 'done') == 'done':
            unit['active_state'], unit['sub_state'] = 'active', 'running'
        else:
            result = unit['start_result']
            unit['active_state'], unit['sub_state'] = 'failed', 'failed'
        del world.jobs[job['unit']]
        world.save()
        self.JobRemoved(dbus.UInt32(job['id']), dbus.ObjectPath(job['path']), job['unit'], result)
        return False


class Objects(dbus.service.FallbackObject):
    """The unit or job objects below /org/freedesktop/systemd1/<kind>, resolved from the path."""

    def __init__(self, bus, world, kind):
        super().__init__(bus, ROOT + '/' + kind)
        self.world = world
        self.kind = kind

    @dbus.service.method(PROPS, in_signature='ss', out_signature='v', rel_path_keyword='path')
    def Get(self, interface, prop, path):
        return self.GetAll(interface, path)[prop]

    @dbus.service.method(PROPS, in_signature='s', out_signature='a{sv}', rel_path_keyword='path')
    def GetAll(self, interface, path):
        kind, key = self.kind, path.strip('/')
        if kind == 'job' and interface == JOB_IFACE:
            for job in self.world.jobs.values():
                if str(job['id']) == key:
                    return {'Id': dbus.UInt32(job['id']), 'JobType': job['type'], 'State': 'running',
                            'Unit': (job['unit'], dbus.ObjectPath(ROOT + '/unit/' + escape_path(job['unit'])))}
        if kind == 'unit' and interface == UNIT_IFACE:
            for unit in self.world.units.values():
                if escape_path(unit['name']) == key:
                    return {'Id': unit['name'], 'LoadState': unit['load_state'],
                            'ActiveState': unit['active_state'], 'SubState': unit['sub_state'],
                            'UnitFileState': unit['unit_file_state']}
        raise SystemdError('org.freedesktop.DBus.Error.UnknownObject',
                           "Unknown object '{}/{}{}'.".format(ROOT, kind, path))


def main(address, units_file, calls_file, state_file):
    DBusGMainLoop(set_as_default=True)
    bus = dbus.bus.BusConnection(address)
    world = World(units_file, calls_file, state_file)
    Manager(bus, world)
    Objects(bus, world, 'unit')
    Objects(bus, world, 'job')
    # Own the name last: the fixture waits for it, so the objects are ready once it appears.
    name = dbus.service.BusName(BUS_NAME, bus)
    GLib.MainLoop().run()
    del name


if __name__ == '__main__':
    main(*sys.argv[1:])
