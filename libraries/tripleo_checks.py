"""
Pre-upgrade checks of one node: may it be upgraded now, and what must the operator know.

Inhibitors: the helper daemon cannot be used (unreachable, TLS not trusted, token refused), the
daemon would refuse this node's lease right now (with the daemon's reasons), a database transfer
flag is present, the undercloud lacks space for this node's persist set. Informational: the
non-rolling controller procedure (Corosync), L3 agent sidecars restarting, a single-controller
database going through persist and restore; and, at low severity, every node fact that could not
be established (with the probe's reason), because the informational checks and the operator's own
judgement then rest on incomplete data. Configuration errors are the config scanner's.

A node hosting Ceph OSDs must reach the cluster through ``ceph_command`` (prepare sets the OSD flags
with it): no ceph_command, or one that cannot read the OSD map, is an inhibitor. The lease dry run
carries the monitor quorum this node sees now (tripleo_ceph.observe_quorum).

Accepted inhibitors: the daemon keeps the inhibitors an admin accepted (by report key, for a node, a
role or the fleet, with who and why). Our own inhibitors whose key is accepted for this node become
non-inhibiting reports saying who accepted them and why. Never accepted here: the daemon's own
answers (``tripleo_upgrade.daemon.*``, ``tripleo_upgrade.lease.*``): prepare asks for the lease again
anyway. Report keys are fixed strings per kind of finding (leapp takes our Key as it is, and would
otherwise hash severity, audience and title), so an acceptance keeps matching across runs.
"""
import os

import requests

from . import tripleo_archive, tripleo_ceph, tripleo_persist, tripleo_systemd, tripleo_transfer
from .tripleo_findings import Finding
from .tripleo_helper_client import DaemonError, HelperClient, LeaseRefused

L3_AGENT_SERVICE = 'neutron_l3'
L3_AGENT_UNIT_PREFIX = 'tripleo_neutron_l3_agent'
GROUPS = ('UPGRADE_PROCESS',)
# Findings that are the daemon's own answer, or say it cannot be asked: an acceptance never turns them off.
NEVER_ACCEPTED = ('tripleo_upgrade.daemon.', 'tripleo_upgrade.lease.')
ACCEPTANCE_SCOPES = {'node': 'this node', 'role': 'its role {}', 'fleet': 'every node'}


def preupgrade_findings(config, facts, client=None, flag_dir=None, bus_address=None):
    """
    :param config: the validated tripleo_upgrade configuration (dict of TripleoUpgradeConfig values)
    :param facts: this node's facts (tripleo_facts.gather() / TripleoNodeFacts.dump()), or None
    :param client: a HelperClient; None builds one from config
    :param flag_dir: where transfer flag files are (None: tripleo_transfer.FLAG_DIR)
    :param bus_address: D-Bus address of systemd, for the OSD units (None: the system bus)
    :return: list of Finding
    """
    node = config['node_name']
    if client is None:
        try:
            client = HelperClient.from_config(config)
        except DaemonError:
            client = None  # daemon_findings reports the token file
    findings = daemon_findings(config, node, client)
    daemon_usable = client is not None and not any(f.key.startswith('tripleo_upgrade.daemon.') for f in findings)
    findings.append(_dbus_bindings())
    findings.append(_transfer_flag(tripleo_transfer.flag_path(tripleo_transfer.DEFAULT_DATADIR,
                                                              flag_dir or tripleo_transfer.FLAG_DIR)))
    findings.extend(ceph_osd_findings(config, node, bus_address))
    if facts:
        findings.extend((_corosync_info(facts), _l3_agent_info(facts), _single_controller_info(facts),
                         _unknown_facts(facts)))
    findings = [f for f in findings if f]
    if daemon_usable and any(f.inhibitor for f in findings):
        findings = with_acceptances(findings, client, node)
    return findings


def with_acceptances(findings, client, node):
    """
    The findings with every inhibitor the daemon says is accepted for ``node`` turned into a non-inhibiting
    report that says who accepted it, when, for which scope and why. When the acceptances cannot be read, the
    inhibitors stay and one low report says why (an unreachable daemon is already an inhibitor of its own).
    """
    try:
        accepted = dict((a['key'], a) for a in client.accepted_inhibitors(node))
    except DaemonError as exc:
        return findings + [Finding(
            key='tripleo_upgrade.inhibitors.acceptances_unknown',
            title='Accepted inhibitors could not be read from the TripleO upgrade helper daemon',
            summary='{}. Every inhibitor of this report stays an inhibitor.'.format(exc),
            severity='low', inhibitor=False,
            remediation='Read the daemon\'s log on the undercloud for this request; an older daemon has no '
                        'accepted inhibitors: upgrade the tripleo-upgrade-helper package.',
            groups=GROUPS)]
    return [_accepted(f, accepted[f.key]) if f.inhibitor and f.key in accepted and not
            f.key.startswith(NEVER_ACCEPTED) else f for f in findings]


