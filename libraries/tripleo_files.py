"""
Small records on the node that must survive a crash whole: written to a temporary file in the
same directory, synced, renamed over the old one, and the directory synced, so a crash leaves
the old record or the new one, never a mix and never nothing.
"""
import json
import os
import tempfile


def read_json(path):
    """The JSON record in ``path``, or None when there is no such file; OSError or ValueError otherwise."""
    try:
        with open(path) as stream:
            return json.load(stream)
    except (IOError, OSError):
        if not os.path.lexists(path):
            return None
        raise


def write_json(path, record, dir_mode=0o700):
    """Write ``record`` as JSON to ``path`` (mode 0600) atomically; creates the directory with ``dir_mode``."""
    write_text(path, json.dumps(record, indent=2, sort_keys=True) + '\n', dir_mode)


def write_text(path, text, dir_mode=0o700):
    """Write ``text`` to ``path`` (mode 0600) atomically; creates the directory with ``dir_mode``."""
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=dir_mode, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.{}.'.format(os.path.basename(path)), dir=directory)
    try:
        with os.fdopen(fd, 'w') as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.rename(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    fsync_dir(directory)


def fsync_dir(path):
    """Make the renames in directory ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
