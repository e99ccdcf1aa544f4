import os

from leapp.exceptions import StopActorExecutionError
from leapp.libraries.common import tripleo_helper_client, tripleo_prepare, tripleo_restore, tripleo_systemd
from leapp.libraries.stdlib import api
from leapp.models import TripleoUpgradeConfig


def restore_node():
    config = next(api.consume(TripleoUpgradeConfig), None)
    if config is None:
        raise StopActorExecutionError('TripleO restore after the upgrade: no valid tripleo_upgrade configuration')
    node = tripleo_helper_client.node_name(config.node_name)
    try:
        client = tripleo_helper_client.HelperClient.from_config(config)
        result = tripleo_restore.restore(client, tripleo_systemd.Systemd(), node, config.restore_mode,
                                         state_file=tripleo_prepare.STATE_FILE,
                                         os_release_file=tripleo_prepare.OS_RELEASE,
                                         run_id=os.environ.get('LEAPP_EXECUTION_ID'),
                                         work_dir=os.path.dirname(tripleo_prepare.STATE_FILE))
    except (tripleo_restore.RestoreError, tripleo_prepare.PrepareError, tripleo_systemd.SystemdError,
            tripleo_helper_client.DaemonError) as exc:
        raise StopActorExecutionError('TripleO restore of {} after the upgrade failed'.format(node),
                                      details={'details': str(exc)}) from exc
    api.current_logger().info('TripleO restore of %s on %s done: %s; enabled (not started) %s', node,
                              result['os_release'],
                              ', '.join('{} {}'.format(path, action) for _, path, action in result['restored']),
                              ', '.join(result['enabled_units']) or 'nothing')