def _accepted(finding, acceptance):
    scope = ACCEPTANCE_SCOPES.get(acceptance.get('scope'), 'scope {}').format(
        acceptance.get('target') or acceptance.get('scope'))
    return finding._replace(
        inhibitor=False,
        title='Accepted inhibitor: {}'.format(finding.title),
        summary='{} This inhibitor ({}) was accepted for {} by {} at {}: {}'.format(
            finding.summary, finding.key, scope, acceptance.get('by') or 'an admin', acceptance.get('at') or
            'an unknown time', acceptance.get('reason') or 'no reason given'),
        remediation='It no longer stops the upgrade. To make it an inhibitor again: `tripleo-upgrade-helper '
                    'inhibitors list` on the undercloud, then `tripleo-upgrade-helper inhibitors revoke ID`. '
                    'What it said to do: {}'.format(finding.remediation or 'nothing'))


def ceph_osd_findings(config, node, bus_address=None):
    """
    Inhibitors for a node hosting Ceph OSDs (its units) that cannot reach the cluster through ceph_command,
    which prepare needs to set the OSD flags. [] for a node without OSD units, or when systemd cannot be asked
    (the D-Bus and unknown-facts reports say so).
    """
    try:
        units = tripleo_ceph.osd_units(tripleo_systemd.Systemd(bus_address))
    except tripleo_systemd.SystemdError:
        return []
    if not units:
        return []
    command = config.get('ceph_command') or []
    if not command:
        return [Finding(
            key='tripleo_upgrade.ceph.osd_command',
            title='This node hosts Ceph OSDs but no ceph_command is configured to set the OSD flags',
            summary='{} runs Ceph OSDs ({}). Before it goes down, prepare sets the OSD flags {} so that the '
                    'cluster neither marks its OSDs out nor starts moving data, and it needs the command that '
                    'reaches the cluster for that.'.format(node, ', '.join(units), ', '.join(tripleo_ceph.OSD_FLAGS)),
            remediation='Set tripleo_upgrade.ceph_command to the command that runs ceph against this cluster, '
                        'for example ["podman", "exec", "ceph-mon-controller-0", "ceph"] (a monitor container on '
                        'a host this node can reach through podman) or "cephadm shell -- ceph" (a node with the '
                        'admin keyring); check it with `<ceph_command> osd dump`.',
            groups=GROUPS)]
    try:
        tripleo_ceph.osd_flags(command)
    except tripleo_ceph.CephError as exc:
        return [Finding(
            key='tripleo_upgrade.ceph.unreachable',
            title='The Ceph cluster cannot be reached with ceph_command',
            summary='{} runs Ceph OSDs ({}), and prepare must set the OSD flags {} with ceph_command before it '
                    'goes down, but reading the OSD map failed: {}.'.format(
                        node, ', '.join(units), ', '.join(tripleo_ceph.OSD_FLAGS), exc),
            remediation='Fix tripleo_upgrade.ceph_command (now: {}) or the cluster access it needs (container '
                        'running, keyring), until `{} osd dump` answers.'.format(
                            ' '.join(command), ' '.join(command)),
            groups=GROUPS)]
    return []


def daemon_findings(config, node, client=None):
    """Reachability, TLS, token; then the lease dry run and the space check."""
    url = config.get('daemon_url')
    if client is None:
        try:
            client = HelperClient.from_config(config)
        except DaemonError as exc:
            return [Finding(
                key='tripleo_upgrade.daemon.token_file',
                title='The node token for the TripleO upgrade helper daemon cannot be read',
                summary='{}. Without it this node cannot persist its data or take its upgrade lease.'.format(exc),
                remediation='Copy the token `tripleo-upgrade-helper nodes import` issued for {} to {} '
                            '(mode 0600, owner root).'.format(node, config.get('token_file')),
                groups=GROUPS, resources=[('file', config.get('token_file'))])]
    try:
        listing = client.node_data(node)
    except DaemonError as exc:
        return [_daemon_unusable(exc, node, url, config)]
    quorum = tripleo_ceph.observe_quorum(node, config.get('ceph_command') or None)
    return [f for f in (_lease_refused(client, node, quorum), space_finding(config, node, listing)) if f]


