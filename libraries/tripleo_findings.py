"""
What a check found, as plain data, and its translation into a Leapp report.

Libraries return Finding objects; an actor turns them into reports with
``create_report(finding.report_entries(reporting))``, passing leapp's
``reporting`` module in so that this module imports nothing from leapp.
"""
from collections import namedtuple

SEVERITIES = ('high', 'medium', 'low', 'info')


class Finding(namedtuple('Finding', ('key', 'title', 'summary', 'severity', 'inhibitor', 'remediation', 'groups',
                                     'resources'))):
    """
    key:         stable identifier of this kind of finding (e.g. 'tripleo_upgrade.config.daemon_url')
    title:       one line, what is wrong or what to know
    summary:     what was found, with the values that were found
    severity:    one of SEVERITIES
    inhibitor:   True when the upgrade must not go on
    remediation: what the operator can do about it (a sentence), or None
    groups:      report group names (leapp.reporting.Groups attribute names, e.g. 'UPGRADE_PROCESS')
    resources:   (kind, name) pairs the finding is about, as leapp's RelatedResource takes them:
                 ('file', '/etc/leapp/actor_conf.d/tripleo_upgrade.yaml'), ('package', 'openstack-nova-common'),
                 ('repository', 'rhosp-17.1'), ('directory', ...)
    """

    __slots__ = ()

    def __new__(cls, key, title, summary, severity='high', inhibitor=True, remediation=None, groups=(),
                resources=()):
        if severity not in SEVERITIES:
            raise ValueError('severity must be one of {}, not {!r}'.format(', '.join(SEVERITIES), severity))
        return super(Finding, cls).__new__(cls, key, title, summary, severity, bool(inhibitor),
                                           remediation, tuple(groups), tuple((k, n) for k, n in resources if n))

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
        entries.extend(reporting.RelatedResource(kind, name) for kind, name in self.resources)
        return entries
