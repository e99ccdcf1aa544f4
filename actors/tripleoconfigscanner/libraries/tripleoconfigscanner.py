import leapp
from leapp import reporting
from leapp.config import get_config
from leapp.libraries.common import tripleo_config
from leapp.libraries.stdlib import api
from leapp.models import TripleoUpgradeConfig


def scan_config():
    # The directory leapp itself read (leapp.conf [actor_config] path), to name the files in the reports.
    config_dir = get_config().get('actor_config', 'path', fallback=tripleo_config.DEFAULT_CONFIG_DIR).rstrip('/')
    source = tripleo_config.read_section(config_dir)
    loaded = getattr(api.current_actor(), 'config', None)
    if loaded is None:
        values, findings = None, [tripleo_config.unsupported_framework(getattr(leapp, 'VERSION', 'unknown'))]
    else:
        values, findings = tripleo_config.validate(loaded.get(tripleo_config.SECTION, {}), source)
    for finding in findings:
        reporting.create_report(finding.report_entries(reporting))
    if values is not None:
        api.produce(TripleoUpgradeConfig(values=values, config_dir=config_dir))
