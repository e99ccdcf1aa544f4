"""
What a check found, as plain data, and its translation into a Leapp report.

Libraries return Finding objects; an actor turns them into reports with
``create_report(finding.report_entries(reporting))``, passing leapp's
``reporting`` module in so that this module imports nothing from leapp.
"""
from collections import namedtuple

SEVERITIES = ('high', 'medium', 'low', 'info')


class Finding(namedtuple('Finding', ('key', 'title', 'summary', 'severity', 'inhibitor', 'remediation', 'groups'))):
    """
    key:         stable identifier of this kind of finding (e.g. 'tripleo_upgrade.config.daemon_url')
    title:       one line, what is wrong or what to know
    summary:     what was found, with the values that were found
    severity:    one of SEVERITIES
    inhibitor:   True when the upgrade must not go on
    remediation: what the operator can do about it (a sentence), or None
    groups:      report group names (leapp.reporting.Groups attribute names, e.g. 'UPGRADE_PROCESS')
    """

    __slots__ = ()

    def __new__(cls, key, title, summary, severity='high', inhibitor=True, remediation=None, groups=()):
        if severity not in SEVERITIES:
            raise ValueError('severity must be one of {}, not {!r}'.format(', '.join(SEVERITIES), severity))
        return super(Finding, cls).__new__(cls, key, title, summary, severity, bool(inhibitor),
                                           remediation, tuple(groups))

    def report_entries(self, reporting):
        """The primitives for ``reporting.create_report``; ``reporting`` is leapp's reporting module."""
        groups = [getattr(reporting.Groups, name) for name in self.groups]
        if self.inhibitor:
            groups.append(reporting.Groups.INHIBITOR)
        entries = [
            reporting.Title(self.title),
            reporting.Summary(self.summary),
            reporting.Severity(getattr(reporting.Severity, self.severity.upper())),
            reporting.Groups(groups),
            reporting.Key(self.key),
        ]
        if self.remediation:
            entries.append(reporting.Remediation(hint=self.remediation))
        return entries

    def as_dict(self):
        """The form the helper daemon stores in a node's status."""
        return {
            'key': self.key,
            'title': self.title,
            'summary': self.summary,
            'severity': self.severity,
            'inhibitor': self.inhibitor,
            'remediation': self.remediation,
        }
