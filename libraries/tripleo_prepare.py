"""
The last step before the reboot into the upgrade (InterimPreparation): take the node down safely.

1. acquire this node's lease from the helper daemon, telling it what this node sees of the
   ceph-mon quorum right now (tripleo_ceph.observe_quorum); a refusal stops here, nothing touched;
   a node hosting Ceph OSDs then holds the OSD flags at the daemon and sets them with ceph
   (tripleo_osd_flags), before anything stops;
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
import time
from fnmatch import fnmatchcase

from . import tripleo_archive, tripleo_node, tripleo_persist, tripleo_prepare_record, tripleo_commands
from . import tripleo_single_database, tripleo_ceph, tripleo_osd_flags
from .tripleo_node import OS_RELEASE, os_release
from .tripleo_helper_client import DaemonError, HelperClient, LeaseRefused
from .tripleo_systemd import Systemd, SystemdError

UNIT_PATTERNS = ('tripleo_*',)
CLUSTER_UNITS = ('pacemaker.service', 'corosync.service')
# ceph-mon keeps running on nodes that are down for the upgrade: at least 2 monitors at all times.
NEVER_STOPPED = ('*ceph-mon*', '*ceph_mon*')
RUNNING_STATES = ('active', 'activating', 'reloading')
PCS_TIMEOUT = 300
LEASE_RELEASE_PATIENCE = 60.0


class PrepareError(Exception):
    """The preparation failed; the message says at which step, why, and what state the node is in."""


def _merge(earlier, new):
    return sorted(set(earlier or ()) | set(new))


def _is_excluded(name):
    return any(fnmatchcase(name, pattern) for pattern in NEVER_STOPPED)


def prepare(client, systemd, node, persist_items, compression='none', state_file=tripleo_prepare_record.PATH,
            pcs_command=('pcs',), pcs_timeout=PCS_TIMEOUT, os_release_file=OS_RELEASE, run_id=None,
            database_datadir='', ceph_command=()):
    """
    Run steps 1-4 (see module doc).

    :param client: HelperClient of this node
    :param systemd: tripleo_systemd.Systemd
    :param persist_items: item -> [paths], the persist set (tripleo_persist.persist_set)
    :param database_datadir: single-controller cloud: persist this stopped datadir as the item ``mysql`` too
                             (tripleo_single_database), for the restore to put back
    :param ceph_command: argv prefix that reaches the Ceph cluster (tripleo_config ceph_command): sets the OSD
                         flags on a node hosting OSDs, and reads the monitor quorum for the lease request
    :return: the final record (also in ``state_file``)
    :raises PrepareError: with the whole story; the node is running again unless it says otherwise
    """
    # Read before taking the lease: an unreadable record must not leave the lease held with nothing done.
    try:
        earlier = tripleo_prepare_record.load(state_file) or {}
    except tripleo_prepare_record.RecordError as exc:
        raise PrepareError('{}; nothing was stopped'.format(exc)) from exc
    try:
        client.request_lease(node, ceph_mon_quorum=tripleo_ceph.observe_quorum(node, ceph_command))
    except LeaseRefused as exc:
        raise PrepareError('the helper daemon refused the upgrade lease for {}, nothing was stopped: {}'.format(
            node, '; '.join(exc.reasons))) from exc
    except DaemonError as exc:
        raise PrepareError('could not get the upgrade lease for {}, nothing was stopped: {}'.format(
            node, exc)) from exc

    release = os_release(os_release_file)
    state = {'node': node, 'phase': 'stopping', 'os_release': release,
             'stopped_units': earlier.get('stopped_units', []),
             'disabled_units': earlier.get('disabled_units', []),
             'pacemaker_stopped': bool(earlier.get('pacemaker_stopped')), 'items': earlier.get('items', [])}
    if earlier.get(tripleo_osd_flags.RECORD_KEY):
        state[tripleo_osd_flags.RECORD_KEY] = earlier[tripleo_osd_flags.RECORD_KEY]
    step = 'holding the Ceph OSD flags'
    try:
        osd_units = tripleo_ceph.osd_units(systemd)
        if osd_units:
            tripleo_osd_flags.hold_and_set(client, node, ceph_command, osd_units, state,
                                           lambda record: tripleo_prepare_record.save(state_file, record))
        step = 'stopping services'
        cluster_units = systemd.list_units(list(CLUSTER_UNITS))
        pacemaker_running = any(u.name == 'pacemaker.service' and u.active_state in RUNNING_STATES
                                for u in cluster_units)
        units = [u for u in systemd.list_units(list(UNIT_PATTERNS)) if not _is_excluded(u.name)]
        to_stop = [u.name for u in units if u.active_state in RUNNING_STATES]
        to_disable = sorted(u.name for u in units + cluster_units if u.unit_file_state == 'enabled')
        state.update(stopped_units=_merge(state['stopped_units'], to_stop),
                     disabled_units=_merge(state['disabled_units'], to_disable),
                     pacemaker_stopped=state['pacemaker_stopped'] or pacemaker_running)
        tripleo_prepare_record.save(state_file, state)
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
        tripleo_prepare_record.save(state_file, state)
        state['items'] = tripleo_persist.persist(client, node, persist_items, compression)
        if database_datadir:
            step = 'persisting the stopped database {} (single-controller cloud)'.format(database_datadir)
            state['database'] = tripleo_single_database.persist(client, node, database_datadir, compression)

        step = 'reporting "prepared" to the helper daemon'
        client.put_status(node, 'prepared', os_release=release, leapp_run_id=run_id)
        state['phase'] = 'prepared'
        tripleo_prepare_record.save(state_file, state)
    except Exception as exc:
        # Whatever failed, even a bug, the node must not stay half-stopped.
        known = isinstance(exc, (SystemdError, tripleo_persist.PersistError, DaemonError,
                                 tripleo_commands.CommandFailed, OSError, tripleo_single_database.DatabaseError,
                                 tripleo_archive.ArchiveError, tripleo_osd_flags.OsdFlagsError))
        _, story = _roll_back(client, systemd, node, state, state_file, pcs_command, pcs_timeout, ceph_command,
                              'TripleO upgrade preparation of {} failed while {}: {}{}.'.format(
                                  node, step, '' if known else type(exc).__name__ + ': ', exc))
        raise PrepareError(story) from exc
    return state


def prepare_node(values, run_id=None, record_path=None, bus_address=None, os_release_file=None, pcs_command=('pcs',)):
    """
    Prepare this node from its validated configuration (tripleo_config): the one entry point of the
    InterimPreparation actor and of tripleo-upgrade-prepare.

    :return: the final record
    :raises PrepareError: the whole story (see prepare())
    """
    node = values['node_name']
    try:
        items = tripleo_persist.persist_set(values['persist_items'], values['persist_dropin_dir'])
        client = HelperClient.from_config(values)
        systemd = Systemd(bus_address)
    except (tripleo_persist.PersistError, DaemonError, SystemdError) as exc:
        raise PrepareError('TripleO upgrade preparation of {} did not start, nothing was stopped: {}'.format(
            node, exc)) from exc
    return prepare(client, systemd, node, items, values['compression'],
                   state_file=record_path or tripleo_prepare_record.PATH,
                   pcs_command=pcs_command, os_release_file=os_release_file or tripleo_node.OS_RELEASE,
                   run_id=run_id, database_datadir=values.get('database_datadir') or '',
                   ceph_command=values.get('ceph_command') or ())


def services_kept_disabled(record):
    """
    The services leapp must keep disabled on the new OS (SystemdServicesTasks.to_disable).

    Leapp records unit file states before the upgrade and enables at its Finalization every service
    that was enabled then and is disabled after the RPM upgrade, which is every service prepare
    disabled; a service also listed in to_disable stays disabled. Leapp handles services only:
    timers and other unit types keep the state prepare left them in.
    """
    return [name for name in record['disabled_units'] if name.endswith('.service')]


def abort(client, systemd, node, record_path=tripleo_prepare_record.PATH, os_release_file=OS_RELEASE,
          pcs_command=('pcs',), pcs_timeout=PCS_TIMEOUT, ceph_command=()):
    """
    Undo a prepare whose upgrade will not happen (leapp failed after it, or the reboot is called off):
    enable and start what the record lists, start the Pacemaker node, release and unset the Ceph OSD
    flags the daemon says this node must clear, release the lease, and report the node ``failed`` with
    the story. Safe to re-run: without a record only the OSD flags and the lease are released.

    :return: the story (what runs again)
    :raises PrepareError: the node has booted the new OS (the record belongs to the restore now), the
                          record is unusable, or not everything could be started again (lease kept)
    """
    try:
        record = tripleo_prepare_record.load(record_path)
    except tripleo_prepare_record.RecordError as exc:
        raise PrepareError('nothing was undone: {}'.format(exc)) from exc
    release = os_release(os_release_file)
    if record is None:
        try:
            unset, still_held = tripleo_osd_flags.release_and_unset(client, node, ceph_command)
        except tripleo_osd_flags.OsdFlagsError as exc:
            raise PrepareError('{} has no prepare record ({}), so nothing is stopped to undo, but its Ceph OSD '
                               'flags are not released: {}; its lease is kept'.format(node, record_path, exc)) from exc
        try:
            client.release_lease(node)
        except DaemonError as exc:
            raise PrepareError('{} has no prepare record ({}), so nothing is stopped to undo, but its lease could '
                               'not be released: {}'.format(node, record_path, exc)) from exc
        flags = ' ' + tripleo_osd_flags.describe_release(node, unset, still_held) if unset or still_held else ''
        return '{} has no prepare record ({}): nothing to start again; its lease is released.{}'.format(
            node, record_path, flags)
    prepared_on = record.get('os_release')
    if record.get('phase') == 'upgraded' or (prepared_on and _major(release) != _major(prepared_on)):
        raise PrepareError(
            '{} was prepared on OS {} and now runs OS {} (record phase {}): the upgrade has happened, so there is '
            'nothing to abort. Its data is restored by the first boot (or tripleo-upgrade-restore); '
            'TripleO starts its services.'.format(node, prepared_on or 'unknown', release or 'unknown',
                                                   record.get('phase')))
    record.setdefault('stopped_units', [])
    record.setdefault('disabled_units', [])
    record.setdefault('pacemaker_stopped', False)
    complete, story = _roll_back(client, systemd, node, record, record_path, pcs_command, pcs_timeout,
                                 ceph_command, 'The upgrade of {} was aborted after its preparation.'.format(node))
    try:
        client.put_status(node, 'failed', os_release=release, error=story)
    except DaemonError as exc:
        story += ' The helper daemon was not told: {}.'.format(exc)
    if not complete:
        raise PrepareError(story)
    return story


def _major(release):
    return (release or '').split('.')[0]


def _pcs(pcs_command, args, timeout):
    # pcs bounds its cluster requests by --request-timeout; the extra minute is for pcs itself.
    tripleo_commands.run(list(pcs_command) + args, timeout=timeout + 60)


def _roll_back(client, systemd, node, state, state_file, pcs_command, pcs_timeout, ceph_command, what_failed):
    """
    Enable and start everything recorded, release the Ceph OSD flags it held, then release the lease; returns
    (all runs again, the whole story).
    """
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
        except tripleo_commands.CommandFailed as exc:
            problems.append(str(exc))
    if state.get(tripleo_osd_flags.RECORD_KEY):
        # The node's OSDs are back: the cluster may react to OSDs going down again (unless another node holds it).
        try:
            unset, still_held = tripleo_osd_flags.release_and_unset(client, node, ceph_command)
            story.append(tripleo_osd_flags.describe_release(node, unset, still_held))
            del state[tripleo_osd_flags.RECORD_KEY]
        except tripleo_osd_flags.OsdFlagsError as exc:
            problems.append(str(exc))
    if problems:
        state['phase'] = 'failed'
        tripleo_prepare_record.save(state_file, state)
        story.append('NOT everything runs again: {}. The lease of {} is kept so no other node of its role goes '
                     'down; fix the cause and run tripleo-upgrade-abort, which starts what {} lists and then '
                     'releases the lease.'.format('; '.join(problems), node, state_file))
        return False, ' '.join(story)
    tripleo_prepare_record.remove(state_file)
    try:
        _release_lease(client, node)
        story.append('The upgrade lease of {} was released. Fix the cause and run the upgrade again.'.format(node))
    except DaemonError as exc:
        story.append('The node runs as before, but its upgrade lease could not be released: {}. Run '
                     'tripleo-upgrade-abort once the daemon answers.'.format(exc))
    return True, ' '.join(story)


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
