"""
Leapp's own record of how its runs ended, ``/etc/migration-results``, read by the first boot before it restores.

leapp-repository writes it (commands/upgrade/breadcrumbs.py, ``produces_breadcrumbs`` around ``leapp preupgrade``
and ``leapp upgrade``): when each leapp process ends, it appends one activity to the JSON document
``{"activities": [...]}``, each with ``activity`` ("preupgrade" or "upgrade"), ``success`` (False when the command
raised or exited non-zero), ``executed`` (the command line), ``activity_started``/``activity_ended`` (UTC,
ISO-8601 with a Z), ``run_id`` (LEAPP_EXECUTION_ID), ``source_os``, ``target_os``, ``version`` and more. An
upgrade leaves one activity per leapp process: on the old OS, in the upgrade initramfs (before and after the RPM
transaction), and on the first boot; the first boot's own activity is written only when that process ends, so
while FirstBoot runs the newest ``upgrade`` activity is the initramfs stage that upgraded the packages.

When that newest upgrade activity is marked failed, the OS upgrade did not end well: the node reports ``failed``
with the reason and nothing is restored (its services stay disabled) until someone has looked at it. Otherwise
its ``leapp_result`` goes with the ``upgraded`` report. A node without the file (an older leapp-repository, or the
write failed) is restored as before, with no leapp_result.
"""
import json

from .tripleo_helper_client import DaemonError

PATH = '/etc/migration-results'
ACTIVITY = 'upgrade'


class LeappResultError(Exception):
    """Leapp's record says the upgrade failed; the node was reported ``failed`` and nothing was restored."""


def read(path=PATH):
    """
    The activities leapp recorded, oldest first; ([], why) when there is no usable record.

    :return: (activities, problem): problem is None, or a sentence saying why no activity could be read
    """
    try:
        with open(path) as stream:
            document = json.load(stream)
    except (IOError, OSError) as exc:
        return [], 'leapp\'s result record {} cannot be read: {}'.format(path, exc.strerror or exc)
    except ValueError as exc:
        return [], 'leapp\'s result record {} is not JSON ({})'.format(path, exc)
    activities = document.get('activities') if isinstance(document, dict) else None
    if not isinstance(activities, list):
        return [], 'leapp\'s result record {} has no list of activities'.format(path)
    return [a for a in activities if isinstance(a, dict)], None


def newest_upgrade(activities, run_id=None):
    """The newest ``upgrade`` activity (of run ``run_id`` when that run has any), or None."""
    upgrades = [a for a in activities if a.get('activity') == ACTIVITY]
    if run_id:
        upgrades = [a for a in upgrades if a.get('run_id') == run_id] or upgrades
    return upgrades[-1] if upgrades else None


def result(path=PATH, run_id=None):
    """
    :return: (leapp_result, problem): leapp_result is the daemon's ``leapp_result`` {"success", "activity",
             "executed", "source", "command", "run_id", "started", "source_os", "target_os", "leapp_version"}
             of the newest upgrade activity (``executed``: when it ended), or None with the sentence why
    """
    activities, problem = read(path)
    if problem:
        return None, problem
    newest = newest_upgrade(activities, run_id)
    if newest is None:
        return None, 'leapp\'s result record {} holds no "{}" activity'.format(path, ACTIVITY)
    return {'success': newest.get('success') is True, 'activity': ACTIVITY,
            'executed': newest.get('activity_ended') or newest.get('activity_started'), 'source': path,
            'command': newest.get('executed'), 'run_id': newest.get('run_id'),
            'started': newest.get('activity_started'), 'source_os': newest.get('source_os'),
            'target_os': newest.get('target_os'), 'leapp_version': newest.get('version')}, None


def failure_reason(leapp_result):
    return ('leapp marks its newest upgrade activity failed in {source}: `{command}` (run {run_id}), ended '
            '{executed}{os}; the OS upgrade did not finish as leapp expects, so nothing was restored and the '
            'services stay disabled. Read /var/log/leapp/leapp-upgrade.log and /var/log/leapp/leapp-report.txt, '
            'fix the node, then restore its data with tripleo-upgrade-restore'.format(
                source=leapp_result['source'], command=leapp_result.get('command') or 'leapp upgrade',
                run_id=leapp_result.get('run_id') or 'unknown', executed=leapp_result.get('executed') or 'at an '
                'unknown time', os=' ({} to {})'.format(leapp_result['source_os'], leapp_result['target_os'])
                if leapp_result.get('source_os') else ''))


class _ReportingClient(object):
    """The node's HelperClient whose status reports carry ``leapp_result``; everything else passes through."""

    def __init__(self, client, leapp_result):
        self._client = client
        self._leapp_result = leapp_result

    def put_status(self, node, phase, os_release=None, leapp_run_id=None, reports=(), error=None):
        return self._client.report_status(node, phase, os_release=os_release, leapp_run_id=leapp_run_id,
                                          reports=reports, error=error, leapp_result=self._leapp_result)

    def __getattr__(self, name):
        return getattr(self._client, name)


def verified(client, node, run_id=None, path=PATH, os_release=None):
    """
    The first boot's check before anything is restored.

    :return: ``client``, wrapped so that the ``upgraded`` report carries leapp_result when leapp recorded one
    :raises LeappResultError: leapp marks the newest upgrade activity failed: ``node`` is reported ``failed``
                              (with the reason and leapp_result) first, when the daemon answers
    """
    leapp_result, _ = result(path, run_id)
    if leapp_result is None:
        return client
    if not leapp_result['success']:
        reason = failure_reason(leapp_result)
        try:
            client.report_status(node, 'failed', os_release=os_release, leapp_run_id=run_id, error=reason,
                                 leapp_result=leapp_result)
        except DaemonError as exc:  # the reason must reach the operator even when the daemon does not answer
            reason += '. The helper daemon was not told: {}'.format(exc)
        raise LeappResultError(reason)
    return _ReportingClient(client, leapp_result)
