from leapp import reporting
from leapp.libraries.common import tripleo_checks
from leapp.libraries.stdlib import api
from leapp.models import TripleoNodeFacts, TripleoUpgradeConfig


def check_node():
    config = next(api.consume(TripleoUpgradeConfig), None)
    if config is None:
        # The config scanner already reported every wrong value as an inhibitor.
        api.current_logger().warning('TripleO pre-upgrade checks skipped: no valid tripleo_upgrade configuration')
        return
    facts = next(api.consume(TripleoNodeFacts), None)
    findings = tripleo_checks.preupgrade_findings(config.values, facts.dump() if facts else None)
    for finding in findings:
        reporting.create_report(finding.report_entries(reporting))
