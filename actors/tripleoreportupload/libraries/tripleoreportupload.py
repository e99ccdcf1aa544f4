import os

from leapp.libraries.common import tripleo_helper_client, tripleo_status_report
from leapp.libraries.stdlib import api
from leapp.models import TripleoUpgradeConfig
from leapp.reporting import Report


def upload_report():
    config = next(api.consume(TripleoUpgradeConfig), None)
    if config is None:
        api.current_logger().warning('The pre-upgrade report was not sent to the TripleO upgrade helper daemon: '
                                     'no valid tripleo_upgrade configuration (see the configuration reports)')
        return
    node = config.values['node_name']
    entries = tripleo_status_report.status_entries([message.report for message in api.consume(Report)])
    try:
        client = tripleo_helper_client.HelperClient.from_config(config.values)
    except tripleo_helper_client.DaemonError as exc:
        problem = 'the pre-upgrade report of {} was not sent to the helper daemon: {}'.format(node, exc)
    else:
        problem = tripleo_status_report.send_preupgrade(client, node, entries,
                                                        leapp_run_id=os.environ.get('LEAPP_EXECUTION_ID'),
                                                        ceph_command=config.values.get('ceph_command'))
    if problem:
        api.current_logger().warning(problem)
    else:
        api.current_logger().info('Sent %d report entries of %s to the TripleO upgrade helper daemon',
                                  len(entries), node)
