from leapp.models import Model, fields
from leapp.topics import TripleoUpgradeTopic


class TripleoUpgradeConfig(Model):
    """
    The validated ``tripleo_upgrade`` configuration section. Produced only when every value is
    valid; otherwise the config scanner reports an inhibitor instead.
    """
    topic = TripleoUpgradeTopic

    values = fields.JSON()
    """every key of libraries/tripleo_config.py KEYS, normalised (node_name resolved to this node's name)"""
    config_dir = fields.String()
    """the actor configuration directory leapp read"""
