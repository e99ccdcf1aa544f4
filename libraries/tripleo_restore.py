"""
The first boot on the new OS (FirstBoot): put the node's data back and leave its services ready.

1. restore every item prepare persisted (tripleo_persist.restore: digest checked before
   anything is unpacked, staged next to its place and moved in whole);
2. enable again the units prepare disabled, WITHOUT starting them: TripleO starts them in its
   next upgrade step, on its own schedule;
3. report ``upgraded`` to the helper daemon with the new OS release and the leapp run id.

``restore_reprovisioned`` does steps 1 and 3 on a node that was reinstalled rather than upgraded.

It works from prepare's record (tripleo_prepare_record), which the OS upgrade keeps. Every
step is idempotent, so a re-run is harmless: once the record says ``upgraded`` the data is never
unpacked again, not even in ``always`` mode (the services may have written to it since).

Later, once TripleO's upgrade run has started the node's services, ``report_completed`` tells the
daemon (phase ``completed``: from then on no database transfer may target this node's role) and
ends the node's lease so that the next node of its role may go down.
"""
import os

from . import tripleo_archive, tripleo_node, tripleo_persist, tripleo_prepare_record, tripleo_single_database
from . import tripleo_transfer, tripleo_leapp_result
from .tripleo_helper_client import DaemonError, HelperClient
from .tripleo_systemd import Systemd, SystemdError


class RestoreError(Exception):
    """Restoring failed; the message says which step, and what was already done."""


def restore(client, systemd, node, restore_mode='missing-only', state_file=tripleo_prepare_record.PATH,
            os_release_file=tripleo_node.OS_RELEASE, run_id=None, work_dir=None, flag_dir=tripleo_transfer.FLAG_DIR):
    """
    Run steps 1-3 (see module doc).

    :return: {"restored": [(item, path, action)], "enabled_units": [...], "os_release": "9.2"}
    :raises RestoreError: naming the step; the record stays for a re-run
    """
    state = tripleo_prepare_record.load(state_file)
    if state is None or state.get('phase') not in ('prepared', 'upgraded'):
        raise RestoreError(
            'there is no record of a completed TripleO upgrade preparation of {} in {} ({}), so it is not known '
            'what to restore and which units to enable; check `tripleo-upgrade-helper status` on the undercloud '
            'and the leapp logs of the preparation (on a reinstalled node, run tools/tripleo-upgrade-restore '
            'instead)'.format(
                node, state_file, 'missing' if state is None else 'phase {}'.format(state.get('phase'))))
    release = tripleo_node.os_release(os_release_file)
    try:
        if state['phase'] == 'upgraded':
            restored = [(r['item'], path, 'present') for r in state['items'] for path in r['paths']]
        else:
            restored = tripleo_persist.restore(client, node, [r for r in state['items'] if r['paths']],
                                               restore_mode, work_dir=work_dir)
    except tripleo_persist.PersistError as exc:
        raise RestoreError('restoring the data of {} failed: {}. Services stay disabled; fix the cause and run '
                           'the restore again'.format(node, exc)) from exc
    database = state.get('database')
    if database:
        # Single-controller cloud: the database comes back from the node's own persisted copy (a re-run finds
        # the flag recording this very copy and changes nothing).
        try:
            done = tripleo_single_database.restore(client, node, database['datadir'], flag_dir=flag_dir)
        except (tripleo_single_database.DatabaseError, tripleo_transfer.TransferError, DaemonError,
                tripleo_archive.ArchiveError) as exc:
            raise RestoreError('restoring the database of {} into {} failed: {}. Services stay disabled; fix the '
                               'cause and run the restore again'.format(node, database['datadir'], exc)) from exc
        restored = list(restored) + [(database['item'], database['datadir'], 'database ' + done)]
    try:
        systemd.enable(state['disabled_units'])
    except SystemdError as exc:
        raise RestoreError('the data of {} is restored, but enabling its units failed: {}'.format(node, exc)) from exc
    try:
        client.put_status(node, 'upgraded', os_release=release, leapp_run_id=run_id)
    except DaemonError as exc:
        raise RestoreError('the data of {} is restored and its units are enabled, but the helper daemon was not '
                           'told: {}'.format(node, exc)) from exc
    state['phase'] = 'upgraded'
    tripleo_prepare_record.save(state_file, state)
    return {'restored': restored, 'enabled_units': state['disabled_units'], 'os_release': release}


