from leapp.actors import Actor
from leapp.libraries.actor import tripleotargetrepositories
from leapp.models import CustomTargetRepository, InstalledRPM, RpmTransactionTasks, TripleoUpgradeConfig
from leapp.reporting import Report
from leapp.tags import FactsPhaseTag, IPUWorkflowTag


class TripleoTargetRepositories(Actor):
    """
    Configure the newer OS and OpenStack repositories and the package changes of the upgrade.

    One CustomTargetRepository per configured target repository, and RpmTransactionTasks with
    the installed packages that the remove_packages patterns (such as *el8ost*) match, expanded
    to exact names, and the install_packages to install or keep. A pattern that matches nothing
    is reported.
    """

    name = 'tripleo_target_repositories'
    consumes = (InstalledRPM, TripleoUpgradeConfig)
    produces = (CustomTargetRepository, Report, RpmTransactionTasks)
    tags = (FactsPhaseTag, IPUWorkflowTag)

    def process(self):
        tripleotargetrepositories.produce_repositories_and_packages()
