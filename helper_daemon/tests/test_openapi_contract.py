"""The daemon is what its /openapi.json says: fuzzed by schemathesis (every phase, fixed seed) with an admin and
a node token, and the contract details a generated client relies on."""

import json
import os
import re
import subprocess
import sys

import pytest
import requests

from helper_daemon.tests.helpers import files_under, raw_request

# Per schemathesis pass: test cases per operation. 3 passes of about 900 cases each run in about 35 s on 2 cores.
EXAMPLES_PER_OPERATION = 20
SEED = 20261126
NODE_SCOPED_PATHS = r'^/v1/(nodes/\{node\}/|transfers/)'


@pytest.fixture(scope='module')
def daemon(tmp_path_factory):
    """A Controller role mid-upgrade: ctl-1 on the new OS, transfer 1 open from ctl-0 to it, ctl-0's data stored."""
    process = fleet_daemon(tmp_path_factory.mktemp('contract'))
    yield process
    process.kill()


@pytest.fixture
def fresh_daemon(tmp_path_factory):
    """The same, for one schemathesis pass: what a pass changes (nodes it registers, a cleanup) is not the next one's
    starting point."""
    process = fleet_daemon(tmp_path_factory.mktemp('fuzzed'))
    yield process
    process.kill()


def fleet_daemon(directory):
    from testing.daemon import DaemonProcess

    # Generated uploads stay small: the item limit bounds what a fuzzed PUT may store.
    process = DaemonProcess(directory / 'state', config={'max_item_bytes': 64 * 1024}).start()
    fleet = (('ctl-0', 'Controller', '8.4'), ('ctl-1', 'Controller', '9.2'), ('ctl-2', 'Controller', '8.4'),
             ('cmp-0', 'Compute', '8.4'), ('cmp-1', 'Compute', None))
    for name, role, release in fleet:
        session = process.session(process.add_node(name, role, ceph_mon=role == 'Controller'))
        if release:
            assert session.put(process.url + '/v1/nodes/{}/status'.format(name),
                               json={'phase': 'preupgrade', 'os_release': release}).status_code == 200
    assert process.session(process.tokens['ctl-0']).put(process.url + '/v1/nodes/ctl-0/data/mysql',
                                                         data=b'dump').status_code == 201
    opened = process.admin().post(process.url + '/v1/transfers', json={'role': 'Controller', 'items': ['mysql']})
    assert opened.status_code == 201 and opened.json()['id'] == '1', opened.text
    accepted = process.admin().post(process.url + '/v1/inhibitors/accepted', json={
        'key': 'k', 'scope': 'fleet', 'reason': 'for the contract test'})
    assert accepted.status_code == 201 and accepted.json()['id'] == 1, accepted.text
    return process


def schemathesis(daemon, tmp_path, token, parameters, *args, expected_warnings=()):
    """Run schemathesis over the daemon's own document; (exit code, its report). Its warnings fail the run too
    (an operation that only ever answered 401 was not tested), except `expected_warnings`."""
    config = tmp_path / 'schemathesis.toml'
    if expected_warnings:
        from schemathesis.config import WarningsConfig

        fail_on = [w.value for w in WarningsConfig.from_value(True).display if w.value not in expected_warnings]
        lines = ['[warnings]', 'fail-on = [{}]'.format(', '.join('"{}"'.format(w) for w in fail_on))]
    else:
        lines = ['[warnings]', 'fail-on = true']
    lines += ['', '[parameters]']
    lines += ['"{}" = "{}"'.format(key, value) for key, value in parameters.items()]
    config.write_text('\n'.join(lines) + '\n')
    command = [sys.executable, '-m', 'schemathesis.cli', '--config-file', str(config), '--no-color', 'run',
               daemon.url + '/openapi.json', '--header', 'Authorization: Bearer ' + token,
               '--phases', 'examples,coverage,fuzzing,stateful', '--checks', 'all',
               '--max-examples', str(EXAMPLES_PER_OPERATION), '--seed', str(SEED), '--workers', '1',
               '--generation-database', 'none', '--request-timeout', '30',
               # how fast hypothesis generates on a busy machine is no finding about the daemon
               '--suppress-health-check', 'too_slow'] + list(args)
    done = subprocess.run(command, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=300, env=dict(os.environ, NO_COLOR='1'))
    return done.returncode, done.stdout


