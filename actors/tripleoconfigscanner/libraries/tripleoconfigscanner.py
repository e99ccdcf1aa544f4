from leapp import reporting
from leapp.libraries.common import tripleo_config
from leapp.libraries.stdlib import api
from leapp.models import TripleoUpgradeConfig


def scan_config():
    section = api.current_actor().config.get(tripleo_config.SECTION, {})
    values, findings = tripleo_config.validate(section)
    for finding in findings:
        reporting.create_report(finding.report_entries(reporting))
    if values is not None:
        api.produce(TripleoUpgradeConfig(**values))
