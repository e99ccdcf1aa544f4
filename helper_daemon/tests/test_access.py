"""Who may do what: every node token against every other node's resources and the admin endpoints."""

import itertools
import json
import os
import sqlite3

import pytest
import requests

NODES = {'ctl-0': 'Controller', 'ctl-1': 'Controller', 'cmp-0': 'Compute'}


@pytest.fixture(scope='module')
def daemon(tmp_path_factory):
    from testing.daemon import DaemonProcess

    process = DaemonProcess(tmp_path_factory.mktemp('access') / 'state').start()
    for name, role in NODES.items():
        process.add_node(name, role)
    for name, token in process.tokens.items():
        assert process.session(token).put(process.url + '/v1/nodes/{}/data/etc'.format(name),
                                          data=name.encode()).status_code == 201
    yield process
    process.kill()


NODE_REQUESTS = [
    ('PUT', '/v1/nodes/{node}/data/{item}', {'data': b'overwrite attempt'}),
    ('GET', '/v1/nodes/{node}/data/{item}', {}),
    ('HEAD', '/v1/nodes/{node}/data/{item}', {}),
    ('DELETE', '/v1/nodes/{node}/data/{item}', {}),
    ('GET', '/v1/nodes/{node}/data', {}),
    ('PUT', '/v1/nodes/{node}/status', {'json': {'phase': 'failed', 'error': 'forged'}}),
    ('GET', '/v1/nodes/{node}/status', {}),
    ('POST', '/v1/nodes/{node}/lease', {}),
    ('DELETE', '/v1/nodes/{node}/lease', {}),
    ('GET', '/v1/nodes/{node}/transfers', {}),
    ('PUT', '/v1/nodes/{node}/services', {'json': {'state': 'down', 'detail': 'forged'}}),
    ('GET', '/v1/nodes/{node}/accepted-inhibitors', {}),
    ('PUT', '/v1/nodes/{node}/ceph-osd-flags', {'json': {'flags': ['noout']}}),
    ('DELETE', '/v1/nodes/{node}/ceph-osd-flags', {}),
    ('POST', '/v1/nodes/{node}/ceph-osd-flags/cleared', {'json': {'flags': ['noout']}}),
]

ADMIN_REQUESTS = [
    ('GET', '/v1/nodes', {}),
    ('POST', '/v1/nodes', {'json': {'name': 'intruder', 'role': 'Controller'}}),
    ('POST', '/v1/cleanup', {'json': {'force': True}}),
    ('GET', '/v1/status', {}),
    ('GET', '/v1/status/version', {}),
    ('GET', '/v1/transfer/plan', {'params': {'role': 'Controller'}}),
    ('POST', '/v1/transfers', {'json': {'role': 'Controller', 'source': 'ctl-0', 'target': 'ctl-1',
                                        'items': ['etc']}}),
    ('POST', '/v1/nodes/{node}/lease/release', {'json': {'reason': 'forged'}}),
    ('POST', '/v1/leases/check', {'json': {'nodes': ['ctl-0']}}),
    ('POST', '/v1/inhibitors/accepted', {'json': {'key': 'k', 'scope': 'fleet', 'reason': 'forged'}}),
    ('GET', '/v1/inhibitors/accepted', {}),
    ('DELETE', '/v1/inhibitors/accepted/{acceptance_id}', {}),
    ('GET', '/v1/fleet/pause', {}),
    ('POST', '/v1/fleet/pause', {'json': {'reason': 'forged'}}),
    ('POST', '/v1/fleet/resume', {'json': {'reason': 'forged'}}),
    ('POST', '/v1/ceph-osd-flags/forget', {'json': {'flags': ['noout'], 'reason': 'forged'}}),
    ('PUT', '/v1/roles/{role}/budget', {'json': {'budget': 1}}),
    ('PUT', '/v1/roles/{role}/keep-old-os', {'json': {'reason': 'forged'}}),
    ('DELETE', '/v1/roles/{role}/keep-old-os', {}),
]


# Authenticated operations whose caller rule depends on more than the token: tested in test_transfers.py.
OTHER_AUTHENTICATED = {('POST', '/v1/transfers/{transfer_id}/complete')}


def matrix_gaps(paths, matrix):
    """(operations of the matrix that the document lacks, authenticated operations the matrix lacks)."""
    documented = {(method.upper(), path) for path, operations in paths.items()
                  for method, operation in operations.items() if operation.get('security')}
    listed = {(method, path) for method, path, _ in matrix}
    return sorted(listed - documented), sorted(documented - listed - OTHER_AUTHENTICATED)


def test_the_matrix_covers_every_authenticated_operation_of_the_daemon(daemon):
    paths = requests.get(daemon.url + '/openapi.json').json()['paths']
    assert matrix_gaps(paths, NODE_REQUESTS + ADMIN_REQUESTS) == ([], [])


