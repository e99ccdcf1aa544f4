"""
The Ceph OSD flags around a node's downtime: the daemon keeps who holds which flag, the node runs ceph.

Before a node hosting OSDs goes down (prepare, after its lease, before any service stops):

1. the flags are written into prepare's record (so a rollback or tripleo-upgrade-abort knows to release them);
2. ``PUT /v1/nodes/{node}/ceph-osd-flags`` records the hold (retried while another node is clearing flags);
3. ``ceph osd set FLAG`` for each of noout, norecover, nobackfill, norebalance, nodeep-scrub.

When the node is back in service (tripleo-upgrade-complete), and when its preparation is rolled back or aborted:

1. ``DELETE /v1/nodes/{node}/ceph-osd-flags``: the daemon answers which flags no other node holds (``clear``);
2. ``ceph osd unset FLAG`` for exactly those: a flag another node still holds for its own downtime stays set;
3. ``POST /v1/nodes/{node}/ceph-osd-flags/cleared`` confirms it.

Every step is idempotent (setting a set flag, a second DELETE answering the pending clear again), so a re-run after
a failure finishes the job. Which node hosts OSDs: its loaded ceph-osd@*.service (ceph-ansible) or
ceph-FSID@osd.N.service (cephadm) units (tripleo_ceph.osd_units).
"""
from . import tripleo_ceph
from .tripleo_helper_client import DaemonError

RECORD_KEY = 'ceph_osd_flags'


class OsdFlagsError(Exception):
    """Holding, setting, releasing or unsetting the OSD flags failed; the message says which step and what is left."""


def hold_and_set(client, node, ceph_command, osd_units, record, save):
    """
    Steps 1-3 of the hold: ``record[RECORD_KEY]`` says what is held and set; ``save(record)`` after each change.

    :raises OsdFlagsError: no ceph_command, the daemon refused the hold, or ceph refused a flag (what is set so
                           far is in the record: the rollback releases it)
    """
    if not ceph_command:
        raise OsdFlagsError(
            '{} hosts Ceph OSDs ({}) but tripleo_upgrade.ceph_command is not set, so the OSD flags noout, norecover, '
            'nobackfill, norebalance and nodeep-scrub cannot be set before it goes down; set ceph_command to the '
            'command that reaches the cluster (e.g. ["podman", "exec", "ceph-mon-controller-0", "ceph"])'.format(
                node, ', '.join(osd_units)))
    flags = list(tripleo_ceph.OSD_FLAGS)
    held = record.get(RECORD_KEY) or {}
    record[RECORD_KEY] = {'osd_units': list(osd_units), 'flags': flags, 'set': list(held.get('set') or [])}
    save(record)
    try:
        client.hold_ceph_osd_flags(node, flags)
    except DaemonError as exc:
        raise OsdFlagsError('the helper daemon did not record the hold of the Ceph OSD flags {}: {}'.format(
            ', '.join(flags), exc)) from exc
    for flag in flags:
        try:
            tripleo_ceph.set_osd_flag(ceph_command, flag)
        except tripleo_ceph.CephError as exc:
            raise OsdFlagsError('setting the Ceph OSD flag {} failed: {}'.format(flag, exc)) from exc
        if flag not in record[RECORD_KEY]['set']:
            record[RECORD_KEY]['set'].append(flag)
            save(record)
    return flags


def release_and_unset(client, node, ceph_command):
    """
    Steps 1-3 of the release.

    :return: (flags unset, {flag: [nodes]} still held by other nodes)
    :raises OsdFlagsError: naming what is left (the daemon keeps the clear pending for this node: re-run)
    """
    try:
        answer = client.release_ceph_osd_flags(node)
    except DaemonError as exc:
        raise OsdFlagsError('the helper daemon did not release the Ceph OSD flags of {}: {}'.format(
            node, exc)) from exc
    clear = sorted(answer.get('clear') or [])
    still_held = answer.get('still_held') or {}
    if not clear:
        return [], still_held
    unset = []
    for flag in clear:
        try:
            tripleo_ceph.unset_osd_flag(ceph_command, flag)
        except tripleo_ceph.CephError as exc:
            raise OsdFlagsError(
                'the helper daemon says {} must clear the Ceph OSD flag(s) {}, but {}{}; the flags stay marked as '
                'being cleared by {} at the daemon, run the command again once ceph answers'.format(
                    node, ', '.join(clear), exc, ' (unset already: {})'.format(', '.join(unset)) if unset else '',
                    node)) from exc
        unset.append(flag)
    try:
        client.ceph_osd_flags_cleared(node, unset)
    except DaemonError as exc:
        raise OsdFlagsError('the Ceph OSD flags {} are unset, but the helper daemon was not told: {}; run the '
                            'command again'.format(', '.join(unset), exc)) from exc
    return unset, still_held


def describe_release(node, unset, still_held):
    """One sentence for the operator: what was unset and what other nodes still hold."""
    parts = []
    if unset:
        parts.append('Ceph OSD flags unset: {}.'.format(', '.join(unset)))
    if still_held:
        parts.append('Still set for other nodes\' downtime: {}.'.format('; '.join(
            '{} ({})'.format(flag, ', '.join(nodes)) for flag, nodes in sorted(still_held.items()))))
    return ' '.join(parts) or 'No Ceph OSD flag was held by {}.'.format(node)
