"""
GNU tar archives of node data that keep everything a service needs on the new OS: ownership
(numeric, as container services use fixed uids), modes, hard links, symlinks, sparse files,
POSIX ACLs, every xattr namespace (``--xattrs-include='*'``, else ``trusted.*`` is lost) and
SELinux contexts (a no-op where SELinux is off). Optionally compressed with zstd.

Paths are stored relative to ``/``, so an archive unpacks into any directory with the layout of
the root file system; that is how restore stages a tree before moving it into place.
"""
import os
import subprocess
import tempfile

from . import tripleo_files

COMPRESSIONS = ('none', 'zstd')
TAR_BLOCK = 512
CHUNK = 1024 * 1024
METADATA_OPTIONS = ['--xattrs', '--xattrs-include=*', '--acls', '--selinux', '--numeric-owner']
# Not --zstd: RHEL 8's tar (1.30) predates it and does not recognise zstd archives by itself.
ZSTD = ['--use-compress-program=zstd']
ZSTD_MAGIC = b'\x28\xb5\x2f\xfd'


class ArchiveError(Exception):
    """tar failed; the message has the command's purpose and tar's own words."""


class NotRootArchive(ArchiveError):
    """The archive holds relative names (such as a database push), not paths of the root file system."""


def _member(path):
    if not os.path.isabs(path):
        raise ArchiveError('{!r} is not an absolute path'.format(path))
    return os.path.normpath(path).lstrip('/')


def stream(paths, compression='none'):
    """
    Generate the archive of ``paths`` (absolute) in chunks of at most 1 MiB, in constant memory.

    tar's exit status is checked before the generator ends: a failure raises ArchiveError
    *instead of* ending the stream, so an HTTP upload fed by this generator is cut short and
    the receiver never takes a truncated archive for a complete one.
    """
    if compression not in COMPRESSIONS:
        raise ArchiveError('unknown compression {!r}; use one of {}'.format(compression, ', '.join(COMPRESSIONS)))
    command = (['tar', '--create', '--file=-', '--sparse', '--directory=/'] + METADATA_OPTIONS +
               (ZSTD if compression == 'zstd' else []) + ['--'] + [_member(p) for p in paths])
    with tempfile.TemporaryFile() as errors:
        tar = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors)
        try:
            while True:
                chunk = tar.stdout.read(CHUNK)
                if not chunk:
                    break
                yield chunk
            status = tar.wait()
        finally:
            _reap(tar)
        if status != 0:
            raise ArchiveError('tar could not archive {}: {}'.format(', '.join(paths), _tail(errors, status)))


def extract(archive, directory, paths=None):
    """
    Unpack the archive file ``archive`` into ``directory`` (absolute paths of the archive land
    below it); only ``paths`` (absolute, as archived) when given. zstd is recognised by its magic number.
    """
    command = (['tar', '--extract', '--file=' + archive, '--directory=' + directory, '--same-owner',
                '--preserve-permissions'] + METADATA_OPTIONS + _decompression(archive))
    if paths:
        command += ['--'] + [_member(p) for p in paths]
    with tempfile.TemporaryFile() as errors:
        status = subprocess.call(command, stdout=subprocess.DEVNULL, stderr=errors)
        if status != 0:
            raise ArchiveError('tar could not unpack {} into {}: {}'.format(archive, directory,
                                                                            _tail(errors, status)))


def roots(archive):
    """
    The absolute paths that ``stream()`` archived into ``archive``: the members that are not
    inside another one. tar writes each path's tree in one run, so this reads the member list
    once, in constant memory. An archive of relative names (not made by ``stream()``, such as
    a database push of a datadir's contents) raises NotRootArchive.
    """
    found = []
    with tempfile.TemporaryFile() as errors:
        tar = subprocess.Popen(['tar', '--list', '--file=' + archive] + _decompression(archive),
                               stdout=subprocess.PIPE, stderr=errors)
        try:
            for line in tar.stdout:
                name = line.decode('utf-8', 'surrogateescape').rstrip('\n').rstrip('/')
                if not (found and (name == found[-1] or name.startswith(found[-1] + '/'))):
                    found.append(name)
            status = tar.wait()
        finally:
            _reap(tar)
        if status != 0:
            raise ArchiveError('tar could not list {}: {}'.format(archive, _tail(errors, status)))
    if not found:
        raise ArchiveError('{} holds no files'.format(archive))
    relative = [name for name in found if name in ('', '.') or name.startswith(('./', '../', '/'))]
    if relative:
        raise NotRootArchive('{} does not hold paths of the root file system (it holds {!r})'.format(
            archive, relative[0]))
    return ['/' + name for name in found]


def _reap(tar):
    """Close tar's output and make sure it has ended: killed when its reader stopped early."""
    tar.stdout.close()
    if tar.poll() is None:
        tar.kill()
        tar.wait()


def _decompression(archive):
    with open(archive, 'rb') as f:
        return ZSTD if f.read(len(ZSTD_MAGIC)) == ZSTD_MAGIC else []


def swap_into_place(staged, path, aside):
    """
    Rename the unpacked tree ``staged`` to ``path`` (same file system). An existing ``path`` is
    renamed to ``aside`` first and renamed back if the move fails, so ``path`` is always either
    the old tree or the complete new one. The parent directory is synced, so the swap survives
    a crash. Returns ``aside`` when something was set aside there, else None; raises OSError.
    """
    replacing = os.path.lexists(path)
    if replacing:
        os.rename(path, aside)
    try:
        os.rename(staged, path)
    except OSError:
        if replacing:
            os.rename(aside, path)
        raise
    tripleo_files.fsync_dir(os.path.dirname(os.path.abspath(path)))
    return aside if replacing else None


def _tail(errors, status):
    errors.seek(0)
    text = errors.read()[-2000:].decode('utf-8', 'replace').strip()
    return '{} (exit status {})'.format(text or 'no message', status)


def estimate_bytes(paths):
    """
    The size of an uncompressed GNU tar archive of ``paths``, without reading any data.

    :return: (bytes: a 512-byte header per entry plus its data rounded up to 512, absent paths, unreadable paths)
    """
    total, missing, unreadable = 0, [], []

    def entry(size):
        return TAR_BLOCK + (size + TAR_BLOCK - 1) // TAR_BLOCK * TAR_BLOCK

    for path in paths:
        if not os.path.lexists(path):
            missing.append(path)
            continue
        try:
            top = os.lstat(path)
        except OSError:
            unreadable.append(path)
            continue
        total += entry(top.st_size if os.path.isfile(path) and not os.path.islink(path) else 0)
        errors = []
        for root, dirs, files in os.walk(path, onerror=errors.append):
            for name in dirs + files:
                try:
                    st = os.lstat(os.path.join(root, name))
                except OSError:
                    continue
                total += entry(st.st_size if name in files and not os.path.islink(os.path.join(root, name)) else 0)
        unreadable.extend(e.filename for e in errors)
    return total, missing, unreadable
