from leapp import reporting
from leapp.config import get_config
from leapp.libraries.common import tripleo_config
from leapp.libraries.stdlib import api
from leapp.models import TripleoUpgradeConfig


def scan_config():
    # The directory leapp itself read (leapp.conf [actor_config] path), to name the files in the reports.
    config_dir = get_config().get('actor_config', 'path', fallback=tripleo_config.DEFAULT_CONFIG_DIR).rstrip('/')
    source = tripleo_config.read_section(config_dir)
    values, findings = tripleo_config.validate(api.current_actor().config.get(tripleo_config.SECTION, {}), source)
    for finding in findings:
        reporting.create_report(finding.report_entries(reporting))
    if values is not None:
        api.produce(TripleoUpgradeConfig(values=values, config_dir=config_dir))
