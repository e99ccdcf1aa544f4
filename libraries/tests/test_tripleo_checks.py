"""
Pre-upgrade checks against the helper daemon started as a real process (fixture helper_daemon),
with real token files, a real TLS certificate and real files for the persist set.
"""
import json
import os

import pytest

from testing.daemon import DaemonProcess
from tripleo_upgrade_libraries import tripleo_archive, tripleo_checks, tripleo_config, tripleo_facts
from tripleo_upgrade_libraries import tripleo_status_report
from tripleo_upgrade_libraries.tripleo_helper_client import HelperClient


def config_for(daemon, node, tmp_path, **overrides):
    config = dict(tripleo_config.DEFAULTS, daemon_url=daemon.url, token_file=daemon.token_file(node), node_name=node,
                  persist_dropin_dir=str(tmp_path / 'persist.d'), request_timeout=10.0)
    config.update(overrides)
    return config


def facts_for(node, corosync=None, service_names=(), units=(), database_nodes=()):
    return {'node_name': node,
            'identity': {'service_names': list(service_names), 'database_nodes': list(database_nodes),
                         'cluster_nodes': list(database_nodes)},
            'units': {'known': True, 'reason': None, 'units': [{'name': u} for u in units]},
            'packages': {'known': True, 'reason': None, 'pacemaker': '2.1.2-4.el8' if corosync else None,
                         'corosync': corosync, 'openstack_release': []}}


def by_key(findings):
    return dict((f.key, f) for f in findings)


@pytest.fixture
def controllers(helper_daemon):
    for name in ('controller-0', 'controller-1', 'controller-2'):
        helper_daemon.add_node(name, 'Controller', ceph_mon=True, one_by_one=True)
    return helper_daemon


def test_node_ready_for_upgrade_has_no_inhibitor(controllers, tmp_path):
    data = tmp_path / 'nova'
    data.mkdir()
    (data / 'state').write_bytes(b'x' * 3000)
    config = config_for(controllers, 'controller-1', tmp_path, persist_items={'nova-state': [str(data)]})
    findings = tripleo_checks.preupgrade_findings(config, facts_for('controller-1'), flag_dir=str(tmp_path / 'flags'))
    assert [f.key for f in findings if f.inhibitor] == []
    assert controllers.admin().get(controllers.url + '/v1/status').json()['leases'] == []  # a dry run only
    assert findings == []


def test_persist_set_larger_than_the_daemon_can_store_is_an_inhibitor(tmp_path):
    """The daemon's own disk reserve makes the room: a reserve of 1 PiB leaves none."""
    data = tmp_path / 'nova'
    data.mkdir()
    (data / 'state').write_bytes(b'x' * 3000)
    with DaemonProcess(str(tmp_path / 'state'), config={'disk_reserve_bytes': 2 ** 50}) as daemon:
        daemon.add_node('compute-0', 'Compute')
        config = config_for(daemon, 'compute-0', tmp_path, persist_items={'nova-state': [str(data)]})
        [finding] = tripleo_checks.daemon_findings(config, 'compute-0')
    assert finding.key == 'tripleo_upgrade.space.insufficient' and finding.inhibitor
    assert 'nova-state' in finding.summary and '4.0 KiB' in finding.summary  # 512 dir + 512 header + 3072 data


def test_lease_held_by_another_controller_is_an_inhibitor_with_the_daemon_reason(controllers, tmp_path):
    controllers.admin().post(controllers.url + '/v1/nodes/controller-0/lease').raise_for_status()
    findings = tripleo_checks.preupgrade_findings(config_for(controllers, 'controller-1', tmp_path), None,
                                                  flag_dir=str(tmp_path / 'flags'))
    refused = by_key(findings)['tripleo_upgrade.lease.refused']
    assert refused.inhibitor
    assert 'controller-0 of one-by-one role Controller already holds a lease' in refused.summary
    # The dry run took nothing: controller-0 still holds the only lease.
    fleet = controllers.admin().get(controllers.url + '/v1/status').json()
    assert [lease['node'] for lease in fleet['leases']] == ['controller-0']


