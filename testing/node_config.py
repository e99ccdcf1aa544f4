"""The tripleo_upgrade configuration as the config scanner hands it to the other actors, for actor tests."""
from tripleo_upgrade_libraries import tripleo_config

CONFIG_DIR = '/etc/leapp/actor_conf.d'


def config_values(**values):
    """Normalised configuration values: the defaults, node ``compute-0``, and ``values``."""
    merged = dict(tripleo_config.DEFAULTS, node_name='compute-0', request_timeout=60.0)
    merged.update(values)
    return merged


def upgrade_config(**values):
    """A TripleoUpgradeConfig message (needs the Leapp framework) with config_values(**values)."""
    from leapp.models import TripleoUpgradeConfig
    return TripleoUpgradeConfig(values=config_values(**values), config_dir=CONFIG_DIR)
