"""
This node's pre-upgrade report, sent to the helper daemon as its ``preupgrade`` status, so that
``tripleo-upgrade-helper status`` shows the findings of every node in one place.

Works on the report dicts leapp stores in ``Report.report`` (title, summary, severity, groups,
key, detail.remediations); imports nothing from leapp. With the report goes the monitor quorum this
node sees now (``ceph_mon_quorum``, tripleo_ceph.observe_quorum), when it can see the cluster, which
the daemon records as facts from this node for its live-quorum lease rule.
"""
from . import tripleo_ceph
from .tripleo_helper_client import DaemonError
from .tripleo_node import OS_RELEASE, os_release


def status_entries(reports):
    """The daemon's report entries {key, title, summary, severity, inhibitor, remediation}, inhibitors first."""
    entries = []
    for report in reports:
        remediations = (report.get('detail') or {}).get('remediations') or []
        hints = [r['context'] for r in remediations if r.get('type') == 'hint']
        commands = [' '.join(r['context']) if isinstance(r['context'], list) else r['context']
                    for r in remediations if r.get('type') == 'command']
        remediation = ' '.join(hints + ['Run: {}'.format(c) for c in commands]) or None
        entries.append({
            'key': report.get('key'),
            'title': report.get('title'),
            'summary': report.get('summary'),
            'severity': report.get('severity'),
            # leapp >= 0.15 marks inhibitors in groups, older releases in flags
            'inhibitor': 'inhibitor' in (report.get('groups') or []) + (report.get('flags') or []),
            'remediation': remediation,
        })
    return sorted(entries, key=lambda e: (not e['inhibitor'], e['title'] or ''))


def send_preupgrade(client, node, entries, leapp_run_id=None, os_release_path=OS_RELEASE, ceph_command=None):
    """
    Send the entries as ``node``'s preupgrade status, with the monitor quorum seen now (on a monitor host, or
    through ``ceph_command``).

    :return: None when sent, else the sentence saying why not (the run must go on: the checks
             already reported an unusable daemon as an inhibitor)
    """
    try:
        client.report_status(node, 'preupgrade', os_release=os_release(os_release_path), leapp_run_id=leapp_run_id,
                             reports=entries, ceph_mon_quorum=tripleo_ceph.observe_quorum(node, ceph_command))
    except DaemonError as exc:
        return 'the pre-upgrade report of {} was not sent to the helper daemon: {}'.format(node, exc)
    return None
