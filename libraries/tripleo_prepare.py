"""
The last step before the reboot into the upgrade (InterimPreparation): take the node down safely.

1. acquire this node's lease from the helper daemon; a refusal stops here, nothing touched;
2. stop this node's Pacemaker membership (``pcs cluster stop`` for the local node, so the
   cluster moves its resources and VIPs away first), then stop and disable the ``tripleo_*``
   units (never ceph-mon: the cloud needs its monitors), so they stay down on the new OS
   until TripleO starts them. pacemaker.service and corosync.service are disabled too (not
   only stopped): otherwise the node would rejoin the old cluster at the first boot of the new
   OS and Pacemaker would start bundles on it before its data is restored. TripleO's own
   upgrade starts the cluster again (its pacemaker service's upgrade step 4, or the cluster
   re-creation after a database transfer), so the restore only enables them, like the rest;
3. persist the node's data to the daemon (tripleo_persist);
4. report ``prepared``.

What step 2 is about to stop or disable is written to the state file BEFORE it is done
(atomically), so whatever fails, the record covers everything that may be down. If any step
after 1 fails, everything recorded is enabled and started again, the lease is released, and
the error says what happened and what runs again. A re-run merges with the record of an earlier
run, so the units an earlier successful run stopped stay recorded for the restore after the
reboot; after a rollback the record is removed and a re-run starts from scratch.
"""
import json
import os
import time
from fnmatch import fnmatchcase

from . import tripleo_files, tripleo_persist, tripleo_probe
from .tripleo_node import OS_RELEASE, os_release
from .tripleo_helper_client import DaemonError, LeaseRefused
from .tripleo_systemd import SystemdError

STATE_FILE = '/var/lib/tripleo-upgrade-node/prepare-state.json'
UNIT_PATTERNS = ('tripleo_*',)
CLUSTER_UNITS = ('pacemaker.service', 'corosync.service')
# ceph-mon keeps running on nodes that are down for the upgrade: at least 2 monitors at all times.
NEVER_STOPPED = ('*ceph-mon*', '*ceph_mon*')
RUNNING_STATES = ('active', 'activating', 'reloading')
PCS_TIMEOUT = 300
LEASE_RELEASE_PATIENCE = 60.0


class PrepareError(Exception):
    """The preparation failed; the message says at which step, why, and what state the node is in."""


def load_state(path):
    """The record of an earlier prepare, or None."""
    try:
        with open(path) as f:
            return json.load(f)
    except (IOError, OSError) as exc:
        if not os.path.exists(path):
            return None
        raise PrepareError('cannot read the prepare record {}: {}'.format(path, exc)) from exc
    except ValueError as exc:
        raise PrepareError('the prepare record {} is not valid JSON ({}); it lists what prepare stopped, '
                           'check it by hand before removing it'.format(path, exc)) from exc


def save_state(path, state):
    """Write the record atomically: a crash leaves the old record or the new one, never a mix."""
    tripleo_files.write_json(path, state)


def _merge(earlier, new):
    return sorted(set(earlier or ()) | set(new))


def _is_excluded(name):
    return any(fnmatchcase(name, pattern) for pattern in NEVER_STOPPED)


