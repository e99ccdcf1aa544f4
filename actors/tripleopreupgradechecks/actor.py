from leapp.actors import Actor
from leapp.libraries.actor import tripleopreupgradechecks
from leapp.models import TripleoNodeFacts, TripleoUpgradeConfig
from leapp.reporting import Report
from leapp.tags import ChecksPhaseTag, IPUWorkflowTag


class TripleoPreupgradeChecks(Actor):
    """
    Say whether this node may be upgraded now, and what the operator must know.

    Inhibitors: the helper daemon is unreachable, its TLS certificate is not trusted or this
    node's token is refused; the daemon would refuse this node's upgrade lease now (with its
    reasons); a database transfer flag is present; the undercloud lacks space for this node's
    persisted data; a node hosting Ceph OSDs cannot reach the cluster through ceph_command. An
    inhibitor an admin accepted at the daemon (by its report key) is reported without inhibiting,
    naming who accepted it and why. Informational: the one-by-one controller procedure (Corosync), L3 agent
    sidecars restarting, a single controller's database going through persist and restore.
    """

    name = 'tripleo_preupgrade_checks'
    consumes = (TripleoNodeFacts, TripleoUpgradeConfig)
    produces = (Report,)
    tags = (ChecksPhaseTag, IPUWorkflowTag)

    def process(self):
        tripleopreupgradechecks.check_node()
