"""
Pull side of the one-shot database transfer, on the new-OS target node of a role.

``pull()`` finds this node's open transfer at the daemon, downloads the source node's datadir
archive next to the datadir (same file system), verifies its sha256 before unpacking anything,
unpacks it into a staging directory there, writes the flag file (state ``swapping``), swaps the
datadir into place (the old datadir is moved aside until the swap succeeded; the flag is removed
if the swap fails), marks the flag ``installed`` and seals the transfer at the daemon. So no
moment exists where the datadir is replaced and no flag stops a second pull; a flag still saying
``swapping`` (a crash during the swap) refuses every pull and is never taken for a finished one.

The flag file is what makes the transfer impossible to repeat by accident on this node: once
the new node's database has taken writes, unpacking the old node's copy again would throw them
away. ``pull()`` is what ``tools/tripleo-transfer-pull`` runs; its building block
``install_datadir()`` (download, verify, unpack, swap, flag) also serves the FirstBoot restore of
a single-controller cloud, whose datadir comes back from its own persisted item, not a transfer.
"""
import errno
import fcntl
import glob
import json
import os
import shutil
import socket
import tempfile
import time

from . import tripleo_archive, tripleo_files, tripleo_helper_client

DEFAULT_DATADIR = '/var/lib/mysql'
DEFAULT_ITEM = 'mysql'
FLAG_DIR = '/var/lib/tripleo/transfer-flags'
# The flag's "state": written as swapping before the datadir is swapped, installed once it is in place.
FLAG_SWAPPING = 'swapping'
FLAG_INSTALLED = 'installed'
SERVER_PROGRAMS = ('mysqld', 'mariadbd', 'mysqld_safe', 'mariadbd-safe')
LOCKED_WHILE_RUNNING = ('ibdata1', 'aria_log_control')
HOW_TO_STOP = ('stop it first (on a Pacemaker controller `pcs resource disable galera-bundle`, elsewhere '
               '`systemctl stop tripleo_mysql`) and wait until it has exited')


class TransferError(Exception):
    """The transfer did not happen or did not finish; the message says what to do."""


class TransferRefused(TransferError):
    """Refused before touching anything (flag file, no open transfer, live server, no space)."""


def flag_path(datadir, flag_dir=FLAG_DIR):
    """The flag file of a datadir: /var/lib/mysql -> <flag_dir>/var-lib-mysql."""
    return os.path.join(flag_dir, os.path.normpath(datadir).strip('/').replace('/', '-'))


def _refuse_flag(flag, datadir):
    interrupted = ''
    if _read_flag(flag).get('state') == FLAG_SWAPPING:
        interrupted = (' The flag says a pull was interrupted while swapping the datadir: check whether {datadir} '
                       'is the transferred database or the previous one (a previous one may also wait in '
                       '{datadir}.before-transfer-*).'.format(datadir=datadir))
    return TransferRefused(
        'the flag file {flag} exists: the database was already transferred into {datadir} (details inside the '
        'file).{interrupted} Transferring again would replace this node\'s database, with every write made since, '
        'by the old node\'s copy. Only if you are sure this node\'s database holds nothing to keep (its services '
        'never started on it), remove the flag deliberately with `rm {flag}`, have the admin open a new transfer, '
        'and run this again.'.format(flag=flag, datadir=datadir, interrupted=interrupted))


