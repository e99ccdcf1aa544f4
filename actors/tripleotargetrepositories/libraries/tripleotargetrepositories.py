from leapp import reporting
from leapp.libraries.common import tripleo_packages
from leapp.libraries.stdlib import api
from leapp.models import CustomTargetRepository, InstalledRPM, RpmTransactionTasks, TripleoUpgradeConfig


def produce_repositories_and_packages():
    config = next(api.consume(TripleoUpgradeConfig), None)
    if config is None:
        # The config scanner has reported why there is no valid configuration.
        return
    for repo in tripleo_packages.target_repositories(config.target_repositories):
        api.produce(CustomTargetRepository(repoid=repo['id'], name=repo['name'], baseurl=repo['baseurl']))
    installed = [rpm for message in api.consume(InstalledRPM) for rpm in message.items]
    result = tripleo_packages.transaction(config.remove_packages, config.install_packages, installed)
    for finding in result.findings:
        reporting.create_report(finding.report_entries(reporting))
    if result.to_remove or result.to_install or result.to_keep:
        api.produce(RpmTransactionTasks(to_remove=result.to_remove, to_install=result.to_install,
                                        to_keep=result.to_keep))