def restore_node(values, run_id=None, record_path=None, bus_address=None, os_release_file=None,
                 migration_results=None):
    """
    Restore this node from its validated configuration (tripleo_config) and prepare's record: the
    entry point of the FirstBoot actor. First leapp's own result record is checked
    (tripleo_leapp_result): an upgrade leapp marks failed is reported ``failed`` and nothing is restored.

    :raises RestoreError: naming the step; the record stays for a re-run
    """
    record_path = record_path or tripleo_prepare_record.PATH
    try:
        client = HelperClient.from_config(values)
        client = tripleo_leapp_result.verified(client, values['node_name'], run_id,
                                               migration_results or tripleo_leapp_result.PATH,
                                               tripleo_node.os_release(os_release_file or tripleo_node.OS_RELEASE))
        systemd = Systemd(bus_address)
        return restore(client, systemd, values['node_name'], values['restore_mode'], state_file=record_path,
                       os_release_file=os_release_file or tripleo_node.OS_RELEASE, run_id=run_id,
                       work_dir=os.path.dirname(record_path))
    except (DaemonError, SystemdError, tripleo_prepare_record.RecordError,
            tripleo_leapp_result.LeappResultError) as exc:
        raise RestoreError('restoring {} did not start: {}'.format(values['node_name'], exc)) from exc


def restore_reprovisioned(client, node, restore_mode='always', items=None, os_release_file=tripleo_node.OS_RELEASE,
                          work_dir=None, progress=None, database_datadir='', flag_dir=tripleo_transfer.FLAG_DIR):
    """
    Step 1 and 3 on a node that was reinstalled instead of upgraded in place: prepare's record went
    with the old disk, so what the daemon holds for the node is restored, each archive to the paths
    it was made of. There are no units to enable: TripleO's deployment of the node creates them.

    Refused once the node reported ``completed``: its services have run on the new OS since, and
    ``always`` would throw away what they wrote.

    :return: {"restored": [(item, path, action)], "skipped": [(item, why)], "os_release": "9.2"}
    :raises RestoreError: naming the item; what was already moved into place stays, re-run to go on
    """
    release = tripleo_node.os_release(os_release_file)
    try:
        phase = client.node_status(node).get('phase')
    except DaemonError as exc:
        raise RestoreError('the status of {} could not be read, nothing was restored: {}'.format(node, exc)) from exc
    if phase == 'completed':
        raise RestoreError(
            '{} reported its services started on the new OS (phase completed), so its data is in use; nothing '
            'was restored. Restore single paths by hand from `GET /v1/nodes/{}/data/ITEM` if you must'.format(
                node, node))
    try:
        restored, skipped = tripleo_persist.restore_stored(client, node, restore_mode, items, work_dir=work_dir,
                                                           progress=progress)
    except (tripleo_persist.PersistError, DaemonError) as exc:
        raise RestoreError('restoring the data of {} failed: {}. Fix the cause and run the restore again'.format(
            node, exc)) from exc
    if database_datadir:
        # Single-controller cloud (database_datadir configured): the persisted database, staged, swapped, flagged.
        try:
            done = tripleo_single_database.restore(client, node, database_datadir, flag_dir=flag_dir)
        except (tripleo_single_database.DatabaseError, tripleo_transfer.TransferError, DaemonError,
                tripleo_archive.ArchiveError) as exc:
            raise RestoreError('the data of {} is restored, but not its database into {}: {}. Fix the cause and run '
                               'the restore again'.format(node, database_datadir, exc)) from exc
        restored = list(restored) + [(tripleo_single_database.ITEM, database_datadir, 'database ' + done)]
        skipped = [(item, why) for item, why in skipped if item != tripleo_single_database.ITEM]
    try:
        client.put_status(node, 'upgraded', os_release=release)
    except DaemonError as exc:
        raise RestoreError('the data of {} is restored, but the helper daemon was not told: {}'.format(
            node, exc)) from exc
    return {'restored': restored, 'skipped': skipped, 'os_release': release}


def report_completed(client, node, os_release_file=tripleo_node.OS_RELEASE, release_lease=True):
    """
    Report ``completed`` (services started on the new OS) and release the node's lease.

    :return: the OS release reported
    :raises DaemonError: naming what was done before the failure (both calls are idempotent: re-run)
    """
    release = tripleo_node.os_release(os_release_file)
    client.put_status(node, 'completed', os_release=release)
    if release_lease:
        try:
            client.release_lease(node)
        except DaemonError as exc:
            raise DaemonError('{} reported completed, but its lease was not released: {}'.format(node, exc),
                              url=exc.url, status=exc.status) from exc
    return release