def live_server_evidence(datadir):
    """Why a database server looks alive on ``datadir`` (empty list: none found).

    The same checks as tools/tripleo-transfer-push (which must stay self-contained): a server
    process whose working directory is this directory (same device and inode, so containers
    count) or whose --datadir names it, a pid file naming a live process, a socket accepting
    connections, an InnoDB/Aria lock held on the datadir's files.
    """
    wanted = os.stat(datadir)
    evidence = []
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open('/proc/{}/cmdline'.format(pid), 'rb') as stream:
                argv = stream.read().decode('utf-8', 'replace').split('\0')
            if os.path.basename(argv[0]) not in SERVER_PROGRAMS:
                continue
            cwd = os.stat('/proc/{}/cwd'.format(pid))
        except OSError:
            continue
        datadirs = [a.split('=', 1)[1] for a in argv if a.startswith('--datadir=')]
        if (cwd.st_dev, cwd.st_ino) == (wanted.st_dev, wanted.st_ino) or any(
                os.path.realpath(d) == os.path.realpath(datadir) for d in datadirs):
            evidence.append('process {} ({}) runs on it'.format(pid, os.path.basename(argv[0])))
    for pid_file in glob.glob(os.path.join(datadir, '*.pid')):
        try:
            with open(pid_file) as stream:
                pid = int(stream.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        try:
            with open('/proc/{}/comm'.format(pid)) as stream:
                program = stream.read().strip()
        except OSError:
            continue  # stale pid file
        if program in SERVER_PROGRAMS:
            evidence.append('pid file {} names the live process {} ({})'.format(pid_file, pid, program))
    for socket_path in glob.glob(os.path.join(datadir, '*.sock')):
        probe = socket.socket(socket.AF_UNIX)
        try:
            probe.connect(socket_path)
            evidence.append('socket {} accepts connections'.format(socket_path))
        except OSError:
            pass
        finally:
            probe.close()
    for name in LOCKED_WHILE_RUNNING:
        try:
            fd = os.open(os.path.join(datadir, name), os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.lockf(fd, fcntl.LOCK_UN)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                evidence.append('{} is locked by a running server'.format(os.path.join(datadir, name)))
        finally:
            os.close(fd)
    return evidence


def _open_transfer(client, node, item):
    transfers = [t for t in client.node_transfers(node)
                 if t.get('target') == node and t.get('state') == 'open' and item in t.get('items', [])]
    if not transfers:
        raise TransferRefused(
            'the daemon has no open transfer of {!r} with {} as target; the admin opens one (GET '
            '/v1/transfer/plan?role=ROLE, then POST /v1/transfers) and the source node pushes its datadir with '
            'tripleo-transfer-push first'.format(item, node))
    if len(transfers) > 1:
        raise TransferRefused('the daemon has {} open transfers of {!r} into {} ({}); the admin must leave one'
                              .format(len(transfers), item, node, ', '.join(str(t.get('id')) for t in transfers)))
    return transfers[0]


def _write_flag(flag, record):
    """Write the flag atomically (a half-written flag must never look like no flag)."""
    tripleo_files.write_json(flag, record, dir_mode=0o755)


def _read_flag(flag):
    try:
        with open(flag) as stream:
            return json.load(stream)
    except (OSError, ValueError):
        return {}


def _complete(client, transfer_id, datadir, flag):
    try:
        return client.complete_transfer(transfer_id)
    except tripleo_helper_client.DaemonError as exc:
        raise TransferError(
            'the database is in place in {} and the flag {} is written, but sealing transfer {} at the daemon '
            'failed: {}. Run the pull again once the daemon answers: it only seals the transfer.'.format(
                datadir, flag, transfer_id, exc)) from exc


def _check_space(staging_parent, size):
    """The archive is unpacked as it arrives (never stored): its unpacked copy needs about its size. A compressed
    archive unpacks larger; if the file system fills up, tar fails and the datadir is untouched."""
    stats = os.statvfs(staging_parent)
    free = stats.f_bavail * stats.f_frsize
    if free < size:
        raise TransferRefused('{} has {} MiB free, the transfer needs at least {} MiB there (the unpacked '
                              'copy); free space on that file system and run this again'.format(
                                  staging_parent, free >> 20, size >> 20))


def pull(client, node, datadir=DEFAULT_DATADIR, item=DEFAULT_ITEM, flag_file=None, keep_old=False, follow=False):
    """
    Run this node's open transfer into ``datadir``; returns the flag record plus ``flag``,
    ``old_datadir`` (kept with ``keep_old``) and ``resumed``.

    With ``follow`` the pull may start before the source's push has ended (or begun): it waits for the upload,
    follows it through the daemon as it is stored and verifies the stored item's size and sha256 at its end.

    Raises TransferRefused before touching anything, TransferError (or DaemonError) when it fails
    later; in every failure before the swap the datadir is left exactly as it was. Re-running
    after a failure is safe: when only the sealing failed, the re-run only seals.
    """
    datadir = os.path.abspath(datadir)
    flag = flag_file or flag_path(datadir)
    if os.path.exists(flag):
        flagged = _read_flag(flag)
        recorded = flagged.get('transfer_id') if flagged.get('state') == FLAG_INSTALLED else None
        try:
            transfer = _open_transfer(client, node, item) if recorded is not None else None
        except (TransferRefused, tripleo_helper_client.DaemonError):
            transfer = None
        if transfer is None or transfer.get('id') != recorded:
            raise _refuse_flag(flag, datadir)
        # This very transfer was unpacked and flagged; only sealing it failed last time.
        _complete(client, recorded, datadir, flag)
        return dict(_read_flag(flag), flag=flag, old_datadir=None, resumed=True)

    transfer = _open_transfer(client, node, item)
    # The previous datadir is removed after the seal, not before it: the downtime ends at the seal.
    result = install_datadir(client, transfer['source'], item, datadir, flag, keep_old=True, follow=follow, record={
        'transfer_id': transfer['id'], 'role': transfer.get('role'), 'target': node})
    _complete(client, transfer['id'], datadir, flag)
    old = result['old_datadir']
    if old and not keep_old:
        shutil.rmtree(old, ignore_errors=True)
        old = old if os.path.lexists(old) else None
    return dict(result, old_datadir=old, resumed=False)


def install_datadir(client, source, item, datadir, flag, keep_old=False, record=None, follow=False):
    """
    Replace ``datadir`` by ``source``'s stored ``item`` (a tar archive of a datadir's contents) and write ``flag``.

    The building block of ``pull()``, also for a restore that is not a transfer (a single-controller cloud
    restoring its own persisted datadir on first boot). Refuses when ``flag`` exists or a server runs on the
    datadir; unpacks while it downloads into a staging directory on the datadir's file system, verifies size and
    sha256 at the end, syncs, swaps, writes the flag (``record`` plus what was installed). A cut, truncated or
    corrupted download fails before the swap: the datadir is untouched and the staging directory removed.
    ``follow``: see pull().
    """
    datadir = os.path.abspath(datadir)
    if os.path.exists(flag):
        raise _refuse_flag(flag, datadir)
    parent = os.path.dirname(datadir)
    if os.path.isdir(datadir):
        evidence = live_server_evidence(datadir)
        if evidence:
            raise TransferRefused('a database server is running on {} ({}); {}, then run this again'.format(
                datadir, '; '.join(evidence), HOW_TO_STOP))
    stored = client.head_item(source, item)
    if stored is None and not follow:
        raise TransferRefused('the daemon holds no {!r} of {} yet; run tripleo-transfer-push on {} first'.format(
            item, source, source))
    try:
        if stored is not None:
            _check_space(parent, stored['size'])
        staging = tempfile.mkdtemp(prefix='.{}.transfer-'.format(os.path.basename(datadir)), dir=parent)
    except OSError as exc:
        raise TransferRefused('cannot stage the transfer next to {} in {}: {}; {} was not changed, fix that and run '
                              'this again'.format(datadir, parent, exc, datadir)) from exc
    try:
        unpacked = os.path.join(staging, 'datadir')
        os.mkdir(unpacked, 0o700)
        # Unpacked while it downloads, into the staging directory (never the datadir): get_item verifies size and
        # sha256 once the last byte arrived, and only then may the swap below use what tar wrote.
        extractor = tripleo_archive.StreamExtractor(unpacked)
        try:
            received = client.get_item(source, item, extractor, follow=follow)
        except BaseException:
            extractor.abort()
            raise
        extractor.close()
        os.sync()
        record = dict(record or {}, source=source, item=item, datadir=datadir, size=received['size'],
                      sha256=received['sha256'],
                      transferred_at=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()))
        # The flag goes down BEFORE the swap: a crash or a failure after the swap must never leave a replaced
        # datadir without a flag, which a re-run would replace again. Until the swap is done it says so.
        _write_flag(flag, dict(record, state=FLAG_SWAPPING))
        try:
            old = tripleo_archive.swap_into_place(
                unpacked, datadir, '{}.before-transfer-{}'.format(datadir, time.strftime('%Y%m%dT%H%M%S')))
        except OSError:
            os.unlink(flag)
            raise
    except (tripleo_helper_client.DaemonError, tripleo_archive.ArchiveError, OSError) as exc:
        raise TransferError('{}; {} was not changed, run this again'.format(exc, datadir)) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    try:
        _write_flag(flag, dict(record, state=FLAG_INSTALLED))
    except OSError as exc:
        raise TransferError('the database is in place in {}, but the flag {} could not be completed: {}; it still '
                            'blocks another pull. Fix the cause, then write "state": "{}" into it by hand and run the '
                            'pull again to seal the transfer'.format(datadir, flag, exc, FLAG_INSTALLED)) from exc
    if old and not keep_old:
        shutil.rmtree(old, ignore_errors=True)
        old = old if os.path.lexists(old) else None
    return dict(record, state=FLAG_INSTALLED, flag=flag, old_datadir=old)