def test_refused_token_is_an_inhibitor(controllers, tmp_path):
    token_file = tmp_path / 'wrong-token'
    token_file.write_text('w' * 43 + '\n')
    token_file.chmod(0o600)
    config = config_for(controllers, 'controller-1', tmp_path, token_file=str(token_file))
    [finding] = tripleo_checks.daemon_findings(config, 'controller-1')
    assert finding.key == 'tripleo_upgrade.daemon.token' and finding.inhibitor
    assert 'HTTP 401' in finding.summary and str(token_file) in finding.remediation


def test_token_of_another_node_is_an_inhibitor_naming_the_node(controllers, tmp_path):
    config = config_for(controllers, 'controller-2', tmp_path)
    [finding] = tripleo_checks.daemon_findings(config, 'controller-1')
    assert finding.key == 'tripleo_upgrade.daemon.node' and 'controller-1' in finding.remediation


def test_unreachable_daemon_is_an_inhibitor(controllers, tmp_path):
    config = config_for(controllers, 'controller-1', tmp_path)
    controllers.kill()
    client = HelperClient(controllers.url, 'x' * 43, timeout=5, retries=0)
    [finding] = tripleo_checks.daemon_findings(config, 'controller-1', client=client)
    assert finding.key == 'tripleo_upgrade.daemon.unreachable' and finding.inhibitor
    assert controllers.url in finding.summary and controllers.url in finding.remediation


def test_unreadable_token_file_is_an_inhibitor_not_a_crash(tmp_path):
    config = dict(tripleo_config.DEFAULTS, daemon_url='http://127.0.0.1:9', token_file=str(tmp_path / 'absent'))
    [finding] = tripleo_checks.daemon_findings(config, 'compute-0')
    assert finding.key == 'tripleo_upgrade.daemon.token_file'
    assert 'No such file or directory' in finding.summary


def test_token_file_readable_by_others_is_reported_by_the_config_check(tmp_path):
    token_file = tmp_path / 'node-token'
    token_file.write_text('t' * 43)
    token_file.chmod(0o644)
    _, findings = tripleo_config.load(str(tmp_path / 'actor_conf.d'), overrides={
        'daemon_url': 'http://127.0.0.1:9', 'token_file': str(token_file)})
    assert [f.key for f in findings] == ['tripleo_upgrade.config.token_file']
    assert 'chmod 0600' in findings[0].remediation


def test_untrusted_tls_is_an_inhibitor_and_the_right_ca_passes(tls_daemon, tmp_path, monkeypatch):
    monkeypatch.delenv('REQUESTS_CA_BUNDLE', raising=False)
    tls_daemon.add_node('compute-0', 'Compute')
    config = config_for(tls_daemon, 'compute-0', tmp_path)
    [finding] = tripleo_checks.daemon_findings(config, 'compute-0')
    assert finding.key == 'tripleo_upgrade.daemon.tls' and finding.inhibitor
    assert 'ca_file' in finding.remediation
    trusted = tripleo_checks.daemon_findings(dict(config, ca_file=tls_daemon.verify), 'compute-0')
    assert trusted == []


def test_transfer_flag_is_an_inhibitor_quoting_the_flag(tmp_path):
    flags = tmp_path / 'flags'
    flags.mkdir()
    (flags / 'var-lib-mysql').write_text('transfer 3 from controller-1, sealed 2026-11-24T10:00:00Z\n')
    finding = tripleo_checks._transfer_flag(str(flags / 'var-lib-mysql'))
    assert finding.inhibitor and finding.key == 'tripleo_upgrade.transfer_flag'
    assert 'transfer 3 from controller-1' in finding.summary
    assert tripleo_checks._transfer_flag(str(tmp_path / 'none')) is None


def test_space_inhibitor_when_the_persist_set_does_not_fit(tmp_path):
    data = tmp_path / 'mysql'
    data.mkdir()
    (data / 'ibdata1').write_bytes(b'\0' * 20000)
    dropins = tmp_path / 'persist.d'
    dropins.mkdir()
    (dropins / 'nova.json').write_text(json.dumps({'items': {'nova-state': [str(tmp_path / 'absent')]}}))
    config = dict(tripleo_config.DEFAULTS, persist_items={'mysql': [str(data)]}, persist_dropin_dir=str(dropins))
    finding = tripleo_checks.space_finding(config, 'controller-0', {'items': [], 'free_bytes': 10000})
    assert finding.inhibitor and finding.key == 'tripleo_upgrade.space.insufficient'
    assert 'mysql, nova-state' in finding.summary and 'absent paths: {}'.format(tmp_path / 'absent') in finding.summary
    assert tripleo_checks.space_finding(config, 'controller-0', {'items': [], 'free_bytes': 10 ** 9}) is None