def _daemon_unusable(exc, node, url, config):
    if isinstance(exc.__cause__, requests.exceptions.SSLError):
        return Finding(
            key='tripleo_upgrade.daemon.tls',
            title='The TLS certificate of the TripleO upgrade helper daemon is not trusted',
            summary='{}. The node refuses to send its data to a daemon it cannot authenticate.'.format(exc),
            remediation='Set tripleo_upgrade.ca_file to the CA certificate (PEM) that signed the daemon '
                        'certificate (now: {}), and check that daemon_url names the host in that certificate.'.format(
                            config.get('ca_file') or 'the system trust store'),
            groups=GROUPS, resources=[('file', config.get('ca_file'))])
    if exc.status is None:
        return Finding(
            key='tripleo_upgrade.daemon.unreachable',
            title='The TripleO upgrade helper daemon is unreachable',
            summary='{}. The upgrade needs it to take the lease and to persist this node\'s data.'.format(exc),
            remediation='Start the daemon on the undercloud (`tripleo-upgrade-helper serve`) and check that {} '
                        'is reachable from this node (firewall, address, port).'.format(url),
            groups=GROUPS)
    if exc.status == 401:
        return Finding(
            key='tripleo_upgrade.daemon.token',
            title='The TripleO upgrade helper daemon refused this node\'s token',
            summary='{}.'.format(exc),
            remediation='Write the token the daemon issued for {} into {} (`tripleo-upgrade-helper nodes import` '
                        'issues them; re-issue it if it was lost).'.format(node, config.get('token_file')),
            groups=GROUPS, resources=[('file', config.get('token_file'))])
    if exc.status in (403, 404):
        return Finding(
            key='tripleo_upgrade.daemon.node',
            title='The TripleO upgrade helper daemon does not know this node as {}'.format(node),
            summary='{}.'.format(exc),
            remediation='Register {0} with the daemon (`tripleo-upgrade-helper nodes import` or `nodes add {0} '
                        '--role ROLE`), or set tripleo_upgrade.node_name to the name this node has there and use '
                        'that node\'s token.'.format(node),
            groups=GROUPS)
    return Finding(
        key='tripleo_upgrade.daemon.error',
        title='The TripleO upgrade helper daemon answered with an error',
        summary='{}.'.format(exc),
        remediation='Read the daemon\'s log on the undercloud for this request and fix what it names.',
        groups=GROUPS)


def _lease_refused(client, node, quorum=None):
    try:
        client.request_lease(node, dry_run=True, ceph_mon_quorum=quorum)
    except LeaseRefused as exc:
        rules = set(b.get('rule') for b in getattr(exc, 'blockers', []))
        if rules == {'inhibitors'}:
            # Refused only for the inhibitors of the last uploaded report: this run's report replaces it, and
            # its own inhibitors are reported here by their own findings. Inhibiting on it would keep the
            # refusal alive forever.
            return Finding(
                key='tripleo_upgrade.lease.previous_inhibitors',
                title='The last pre-upgrade report of this node had inhibitors the daemon holds against it',
                summary='The helper daemon would refuse the upgrade lease of {} now: {}. This report replaces '
                        'the previous one at the daemon when it is sent at the end of this run.'.format(
                            node, ' '.join('({}) {}'.format(i + 1, r) for i, r in enumerate(exc.reasons))),
                severity='info', inhibitor=False,
                remediation='Fix the inhibitors of this report (or have an admin accept them with '
                            '`tripleo-upgrade-helper inhibitors accept KEY --node {} --reason TEXT`).'.format(node),
                groups=GROUPS)
        return Finding(
            key='tripleo_upgrade.lease.refused',
            title='This node may not be taken down for its upgrade now',
            summary='The helper daemon would refuse the upgrade lease of {}: {}'.format(
                node, ' '.join('({}) {}'.format(i + 1, r) for i, r in enumerate(exc.reasons))),
            remediation='Upgrade the nodes named above first, or wait until they are back in service and have '
                        'released their lease (`tripleo-upgrade-helper status` shows the leases), then run '
                        '`leapp preupgrade` again.',
            groups=GROUPS)
    except DaemonError as exc:
        return Finding(
            key='tripleo_upgrade.lease.error',
            title='The upgrade lease of this node could not be checked',
            summary='{}.'.format(exc),
            remediation='Read the daemon\'s log on the undercloud for this request and fix what it names.',
            groups=GROUPS)
    return None


