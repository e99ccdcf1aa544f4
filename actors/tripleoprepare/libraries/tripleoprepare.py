import os

from leapp.exceptions import StopActorExecutionError
from leapp.libraries.common import tripleo_prepare
from leapp.libraries.stdlib import api
from leapp.models import SystemdServicesTasks, TripleoUpgradeConfig


def prepare_node():
    config = next(api.consume(TripleoUpgradeConfig), None)
    if config is None:
        raise StopActorExecutionError('TripleO upgrade preparation: no valid tripleo_upgrade configuration',
                                      details={'hint': 'see the tripleo_upgrade.config reports of leapp preupgrade'})
    node = config.values['node_name']
    try:
        record = tripleo_prepare.prepare_node(config.values, run_id=os.environ.get('LEAPP_EXECUTION_ID'))
    except tripleo_prepare.PrepareError as exc:
        raise StopActorExecutionError('TripleO upgrade preparation of {} failed'.format(node),
                                      details={'details': str(exc)}) from exc
    api.produce(SystemdServicesTasks(to_disable=tripleo_prepare.services_kept_disabled(record)))
    api.current_logger().info('TripleO upgrade preparation of %s done: stopped %s, disabled %s, persisted %s',
                              node, ', '.join(record['stopped_units']) or 'nothing',
                              ', '.join(record['disabled_units']) or 'nothing',
                              ', '.join(r['item'] for r in record['items'] if r['sha256']) or 'nothing')