def test_a_route_renamed_away_from_the_matrix_fails_it(daemon):
    paths = requests.get(daemon.url + '/openapi.json').json()['paths']
    paths['/v1/nodes/{node}/leases'] = paths.pop('/v1/nodes/{node}/lease')
    missing, unlisted = matrix_gaps(paths, NODE_REQUESTS + ADMIN_REQUESTS)
    assert missing == [('DELETE', '/v1/nodes/{node}/lease'), ('POST', '/v1/nodes/{node}/lease')]
    assert unlisted == [('DELETE', '/v1/nodes/{node}/leases'), ('POST', '/v1/nodes/{node}/leases')]


def node_requests(node):
    return [(m, p.format(node=node, item='etc'), kw) for m, p, kw in NODE_REQUESTS]


def admin_requests(node='cmp-0'):
    """The admin operations; those about a node ask about `node` (a node asking about itself is refused too)."""
    return [(m, p.format(node=node, acceptance_id=1, role='Compute'), kw) for m, p, kw in ADMIN_REQUESTS]


@pytest.mark.parametrize('caller, target', list(itertools.permutations(sorted(NODES), 2)))
def test_a_node_token_reaches_no_other_node(daemon, caller, target):
    session = daemon.session(daemon.tokens[caller])
    for method, path, kwargs in node_requests(target):
        response = session.request(method, daemon.url + path, **kwargs)
        assert response.status_code == 403, (method, path, response.status_code, response.text)
        if method != 'HEAD':
            assert response.json()['error'] == 'forbidden'
    assert daemon.session(daemon.tokens[target]).get(daemon.url + '/v1/nodes/{}/data/etc'.format(target)).content \
        == target.encode()


@pytest.mark.parametrize('caller', sorted(NODES))
def test_a_node_token_reaches_no_admin_endpoint(daemon, caller):
    session = daemon.session(daemon.tokens[caller])
    for method, path, kwargs in admin_requests(caller):
        response = session.request(method, daemon.url + path, **kwargs)
        assert response.status_code == 403, (method, path, response.text)
    assert 'intruder' not in [n['name'] for n in daemon.admin().get(daemon.url + '/v1/nodes').json()['nodes']]
    assert daemon.admin().get(daemon.url + '/v1/nodes/ctl-0/data/etc').content == b'ctl-0'


def test_a_node_token_reaches_its_own_resources(daemon):
    session = daemon.session(daemon.tokens['cmp-0'])
    assert session.get(daemon.url + '/v1/nodes/cmp-0/data').status_code == 200
    assert session.put(daemon.url + '/v1/nodes/cmp-0/status', json={'phase': 'preupgrade'}).status_code == 200


@pytest.mark.parametrize('token', [None, '', 'not-a-token', 'Bearer'])
def test_no_or_wrong_token_is_401_everywhere(daemon, token):
    session = requests.Session()
    session.trust_env = False
    if token is not None:
        session.headers['Authorization'] = 'Bearer ' + token
    for method, path, kwargs in node_requests('ctl-0') + admin_requests():
        response = session.request(method, daemon.url + path, **kwargs)
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers['WWW-Authenticate'] == 'Bearer'
    assert daemon.session(daemon.tokens['ctl-0']).get(daemon.url + '/v1/nodes/ctl-0/data/etc').content == b'ctl-0'


def test_admin_reaches_every_node(daemon):
    admin = daemon.admin()
    for node in NODES:
        assert admin.get(daemon.url + '/v1/nodes/{}/data/etc'.format(node)).content == node.encode()
        assert admin.get(daemon.url + '/v1/nodes/{}/data'.format(node)).status_code == 200


def _set_transfer(daemon, state, items=('etc',)):
    db = sqlite3.connect(os.path.join(daemon.state_dir, 'helper.sqlite3'))
    with db:
        db.execute('DELETE FROM transfers')
        if state:
            db.execute("INSERT INTO transfers (id, role, source, target, items_json, state, created_at) "
                       "VALUES ('t1', 'Controller', 'ctl-0', 'ctl-1', ?, ?, '2026-01-01T00:00:00Z')",
                       (json.dumps(list(items)), state))
    db.close()


def test_an_open_transfer_lets_its_target_read_the_listed_items_only(daemon):
    url = daemon.url + '/v1/nodes/ctl-0/data/'
    target, bystander = daemon.session(daemon.tokens['ctl-1']), daemon.session(daemon.tokens['cmp-0'])
    daemon.admin().put(url + 'other', data=b'not granted')
    try:
        _set_transfer(daemon, 'open')
        assert target.get(url + 'etc').content == b'ctl-0'
        db = sqlite3.connect(os.path.join(daemon.state_dir, 'helper.sqlite3'))
        audited = db.execute("SELECT actor, action, node, item, detail FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        db.close()
        assert audited == ('node:ctl-1', 'get', 'ctl-0', 'etc', 'read granted by open transfer t1')
        assert target.head(url + 'etc').status_code == 200
        assert target.get(url + 'other').status_code == 403
        for method in ('PUT', 'DELETE'):
            assert target.request(method, url + 'etc', data=b'x').status_code == 403
        assert target.get(daemon.url + '/v1/nodes/ctl-0/data').status_code == 403
        assert bystander.get(url + 'etc').status_code == 403
        _set_transfer(daemon, 'sealed')
        assert target.get(url + 'etc').status_code == 403
    finally:
        _set_transfer(daemon, None)
        daemon.admin().delete(url + 'other')
