"""
Who this node is in the TripleO deployment, from the hieradata TripleO wrote under
``/etc/puppet/hieradata`` (tripleo-ansible's tripleo_hieradata role, hiera's json backend):

- ``service_names.json``: ``service_names``, the TripleO services deployed on this node
  (``pacemaker``, ``mysql``, ``ceph_mon``, ``neutron_l3``, ...);
- ``all_nodes.json``: per service ``<service>_short_node_names`` and
  ``<service>_short_bootstrap_node_name`` (the host name the deployment bootstraps on);
- ``bootstrap_node.json``: ``bootstrap_nodeid``, the older, role-wide bootstrap node.

TripleO keeps the role name in its Ansible inventory, not in hieradata; a ``tripleo_role_name``
key is used when an operator put it there (``<Role>ExtraConfig``), else the role is unknown here
and the daemon's registry (``tripleo-upgrade-helper nodes import``) is the authority.
"""
import json
import os

HIERADATA_DIR = '/etc/puppet/hieradata'
OS_RELEASE = '/etc/os-release'
ROLE_FILES = ('role_extraconfig.json', 'extraconfig.json')


def identity(node, hieradata_dir=HIERADATA_DIR):
    """
    :param node: this node's short host name
    :return: dict: kind (undercloud | overcloud | unknown), role, bootstrap_node, is_bootstrap,
             service_names, cluster_nodes (pacemaker), database_nodes (mysql), reason (what could
             not be read, else None). Unknown values are None (lists: empty).
    """
    problems = []

    def load(name, required=True):
        path = os.path.join(hieradata_dir, name)
        try:
            with open(path) as f:
                data = json.load(f)
        except (IOError, OSError) as exc:
            if required or not isinstance(exc, FileNotFoundError):
                problems.append('cannot read {}: {}'.format(path, exc.strerror))
            return {}
        except ValueError as exc:
            problems.append('{} is not valid JSON: {}'.format(path, exc))
            return {}
        if not isinstance(data, dict):
            problems.append('{} does not hold a JSON object'.format(path))
            return {}
        return data

    services_data = load('service_names.json')
    all_nodes = load('all_nodes.json')
    bootstrap_data = load('bootstrap_node.json', required=False)
    services = services_data.get('service_names')
    services = sorted(set(s for s in services if isinstance(s, str))) if isinstance(services, list) else []

    bootstrap = all_nodes.get('pacemaker_short_bootstrap_node_name') or bootstrap_data.get('bootstrap_nodeid')
    bootstrap = _short(bootstrap) if isinstance(bootstrap, str) and bootstrap else None

    role = None
    for name in ROLE_FILES:
        value = load(name, required=False).get('tripleo_role_name')
        if isinstance(value, str) and value:
            role = value
            break

    if services:
        kind = 'undercloud' if any(s.startswith('undercloud_') for s in services) else 'overcloud'
    else:
        kind = 'unknown'
        if 'service_names' not in services_data and not problems:
            problems.append('{} has no service_names list'.format(os.path.join(hieradata_dir, 'service_names.json')))
    return {
        'kind': kind,
        'role': role,
        'bootstrap_node': bootstrap,
        'is_bootstrap': (bootstrap == _short(node)) if bootstrap else None,
        'service_names': services,
        'cluster_nodes': _names(all_nodes.get('pacemaker_short_node_names')),
        'database_nodes': _names(all_nodes.get('mysql_short_node_names')),
        'reason': '; '.join(problems) or None,
    }


def _short(name):
    return name.split('.')[0]


def _names(value):
    """A hiera list of host names as short names; TripleO also writes some as one comma-separated string."""
    if isinstance(value, str):
        value = [v for v in value.split(',') if v]
    if not isinstance(value, list):
        return []
    return sorted(set(_short(v) for v in value if isinstance(v, str) and v))


def os_release(path=OS_RELEASE):
    """VERSION_ID of the running OS (e.g. '8.4'), or None when it cannot be read."""
    try:
        with open(path) as f:
            for line in f:
                name, _, value = line.strip().partition('=')
                if name == 'VERSION_ID':
                    return value.strip('"\'') or None
    except (IOError, OSError):
        return None
    return None
