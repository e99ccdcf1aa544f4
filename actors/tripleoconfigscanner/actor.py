from leapp.actors import Actor
from leapp.libraries.actor import tripleoconfigscanner
from leapp.models import TripleoUpgradeConfig
from leapp.reporting import Report
from leapp.tags import FactsPhaseTag, IPUWorkflowTag

try:
    from leapp.configs.common.tripleo_upgrade import TRIPLEO_UPGRADE_CONFIG
except ImportError:
    # leapp < 0.19 has no actor configuration; the scanner reports that instead of a traceback.
    TRIPLEO_UPGRADE_CONFIG = ()


class TripleoConfigScanner(Actor):
    """
    Validate the ``tripleo_upgrade`` section of the actor configuration.

    Produces TripleoUpgradeConfig when every value is valid; otherwise one inhibitor per problem
    (a wrong value, an unknown key, a file that leapp's loader cannot merge), naming the key and the
    file in leapp's actor configuration directory. On a leapp framework without actor configuration
    (older than 0.19) one inhibitor says which version is needed.
    """

    name = 'tripleo_config_scanner'
    config_schemas = TRIPLEO_UPGRADE_CONFIG
    consumes = ()
    produces = (Report, TripleoUpgradeConfig)
    tags = (FactsPhaseTag, IPUWorkflowTag)

    def process(self):
        tripleoconfigscanner.scan_config()
