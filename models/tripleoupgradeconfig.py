from leapp.models import Model, fields
from leapp.topics import TripleoUpgradeTopic


class TripleoUpgradeConfig(Model):
    """
    The validated ``tripleo_upgrade`` configuration section. Produced only when every value
    is valid; otherwise the config scanner reports an inhibitor instead.
    """
    topic = TripleoUpgradeTopic

    daemon_url = fields.String()
    token_file = fields.String()
    ca_file = fields.String(default='')
    node_name = fields.String(default='')
    request_timeout = fields.Float(default=60.0)
    persist_items = fields.JSON(default={})
    """item name -> list of absolute paths"""
    persist_dropin_dir = fields.String()
    compression = fields.StringEnum(choices=['none', 'zstd'], default='none')
    restore_mode = fields.StringEnum(choices=['missing-only', 'always'], default='missing-only')
    target_repositories = fields.JSON(default=[])
    """list of {"id", "name", "baseurl"}"""
    remove_packages = fields.List(fields.String(), default=[])
    install_packages = fields.List(fields.String(), default=[])
