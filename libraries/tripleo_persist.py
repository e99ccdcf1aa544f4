"""
Node data kept across the upgrade: which paths, how they go to the helper daemon, how they come back.

The persist set is the configured ``persist_items`` plus drop-in files in ``persist_dropin_dir``,
in which TripleO services declare their own data. A drop-in is a ``*.json`` file::

    {"items": {"nova-state": ["/var/lib/nova"], "libvirt-secrets": ["/etc/libvirt/secrets"]}}

item names as the daemon accepts them (``[a-z0-9][a-z0-9_.-]{0,63}``), each with a non-empty
list of absolute paths. Files are read in name order; an item named in several places gets the
paths of all of them. A drop-in that cannot be read or has another shape is an error naming
the file: the operator must know that something a service asked for would not be kept.

Each item goes up as one tar archive (tripleo_archive), streamed from tar straight into the
HTTP upload: constant memory and no spool space on the node, whose largest items (a database)
may be bigger than its free space. The daemon's sha256 of what it stored is compared with the
sha256 of what was sent (HelperClient.put_item), and a tar failure cuts the upload short, so
the daemon never stores a truncated archive as complete. (Sending ``Content-Digest`` instead
would need the digest before the body: reading or spooling everything twice.)

Compression ``auto`` (the configuration's default) is zstd where the node has the zstd binary, else none;
a zstd archive is declared as such, so the daemon records that its sha256 is of the compressed bytes.

Restore unpacks an item while it downloads (no spool file), into a staging directory next to
its paths (same file system), and only once the whole download matched the daemon's digest and
the digest recorded at persist time is anything renamed into place: a cut, truncated or corrupt
download leaves the old state and no staging directory behind. When an item's paths lie on
different file systems it is downloaded to a temporary file first (verified the same way) and
each path unpacked next to itself. Without prepare's record (a reinstalled node),
``restore_stored`` downloads each archive first and takes the paths from the archive itself.
"""
import contextlib
import errno
import json
import os
import shutil
import tempfile

from . import tripleo_archive
from .tripleo_config import RESTORE_MODES, persist_items_problems
from .tripleo_helper_client import DaemonError

STAGING_PREFIX = '.tripleo-restore-'


class PersistError(Exception):
    """A persist or restore step failed; the message names the item, the path or the file."""


def persist_set(persist_items, dropin_dir):
    """item -> [absolute paths], from the configuration and the drop-in files (see module doc)."""
    items = {}

    def add(item, paths):
        merged = items.setdefault(item, [])
        merged.extend(p for p in paths if p not in merged)

    for item, paths in sorted((persist_items or {}).items()):
        add(item, paths)
    for declared in _dropins(dropin_dir):
        for item, paths in sorted(declared.items()):
            add(item, paths)
    return items


def _dropins(dropin_dir):
    try:
        names = sorted(n for n in os.listdir(dropin_dir) if n.endswith('.json'))
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return []
        raise PersistError('cannot read the persist drop-in directory {}: {}'.format(dropin_dir, exc.strerror)) from exc
    found = []
    for name in names:
        path = os.path.join(dropin_dir, name)
        try:
            with open(path) as f:
                document = json.load(f)
        except (IOError, OSError) as exc:
            raise PersistError('cannot read the persist drop-in {}: {}'.format(path, exc.strerror)) from exc
        except ValueError as exc:
            raise PersistError('the persist drop-in {} is not valid JSON: {}'.format(path, exc)) from exc
        problem = _dropin_problem(document)
        if problem:
            raise PersistError('the persist drop-in {} is not valid: {}; expected {{"items": {{"ITEM": '
                               '["/absolute/path", ...]}}}}'.format(path, problem))
        found.append(document['items'])
    return found


def _dropin_problem(document):
    if not isinstance(document, dict) or not isinstance(document.get('items'), dict):
        return 'it has no "items" mapping'
    unknown = sorted(set(document) - {'items'})
    if unknown:
        return 'unknown key(s) {}'.format(', '.join(unknown))
    problems = persist_items_problems(document['items'])
    return problems[0][0] if problems else None


def persist(client, node, items, compression='none'):
    """
    Upload every item of ``items`` (item -> paths) that has at least one existing path, compressed with
    ``compression`` (none, zstd or auto: zstd where the zstd binary is installed).

    :return: one record per item, in name order: {"item", "paths" (archived), "missing" (paths
             that did not exist), "size", "sha256", "compression"}; items without any existing
             path have no size and sha256 and are not uploaded
    :raises PersistError: naming the item, on the first failure
    """
    try:
        compression = tripleo_archive.resolve_compression(compression)
    except tripleo_archive.ArchiveError as exc:
        raise PersistError('nothing was persisted: {}'.format(exc)) from exc
    records = []
    for item in sorted(items):
        present = [p for p in items[item] if os.path.lexists(p)]
        record = {'item': item, 'paths': present, 'missing': [p for p in items[item] if p not in present],
                  'size': None, 'sha256': None, 'compression': compression}
        if present:
            try:
                # A zstd archive is declared as such: the daemon records the encoding its sha256 is about.
                stored = client.put_item(node, item, tripleo_archive.stream(present, compression),
                                         encoding='zstd' if compression == 'zstd' else None)
            except (DaemonError, tripleo_archive.ArchiveError) as exc:
                raise PersistError('item {!r} ({}) was not persisted: {}'.format(
                    item, ', '.join(present), exc)) from exc
            record.update(size=stored['size'], sha256=stored['sha256'])
        records.append(record)
    return records