def generated_cases(report):
    """How many test cases the run generated (a run that tested nothing must not pass)."""
    found = re.search(r'(\d+) generated', report)
    return int(found.group(1)) if found else 0


def test_a_node_token_meets_the_contract_on_its_own_resources(fresh_daemon, tmp_path):
    code, report = schemathesis(fresh_daemon, tmp_path, fresh_daemon.tokens['ctl-1'],
                                {'path.node': 'ctl-1', 'path.transfer_id': '1'},
                                '--include-path-regex', NODE_SCOPED_PATHS,
                                # admin-only, under the node's path: a node token only ever gets its 403
                                '--exclude-operation-id', 'admin_release_lease')
    assert code == 0, report[-6000:]
    assert generated_cases(report) >= 300, report[-3000:]


def test_the_admin_token_meets_the_contract_everywhere(fresh_daemon, tmp_path):
    code, report = schemathesis(fresh_daemon, tmp_path, fresh_daemon.admin_token,
                                {'path.node': 'ctl-0', 'path.transfer_id': '1', 'path.role': 'Compute'})
    assert code == 0, report[-6000:]
    assert generated_cases(report) >= 300, report[-3000:]


def test_the_admin_token_meets_the_contract_for_any_node_name(fresh_daemon, tmp_path):
    """Generated names, valid or not, mostly unregistered (400, 404). Registering nodes is left out: a registered
    "0" would hide what every other generated name gets."""
    code, report = schemathesis(fresh_daemon, tmp_path, fresh_daemon.admin_token,
                                {'path.transfer_id': '1', 'path.role': 'Compute'},
                                '--exclude-operation-id', 'add_node', expected_warnings=('missing_test_data',))
    assert code == 0, report[-6000:]
    assert generated_cases(report) >= 300, report[-3000:]


# -- what a client generated from the document relies on ------------------------------------------------------------


@pytest.fixture(scope='module')
def document(daemon):
    return requests.get(daemon.url + '/openapi.json').json()


def test_every_operation_documents_its_errors_as_the_json_error_body_and_no_422(document):
    error_schemas = {'#/components/schemas/ErrorBody', '#/components/schemas/Refusal'}
    for path, operations in document['paths'].items():
        for method, operation in operations.items():
            responses = operation['responses']
            assert '422' not in responses, (method, path)
            errors = {code: r for code, r in responses.items() if code >= '400'}
            for code, response in errors.items():
                assert code in ('400', '401', '403', '404', '409', '413', '500', '503', '507'), (method, path)
                assert response['content']['application/json']['schema']['$ref'] in error_schemas, (method, path)
            if operation.get('security'):
                assert '401' in errors, (method, path)
            if any(p['in'] == 'path' for p in operation.get('parameters', [])) or 'requestBody' in operation:
                assert '400' in errors, (method, path)
    assert 'HTTPValidationError' not in document['components']['schemas']


