"""
GNU tar archives of node data that keep everything a service needs on the new OS: ownership
(numeric, as container services use fixed uids), modes, hard links, symlinks, sparse files,
POSIX ACLs, every xattr namespace (``--xattrs-include='*'``, else ``trusted.*`` is lost) and
SELinux contexts (a no-op where SELinux is off). Optionally compressed with zstd.

Paths are stored relative to ``/``, so an archive unpacks into any directory with the layout of
the root file system; that is how restore stages a tree before moving it into place.
"""
import fcntl
import os
import shutil
import subprocess
import tempfile

from . import tripleo_files

# auto: zstd where the node has the zstd binary, else none (resolve_compression); what is recorded and declared
# to the daemon is always the resolved one, so a digest never changes meaning silently.
COMPRESSIONS = ('none', 'zstd', 'auto')
TAR_BLOCK = 512
CHUNK = 1024 * 1024
METADATA_OPTIONS = ['--xattrs', '--xattrs-include=*', '--acls', '--selinux', '--numeric-owner']
# Not --zstd: RHEL 8's tar (1.30) predates it and does not recognise zstd archives by itself. Level 1 on every
# core: node data compresses several times at hundreds of MiB/s per core (the default level 3 on one core is
# slower than the network it saves). tar adds -d when it unpacks.
ZSTD = ['--use-compress-program=zstd -1 -T0']
ZSTD_MAGIC = b'\x28\xb5\x2f\xfd'
# How tar reads an archive from a pipe: in 1 MiB records, reassembled from what the pipe holds
# (--read-full-records), not in 10 KiB ones: about 1 CPU-s less for a 2 GiB datadir (measured); any writer's
# record size is read the same.
STREAM_RECORDS = ['--blocking-factor=2048', '--read-full-records']


class ArchiveError(Exception):
    """tar failed; the message has the command's purpose and tar's own words."""


class NotRootArchive(ArchiveError):
    """The archive holds relative names (such as a database push), not paths of the root file system."""


def widen_pipe(pipe):
    """A 1 MiB pipe instead of 64 KiB, so a 1 MiB chunk passes tar in one wakeup instead of sixteen
    (F_SETPIPE_SZ; Python 3.6's fcntl lacks the name); a kernel that refuses keeps the default."""
    try:
        fcntl.fcntl(pipe.fileno(), getattr(fcntl, 'F_SETPIPE_SZ', 1031), CHUNK)
    except OSError:
        pass


def zstd_available():
    return shutil.which('zstd') is not None


def resolve_compression(compression):
    """'none' or 'zstd' for ``compression`` (none, zstd or auto); zstd without the zstd binary is an error."""
    if compression not in COMPRESSIONS:
        raise ArchiveError('unknown compression {!r}; use one of {}'.format(compression, ', '.join(COMPRESSIONS)))
    if compression == 'auto':
        return 'zstd' if zstd_available() else 'none'
    if compression == 'zstd' and not zstd_available():
        raise ArchiveError('compression zstd: this node has no zstd binary; install the zstd package or set '
                           'compression: none (or auto)')
    return compression


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
    return _tar_chunks(['--directory=/', '--'] + [_member(p) for p in paths], ', '.join(paths), compression)


def stream_contents(directory, compression='none'):
    """Like ``stream()``, for the contents of ``directory`` under relative names (``tar -C directory .``), as a
    database datadir is moved: it unpacks into any directory."""
    return _tar_chunks(['--directory=' + directory, '.'], directory, compression)


def _tar_chunks(what, described, compression):
    compression = resolve_compression(compression)
    command = (['tar', '--create', '--file=-', '--sparse'] + METADATA_OPTIONS +
               (ZSTD if compression == 'zstd' else []) + what)
    with tempfile.TemporaryFile() as errors:
        tar = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors)
        widen_pipe(tar.stdout)
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
            raise ArchiveError('tar could not archive {}: {}'.format(described, _tail(errors, status)))


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


class StreamExtractor(object):
    """
    Unpack an archive while it arrives: ``write(chunk)`` feeds ``tar --extract`` (through ``zstd -d`` when the
    first bytes are zstd's magic number) unpacking into ``directory``; ``close()`` waits for them and raises
    ArchiveError if one failed; ``abort()`` kills them (what was unpacked stays for the caller to remove).

    Nothing here verifies the bytes: the caller checks their digest after ``close()`` and before it uses what
    was unpacked (the staging directory is no commit point; the swap is).
    """

    def __init__(self, directory, paths=None):
        self.directory = directory
        self.paths = paths
        self._head = b''
        self._processes = []  # (name, Popen), in the order the bytes pass them
        self._input = None
        self._errors = tempfile.TemporaryFile()

    def _start(self, head):
        zstd = head.startswith(ZSTD_MAGIC)
        if zstd and not zstd_available():
            raise ArchiveError('the archive is compressed with zstd and this node has no zstd binary to unpack it; '
                               'install the zstd package and run this again')
        command = (['tar', '--extract', '--file=-'] + STREAM_RECORDS + [
            '--directory=' + self.directory, '--same-owner', '--preserve-permissions'] + METADATA_OPTIONS)
        if self.paths:
            command += ['--'] + [_member(p) for p in self.paths]
        if zstd:
            # zstd in front of tar rather than tar's --use-compress-program, with which tar first passes every
            # compressed block through a child of its own (0.7 CPU-s more for a 2 GiB datadir, measured).
            unzstd = subprocess.Popen(['zstd', '-d', '-q', '-c'], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=self._errors)
            widen_pipe(unzstd.stdout)
            self._processes.append(('zstd', unzstd))
            tar = subprocess.Popen(command, stdin=unzstd.stdout, stdout=subprocess.DEVNULL, stderr=self._errors)
            unzstd.stdout.close()  # tar holds it now: zstd gets SIGPIPE if tar dies
            self._processes.append(('tar', tar))
        else:
            tar = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._errors)
            self._processes.append(('tar', tar))
        self._input = self._processes[0][1].stdin
        widen_pipe(self._input)

    def _failure(self, what):
        """ArchiveError naming the processes that failed, once they have all ended."""
        statuses = [(name, process.wait()) for name, process in self._processes]
        failed = [(name, status) for name, status in statuses if status != 0] or statuses[-1:]
        return ArchiveError('{} {} into {}: {}'.format(' and '.join(name for name, _ in failed), what,
                                                       self.directory, _tail(self._errors, failed[-1][1])))

    def write(self, chunk):
        taken = len(chunk)
        if self._input is None:
            self._head += chunk
            if len(self._head) < len(ZSTD_MAGIC):
                return taken
            self._start(self._head)
            chunk, self._head = self._head, b''
        try:
            self._input.write(chunk)
        except BrokenPipeError:
            raise self._failure('stopped unpacking') from None
        return taken

    def close(self):
        """End of the archive: wait for zstd and tar; raise ArchiveError unless they unpacked everything."""
        try:
            if self._input is None:
                head, self._head = self._head, b''
                self._start(head)
                if head:
                    self.write(head)
            try:
                self._input.close()
            except BrokenPipeError:
                pass
            if any(process.wait() != 0 for _, process in self._processes):
                raise self._failure('could not unpack')
        finally:
            self._errors.close()

    def abort(self):
        for _, process in self._processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        if self._input is not None:
            try:
                self._input.close()
            except OSError:
                pass
        self._errors.close()


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