def prepare(client, systemd, node, persist_items, compression='none', state_file=STATE_FILE,
            pcs_command=('pcs',), pcs_timeout=PCS_TIMEOUT, os_release_file=OS_RELEASE, run_id=None):
    """
    Run steps 1-4 (see module doc).

    :param client: HelperClient of this node
    :param systemd: tripleo_systemd.Systemd
    :param persist_items: item -> [paths], the persist set (tripleo_persist.persist_set)
    :return: the final record (also in ``state_file``)
    :raises PrepareError: with the whole story; the node is running again unless it says otherwise
    """
    # Read before taking the lease: an unreadable record must not leave the lease held with nothing done.
    earlier = load_state(state_file) or {}
    try:
        client.acquire_lease(node)
    except LeaseRefused as exc:
        raise PrepareError('the helper daemon refused the upgrade lease for {}, nothing was stopped: {}'.format(
            node, '; '.join(exc.reasons))) from exc
    except DaemonError as exc:
        raise PrepareError('could not get the upgrade lease for {}, nothing was stopped: {}'.format(
            node, exc)) from exc

    state = {'node': node, 'phase': 'stopping', 'stopped_units': earlier.get('stopped_units', []),
             'disabled_units': earlier.get('disabled_units', []),
             'pacemaker_stopped': bool(earlier.get('pacemaker_stopped')), 'items': earlier.get('items', [])}
    step = 'stopping services'
    try:
        cluster_units = systemd.list_units(list(CLUSTER_UNITS))
        pacemaker_running = any(u.name == 'pacemaker.service' and u.active_state in RUNNING_STATES
                                for u in cluster_units)
        units = [u for u in systemd.list_units(list(UNIT_PATTERNS)) if not _is_excluded(u.name)]
        to_stop = [u.name for u in units if u.active_state in RUNNING_STATES]
        to_disable = sorted(u.name for u in units + cluster_units if u.unit_file_state == 'enabled')
        state.update(stopped_units=_merge(state['stopped_units'], to_stop),
                     disabled_units=_merge(state['disabled_units'], to_disable),
                     pacemaker_stopped=state['pacemaker_stopped'] or pacemaker_running)
        save_state(state_file, state)
        if pacemaker_running:
            step = 'stopping the Pacemaker cluster on this node'
            # --force as TripleO's own system upgrade tasks do: with the non-rolling (Corosync) procedure the
            # old cluster loses quorum as its controllers leave one by one, and without --force pcs refuses to
            # stop the node whose departure loses it. Whether this node may go down is the lease's decision.
            _pcs(pcs_command, ['cluster', 'stop', '--force', '--request-timeout={}'.format(pcs_timeout)],
                 pcs_timeout)
        step = 'stopping the tripleo_* units'
        systemd.stop(to_stop)
        step = 'disabling the tripleo_* units and the cluster services'
        systemd.disable(to_disable)

        step = 'persisting node data to the helper daemon'
        state['phase'] = 'persisting'
        save_state(state_file, state)
        state['items'] = tripleo_persist.persist(client, node, persist_items, compression)

        step = 'reporting "prepared" to the helper daemon'
        client.put_status(node, 'prepared', os_release=os_release(os_release_file), leapp_run_id=run_id)
        state['phase'] = 'prepared'
        save_state(state_file, state)
    except Exception as exc:
        # Whatever failed, even a bug, the node must not stay half-stopped.
        known = isinstance(exc, (SystemdError, tripleo_persist.PersistError, DaemonError, tripleo_probe.ProbeFailed,
                                 OSError))
        raise PrepareError(_roll_back(client, systemd, node, state, state_file, pcs_command, pcs_timeout,
                                      'TripleO upgrade preparation of {} failed while {}: {}{}.'.format(
                                          node, step, '' if known else type(exc).__name__ + ': ', exc))) from exc
    return state


def _pcs(pcs_command, args, timeout):
    # pcs bounds its cluster requests by --request-timeout; the extra minute is for pcs itself.
    tripleo_probe.run(list(pcs_command) + args, timeout=timeout + 60)


def _roll_back(client, systemd, node, state, state_file, pcs_command, pcs_timeout, what_failed):
    """Enable and start everything recorded, then release the lease; returns the whole story."""
    problems, story = [], [what_failed]
    try:
        systemd.enable(state['disabled_units'])
        if state['disabled_units']:
            story.append('Enabled again: {}.'.format(', '.join(state['disabled_units'])))
    except SystemdError as exc:
        problems.append(str(exc))
    try:
        systemd.start(state['stopped_units'])
        if state['stopped_units']:
            story.append('Running again: {}.'.format(', '.join(state['stopped_units'])))
    except SystemdError as exc:
        problems.append(str(exc))
    if state['pacemaker_stopped']:
        try:
            _pcs(pcs_command, ['cluster', 'start', '--request-timeout={}'.format(pcs_timeout)], pcs_timeout)
            story.append('The Pacemaker cluster runs again on this node.')
        except tripleo_probe.ProbeFailed as exc:
            problems.append(str(exc))
    if problems:
        state['phase'] = 'failed'
        save_state(state_file, state)
        story.append('NOT everything runs again: {}. The lease of {} is kept so no other node of its role goes '
                     'down; start what is listed in {} by hand, then release the lease (DELETE '
                     '/v1/nodes/{}/lease) or run the upgrade again.'.format('; '.join(problems), node, state_file,
                                                                            node))
        return ' '.join(story)
    if os.path.exists(state_file):
        os.unlink(state_file)
    try:
        _release_lease(client, node)
        story.append('The upgrade lease of {} was released. Fix the cause and run the upgrade again.'.format(node))
    except DaemonError as exc:
        story.append('The node runs as before, but its upgrade lease could not be released: {}. Release it with '
                     'DELETE /v1/nodes/{}/lease once the daemon answers.'.format(exc, node))
    return ' '.join(story)


def _release_lease(client, node):
    # The failure being rolled back may be the daemon itself going away: give it time to come back.
    deadline = time.monotonic() + LEASE_RELEASE_PATIENCE
    while True:
        try:
            return client.release_lease(node)
        except DaemonError as exc:
            if exc.status is not None or time.monotonic() > deadline:
                raise
            time.sleep(1)
