from leapp.actors import Actor
from leapp.libraries.actor import tripleoprepare
from leapp.models import TripleoUpgradeConfig
from leapp.tags import InterimPreparationPhaseTag, IPUWorkflowTag


class TripleoPrepare(Actor):
    """
    Take the node down for the upgrade, the last thing before the reboot.

    Acquires this node's lease from the helper daemon (a refusal stops the upgrade, nothing
    touched), stops this node's Pacemaker membership and stops and disables the tripleo_* units
    (never ceph-mon), persists the node's data to the daemon and reports "prepared". If anything
    fails after the lease, everything it stopped is started and enabled again, the lease is
    released, and the upgrade stops with a message that says so.
    """

    name = 'tripleo_prepare'
    consumes = (TripleoUpgradeConfig,)
    produces = ()
    tags = (InterimPreparationPhaseTag, IPUWorkflowTag)

    def process(self):
        tripleoprepare.prepare_node()
