from leapp.actors import Actor
from leapp.libraries.actor import tripleoreportupload
from leapp.models import TripleoUpgradeConfig
from leapp.reporting import Report
from leapp.tags import IPUWorkflowTag, ReportPhaseTag


class TripleoReportUpload(Actor):
    """
    Send this node's pre-upgrade report entries to the undercloud helper daemon.

    Every report of this run (title, severity, inhibitor or not, key, summary, remediation)
    becomes this node's ``preupgrade`` status, so that ``tripleo-upgrade-helper status`` shows
    the inhibitors of all nodes in one place. With it goes the ceph-mon quorum this node sees
    now, when it can see the cluster. An unreachable daemon is logged as a warning and
    does not fail the run: the pre-upgrade checks already reported it.
    """

    name = 'tripleo_report_upload'
    consumes = (Report, TripleoUpgradeConfig)
    produces = ()
    tags = (ReportPhaseTag, IPUWorkflowTag)

    def process(self):
        tripleoreportupload.upload_report()
