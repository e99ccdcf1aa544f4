from leapp.actors import Actor
from leapp.configs.common.tripleo_upgrade import TRIPLEO_UPGRADE_CONFIG
from leapp.libraries.actor import tripleoconfigscanner
from leapp.models import TripleoUpgradeConfig
from leapp.reporting import Report
from leapp.tags import FactsPhaseTag, IPUWorkflowTag


class TripleoConfigScanner(Actor):
    """
    Validate the ``tripleo_upgrade`` section of the actor configuration.

    Produces TripleoUpgradeConfig when every value is valid; otherwise one inhibitor
    per wrong value, naming the key and the file under /etc/leapp/actor_conf.d that set it.
    """

    name = 'tripleo_config_scanner'
    config_schemas = TRIPLEO_UPGRADE_CONFIG
    consumes = ()
    produces = (Report, TripleoUpgradeConfig)
    tags = (FactsPhaseTag, IPUWorkflowTag)

    def process(self):
        tripleoconfigscanner.scan_config()
