"""
The transfer step on an old-OS node of a role (``tripleo-upgrade-stop-services``): stop every TripleO
service except ceph-mon, wait until the database server has really exited, and tell the daemon the
node's services are down, which the transfer plan and the fleet status show and without which the
daemon refuses this node's push of a transfer item.

On a Pacemaker node the services are stopped the way the cluster agrees to it: the cluster's resources
(bundles such as galera-bundle, clones, groups, primitives; never fencing devices, never ceph-mon) are
disabled through ``pcs resource disable``, which stops them on every node of the old cluster, and this
waits until ``crm_mon`` shows none of them active. The node's local membership is left alone (``pcs
cluster stop`` would only move galera to the other old controllers). Then, on every node, the running
``tripleo_*`` units (not ceph-mon) are stopped through systemd.

What is about to be disabled or stopped is written to a record BEFORE it is done (atomically), merged
with an earlier run's, so a re-run is safe and ``start()`` (``--start``, the transfer abandoned) enables
and starts exactly what this command took down, not what the operator had disabled on purpose.
"""
import json
import os
import time
import xml.etree.ElementTree as ET
from fnmatch import fnmatchcase

from . import tripleo_files, tripleo_pacemaker, tripleo_commands, tripleo_transfer

RECORD = '/var/lib/tripleo-upgrade-node/stopped-services.json'
UNIT_PATTERNS = ('tripleo_*',)
# ceph-mon keeps running on the old nodes: the cloud needs at least two monitors at all times.
NEVER_STOPPED = ('*ceph-mon*', '*ceph_mon*')
RUNNING_STATES = ('active', 'activating', 'reloading')
DEFAULT_WAIT = 600.0
POLL_SECONDS = 1.0
PCS_TIMEOUT = 120


class ServicesError(Exception):
    """The services are not (all) down, or not up again; the message says what is in which state."""


def _never_stopped(name):
    return any(fnmatchcase(name, pattern) for pattern in NEVER_STOPPED)


class Cluster(object):
    """The Pacemaker cluster through its own tools: ``pcs`` to change it, ``crm_mon`` to read it.

    ``cib_file``: work on a CIB file instead of the live cluster (``pcs -f``, ``CIB_file`` for crm_mon),
    to rehearse the step on a copy of the cluster's configuration.
    """

    def __init__(self, pcs_command=('pcs',), crm_mon_command=tripleo_pacemaker.CRM_MON, cib_file=None,
                 timeout=PCS_TIMEOUT):
        self.pcs_command = list(pcs_command) + (['-f', cib_file] if cib_file else [])
        self.crm_mon_command = crm_mon_command
        self.env = {'CIB_file': cib_file} if cib_file else None
        self.timeout = timeout

    def membership(self, node):
        return tripleo_pacemaker.cluster_status(node, self.crm_mon_command, env=self.env, timeout=self.timeout)

    def resources(self):
        """Top-level resources: {id: {"active": any instance active, "disabled": every instance's target-role is
        Stopped, "fencing": a stonith device}}."""
        try:
            _, out = tripleo_commands.run(self.crm_mon_command, env=self.env, timeout=self.timeout,
                                       ok_codes=range(256))
            root = ET.fromstring(out)
        except (tripleo_commands.CommandFailed, ET.ParseError) as exc:
            raise ServicesError('cannot read the cluster\'s resources from crm_mon: {}'.format(exc)) from exc
        errors = [e.text.strip() for e in root.iter('error') if e.text and e.text.strip()]
        section = root.find('resources')
        if errors or section is None:
            raise ServicesError('crm_mon could not read the cluster state: {}'.format(
                '; '.join(errors) or 'no <resources> section'))
        found = {}
        for top in section:
            instances = [top] if top.tag == 'resource' else list(top.iter('resource'))
            if not top.get('id') or not instances:
                continue
            found[top.get('id')] = {
                'active': any(r.get('active') == 'true' for r in instances),
                'disabled': all(r.get('target_role', '').lower() == 'stopped' for r in instances),
                'fencing': any(r.get('resource_agent', '').startswith('stonith:') for r in instances),
            }
        return found

    def disable(self, ids):
        self._pcs(['resource', 'disable'] + list(ids))

    def enable(self, ids):
        self._pcs(['resource', 'enable'] + list(ids))

    def _pcs(self, args):
        try:
            tripleo_commands.run(self.pcs_command + args, timeout=self.timeout)
        except tripleo_commands.CommandFailed as exc:
            raise ServicesError(str(exc)) from exc


def load_record(path=RECORD):
    try:
        with open(path) as stream:
            record = json.load(stream)
    except (IOError, OSError) as exc:
        if not os.path.exists(path):
            return None
        raise ServicesError('cannot read {}, the record of what tripleo-upgrade-stop-services stopped: {}; check it '
                            'by hand'.format(path, exc)) from exc
    except ValueError as exc:
        raise ServicesError('{} is not valid JSON ({}): it lists what tripleo-upgrade-stop-services stopped; check '
                            'it by hand before removing it'.format(path, exc)) from exc
    return {'resources': sorted(record.get('resources') or []), 'units': sorted(record.get('units') or [])}


