"""
A single-controller cloud has no other node of its role to take the database from, so the database cannot
move by a transfer: prepare persists the stopped datadir as an item of its own (``mysql``), and the restore
on the upgraded or reinstalled node puts it back verified, through the same staging, swap and flag file as
the transfer's pull (``tripleo_transfer.install_datadir``). One configuration key turns it on:
``database_datadir`` (empty: the database moves by a transfer).

The archive holds the datadir's contents (``tar -C datadir .``), as the transfer's push does, so the same
``install_datadir`` unpacks both.
"""
import os
import time

from . import tripleo_archive, tripleo_transfer, tripleo_transfer_flag

ITEM = tripleo_transfer.DEFAULT_ITEM
SERVER_EXIT_WAIT = 300.0


class DatabaseError(Exception):
    """The database was not persisted or not restored; the message says what to do."""


def persist(client, node, datadir, compression='none', wait=None, poll=0.5):
    """
    Wait until no database server runs on ``datadir`` (prepare has just stopped the services), then store its
    contents as the node's ``mysql`` item, compressed with ``compression`` (none, zstd or auto, as the other
    persisted items); returns {"item", "datadir", "size", "sha256", "compression"}.
    """
    compression = tripleo_archive.resolve_compression(compression)
    if not os.path.isdir(datadir):
        raise DatabaseError('database_datadir {} is not a directory; correct database_datadir in the '
                            'tripleo_upgrade configuration (empty when the database moves by a transfer)'.format(
                                datadir))
    deadline = time.monotonic() + (SERVER_EXIT_WAIT if wait is None else wait)
    evidence = tripleo_transfer.live_server_evidence(datadir)
    while evidence and time.monotonic() < deadline:
        time.sleep(poll)
        evidence = tripleo_transfer.live_server_evidence(datadir)
    if evidence:
        raise DatabaseError('a database server still runs on {} after the services were stopped ({}); a copy of '
                            'a live datadir is not a backup'.format(datadir, '; '.join(evidence)))
    stored = client.put_item(node, ITEM, tripleo_archive.stream_contents(datadir, compression),
                             encoding='zstd' if compression == 'zstd' else None)
    return {'item': ITEM, 'datadir': datadir, 'size': stored['size'], 'sha256': stored['sha256'],
            'compression': compression}


def restore(client, node, datadir, flag_dir=tripleo_transfer.FLAG_DIR):
    """
    Put the node's persisted database back into ``datadir`` (verified, staged, swapped, flagged); returns
    "installed" or "already installed" (the flag records this very copy, so a re-run changes nothing).
    """
    flag = tripleo_transfer.flag_path(datadir, flag_dir)
    stored = client.head_item(node, ITEM)
    if stored is None:
        raise DatabaseError('the daemon holds no {!r} item of {}: prepare did not persist the database (was '
                            'database_datadir set before it ran?)'.format(ITEM, node))
    if os.path.exists(flag):
        flagged = tripleo_transfer_flag.read(flag) or {}
        if flagged.get('state') == tripleo_transfer.FLAG_INSTALLED and flagged.get('sha256') == stored['sha256'] \
                and flagged.get('source') == node:
            return 'already installed'
    tripleo_transfer.install_datadir(client, node, ITEM, datadir, flag, record={'single_node_database': True})
    return 'installed'
