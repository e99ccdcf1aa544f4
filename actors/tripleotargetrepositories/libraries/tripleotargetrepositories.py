from leapp import reporting
from leapp.libraries.common import tripleo_packages
from leapp.libraries.stdlib import api
from leapp.models import (CustomTargetRepository, CustomTargetRepositoryFile, DistributionSignedRPM, InstalledRPM,
                          RpmTransactionTasks, TripleoUpgradeConfig)


def produce_repositories_and_packages():
    config = next(api.consume(TripleoUpgradeConfig), None)
    if config is None:
        # The config scanner has reported why there is no valid configuration.
        return
    repositories = config.values['target_repositories']
    repo_file = tripleo_packages.write_repo_file(repositories, config.config_dir)
    if repo_file:
        api.produce(CustomTargetRepositoryFile(file=repo_file))
    for repo in repositories:
        baseurl = repo.get('baseurl')
        api.produce(CustomTargetRepository(repoid=repo['id'], name=repo.get('name') or repo['id'],
                                           baseurl=baseurl[0] if isinstance(baseurl, list) else baseurl))
    installed = [rpm for message in api.consume(InstalledRPM) for rpm in message.items]
    signed = [rpm.name for message in api.consume(DistributionSignedRPM) for rpm in message.items]
    result = tripleo_packages.transaction(config.values['remove_packages'], config.values['install_packages'],
                                          installed, signed)
    for finding in result.findings:
        reporting.create_report(finding.report_entries(reporting))
    if result.to_remove or result.to_install or result.to_keep:
        api.produce(RpmTransactionTasks(to_remove=result.to_remove, to_install=result.to_install,
                                        to_keep=result.to_keep))
