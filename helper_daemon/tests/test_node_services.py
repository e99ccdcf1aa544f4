"""Node services down/up (the transfer step), the push that waits for it, and the admin's lease release."""

import os
import sqlite3

import pytest

from helper_daemon.tests.test_transfers import Fleet

DUMP = b'a stopped datadir, archived\n' * 100


@pytest.fixture
def fleet(helper_daemon):
    fleet = Fleet(helper_daemon)
    fleet.report('controller-0', 'prepared', '8.4')
    fleet.report('controller-1', 'upgraded', '9.2')
    fleet.report('controller-2', 'preupgrade', '8.4')
    return fleet


def services(fleet, node, state, detail='pcs resource disable galera-bundle'):
    return fleet.nodes[node].put(fleet.url('/v1/nodes/{}/services'.format(node)),
                                 json={'state': state, 'detail': detail})


def push(fleet, node='controller-0'):
    return fleet.nodes[node].put(fleet.url('/v1/nodes/{}/data/mysql'.format(node)), data=DUMP)


def fleet_node(fleet, node):
    return next(n for n in fleet.admin.get(fleet.url('/v1/status')).json()['nodes'] if n['name'] == node)


def test_the_source_push_waits_until_it_reported_its_services_down(fleet):
    assert fleet.open(source='controller-0').status_code == 201
    refused = push(fleet)
    assert refused.status_code == 409
    assert refused.json()['error'] == 'source services not down'
    assert 'its services were never reported down' in refused.json()['detail']
    assert 'tripleo-upgrade-stop-services' in refused.json()['detail']
    assert fleet.admin.head(fleet.url('/v1/nodes/controller-0/data/mysql')).status_code == 404

    assert services(fleet, 'controller-0', 'down').status_code == 200
    assert push(fleet).status_code == 201

    # Started again (transfer abandoned): a new push is refused again, naming when they came up.
    services(fleet, 'controller-0', 'up', 'started again')
    again = push(fleet)
    assert again.status_code == 409 and 'its services were reported up at' in again.json()['detail']


def test_without_an_open_transfer_the_node_stores_its_items_as_always(fleet):
    assert push(fleet).status_code == 201  # prepare's persist does not depend on the services state


def test_status_and_plan_show_what_the_node_reported(fleet):
    assert fleet_node(fleet, 'controller-0')['services'] is None
    answer = services(fleet, 'controller-0', 'down', 'galera-bundle stopped; tripleo_nova_api stopped')
    assert answer.json()['state'] == 'down'
    shown = fleet_node(fleet, 'controller-0')['services']
    assert shown['state'] == 'down' and shown['detail'] == 'galera-bundle stopped; tripleo_nova_api stopped'
    plan = fleet.plans('Controller')['Controller']
    assert plan['source'] == 'controller-0' and plan['source_services']['state'] == 'down'


def test_a_bad_services_report_is_a_400_naming_the_field(fleet):
    answer = fleet.nodes['controller-0'].put(fleet.url('/v1/nodes/controller-0/services'), json={'state': 'off'})
    assert answer.status_code == 400 and 'state' in answer.json()['detail']


def test_the_admin_releases_a_dead_nodes_lease_with_a_reason_kept_in_the_audit(fleet):
    assert fleet.nodes['controller-0'].post(fleet.url('/v1/nodes/controller-0/lease')).status_code == 200
    blocked = fleet.nodes['controller-2'].post(fleet.url('/v1/nodes/controller-2/lease'))
    assert blocked.status_code == 409

    no_reason = fleet.admin.post(fleet.url('/v1/nodes/controller-0/lease/release'), json={'reason': '  '})
    assert no_reason.status_code == 400
    released = fleet.admin.post(fleet.url('/v1/nodes/controller-0/lease/release'),
                                json={'reason': 'controller-0 lost its disk during the upgrade'})
    assert released.status_code == 200
    assert released.json()['released'] is True and released.json()['since']
    assert fleet.nodes['controller-2'].post(fleet.url('/v1/nodes/controller-2/lease')).status_code == 200
    db = sqlite3.connect(os.path.join(fleet.daemon.state_dir, 'helper.sqlite3'))
    audited = db.execute("SELECT actor, detail FROM audit WHERE action = 'lease-release-admin'").fetchall()
    db.close()
    assert audited[0][0] == 'admin' and audited[0][1].endswith('controller-0 lost its disk during the upgrade')

    again = fleet.admin.post(fleet.url('/v1/nodes/controller-0/lease/release'), json={'reason': 'again'})
    assert again.status_code == 200 and again.json()['released'] is False
    unknown = fleet.admin.post(fleet.url('/v1/nodes/nobody/lease/release'), json={'reason': 'x'})
    assert unknown.status_code == 404