def test_broken_dropin_is_reported_not_raised(tmp_path):
    dropins = tmp_path / 'persist.d'
    dropins.mkdir()
    (dropins / 'bad.json').write_text('{"items": ')
    config = dict(tripleo_config.DEFAULTS, persist_dropin_dir=str(dropins))
    finding = tripleo_checks.space_finding(config, 'controller-0', {'items': []})
    assert finding.key == 'tripleo_upgrade.persist.dropins' and str(dropins / 'bad.json') in finding.summary


def test_archive_estimate_counts_tar_headers_and_blocks(tmp_path):
    (tmp_path / 'd').mkdir()
    (tmp_path / 'd' / 'a').write_bytes(b'a' * 513)
    os.symlink('a', str(tmp_path / 'd' / 'link'))
    assert tripleo_archive.estimate_bytes([str(tmp_path / 'd')]) == (512 + 512 + 1024 + 512, [], [])


def test_informational_reports_for_a_controller_with_l3_agents():
    facts = facts_for('controller-0', corosync='3.1.5-2.el8', service_names=['neutron_l3', 'pacemaker'],
                      units=['tripleo_neutron_l3_agent.service'], database_nodes=['controller-0'])
    findings = by_key(f for f in [tripleo_checks._corosync_info(facts), tripleo_checks._l3_agent_info(facts),
                                  tripleo_checks._single_controller_info(facts)])
    assert sorted(findings) == ['tripleo_upgrade.info.corosync_non_rolling', 'tripleo_upgrade.info.l3_agent_sidecars',
                                'tripleo_upgrade.info.single_controller']
    assert not any(f.inhibitor for f in findings.values())
    assert 'Corosync 3.1.5-2.el8' in findings['tripleo_upgrade.info.corosync_non_rolling'].summary
    assert 'one controller at a time' in findings['tripleo_upgrade.info.corosync_non_rolling'].remediation
    assert 'tripleo_neutron_l3_agent.service' in findings['tripleo_upgrade.info.l3_agent_sidecars'].summary


def test_no_informational_reports_for_a_compute_of_a_three_controller_cloud():
    facts = facts_for('compute-0', database_nodes=['controller-0', 'controller-1', 'controller-2'])
    assert [tripleo_checks._corosync_info(facts), tripleo_checks._l3_agent_info(facts),
            tripleo_checks._single_controller_info(facts)] == [None, None, None]


def test_every_fact_a_probe_could_not_establish_is_listed_with_its_reason(tmp_path):
    facts = tripleo_facts.gather('controller-0', hieradata_dir=str(tmp_path / 'no-hieradata'),
                                 crm_mon_env={'CIB_file': str(tmp_path / 'no-cib.xml')},
                                 rpm_dbpath=str(tmp_path / 'no-rpmdb'),
                                 bus_address='unix:path=' + str(tmp_path / 'no-bus'),
                                 container_cli=str(tmp_path / 'no-podman'))
    unknown = dict(tripleo_checks.unknown_facts(facts))
    assert sorted(unknown) == ['Pacemaker membership', 'TripleO role and hieradata', 'TripleO systemd units',
                               'ceph-mon on this node', 'pacemaker, corosync and OpenStack release versions']
    assert all(reason for reason in unknown.values())
    assert str(tmp_path / 'no-podman') in unknown['ceph-mon on this node']
    finding = tripleo_checks._unknown_facts(facts)
    assert (finding.key, finding.severity, finding.inhibitor) == ('tripleo_upgrade.facts.unknown', 'low', False)


# --- Ceph OSD nodes, accepted inhibitors, stable report keys ---------------------------------------------------------

