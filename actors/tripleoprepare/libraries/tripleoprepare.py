import os

from leapp.exceptions import StopActorExecutionError
from leapp.libraries.common import tripleo_helper_client, tripleo_persist, tripleo_prepare, tripleo_systemd
from leapp.libraries.stdlib import api
from leapp.models import TripleoUpgradeConfig


def prepare_node():
    config = next(api.consume(TripleoUpgradeConfig), None)
    if config is None:
        raise StopActorExecutionError('TripleO upgrade preparation: no valid tripleo_upgrade configuration',
                                      details={'hint': 'see the tripleo_upgrade.config reports of leapp preupgrade'})
    node = tripleo_helper_client.node_name(config.node_name)
    try:
        items = tripleo_persist.persist_set(config.persist_items, config.persist_dropin_dir)
        client = tripleo_helper_client.HelperClient.from_config(config)
        systemd = tripleo_systemd.Systemd()
        state = tripleo_prepare.prepare(client, systemd, node, items, config.compression,
                                        state_file=tripleo_prepare.STATE_FILE,
                                        os_release_file=tripleo_prepare.OS_RELEASE,
                                        run_id=os.environ.get('LEAPP_EXECUTION_ID'))
    except (tripleo_prepare.PrepareError, tripleo_persist.PersistError, tripleo_systemd.SystemdError,
            tripleo_helper_client.DaemonError) as exc:
        raise StopActorExecutionError('TripleO upgrade preparation of {} failed'.format(node),
                                      details={'details': str(exc)}) from exc
    api.current_logger().info('TripleO upgrade preparation of %s done: stopped %s, disabled %s, persisted %s',
                              node, ', '.join(state['stopped_units']) or 'nothing',
                              ', '.join(state['disabled_units']) or 'nothing',
                              ', '.join(r['item'] for r in state['items'] if r['sha256']) or 'nothing')