def restore(client, node, records, mode='missing-only', work_dir=None):
    """
    Put persisted items back in place.

    :param records: as returned by persist()
    :param mode: ``missing-only`` restores a path only where it does not exist or is an empty
                 directory (an in-place upgrade kept the rest; a new package may have created the
                 directory empty); ``always`` replaces existing paths (a reprovisioned node)
    :param work_dir: where the archive is downloaded to (default: the system temp directory)
    :return: [(item, path, action)] with action ``restored``, ``replaced`` or ``present`` (left as is)
    """
    _check_mode(mode)
    done = []
    for record in records:
        item, paths = record['item'], record['paths']
        if not any(_wanted(p, mode) for p in paths):
            done.extend((item, p, 'present') for p in paths)
            continue
        wanted = [p for p in paths if _wanted(p, mode)]
        stage_parent = _common_stage_parent(wanted)
        if stage_parent is None:
            with _downloaded(client, node, item, work_dir, record.get('sha256')) as archive:
                done.extend(_restore_paths(item, archive, paths, mode))
        else:
            actions = _restore_streamed(client, node, item, wanted, stage_parent, record.get('sha256'))
            done.extend((item, p, actions.get(p, 'present')) for p in paths)
    return done


def restore_stored(client, node, mode='always', items=None, work_dir=None, progress=None):
    """
    Put back what the daemon holds for ``node`` when prepare's record is gone (a reprovisioned
    node): each archive's own root paths (tripleo_archive.roots) say where it goes.

    :param items: the item names to restore (default: every item the daemon holds)
    :param progress: called with (item, size in bytes) before each download
    :return: (done as restore() returns it, skipped [(item, why)]): an item that is not an
             archive of root paths, such as a database push, is skipped, not unpacked
    """
    _check_mode(mode)
    stored = client.list_items(node)
    unknown = sorted(set(items or ()) - set(s['item'] for s in stored))
    if unknown:
        raise PersistError('the daemon holds no item {} of {} (it holds: {})'.format(
            ', '.join(unknown), node, ', '.join(s['item'] for s in stored) or 'nothing'))
    done, skipped = [], []
    for entry in stored:
        item = entry['item']
        if items and item not in items:
            continue
        if progress:
            progress(item, entry['size'])
        with _downloaded(client, node, item, work_dir, entry['sha256']) as archive:
            try:
                paths = tripleo_archive.roots(archive)
            except tripleo_archive.NotRootArchive as exc:
                skipped.append((item, str(exc)))
                continue
            except tripleo_archive.ArchiveError as exc:
                raise PersistError('item {!r} cannot be read; nothing of it was restored: {}'.format(
                    item, exc)) from exc
            done.extend(_restore_paths(item, archive, paths, mode))
    return done, skipped


def _check_mode(mode):
    if mode not in RESTORE_MODES:
        raise PersistError('unknown restore mode {!r}; use one of {}'.format(mode, ', '.join(RESTORE_MODES)))


@contextlib.contextmanager
def _downloaded(client, node, item, work_dir, sha256):
    """The path of ``item``'s archive, downloaded and verified, removed on exit."""
    try:
        archive = tempfile.NamedTemporaryFile(dir=work_dir, prefix='tripleo-restore-{}-'.format(item))
    except OSError as exc:
        raise PersistError('item {!r}: cannot create a download file in {}: {}'.format(
            item, work_dir or tempfile.gettempdir(), exc.strerror)) from exc
    with archive:
        try:
            got = client.get_item(node, item, archive)
            archive.flush()
        except DaemonError as exc:
            raise PersistError('item {!r} could not be downloaded; nothing of it was restored: {}'.format(
                item, exc)) from exc
        except OSError as exc:
            raise PersistError('item {!r} could not be written to {}: {}; nothing of it was restored'.format(
                item, archive.name, exc.strerror or exc)) from exc
        if sha256 and got['sha256'] != sha256:
            raise _replaced(item, got['sha256'], sha256)
        yield archive.name


def _device(path):
    """The device of ``path``, or of its nearest existing ancestor (where makedirs would create it)."""
    while True:
        try:
            return os.stat(path).st_dev
        except OSError:
            parent = os.path.dirname(path)
            if parent == path:
                raise
            path = parent


def _common_stage_parent(paths):
    """Where one staging directory may hold every path of ``paths`` so that each can be renamed into place: the
    parent of the first one when all of them are on its file system; None otherwise (or when there is nothing)."""
    if not paths:
        return None
    parents = [os.path.dirname(os.path.normpath(p)) for p in paths]
    try:
        devices = set(_device(parent) for parent in parents)
    except OSError:
        return None
    return parents[0] if len(devices) == 1 else None


