from leapp.actors import Actor
from leapp.libraries.actor import tripleoprepare
from leapp.models import SystemdServicesTasks, TransactionDryRun, TripleoUpgradeConfig, UpgradeKernelCmdlineArgTasks
from leapp.tags import InterimPreparationPhaseTag, IPUWorkflowTag


class TripleoPrepare(Actor):
    """
    Take the node down for the upgrade, the last thing before the reboot.

    Acquires this node's lease from the helper daemon, with the ceph-mon quorum it sees (a refusal
    stops the upgrade, nothing touched); on a node hosting Ceph OSDs holds the OSD flags at the
    daemon and sets them (noout, norecover, nobackfill, norebalance, nodeep-scrub) through
    ceph_command; stops this node's Pacemaker membership and stops and disables the tripleo_* units
    (never ceph-mon), persists the node's data to the daemon and reports "prepared". The disabled
    services go to SystemdServicesTasks.to_disable, or leapp would enable them again at its
    Finalization, before the data is restored. If anything fails after the lease, everything it
    stopped is started and enabled again, the lease is released, and the upgrade stops with a
    message that says so; tools/tripleo-upgrade-abort undoes it if leapp fails after it.

    Order in InterimPreparation (Main stage): consuming TransactionDryRun puts it after the steps
    that fail most (upgrade_initramfs_generator, dnf_dry_run). UpgradeKernelCmdlineArgTasks is
    declared, never produced, only so that add_upgrade_boot_entry runs after it: that actor makes
    the upgrade the default boot entry, which a failed preparation must not leave behind.
    """

    name = 'tripleo_prepare'
    consumes = (TransactionDryRun, TripleoUpgradeConfig)
    produces = (SystemdServicesTasks, UpgradeKernelCmdlineArgTasks)
    tags = (InterimPreparationPhaseTag, IPUWorkflowTag)

    def process(self):
        tripleoprepare.prepare_node()