def space_finding(config, node, listing):
    """
    Inhibitor when this node's persist set would not fit in the space the daemon reports.

    The daemon reports ``free_bytes`` (space it can still store, above its reserve) with the node's
    data listing; a daemon without that field gets a non-inhibiting finding saying the check did not run.
    """
    try:
        items = tripleo_persist.persist_set(config.get('persist_items') or {}, config.get('persist_dropin_dir'))
    except tripleo_persist.PersistError as exc:
        return Finding(
            key='tripleo_upgrade.persist.dropins',
            title='The persist set of this node cannot be determined',
            summary='{}.'.format(exc),
            remediation='Fix or remove the drop-in file named above.',
            groups=GROUPS, resources=[('directory', config.get('persist_dropin_dir'))])
    paths = [p for item_paths in items.values() for p in item_paths]
    needed, missing, unreadable = tripleo_archive.estimate_bytes(paths)
    measured = 'the persist set ({} item(s): {}) takes about {} as uncompressed tar{}{}'.format(
        len(items), ', '.join(sorted(items)) or 'none', _human(needed),
        '; absent paths: {}'.format(', '.join(missing)) if missing else '',
        '; not readable, not counted: {}'.format(', '.join(unreadable)) if unreadable else '')
    free = listing.get('free_bytes') if isinstance(listing, dict) else None
    if not isinstance(free, int):
        return Finding(
            key='tripleo_upgrade.space.unchecked',
            title='Space on the undercloud for this node\'s data was not checked',
            summary='The helper daemon does not report free_bytes with the node\'s data listing, so it is not '
                    'known whether {} fits; {}.'.format(node, measured),
            severity='low', inhibitor=False,
            remediation='Check on the undercloud that the daemon\'s state directory has at least {} free for this '
                        'node (`df -h /var/lib/tripleo-upgrade`).'.format(_human(needed)),
            groups=GROUPS)
    if needed <= free:
        return None
    return Finding(
        key='tripleo_upgrade.space.insufficient',
        title='The undercloud lacks space for this node\'s persisted data',
        summary='{}; the helper daemon can store only {} more.'.format(measured[0].upper() + measured[1:],
                                                                      _human(free)),
        remediation='Free at least {} on the undercloud under the daemon\'s state directory (or remove data of '
                    'nodes already upgraded), or persist less (persist_items, compression: zstd).'.format(
                        _human(needed - free)),
        groups=GROUPS)


def _transfer_flag(path):
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            content = f.read(400).strip()
    except (IOError, OSError) as exc:
        content = 'unreadable: {}'.format(exc.strerror)
    return Finding(
        key='tripleo_upgrade.transfer_flag',
        title='A database transfer already happened on this node',
        summary='The transfer flag {} is present ({}). The role\'s database was already moved with '
                'system_upgrade_transfer_data; upgrading or transferring again could overwrite the database '
                'this node holds.'.format(path, content or 'empty'),
        remediation='Do not re-run the upgrade on this node unless you mean to. If you must, first make sure the '
                    'database is safe on another node (`tripleo-upgrade-helper status` shows the sealed transfer), '
                    'then remove {} and run `leapp preupgrade` again.'.format(path),
        groups=GROUPS, resources=[('file', path)])


def _dbus_bindings():
    try:
        tripleo_systemd.import_dbus()
    except tripleo_systemd.BindingsMissing as exc:
        return Finding(
            key='tripleo_upgrade.python3_dbus',
            title='The D-Bus Python bindings are not installed',
            summary='{}. Without them the upgrade cannot stop, disable and later re-enable the TripleO units '
                    'through systemd.'.format(exc),
            remediation='Install the package: `dnf install {}`, then run `leapp preupgrade` again.'.format(
                tripleo_systemd.PACKAGE),
            groups=GROUPS, resources=[('package', tripleo_systemd.PACKAGE)])
    return None