def test_osd_node_without_ceph_command_is_an_inhibitor_and_a_working_one_passes(helper_daemon, systemd_bus, tmp_path,
                                                                                ceph_cluster):
    systemd_bus.load([systemd_bus.unit('ceph-osd@2.service'), systemd_bus.unit('tripleo_nova_compute.service')])
    config = dict(tripleo_config.DEFAULTS, node_name='hci-0')
    [finding] = tripleo_checks.ceph_osd_findings(config, 'hci-0', systemd_bus.address)
    assert (finding.key, finding.inhibitor) == ('tripleo_upgrade.ceph.osd_command', True)
    assert 'ceph-osd@2.service' in finding.summary and 'ceph_command' in finding.remediation

    config['ceph_command'] = ceph_cluster.command
    assert tripleo_checks.ceph_osd_findings(config, 'hci-0', systemd_bus.address) == []
    ceph_cluster.update(down=True)
    [finding] = tripleo_checks.ceph_osd_findings(config, 'hci-0', systemd_bus.address)
    assert (finding.key, finding.inhibitor) == ('tripleo_upgrade.ceph.unreachable', True)
    assert 'RADOS timed out' in finding.summary

    systemd_bus.load([systemd_bus.unit('tripleo_nova_compute.service')])
    assert tripleo_checks.ceph_osd_findings(dict(config, ceph_command=[]), 'hci-0', systemd_bus.address) == []


def _accept(daemon, key, scope, target, reason):
    response = daemon.admin().post(daemon.url + '/v1/inhibitors/accepted',
                                   json={'key': key, 'scope': scope, 'target': target, 'reason': reason})
    assert response.status_code in (200, 201), response.text


def test_an_accepted_inhibitor_becomes_a_report_saying_who_accepted_it_and_why(controllers, tmp_path):
    flags = tmp_path / 'flags'
    flags.mkdir()
    (flags / 'var-lib-mysql').write_text('transfer 3 from controller-1, sealed\n')
    config = config_for(controllers, 'controller-1', tmp_path)
    findings = by_key(tripleo_checks.preupgrade_findings(config, None, flag_dir=str(flags)))
    assert findings['tripleo_upgrade.transfer_flag'].inhibitor

    _accept(controllers, 'tripleo_upgrade.transfer_flag', 'node', 'controller-1',
            'controller-1 is rebuilt from scratch, its database is not used')
    findings = by_key(tripleo_checks.preupgrade_findings(config, None, flag_dir=str(flags)))
    accepted = findings['tripleo_upgrade.transfer_flag']
    assert not accepted.inhibitor
    assert accepted.title.startswith('Accepted inhibitor: A database transfer already happened')
    assert 'was accepted for this node by admin at ' in accepted.summary
    assert accepted.summary.endswith(': controller-1 is rebuilt from scratch, its database is not used')
    assert 'tripleo-upgrade-helper inhibitors revoke' in accepted.remediation
    # Accepted for controller-1 only: controller-2 still has it as an inhibitor.
    other = by_key(tripleo_checks.preupgrade_findings(config_for(controllers, 'controller-2', tmp_path), None,
                                                      flag_dir=str(flags)))
    assert other['tripleo_upgrade.transfer_flag'].inhibitor


def test_a_role_wide_acceptance_applies_but_never_to_the_lease(controllers, tmp_path):
    controllers.admin().post(controllers.url + '/v1/nodes/controller-0/lease').raise_for_status()
    _accept(controllers, 'tripleo_upgrade.lease.refused', 'role', 'Controller', 'we know')
    flags = tmp_path / 'flags'
    flags.mkdir()
    (flags / 'var-lib-mysql').write_text('sealed\n')
    _accept(controllers, 'tripleo_upgrade.transfer_flag', 'role', 'Controller', 'role rebuilt')
    findings = by_key(tripleo_checks.preupgrade_findings(config_for(controllers, 'controller-1', tmp_path), None,
                                                         flag_dir=str(flags)))
    assert findings['tripleo_upgrade.lease.refused'].inhibitor
    assert not findings['tripleo_upgrade.transfer_flag'].inhibitor
    assert 'accepted for its role Controller by admin' in findings['tripleo_upgrade.transfer_flag'].summary


