"""
The deliberate redo of a database transfer (README "Redoing a transfer deliberately"): the flag file is what
makes a second pull refuse on the target, so removing it is the one dangerous step. ``describe()`` says what
the flag records; ``forget()`` moves it aside (never deletes it: it stays as evidence of what was installed)
only when asked with ``yes`` and only while the daemon has never seen this node report ``completed`` (TripleO
started its services, so its database took writes that a second pull would silently throw away).
"""
import os
import time

from . import tripleo_files

FIELDS = (('transfer_id', 'transfer'), ('role', 'role'), ('source', 'from node'), ('item', 'item'),
          ('datadir', 'datadir'), ('size', 'size (bytes)'), ('sha256', 'sha256'), ('transferred_at', 'installed at'),
          ('state', 'state'))


class FlagError(Exception):
    """The flag stays where it is; the message says why."""


def read(flag):
    """The flag's record; None when there is no flag."""
    try:
        return tripleo_files.read_json(flag)
    except (IOError, OSError) as exc:
        raise FlagError('cannot read the flag {}: {}'.format(flag, exc)) from exc
    except ValueError:
        return {'state': 'unreadable (not JSON): check the datadir by hand'}


def describe(flag, record):
    lines = ['{} records:'.format(flag)]
    lines += ['  {:<14}{}'.format(label, record.get(key, '-')) for key, label in FIELDS]
    return '\n'.join(lines)


def ever_completed(client, node):
    """Did the daemon ever see ``node`` report completed (its services started on the new OS)?"""
    status = client.node_status(node)
    phases = [status.get('phase')] + [e.get('phase') for e in status.get('timeline') or []]
    phases += (status.get('older_reports') or {}).get('phases') or []
    return 'completed' in phases


def forget(client, node, flag, yes=False):
    """
    Move the flag aside so that a forced transfer can be pulled again; returns what was done, in sentences.

    :raises FlagError: no --yes (the record is in the message), the node's services have run, or the daemon
                       cannot say whether they have
    """
    record = read(flag)
    if record is None:
        return 'There is no flag {}: nothing to remove; a pull may run on {}.'.format(flag, node)
    shown = describe(flag, record)
    if ever_completed(client, node):
        raise FlagError('{}\n{} has reported completed: TripleO started its services and its database has taken '
                        'writes since this transfer. Pulling again would silently replace them; the flag stays.'
                        .format(shown, node))
    if not yes:
        raise FlagError(
            '{}\nRemoving it lets tripleo-transfer-pull REPLACE {} again: everything its database holds now is '
            'lost. Do it only if this node\'s services never started since (for example the wrong source was '
            'chosen). Run again with --yes to remove it.'.format(shown, record.get('datadir', 'the datadir')))
    aside = '{}.removed-{}'.format(flag, time.strftime('%Y%m%dT%H%M%S'))
    os.rename(flag, aside)
    return ('{}\nMoved aside to {}. Next: on the undercloud `tripleo-upgrade-helper transfer open --role {} --force '
            '--reason TEXT`, then tripleo-transfer-push on the source and tripleo-transfer-pull here.'.format(
                shown, aside, record.get('role') or 'ROLE'))
