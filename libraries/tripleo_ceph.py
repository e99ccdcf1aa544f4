"""
Does this node host a Ceph monitor, and what is the monitor quorum.

TripleO deploys Ceph containerized (ceph-ansible): the monitor of host H runs in the container
``ceph-mon-H``. The quorum is read with ``ceph quorum_status -f json`` inside that container,
so no ceph client or keyring is needed on the host.
"""
import json

from . import tripleo_commands

CONTAINER_CLI = 'podman'


def mon_container(host):
    return 'ceph-mon-{}'.format(host)


def mon_status(host, container_cli=CONTAINER_CLI, cluster='ceph', timeout=tripleo_commands.DEFAULT_TIMEOUT):
    """
    :param host: this node's short host name (the monitor's name)
    :param container_cli: the container command (podman)
    :return: dict: hosts_mon (True | False | None when unknown), container (name or None),
             quorum (parse_quorum_status() result, or None when the node hosts no monitor)
             and reason (why hosts_mon is unknown, else None)
    """
    container = mon_container(host)
    try:
        code, _ = tripleo_commands.run((container_cli, 'container', 'exists', container), timeout=timeout,
                                    ok_codes=(0, 1))
    except tripleo_commands.CommandFailed as exc:
        return {'hosts_mon': None, 'container': None, 'quorum': None,
                'reason': 'cannot tell whether this node hosts a ceph-mon: {}'.format(exc)}
    if code == 1:
        return {'hosts_mon': False, 'container': None, 'quorum': None, 'reason': None}
    return {'hosts_mon': True, 'container': container,
            'quorum': quorum(container, container_cli=container_cli, cluster=cluster, timeout=timeout),
            'reason': None}


def quorum(container, container_cli=CONTAINER_CLI, cluster='ceph', timeout=tripleo_commands.DEFAULT_TIMEOUT):
    """The monitor quorum as seen from inside ``container``; see parse_quorum_status()."""
    command = (container_cli, 'exec', container, 'ceph', '--cluster', cluster, 'quorum_status', '-f', 'json')
    try:
        _, out = tripleo_commands.run(command, timeout=timeout)
    except tripleo_commands.CommandFailed as exc:
        return _unknown(str(exc))
    return parse_quorum_status(out)


def parse_quorum_status(text):
    """
    :return: dict: known (bool), monitors (all monitor names in the monmap), in_quorum (names in
             quorum), out_of_quorum, leader, reason (why unknown, else None)
    """
    try:
        data = json.loads(text)
        monitors = sorted(m['name'] for m in data['monmap']['mons'])
        in_quorum = sorted(data['quorum_names'])
        leader = data.get('quorum_leader_name')
    except ValueError as exc:
        return _unknown('`ceph quorum_status -f json` printed something that is not JSON ({}): {!r}'.format(
            exc, text[:200]))
    except (KeyError, TypeError) as exc:
        return _unknown('`ceph quorum_status -f json` printed JSON without the monmap and quorum_names '
                        '(missing {}): {!r}'.format(exc, text[:200]))
    return {'known': True, 'monitors': monitors, 'in_quorum': in_quorum,
            'out_of_quorum': sorted(set(monitors) - set(in_quorum)), 'leader': leader, 'reason': None}


def _unknown(reason):
    return {'known': False, 'monitors': [], 'in_quorum': [], 'out_of_quorum': [], 'leader': None,
            'reason': reason}
