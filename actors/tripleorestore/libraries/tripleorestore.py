import os

from leapp.exceptions import StopActorExecutionError
from leapp.libraries.common import tripleo_restore
from leapp.libraries.stdlib import api
from leapp.models import TripleoUpgradeConfig


def restore_node():
    config = next(api.consume(TripleoUpgradeConfig), None)
    if config is None:
        raise StopActorExecutionError('TripleO restore after the upgrade: no valid tripleo_upgrade configuration')
    node = config.values['node_name']
    try:
        result = tripleo_restore.restore_node(config.values, run_id=os.environ.get('LEAPP_EXECUTION_ID'))
    except tripleo_restore.RestoreError as exc:
        raise StopActorExecutionError('TripleO restore of {} after the upgrade failed'.format(node),
                                      details={'details': str(exc)}) from exc
    api.current_logger().info('TripleO restore of %s on %s done: %s; enabled (not started) %s', node,
                              result['os_release'],
                              ', '.join('{} {}'.format(path, action) for _, path, action in result['restored']),
                              ', '.join(result['enabled_units']) or 'nothing')
