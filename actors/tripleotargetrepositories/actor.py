from leapp.actors import Actor
from leapp.libraries.actor import tripleotargetrepositories
from leapp.models import (CustomTargetRepository, CustomTargetRepositoryFile, DistributionSignedRPM, InstalledRPM,
                          RpmTransactionTasks, TripleoUpgradeConfig)
from leapp.reporting import Report
from leapp.tags import FactsPhaseTag, IPUWorkflowTag


class TripleoTargetRepositories(Actor):
    """
    Configure the newer OS and OpenStack repositories and the package changes of the upgrade.

    The configured target repositories go into a repo file of their own (CustomTargetRepositoryFile,
    which leapp copies into the target userspace) and one CustomTargetRepository each, so leapp
    enables them. RpmTransactionTasks gets the installed packages that the remove_packages patterns
    (such as *el8ost*) match, expanded to exact names, and the install_packages to install or keep.
    Reported: a pattern that matches nothing, matched packages leapp would not remove because the
    distribution did not sign them (an inhibitor), and packages both to install and to remove.
    """

    name = 'tripleo_target_repositories'
    consumes = (DistributionSignedRPM, InstalledRPM, TripleoUpgradeConfig)
    produces = (CustomTargetRepository, CustomTargetRepositoryFile, Report, RpmTransactionTasks)
    tags = (FactsPhaseTag, IPUWorkflowTag)

    def process(self):
        tripleotargetrepositories.produce_repositories_and_packages()
