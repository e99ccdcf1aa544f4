"""GET /v1/status is served from an answer kept while nothing changed (routers/fleet.py): every kind of write,
through the API or the CLI (another process), must show up in the very next GET."""

import subprocess

import pytest


@pytest.fixture
def cloud(helper_daemon):
    """Two controllers on the old OS, one on the new OS, a compute; the status was read once (so it is kept)."""
    daemon = helper_daemon
    daemon.sessions = {name: daemon.session(daemon.add_node(name, role, ceph_mon=mon)) for name, role, mon in (
        ('controller-0', 'Controller', True), ('controller-1', 'Controller', True),
        ('controller-2', 'Controller', True), ('compute-0', 'Compute', False))}
    for name, release in (('controller-0', '8.4'), ('controller-1', '8.4'), ('controller-2', '9.2')):
        assert daemon.sessions[name].put(daemon.url + '/v1/nodes/{}/status'.format(name), json={
            'phase': 'preupgrade', 'os_release': release}).status_code == 200
    status(daemon)
    return daemon


def status(daemon):
    answer = daemon.admin().get(daemon.url + '/v1/status')
    assert answer.status_code == 200, answer.text
    return answer.json()


def node(daemon, name):
    return next(n for n in status(daemon)['nodes'] if n['name'] == name)


def test_the_answer_is_the_same_between_writes_with_a_fresh_time(cloud):
    first, second = status(cloud), status(cloud)
    assert first['generated_at'] < second['generated_at']
    assert dict(first, generated_at=None) == dict(second, generated_at=None)


def test_a_status_report_shows_at_once_with_its_inhibitors(cloud):
    assert node(cloud, 'compute-0')['phase'] is None
    answer = cloud.sessions['compute-0'].put(cloud.url + '/v1/nodes/compute-0/status', json={
        'phase': 'prepared', 'os_release': '8.4', 'reports': [
            {'key': 'k1', 'title': 'ceph quorum', 'inhibitor': True, 'remediation': 'start ceph-mon'}]})
    assert answer.status_code == 200
    shown = node(cloud, 'compute-0')
    assert (shown['phase'], shown['inhibitors']) == ('prepared', [
        {'key': 'k1', 'title': 'ceph quorum', 'remediation': 'start ceph-mon', 'accepted': False,
         'accepted_by': None}])
    # The next report replaces the inhibitors, even within the same second.
    assert cloud.sessions['compute-0'].put(cloud.url + '/v1/nodes/compute-0/status', json={
        'phase': 'prepared', 'os_release': '8.4'}).status_code == 200
    assert node(cloud, 'compute-0')['inhibitors'] == []


def test_leases_granted_and_released_show_at_once(cloud):
    lease = cloud.url + '/v1/nodes/controller-0/lease'
    assert cloud.sessions['controller-0'].post(lease).status_code == 200
    assert node(cloud, 'controller-0')['lease'] is not None
    assert status(cloud)['ceph_mon']['leased'] == ['controller-0']
    assert cloud.sessions['controller-0'].delete(lease).status_code == 204
    assert node(cloud, 'controller-0')['lease'] is None
    assert cloud.sessions['controller-0'].post(lease).status_code == 200
    assert cloud.admin().post(lease + '/release', json={'reason': 'the node died'}).status_code == 200
    assert status(cloud)['leases'] == []


def test_nodes_registered_by_the_api_or_the_cli_show_at_once(cloud):
    cloud.add_node('networker-0', 'Networker')
    assert node(cloud, 'networker-0')['role'] == 'Networker'
    added = subprocess.run(cloud.command('nodes', 'add', 'networker-1', '--role', 'Networker', '--no-one-by-one'),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert added.returncode == 0, added.stderr
    assert node(cloud, 'networker-1')['role'] == 'Networker'
    moved = subprocess.run(cloud.command('nodes', 'add', 'networker-1', '--role', 'Compute', '--no-one-by-one'),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert moved.returncode == 0, moved.stderr
    assert node(cloud, 'networker-1')['role'] == 'Compute'


def test_services_reports_show_at_once(cloud):
    assert cloud.sessions['controller-0'].put(cloud.url + '/v1/nodes/controller-0/services', json={
        'state': 'down', 'detail': 'stopped 40 containers'}).status_code == 200
    assert node(cloud, 'controller-0')['services']['state'] == 'down'


def test_transfers_opened_and_sealed_show_at_once(cloud):
    opened = cloud.admin().post(cloud.url + '/v1/transfers', json={'role': 'Controller', 'items': ['mysql']})
    assert opened.status_code == 201, opened.text
    assert [(t['id'], t['state']) for t in status(cloud)['transfers']] == [(opened.json()['id'], 'open')]
    sealed = cloud.sessions['controller-2'].post(cloud.url + '/v1/transfers/{}/complete'.format(opened.json()['id']))
    assert sealed.status_code == 200, sealed.text
    assert [t['state'] for t in status(cloud)['transfers']] == ['sealed']


def test_stored_items_put_deleted_and_cleaned_up_show_at_once(cloud):
    data = cloud.url + '/v1/nodes/compute-0/data/'
    assert cloud.sessions['compute-0'].put(data + 'etc', data=b'x' * 1000).status_code == 201
    assert [(i['item'], i['size']) for i in node(cloud, 'compute-0')['items']] == [('etc', 1000)]
    assert cloud.sessions['compute-0'].put(data + 'etc', data=b'x' * 2000).status_code == 201
    assert node(cloud, 'compute-0')['stored_bytes'] == 2000
    assert cloud.sessions['compute-0'].delete(data + 'etc').status_code == 204
    assert node(cloud, 'compute-0')['items'] == []
    assert cloud.sessions['compute-0'].put(data + 'mysql', data=b'y' * 10).status_code == 201
    assert node(cloud, 'compute-0')['stored_bytes'] == 10
    cleaned = cloud.admin().post(cloud.url + '/v1/cleanup', json={'force': True, 'reason': 'test'})
    assert cleaned.status_code == 200, cleaned.text
    assert node(cloud, 'compute-0')['items'] == []
