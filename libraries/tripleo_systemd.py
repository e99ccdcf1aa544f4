"""
systemd units through systemd's D-Bus API (org.freedesktop.systemd1), not by parsing systemctl.

Stop and start queue jobs and wait until every job has finished, the way systemctl does: a job is
a bus object (/org/freedesktop/systemd1/job/N) that disappears when the job is done. That needs
no main loop in the caller (leapp actors have none), unlike listening for JobRemoved. The outcome
is then read from the unit's ActiveState, so a start that failed is reported as such.
(A job's result is only in the JobRemoved signal, which needs a main loop to receive.)

dbus-python is imported when a Systemd is made, not with this module: leapp imports every library
of the repository when it starts, and a node without python3-dbus must still get through
``leapp preupgrade`` to the inhibitor that says to install it.
"""
import os
import time
from collections import namedtuple

SYSTEMD = 'org.freedesktop.systemd1'
SYSTEMD_PATH = '/org/freedesktop/systemd1'
MANAGER = 'org.freedesktop.systemd1.Manager'
UNIT_IFACE = 'org.freedesktop.systemd1.Unit'
JOB_IFACE = 'org.freedesktop.systemd1.Job'
PROPERTIES = 'org.freedesktop.DBus.Properties'

# Errors that say a job object no longer exists, i.e. the job has finished.
_JOB_GONE = ('org.freedesktop.DBus.Error.UnknownObject', 'org.freedesktop.DBus.Error.UnknownMethod',
             'org.freedesktop.systemd1.NoSuchJob')
_NO_SUCH_UNIT = 'org.freedesktop.systemd1.NoSuchUnit'
_POLL_SECONDS = 0.1

Unit = namedtuple('Unit', ('name', 'load_state', 'active_state', 'sub_state', 'unit_file_state'))


PACKAGE = 'python3-dbus'


class SystemdError(Exception):
    """One message that says which units, which operation, and what systemd answered."""


class BindingsMissing(SystemdError):
    """dbus-python is not installed."""


def import_dbus():
    """The dbus module; BindingsMissing says which package to install."""
    try:
        import dbus
    except ImportError as exc:
        raise BindingsMissing('the D-Bus Python bindings cannot be imported ({}): install {}'.format(
            exc, PACKAGE)) from exc
    return dbus


def _describe(exc):
    return '{} ({})'.format(exc.get_dbus_message(), exc.get_dbus_name())


class Systemd(object):
    def __init__(self, bus_address=None, job_timeout=600.0):
        """
        :param bus_address: D-Bus address of the bus systemd is on; None means the system bus
        :param job_timeout: seconds to wait for all jobs of one stop() or start() to finish
        """
        self.job_timeout = job_timeout
        self._dbus = dbus = import_dbus()
        # libdbus reads DBUS_SYSTEM_BUS_ADDRESS only once per process for its shared system bus: read it here, so the
        # address in force now is the one used
        address = bus_address or os.environ.get('DBUS_SYSTEM_BUS_ADDRESS')
        where = address or 'the system bus'
        try:
            self._bus = dbus.SystemBus() if address is None else dbus.bus.BusConnection(address)
            self._manager = dbus.Interface(self._bus.get_object(SYSTEMD, SYSTEMD_PATH), MANAGER)
        except dbus.exceptions.DBusException as exc:
            raise SystemdError('cannot reach systemd on {}: {}'.format(where, _describe(exc))) from exc

    def _call(self, what, method, *args):
        try:
            return getattr(self._manager, method)(*args)
        except self._dbus.exceptions.DBusException as exc:
            raise SystemdError('systemd could not {}: {}'.format(what, _describe(exc))) from exc

    def list_units(self, patterns):
        """The loaded units whose names match any of the glob patterns, with their unit file state."""
        found = self._call('list units matching {}'.format(', '.join(patterns)),
                           'ListUnitsByPatterns', self._dbus.Array([], signature='s'),
                           self._dbus.Array(patterns, signature='s'))
        units = []
        for entry in found:
            name = str(entry[0])
            units.append(Unit(name, str(entry[2]), str(entry[3]), str(entry[4]), self._unit_file_state(name)))
        return sorted(units)

    def _unit_file_state(self, name):
        try:
            return str(self._manager.GetUnitFileState(name))
        except self._dbus.exceptions.DBusException:
            # Transient and generated units have no unit file.
            return ''

    def stop(self, names):
        """Stop the units and wait until they are inactive."""
        self._run_jobs('StopUnit', 'stop', names)

    def start(self, names):
        """Start the units and wait until they are active; every unit is tried before a failure is raised."""
        self._run_jobs('StartUnit', 'start', names)

    def disable(self, names):
        """Disable the units' unit files (they stay as they are now, running or not)."""
        if names:
            self._call('disable {}'.format(', '.join(names)), 'DisableUnitFiles',
                       self._dbus.Array(names, signature='s'), False)
            self._call('reload its configuration after disabling units', 'Reload')

    def enable(self, names):
        """Enable the units' unit files without starting them."""
        if names:
            self._call('enable {}'.format(', '.join(names)), 'EnableUnitFiles',
                       self._dbus.Array(names, signature='s'), False, False)
            self._call('reload its configuration after enabling units', 'Reload')

    def _run_jobs(self, method, verb, names):
        jobs, failures = {}, []
        for name in names:
            try:
                jobs[name] = getattr(self._manager, method)(name, 'replace')
            except self._dbus.exceptions.DBusException as exc:
                failures.append('{}: {}'.format(name, _describe(exc)))
        deadline = time.monotonic() + self.job_timeout
        while jobs:
            jobs = dict((name, job) for name, job in jobs.items() if not self._job_finished(job))
            if not jobs:
                break
            if time.monotonic() > deadline:
                failures.extend('{}: the {} job did not finish within {:g}s'.format(name, verb, self.job_timeout)
                                for name in sorted(jobs))
                break
            time.sleep(_POLL_SECONDS)
        # As systemctl judges it: a stopped unit may end up failed (killed), a started oneshot inactive.
        not_done = ('active', 'activating', 'deactivating', 'reloading') if verb == 'stop' else ('failed',)
        for name in names:
            if any(f.startswith(name + ':') for f in failures):
                continue
            state = self._active_state(name)
            if state in not_done:
                failures.append('{}: {} after the {} job'.format(name, state, verb))
        if failures:
            raise SystemdError('systemd could not {} {} of {} unit(s): {}'.format(
                verb, len(failures), len(names), '; '.join(failures)))

    def _job_finished(self, job_path):
        try:
            self._bus.get_object(SYSTEMD, job_path).Get(JOB_IFACE, 'State', dbus_interface=PROPERTIES)
        except self._dbus.exceptions.DBusException as exc:
            if exc.get_dbus_name() in _JOB_GONE:
                return True
            raise SystemdError('cannot follow systemd job {}: {}'.format(job_path, _describe(exc))) from exc
        return False

    def _active_state(self, name):
        try:
            path = self._manager.GetUnit(name)
            return str(self._bus.get_object(SYSTEMD, path).Get(UNIT_IFACE, 'ActiveState',
                                                               dbus_interface=PROPERTIES))
        except self._dbus.exceptions.DBusException as exc:
            if exc.get_dbus_name() == _NO_SUCH_UNIT:
                # systemd unloads a unit that is stopped and nothing refers to.
                return 'inactive'
            raise SystemdError('cannot read the state of {}: {}'.format(name, _describe(exc))) from exc
