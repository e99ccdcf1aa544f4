from leapp.actors import Actor
from leapp.libraries.actor import tripleonodefactsscanner
from leapp.models import TripleoNodeFacts, TripleoUpgradeConfig
from leapp.tags import FactsPhaseTag, IPUWorkflowTag


class TripleoNodeFactsScanner(Actor):
    """
    Gather what the TripleO pre-upgrade checks need to know about this node.

    Node name and TripleO identity (hieradata), tripleo_* systemd units (D-Bus), Pacemaker
    membership and resources (crm_mon), ceph-mon presence and quorum, and the pacemaker,
    corosync and OpenStack release package versions (rpm). A probe that cannot run is recorded
    as unknown with its reason.
    """

    name = 'tripleo_node_facts_scanner'
    consumes = (TripleoUpgradeConfig,)
    produces = (TripleoNodeFacts,)
    tags = (FactsPhaseTag, IPUWorkflowTag)

    def process(self):
        tripleonodefactsscanner.scan_node_facts()
