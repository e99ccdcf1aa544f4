"""
Everything the pre-upgrade checks need to know about this node, gathered into one plain dict
(the shape of the TripleoNodeFacts model).

Every probe that cannot run (tool absent, bus unreachable, bad output) is recorded as unknown
with its reason; a fact is never guessed and a probe never raises.
"""
from . import tripleo_ceph, tripleo_node, tripleo_pacemaker, tripleo_commands, tripleo_rpm, tripleo_systemd

# TripleO's own units: tripleo_<container>.service, their _healthcheck timers, tripleo-container-shutdown, ...
UNIT_PATTERNS = ('tripleo_*', 'tripleo-*')


def gather(node_name, hieradata_dir=None, crm_mon_env=None, rpm_dbpath=None, bus_address=None,
           container_cli=tripleo_ceph.CONTAINER_CLI):
    """
    :param node_name: this node's name at the daemon (the configuration's node_name)
    :param hieradata_dir: None for tripleo_node.HIERADATA_DIR
    :param crm_mon_env: extra environment for crm_mon (tests: {'CIB_file': ...})
    :param rpm_dbpath: rpm database directory (None: the system's)
    :param bus_address: D-Bus address where systemd is (None: the system bus, or $DBUS_SYSTEM_BUS_ADDRESS)
    :return: dict: node_name, identity, units, pacemaker, ceph, packages (see the probe functions)
    """
    hieradata_dir = hieradata_dir or tripleo_node.HIERADATA_DIR
    return {
        'node_name': node_name,
        'identity': _guarded('identity', lambda: tripleo_node.identity(node_name, hieradata_dir), _unknown_identity),
        'units': _guarded('units', lambda: unit_facts(bus_address), _unknown_units),
        'pacemaker': _guarded('pacemaker', lambda: tripleo_pacemaker.cluster_status(node_name, env=crm_mon_env),
                              tripleo_pacemaker.unknown),
        'ceph': _guarded('ceph', lambda: tripleo_ceph.mon_status(node_name, container_cli=container_cli),
                         _unknown_ceph),
        'packages': _guarded('packages', lambda: package_facts(rpm_dbpath), _unknown_packages),
    }


def unit_facts(bus_address=None):
    """{'known', 'reason', 'units': [{name, load_state, active_state, sub_state, unit_file_state}]}"""
    try:
        units = tripleo_systemd.Systemd(bus_address).list_units(list(UNIT_PATTERNS))
    except tripleo_systemd.SystemdError as exc:
        return _unknown_units(str(exc))
    return {'known': True, 'reason': None, 'units': [dict(u._asdict()) for u in units]}


def package_facts(dbpath=None):
    """{'known', 'reason', 'pacemaker', 'corosync', 'openstack_release': [{name, version}]}"""
    try:
        versions = tripleo_rpm.upgrade_versions(tripleo_rpm.installed_packages(dbpath))
    except tripleo_commands.CommandFailed as exc:
        return _unknown_packages(str(exc))
    versions.update(known=True, reason=None)
    return versions


def _guarded(what, probe, unknown):
    # A bug in one probe must not cost the operator the whole pre-upgrade report.
    try:
        return probe()
    except Exception as exc:
        return unknown('the {} probe failed unexpectedly: {}: {}'.format(what, type(exc).__name__, exc))


def _unknown_identity(reason):
    return {'kind': 'unknown', 'role': None, 'bootstrap_node': None, 'is_bootstrap': None, 'service_names': [],
            'cluster_nodes': [], 'database_nodes': [], 'reason': reason}


def _unknown_units(reason):
    return {'known': False, 'reason': reason, 'units': []}


def _unknown_ceph(reason):
    return {'hosts_mon': None, 'container': None, 'quorum': None, 'reason': reason}


def _unknown_packages(reason):
    return {'known': False, 'reason': reason, 'pacemaker': None, 'corosync': None, 'openstack_release': []}
