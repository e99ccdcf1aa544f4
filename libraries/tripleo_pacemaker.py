"""
This node's place in the Pacemaker cluster, from ``crm_mon --output-as=xml``.

crm_mon may exit 0 when it cannot reach the CIB, and exits non-zero (102, not connected) when the
cluster is not running, in both cases with ``<error>`` elements inside ``<pacemaker-result>``: so
its XML is read whatever the exit code, and the errors it names are the reason the state is unknown.
"""
import xml.etree.ElementTree as ET

from . import tripleo_commands

CRM_MON = ('crm_mon', '--output-as=xml')

MEMBER = 'member'
NOT_MEMBER = 'not_member'
UNKNOWN = 'unknown'


def cluster_status(node, command=CRM_MON, env=None, timeout=tripleo_commands.DEFAULT_TIMEOUT):
    """
    Ask crm_mon about ``node``.

    :param env: extra environment for crm_mon (tests pass ``{'CIB_file': path}``)
    :return: dict with membership (member | not_member | unknown), node_state (online | standby |
             offline | maintenance | None), resources and bundles active on this node (sorted ids),
             and reason (why unknown or not a member, else None)
    """
    try:
        code, out = tripleo_commands.run(command, env=env, timeout=timeout, ok_codes=range(256))
    except tripleo_commands.CommandFailed as exc:
        return unknown(str(exc))
    result = parse_status(out, node)
    if code != 0 and result['membership'] != UNKNOWN:
        return unknown('`{}` exited with code {}'.format(' '.join(command), code))
    if code != 0:
        result['reason'] = '`{}` exited with code {}: {}'.format(' '.join(command), code, result['reason'])
    return result


def parse_status(text, node):
    """The same dict as cluster_status, from crm_mon's XML output."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        return unknown('crm_mon printed something that is not XML ({}): {!r}'.format(exc, text[:200]))
    if root.tag != 'pacemaker-result':
        return unknown('crm_mon printed <{}>, not <pacemaker-result>'.format(root.tag))
    errors = [e.text.strip() for e in root.iter('error') if e.text and e.text.strip()]
    if errors:
        return unknown('crm_mon could not read the cluster state: {}'.format('; '.join(errors)))
    nodes = root.find('nodes')
    if nodes is None:
        return unknown('crm_mon printed no <nodes> section')
    members = [n for n in nodes.findall('node') if _is_corosync_node(n)]
    entry = next((n for n in members if n.get('name') == node), None)
    if entry is None:
        members = sorted(n.get('name') for n in members)
        reason = ('{} is not a node of this cluster (cluster nodes: {})'.format(node, ', '.join(members))
                  if members else 'no cluster nodes are configured')
        return _result(NOT_MEMBER, None, [], [], reason)
    resources, bundles = _active_here(root.find('resources'), node)
    return _result(MEMBER, _node_state(entry), resources, bundles, None)


def _is_corosync_node(entry):
    # Bundle guest nodes (galera-bundle-0, ...) and remote nodes are listed too; their id is
    # their name, while a corosync member has a numeric node id.
    return entry.get('type') == 'member' and entry.get('id') != entry.get('name')


def _node_state(entry):
    def flag(name):
        return entry.get(name) == 'true'
    if not flag('online'):
        return 'offline'
    if flag('maintenance'):
        return 'maintenance'
    if flag('standby'):
        return 'standby'
    return 'online'


def _active_here(resources, node):
    """Primitive/group/clone resource ids and bundle ids with an active instance on ``node``."""
    primitives, bundles = set(), set()
    if resources is None:
        return [], []
    for top in resources:
        for resource in top.iter('resource'):
            running_here = any(n.get('name') == node for n in resource.findall('node'))
            if resource.get('active') != 'true' or not running_here:
                continue
            if top.tag == 'bundle':
                bundles.add(top.get('id'))
            else:
                primitives.add(resource.get('id'))
    return sorted(primitives), sorted(bundles)


def _result(membership, node_state, resources, bundles, reason):
    return {'membership': membership, 'node_state': node_state, 'resources': resources,
            'bundles': bundles, 'reason': reason}


def unknown(reason):
    return _result(UNKNOWN, None, [], [], reason)
