"""
Prepare's record on the node: what it stopped, disabled and persisted, and the phase it reached.

Prepare writes it before it stops anything, the OS upgrade keeps it, and three readers act on it:
the FirstBoot restore, the rollback of a failed prepare, and tripleo-upgrade-abort. Written
atomically (tripleo_files), so a crash leaves the old record or the new one, never a mix.
"""
import os

from . import tripleo_files

PATH = '/var/lib/tripleo-upgrade-node/prepare-state.json'


class RecordError(Exception):
    """The record exists but cannot be used; the message says what to check by hand."""


def load(path=PATH):
    """The record, or None when there is none."""
    try:
        return tripleo_files.read_json(path)
    except (IOError, OSError) as exc:
        raise RecordError('cannot read the prepare record {}: {}'.format(path, exc)) from exc
    except ValueError as exc:
        raise RecordError('the prepare record {} is not valid JSON ({}); it lists what prepare stopped, '
                          'check it by hand before removing it'.format(path, exc)) from exc


def save(path, record):
    tripleo_files.write_json(path, record)


def remove(path):
    if os.path.exists(path):
        os.unlink(path)
