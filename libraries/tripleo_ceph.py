"""
Does this node host a Ceph monitor, and what is the monitor quorum.

TripleO deploys Ceph containerized (ceph-ansible): the monitor of host H runs in the container
``ceph-mon-H``. The quorum is read with ``ceph quorum_status -f json`` inside that container,
so no ceph client or keyring is needed on the host.
"""
import datetime
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


# --- the cluster seen through the operator's ceph command (ceph_command) ------------------------------------------
#
# OSD nodes (CephStorage, ComputeHCI) host no monitor container, so the cluster is reached through the argv prefix the
# operator configures as ``ceph_command`` (tripleo_config), for example ``podman exec ceph-mon-controller-0 ceph`` on a
# monitor host or ``cephadm shell -- ceph`` where an admin keyring is. Every call is that prefix plus ceph's own
# arguments, so whatever the prefix is, the cluster sees exactly what an operator typing ``ceph osd set noout`` sends.

# The flags that keep the cluster from reacting to a node going down for its upgrade: no OSD is marked out, no
# recovery, backfill or rebalancing starts, and no deep scrub adds load while the node's OSDs are away.
OSD_FLAGS = ('noout', 'norecover', 'nobackfill', 'norebalance', 'nodeep-scrub')

# How a node knows it hosts OSDs: its loaded systemd units. ceph-ansible (TripleO up to Wallaby) runs one
# ceph-osd@ID.service per OSD (a container started by the unit); cephadm runs ceph-FSID@osd.ID.service.
OSD_UNIT_PATTERNS = ('ceph-osd@*.service', 'ceph-*@osd.*.service')


class CephError(Exception):
    """A ceph command failed; the message names the command and what ceph said."""


def osd_units(systemd):
    """The names of this node's loaded Ceph OSD units (ceph-ansible's or cephadm's); [] when it hosts no OSD."""
    return [u.name for u in systemd.list_units(list(OSD_UNIT_PATTERNS))]


def ceph_argv(ceph_command, *args):
    return list(ceph_command) + list(args)


def _ceph(ceph_command, args, timeout):
    if not ceph_command:
        raise CephError('no ceph_command is configured, so `ceph {}` cannot run: set tripleo_upgrade.ceph_command '
                        'to the command that reaches the cluster (e.g. ["podman", "exec", "ceph-mon-controller-0", '
                        '"ceph"] or ["cephadm", "shell", "--", "ceph"])'.format(' '.join(args)))
    try:
        return tripleo_commands.run(ceph_argv(ceph_command, *args), timeout=timeout)[1]
    except tripleo_commands.CommandFailed as exc:
        raise CephError(str(exc)) from exc


def osd_flags(ceph_command, timeout=tripleo_commands.DEFAULT_TIMEOUT):
    """The cluster's OSD map flags now (``ceph osd dump --format json``: its comma-separated ``flags``), sorted."""
    out = _ceph(ceph_command, ('osd', 'dump', '--format', 'json'), timeout)
    try:
        flags = json.loads(out)['flags']
    except (ValueError, KeyError, TypeError) as exc:
        raise CephError('`{}` printed no JSON with the OSD map flags ({}): {!r}'.format(
            ' '.join(ceph_argv(ceph_command, 'osd', 'dump', '--format', 'json')), exc, out[:200])) from exc
    return sorted(f for f in (flags or '').split(',') if f)


def set_osd_flag(ceph_command, flag, timeout=tripleo_commands.DEFAULT_TIMEOUT):
    """``ceph osd set FLAG`` (setting a flag that is set already changes nothing)."""
    _ceph(ceph_command, ('osd', 'set', flag), timeout)


def unset_osd_flag(ceph_command, flag, timeout=tripleo_commands.DEFAULT_TIMEOUT):
    """``ceph osd unset FLAG`` (unsetting a flag that is not set changes nothing)."""
    _ceph(ceph_command, ('osd', 'unset', flag), timeout)


def observe_quorum(node, ceph_command=None, container_cli=CONTAINER_CLI, timeout=tripleo_commands.DEFAULT_TIMEOUT,
                   now=None):
    """
    The monitor quorum as this node sees it right now, in the daemon's ``ceph_mon_quorum`` shape
    ({"in", "out", "observed_at", "observed_by"}), or None when this node cannot see the cluster.

    A monitor host asks its own monitor container (mon_status); any other node asks through ``ceph_command`` when
    one is configured. ``in`` are the monitors in quorum (``quorum_names``), ``out`` the monmap's others.
    """
    quorum_seen = None
    status = mon_status(node, container_cli=container_cli, timeout=timeout)
    if status['hosts_mon'] and status['quorum'] and status['quorum']['known']:
        quorum_seen = status['quorum']
    elif ceph_command:
        try:
            quorum_seen = parse_quorum_status(_ceph(ceph_command, ('quorum_status', '-f', 'json'), timeout))
        except CephError:
            return None
    if not quorum_seen or not quorum_seen['known']:
        return None
    when = now or datetime.datetime.utcnow()
    return {'in': quorum_seen['in_quorum'], 'out': quorum_seen['out_of_quorum'],
            'observed_at': when.replace(microsecond=0).isoformat() + 'Z', 'observed_by': node}