def _save(path, record):
    tripleo_files.write_json(path, record)


def _wait(what, check, timeout, poll):
    """Call ``check()`` (a list of what is still in the way) until it is empty; returns the last list."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = check()
        if not remaining or time.monotonic() >= deadline:
            return remaining
        time.sleep(poll)


def stop(client, node, cluster, systemd_factory, datadir=tripleo_transfer.DEFAULT_DATADIR, record_path=RECORD,
         wait_timeout=DEFAULT_WAIT, poll=POLL_SECONDS):
    """
    Stop this node's TripleO services for the transfer, wait for the database server to exit, report "down".

    :param systemd_factory: called once to reach systemd (tripleo_systemd.Systemd), when units are to be read
    :return: the story, in sentences
    :raises ServicesError: something is still running (not reported down); re-run once the cause is fixed
    """
    story = []
    record = load_record(record_path) or {'resources': [], 'units': []}
    # Nothing is stopped unless the daemon answers and takes this node's token: the "down" report must reach it.
    client.node_status(node)

    membership = cluster.membership(node)
    if membership['membership'] == tripleo_pacemaker.MEMBER:
        resources = cluster.resources()
        wanted = sorted(rid for rid, r in resources.items() if not r['fencing'] and not _never_stopped(rid))
        to_disable = [rid for rid in wanted if not resources[rid]['disabled']]
        record['resources'] = sorted(set(record['resources']) | set(to_disable))
        _save(record_path, record)
        if to_disable:
            cluster.disable(to_disable)
            story.append('Disabled in the cluster: {}.'.format(', '.join(to_disable)))

        def still_active():
            now = cluster.resources()
            return sorted(rid for rid in wanted if now.get(rid, {}).get('active'))
        active = _wait('cluster resources', still_active, wait_timeout, poll)
        if active:
            raise ServicesError('the cluster has not stopped {} within {:g}s (pcs status shows why); nothing was '
                                'reported to the daemon. Run this again once they are Stopped'.format(
                                    ', '.join(active), wait_timeout))
        story.append('Stopped on every node of the cluster: {}.'.format(', '.join(wanted) or 'nothing to stop'))
    else:
        story.append('Not a Pacemaker cluster member ({}): no cluster resource to stop.'.format(
            membership['reason']))

    systemd = systemd_factory()
    running = [u.name for u in systemd.list_units(list(UNIT_PATTERNS))
               if u.active_state in RUNNING_STATES and not _never_stopped(u.name)]
    record['units'] = sorted(set(record['units']) | set(running))
    _save(record_path, record)
    if running:
        systemd.stop(running)
    story.append('Stopped units: {}.'.format(', '.join(running) if running else 'none was running'))

    if os.path.isdir(datadir):
        evidence = _wait('the database server', lambda: tripleo_transfer.live_server_evidence(datadir),
                         wait_timeout, poll)
        if evidence:
            raise ServicesError('the services are stopped but a database server still runs on {} after {:g}s: {}; '
                                'nothing was reported to the daemon. Find what still runs it, stop it and run this '
                                'again'.format(datadir, wait_timeout, '; '.join(evidence)))
        story.append('No database server runs on {}.'.format(datadir))
    else:
        story.append('{} does not exist here: no database to wait for.'.format(datadir))

    detail = ' '.join(story)
    client.put_services(node, 'down', detail)
    story.append('Reported to the daemon: the services of {} are down.'.format(node))
    return ' '.join(story)


def start(client, node, cluster, systemd_factory, record_path=RECORD):
    """
    Bring back what stop() took down (the transfer is abandoned), report "up", remove the record.

    :raises ServicesError: not everything could be started (the record is kept; run it again)
    """
    record = load_record(record_path)
    if record is None:
        client.put_services(node, 'up', 'nothing recorded as stopped')
        return ('{} has no record of stopped services ({}): nothing to start. Reported to the daemon: its services '
                'are up.'.format(node, record_path))
    story, problems = [], []
    if record['resources']:
        try:
            cluster.enable(record['resources'])
            story.append('Enabled again in the cluster: {}.'.format(', '.join(record['resources'])))
        except ServicesError as exc:
            problems.append(str(exc))
    if record['units']:
        try:
            systemd_factory().start(record['units'])
            story.append('Started again: {}.'.format(', '.join(record['units'])))
        except Exception as exc:  # SystemdError, BindingsMissing: the record must stay either way
            problems.append(str(exc))
    if problems:
        raise ServicesError('{} NOT everything runs again: {}. {} keeps the list; fix the cause and run '
                            'tripleo-upgrade-stop-services --start again.'.format(' '.join(story),
                                                                                  '; '.join(problems), record_path))
    client.put_services(node, 'up', ' '.join(story) or 'nothing was stopped')
    os.unlink(record_path)
    story.append('Reported to the daemon: the services of {} are up.'.format(node))
    return ' '.join(story)