def test_every_request_body_states_its_limit(document):
    limits = {(method, path): operation['requestBody']['x-max-bytes'] for path, operations in document['paths'].items()
              for method, operation in operations.items() if 'requestBody' in operation}
    assert limits == {('post', '/v1/nodes'): 64 * 1024, ('post', '/v1/transfers'): 64 * 1024,
                      ('post', '/v1/cleanup'): 64 * 1024, ('put', '/v1/nodes/{node}/status'): 4 * 1024 * 1024,
                      ('put', '/v1/nodes/{node}/services'): 64 * 1024,
                      ('post', '/v1/nodes/{node}/lease/release'): 64 * 1024,
                      ('put', '/v1/nodes/{node}/data/{item}'): 64 * 1024,  # this daemon's max_item_bytes
                      ('post', '/v1/nodes/{node}/lease'): 64 * 1024, ('post', '/v1/leases/check'): 64 * 1024,
                      ('post', '/v1/inhibitors/accepted'): 64 * 1024, ('post', '/v1/fleet/pause'): 64 * 1024,
                      ('post', '/v1/fleet/resume'): 64 * 1024, ('put', '/v1/nodes/{node}/ceph-osd-flags'): 64 * 1024,
                      ('post', '/v1/nodes/{node}/ceph-osd-flags/cleared'): 64 * 1024,
                      ('post', '/v1/ceph-osd-flags/forget'): 64 * 1024, ('put', '/v1/roles/{role}/budget'): 64 * 1024,
                      ('put', '/v1/roles/{role}/keep-old-os'): 64 * 1024}


def test_path_parameters_carry_their_patterns(document):
    patterns = {}
    for operations in document['paths'].values():
        for operation in operations.values():
            for parameter in operation.get('parameters', []):
                if parameter['in'] == 'path':
                    patterns.setdefault(parameter['name'], set()).add(parameter['schema'].get('pattern'))
    assert patterns == {'node': {r'^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$'}, 'item': {r'^[a-z0-9][a-z0-9_.-]{0,63}$'},
                        'transfer_id': {r'^[0-9]{1,19}$'}, 'acceptance_id': {r'^[0-9]{1,18}$'},
                        'role': {r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$'}}


def test_operation_ids_are_the_names_a_client_calls(document):
    ids = {operation['operationId'] for operations in document['paths'].values() for operation in operations.values()}
    assert {'put_item', 'get_item', 'acquire_lease', 'release_lease', 'put_node_status', 'fleet_status',
            'open_transfer', 'complete_transfer', 'cleanup'} <= ids


@pytest.mark.parametrize('path, allowed', [
    ('/v1/nodes/ctl-0/lease', 'DELETE, POST'),
    ('/v1/nodes/ctl-0/data/mysql', 'DELETE, GET, HEAD, PUT'),
    ('/v1/nodes/ctl-0/status', 'GET, PUT'),
    ('/v1/status', 'GET'),
])
def test_405_lists_every_allowed_method(daemon, path, allowed):
    response = daemon.admin().patch(daemon.url + path, json={})
    assert response.status_code == 405
    assert response.headers['Allow'] == allowed
    assert response.json()['error'] == 'method not allowed'


@pytest.mark.parametrize('path, error', [
    ('/v1/nodes/ctl-0/data/mysql%0A', 'bad item name'),
    ('/v1/nodes/ctl-0%0A/data/mysql', 'bad node name'),
    ('/v1/nodes/%3E/data/0', 'bad node name'),
    ('/v1/nodes/ctl-0/data/MySQL', 'bad item name'),
    ('/v1/nodes/ctl-0/data/' + 'a' * 65, 'bad item name'),
])
def test_a_name_outside_its_pattern_is_a_400_json_error_and_touches_no_file(daemon, path, error):
    before = files_under(daemon.state_dir)
    status, body = raw_request(daemon, 'PUT', path, daemon.admin_token, b'x')
    assert status == 400, body
    assert json.loads(body)['error'] == error
    assert files_under(daemon.state_dir) - before <= {'helper.sqlite3-wal', 'helper.sqlite3-shm'}


def test_an_item_name_with_a_trailing_newline_opens_no_transfer(daemon):
    refused = daemon.admin().post(daemon.url + '/v1/transfers', json={'role': 'Compute', 'items': ['mysql\n']})
    assert (refused.status_code, refused.json()['error']) == (400, 'bad request')
    assert 'items.0' in refused.json()['detail']