def _corosync_info(facts):
    corosync = facts['packages'].get('corosync')
    if not corosync:
        return None
    return Finding(
        key='tripleo_upgrade.info.corosync_non_rolling',
        title='Controllers are upgraded one by one, not rolling (Corosync changes)',
        summary='This node runs Corosync {} (Pacemaker {}). Corosync changes its major version and link protocol '
                'with the new OS, so upgraded and not yet upgraded controllers cannot form one cluster.'.format(
                    corosync, facts['packages'].get('pacemaker') or 'not installed'),
        severity='info', inhibitor=False,
        remediation='Upgrade one controller at a time: the first upgraded controller becomes a one-node cluster '
                    'on the new OS, receives the database once with system_upgrade_transfer_data, and TripleO starts '
                    'its services; each further controller stops its cluster services, is upgraded, and joins the '
                    'new cluster, resyncing by replication. The helper daemon grants one lease at a time for this '
                    'role.',
        groups=GROUPS)


def _l3_agent_info(facts):
    units = [u['name'] for u in facts['units'].get('units', []) if u['name'].startswith(L3_AGENT_UNIT_PREFIX)]
    if L3_AGENT_SERVICE not in facts['identity'].get('service_names', []) and not units:
        return None
    return Finding(
        key='tripleo_upgrade.info.l3_agent_sidecars',
        title='Neutron L3 agent sidecar containers will restart: floating IPs are briefly affected',
        summary='This node runs Neutron L3 agents ({}). Their sidecar containers (keepalived, haproxy, '
                'dnsmasq, radvd) stop with the node, so routers and floating IPs hosted here move or pause '
                'while it is upgraded.'.format(', '.join(units) or 'service ' + L3_AGENT_SERVICE),
        severity='info', inhibitor=False,
        remediation='Plan a short interruption of floating IP traffic, or move HA routers away from this node '
                    'before the upgrade (`openstack network agent remove router`).',
        groups=GROUPS)


def _single_controller_info(facts):
    identity = facts['identity']
    database_nodes = identity.get('database_nodes') or identity.get('cluster_nodes') or []
    if database_nodes != [facts['node_name']]:
        return None
    return Finding(
        key='tripleo_upgrade.info.single_controller',
        title='Single controller: the database goes through persist and restore, not a transfer',
        summary='{} is the only database node of this cloud, so there is no other old-OS node to transfer the '
                'database from; the control plane is down while it is upgraded.'.format(facts['node_name']),
        severity='info', inhibitor=False,
        remediation='Include the database directory (/var/lib/mysql) in the persisted data (persist_items or a '
                    'drop-in) and do not run system_upgrade_transfer_data for this role.',
        groups=GROUPS)


def unknown_facts(facts):
    """[(what, reason)] for every fact the facts scanner could not establish."""
    unknown = []
    identity, units, pacemaker = facts.get('identity', {}), facts.get('units', {}), facts.get('pacemaker', {})
    ceph, packages = facts.get('ceph', {}), facts.get('packages', {})
    if identity.get('reason'):
        unknown.append(('TripleO role and hieradata', identity['reason']))
    if units.get('known') is False:
        unknown.append(('TripleO systemd units', units.get('reason')))
    if pacemaker.get('membership') == 'unknown':
        unknown.append(('Pacemaker membership', pacemaker.get('reason')))
    if ceph.get('reason'):
        unknown.append(('ceph-mon on this node', ceph['reason']))
    elif ceph.get('quorum') and not ceph['quorum'].get('known'):
        unknown.append(('ceph-mon quorum', ceph['quorum'].get('reason')))
    if packages.get('known') is False:
        unknown.append(('pacemaker, corosync and OpenStack release versions', packages.get('reason')))
    return unknown


def _unknown_facts(facts):
    unknown = unknown_facts(facts)
    if not unknown:
        return None
    return Finding(
        key='tripleo_upgrade.facts.unknown',
        title='Some facts about this TripleO node could not be established',
        summary='The pre-upgrade checks of {} ran without: {}. The informational reports (Corosync procedure, L3 '
                'agents, single controller) may be missing or incomplete for what is unknown.'.format(
                    facts['node_name'], '; '.join('{} ({})'.format(what, reason or 'no reason given')
                                                  for what, reason in unknown)),
        severity='low', inhibitor=False,
        remediation='Fix what each reason names (a tool that is missing or a service that is not running), then run '
                    '`leapp preupgrade` again; or check these facts by hand before upgrading this node.',
        groups=GROUPS)


def _human(size):
    if size < 1024:
        return '{} bytes'.format(size)
    for unit in ('KiB', 'MiB', 'GiB', 'TiB'):
        size /= 1024.0
        if size < 1024 or unit == 'TiB':
            return '{:.1f} {}'.format(size, unit)