def _restore_streamed(client, node, item, paths, stage_parent, sha256):
    """
    Download ``item`` and unpack its ``paths`` as the bytes arrive into one staging directory in
    ``stage_parent``; once the download matched the daemon's digest (and ``sha256``, recorded at persist time),
    rename each path into place. Returns {path: 'restored' or 'replaced'}; nothing is moved before the end.
    """
    if sha256:
        stored = _head(client, node, item)
        if stored is not None and stored['sha256'] != sha256:
            raise _replaced(item, stored['sha256'], sha256)
    try:
        os.makedirs(stage_parent, exist_ok=True)
        stage = tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=stage_parent)
    except OSError as exc:
        raise PersistError('item {!r}: cannot stage {} in {}: {}; nothing of it was restored'.format(
            item, ', '.join(paths), stage_parent, exc.strerror)) from exc
    try:
        # A path inside another one comes with it; naming it to tar as well makes tar miss it ("Not found").
        outermost = [p for p in paths if not any(_inside(p, other) for other in paths)]
        extractor = tripleo_archive.StreamExtractor(stage, outermost)
        try:
            got = client.get_item(node, item, extractor)
        except BaseException as exc:
            extractor.abort()
            if isinstance(exc, DaemonError):
                raise PersistError('item {!r} could not be downloaded; nothing of it was restored: {}'.format(
                    item, exc)) from exc
            if isinstance(exc, tripleo_archive.ArchiveError):
                raise PersistError('item {!r} could not be unpacked; nothing of it was restored: {}'.format(
                    item, exc)) from exc
            raise
        try:
            extractor.close()
        except tripleo_archive.ArchiveError as exc:
            raise PersistError('item {!r} could not be unpacked; nothing of it was restored: {}'.format(
                item, exc)) from exc
        if sha256 and got['sha256'] != sha256:
            raise _replaced(item, got['sha256'], sha256)
        actions = {}
        for path in sorted(paths, key=len):
            inside = [done for done in actions if _inside(path, done)]
            if inside:  # came into place with the tree that holds it
                actions[path] = actions[inside[0]]
                continue
            staged = os.path.join(stage, os.path.normpath(path).lstrip('/'))
            existed = os.path.lexists(path)
            try:
                os.makedirs(os.path.dirname(os.path.normpath(path)), exist_ok=True)
                # What ``always`` replaces is set aside inside the stage, so it goes away with it.
                tripleo_archive.swap_into_place(staged, path, os.path.join(stage, STAGING_PREFIX + 'previous'))
            except OSError as exc:
                raise PersistError('{} could not be moved into place (left as it was): {}'.format(path, exc)) from exc
            shutil.rmtree(os.path.join(stage, STAGING_PREFIX + 'previous'), ignore_errors=True)
            actions[path] = 'replaced' if existed else 'restored'
        return actions
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _inside(path, other):
    """Is ``path`` strictly inside the tree ``other``?"""
    return os.path.normpath(path).startswith(os.path.normpath(other).rstrip('/') + '/')


def _head(client, node, item):
    try:
        return client.head_item(node, item)
    except DaemonError as exc:
        raise PersistError('item {!r} could not be downloaded; nothing of it was restored: {}'.format(
            item, exc)) from exc


def _replaced(item, stored, persisted):
    return PersistError(
        'item {!r}: the daemon holds a copy with sha256 {}, but this node persisted sha256 {}; '
        'nothing of it was restored. Check `tripleo-upgrade-helper status` for who replaced it'.format(
            item, stored, persisted))


def _restore_paths(item, archive, paths, mode):
    done = []
    for path in paths:
        if not _wanted(path, mode):
            done.append((item, path, 'present'))
            continue
        existed = os.path.lexists(path)
        _put_in_place(archive, path)
        done.append((item, path, 'replaced' if existed else 'restored'))
    return done


def _wanted(path, mode):
    return mode == 'always' or _missing(path)


def _missing(path):
    if not os.path.lexists(path):
        return True
    if os.path.isdir(path) and not os.path.islink(path):
        try:
            return not os.listdir(path)
        except OSError:
            return False
    return False


def _put_in_place(archive, path):
    parent = os.path.dirname(os.path.normpath(path))
    try:
        os.makedirs(parent, exist_ok=True)
        stage = tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=parent)
    except OSError as exc:
        raise PersistError('cannot stage {} in {}: {}'.format(path, parent, exc.strerror)) from exc
    try:
        try:
            tripleo_archive.extract(archive, stage, [path])
        except tripleo_archive.ArchiveError as exc:
            raise PersistError('{} was not restored: {}'.format(path, exc)) from exc
        staged = os.path.join(stage, os.path.normpath(path).lstrip('/'))
        try:
            # What ``always`` replaces is set aside inside the stage, so it goes away with it.
            tripleo_archive.swap_into_place(staged, path, os.path.join(stage, STAGING_PREFIX + 'previous'))
        except OSError as exc:
            raise PersistError('{} could not be moved into place (left as it was): {}'.format(path, exc)) from exc
    finally:
        shutil.rmtree(stage, ignore_errors=True)
