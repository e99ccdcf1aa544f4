from leapp.actors import Actor
from leapp.libraries.actor import tripleorestore
from leapp.models import TripleoUpgradeConfig
from leapp.tags import FirstBootPhaseTag, IPUWorkflowTag


class TripleoRestore(Actor):
    """
    On the first boot of the new OS, put the node's persisted data back and report "upgraded".

    First leapp's own result record (/etc/migration-results) is read: when its newest upgrade
    activity is marked failed, the node is reported "failed" with the reason and nothing is
    restored; otherwise the "upgraded" report carries it as leapp_result.

    Every item is verified against its digest before anything is unpacked and moved into
    place whole (restore_mode missing-only or always). The units the preparation disabled are
    enabled again but not started: TripleO starts them in its next upgrade step.
    """

    name = 'tripleo_restore'
    consumes = (TripleoUpgradeConfig,)
    produces = ()
    tags = (FirstBootPhaseTag, IPUWorkflowTag)

    def process(self):
        tripleorestore.restore_node()