def test_an_unreachable_daemon_stays_one_inhibitor_without_asking_for_acceptances(controllers, tmp_path):
    flags = tmp_path / 'flags'
    flags.mkdir()
    (flags / 'var-lib-mysql').write_text('sealed\n')
    config = config_for(controllers, 'controller-1', tmp_path, request_timeout=5.0)
    controllers.kill()
    client = HelperClient(controllers.url, controllers.tokens['controller-1'], timeout=5, retries=0)
    findings = by_key(tripleo_checks.preupgrade_findings(config, None, client=client, flag_dir=str(flags)))
    assert findings['tripleo_upgrade.daemon.unreachable'].inhibitor
    assert findings['tripleo_upgrade.transfer_flag'].inhibitor
    assert 'tripleo_upgrade.inhibitors.acceptances_unknown' not in findings


def _text(node):
    """The string of a literal node on every Python (3.6 parses it as ast.Str, 3.8+ as ast.Constant)."""
    value = getattr(node, 'value', getattr(node, 's', None))
    return value if type(node).__name__ in ('Str', 'Constant') and isinstance(value, str) else None


def test_report_keys_are_fixed_strings_so_an_acceptance_keeps_matching():
    """Every Finding the node side creates has a literal key (or the config key's name): never a value that varies."""
    import ast
    import glob
    root = os.path.dirname(os.path.dirname(os.path.abspath(tripleo_checks.__file__)))
    keys, varying = [], []
    for path in glob.glob(os.path.join(root, 'libraries', '*.py')) + glob.glob(
            os.path.join(root, 'actors', '*', 'libraries', '*.py')):
        with open(path) as f:
            tree = ast.parse(f.read())
        for call in ast.walk(tree):
            if not (isinstance(call, ast.Call) and getattr(call.func, 'id', getattr(call.func, 'attr', None)) ==
                    'Finding'):
                continue
            for keyword in call.keywords:
                if keyword.arg != 'key':
                    continue
                value = keyword.value
                if _text(value):
                    keys.append(_text(value))
                elif (isinstance(value, ast.Call) and getattr(value.func, 'attr', None) == 'format'
                      and _text(value.func.value) in ('tripleo_upgrade.config.{}', 'tripleo_upgrade.packages.{}')):
                    # the name of a configuration key (tripleo_config.KEYS), a fixed set
                    keys.append(_text(value.func.value).format('<configuration key>'))
                else:
                    varying.append('{}:{}'.format(os.path.basename(path), call.lineno))
    assert varying == []
    assert 'tripleo_upgrade.transfer_flag' in keys and 'tripleo_upgrade.ceph.osd_command' in keys
    assert all(k.startswith('tripleo_upgrade.') for k in keys)


def test_the_dry_run_carries_the_quorum_this_node_sees(controllers, tmp_path, ceph_cluster):
    ceph_cluster.set_quorum(['controller-1', 'controller-2'])
    config = config_for(controllers, 'controller-2', tmp_path, ceph_command=ceph_cluster.command)
    findings = by_key(tripleo_checks.preupgrade_findings(config, None, flag_dir=str(tmp_path / 'flags')))
    refused = findings['tripleo_upgrade.lease.refused']
    assert refused.inhibitor and 'controller-0: out of quorum per controller-2 at ' in refused.summary


def test_a_refusal_only_for_the_last_reports_inhibitors_does_not_inhibit_again(controllers, tmp_path):
    client = HelperClient(controllers.url, controllers.tokens['controller-1'], timeout=10)
    inhibitor = {'key': 'tripleo_upgrade.transfer_flag', 'title': 'A database transfer already happened on this node',
                 'summary': 'flag', 'severity': 'high', 'groups': ['inhibitor']}
    tripleo_status_report.send_preupgrade(client, 'controller-1', tripleo_status_report.status_entries([inhibitor]))
    # The flag is gone now: this run has no inhibitor of its own, the daemon still holds the last report's.
    findings = by_key(tripleo_checks.preupgrade_findings(config_for(controllers, 'controller-1', tmp_path), None,
                                                         flag_dir=str(tmp_path / 'flags')))
    assert [f.key for f in findings.values() if f.inhibitor] == []
    previous = findings['tripleo_upgrade.lease.previous_inhibitors']
    assert 'tripleo_upgrade.transfer_flag' in previous.summary and 'replaces the previous one' in previous.summary
