"""The store of node data over real HTTP: round trips, digests, atomicity, crashes, limits, names."""

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading

import pytest
import requests

from helper_daemon.tests.helpers import (digest_header, files_under, object_files, raw_request, sha256,
                                         start_partial_upload, temp_files, wait_until)
from testing.daemon import REPO_ROOT, DaemonProcess, self_signed_cert
from testing.processes import free_port

MIB = 1024 * 1024


@pytest.fixture(scope='module')
def daemon(tmp_path_factory):
    process = DaemonProcess(tmp_path_factory.mktemp('store') / 'state').start()
    for name in ('ctl-0', 'ctl-1'):
        process.add_node(name, 'Controller')
    yield process
    process.kill()


def node_session(daemon, node):
    return daemon.session(daemon.tokens[node])


def test_round_trip_with_requests_streams_both_ways_and_serves_the_digest(daemon):
    data = os.urandom(5 * MIB + 123)
    session = node_session(daemon, 'ctl-0')
    url = daemon.url + '/v1/nodes/ctl-0/data/etc-config'

    # A generator body has no length: the daemon gets it chunked and must still store it whole.
    put = session.put(url, data=(data[i:i + 65536] for i in range(0, len(data), 65536)),
                      headers={'Content-Digest': digest_header(data)})
    assert put.status_code == 201, put.text
    assert put.json() == {'node': 'ctl-0', 'item': 'etc-config', 'size': len(data), 'sha256': sha256(data),
                          'encoding': 'identity'}

    got = session.get(url, stream=True)
    assert got.status_code == 200
    assert got.headers['Content-Length'] == str(len(data))
    assert got.headers['Repr-Digest'] == digest_header(data)
    assert b''.join(got.iter_content(MIB)) == data

    head = session.head(url)
    assert (head.status_code, head.headers['Content-Length'], head.content) == (200, str(len(data)), b'')
    assert head.headers['Repr-Digest'] == digest_header(data)

    listed = session.get(daemon.url + '/v1/nodes/ctl-0/data').json()['items']
    assert [(i['item'], i['size'], i['sha256']) for i in listed] == [('etc-config', len(data), sha256(data))]


def test_a_zstd_upload_is_stored_and_served_as_zstd_with_the_digest_of_its_bytes(daemon):
    frame = subprocess.run(['zstd', '-1', '-c'], input=b'datadir bytes ' * 100000, stdout=subprocess.PIPE,
                           check=True).stdout
    session = node_session(daemon, 'ctl-0')
    url = daemon.url + '/v1/nodes/ctl-0/data/mysql'
    put = session.put(url, data=frame, headers={'Content-Type': 'application/zstd'})
    assert put.status_code == 201, put.text
    assert put.json() == {'node': 'ctl-0', 'item': 'mysql', 'size': len(frame), 'sha256': sha256(frame),
                          'encoding': 'zstd'}
    # A restart keeps what the bytes are (the encoding is part of the stored object).
    daemon.stop()
    daemon.start()
    got = session.get(url)
    assert (got.headers['Item-Encoding'], got.headers['Content-Type']) == ('zstd', 'application/zstd')
    assert got.headers['Repr-Digest'] == digest_header(frame) and got.content == frame
    assert session.head(url).headers['Item-Encoding'] == 'zstd'
    [listed] = [i for i in session.get(daemon.url + '/v1/nodes/ctl-0/data').json()['items'] if i['item'] == 'mysql']
    assert (listed['encoding'], listed['sha256']) == ('zstd', sha256(frame))

    # The same item uploaded again as opaque bytes is no longer zstd.
    assert session.put(url, data=b'plain').json()['encoding'] == 'identity'
    assert session.get(url).headers['Item-Encoding'] == 'identity'


def test_round_trip_with_curl(daemon, tmp_path):
    source, back = tmp_path / 'archive.tar', tmp_path / 'back.tar'
    source.write_bytes(os.urandom(3 * MIB))
    auth = 'Authorization: Bearer ' + daemon.tokens['ctl-1']
    url = daemon.url + '/v1/nodes/ctl-1/data/curl-item'
    put = subprocess.run(['curl', '-sS', '--fail-with-body', '-T', str(source), '-H', auth, url],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=True)
    assert sha256(source.read_bytes()) in put.stdout
    subprocess.run(['curl', '-sS', '--fail', '-o', str(back), '-H', auth, url], check=True)
    assert back.read_bytes() == source.read_bytes()


def test_stored_files_and_dirs_are_private(daemon):
    node_session(daemon, 'ctl-0').put(daemon.url + '/v1/nodes/ctl-0/data/private', data=b'secret')
    item_dir = os.path.join(daemon.state_dir, 'nodes', 'ctl-0', 'private')
    assert os.stat(item_dir).st_mode & 0o777 == 0o700
    assert os.stat(os.path.dirname(item_dir)).st_mode & 0o777 == 0o700
    (obj,) = object_files(daemon, 'ctl-0', 'private')
    assert os.stat(os.path.join(item_dir, obj)).st_mode & 0o777 == 0o600
    assert os.stat(os.path.join(daemon.state_dir, 'admin-token')).st_mode & 0o777 == 0o600


def test_digest_mismatch_is_refused_and_keeps_the_previous_copy(daemon):
    session = node_session(daemon, 'ctl-0')
    url = daemon.url + '/v1/nodes/ctl-0/data/mismatch'
    assert session.put(url, data=b'good copy').status_code == 201
    bad = session.put(url, data=b'corrupted on the way', headers={'Content-Digest': digest_header(b'what was sent')})
    assert bad.status_code == 400
    assert bad.json()['error'] == 'digest mismatch'
    assert session.get(url).content == b'good copy'
    assert temp_files(daemon, 'ctl-0', 'mismatch') == []
    assert len(object_files(daemon, 'ctl-0', 'mismatch')) == 1


@pytest.mark.parametrize('header', ['sha-256=:not base64!:', 'sha-256=abc', 'md5=:AAAA:'])
def test_malformed_content_digest_is_a_400_and_stores_nothing(daemon, header):
    response = node_session(daemon, 'ctl-1').put(daemon.url + '/v1/nodes/ctl-1/data/baddigest', data=b'x',
                                                  headers={'Content-Digest': header})
    assert (response.status_code, response.json()['error']) == (400, 'bad digest')
    assert object_files(daemon, 'ctl-1', 'baddigest') == []


def test_client_disconnecting_mid_body_leaves_no_trace(daemon):
    session = node_session(daemon, 'ctl-0')
    url = daemon.url + '/v1/nodes/ctl-0/data/cut-short'
    assert session.put(url, data=b'complete copy').status_code == 201
    sock = start_partial_upload(daemon, 'ctl-0', 'cut-short', daemon.tokens['ctl-0'], announced=10 * MIB, sent=2 * MIB)
    wait_until(lambda: temp_files(daemon, 'ctl-0', 'cut-short'), what='the upload to start')
    sock.close()
    wait_until(lambda: not temp_files(daemon, 'ctl-0', 'cut-short'), what='the temp file to be removed')
    assert session.get(url).content == b'complete copy'
    assert len(object_files(daemon, 'ctl-0', 'cut-short')) == 1
    audit = daemon.admin().get(daemon.url + '/metrics').text
    assert 'tripleo_helper_uploads_in_flight 0' in audit


def test_readers_always_get_a_complete_copy_while_it_is_replaced(daemon):
    session = node_session(daemon, 'ctl-1')
    url = daemon.url + '/v1/nodes/ctl-1/data/replaced'
    versions = [bytes([n]) * (2 * MIB + n) for n in range(6)]
    assert session.put(url, data=versions[0]).status_code == 201
    seen, problems = set(), []

    def read_repeatedly():
        reader = node_session(daemon, 'ctl-1')
        for _ in range(15):
            got = reader.get(url)
            if got.content not in versions or got.headers['Repr-Digest'] != digest_header(got.content):
                problems.append((len(got.content), got.headers.get('Repr-Digest')))
            seen.add(got.content[:1])

    readers = [threading.Thread(target=read_repeatedly) for _ in range(2)]
    for thread in readers:
        thread.start()
    for version in versions[1:]:
        assert session.put(url, data=version).status_code == 201
    for thread in readers:
        thread.join()
    assert problems == []
    assert session.get(url).content == versions[-1]
    assert len(object_files(daemon, 'ctl-1', 'replaced')) == 1


def test_delete_removes_the_item_and_is_idempotent(daemon):
    session = node_session(daemon, 'ctl-1')
    url = daemon.url + '/v1/nodes/ctl-1/data/gone'
    session.put(url, data=b'x')
    assert session.delete(url).status_code == 204
    assert session.delete(url).status_code == 204
    missing = session.get(url)
    assert (missing.status_code, missing.json()['error']) == (404, 'no such item')
    assert session.head(url).status_code == 404
    assert not os.path.exists(os.path.join(daemon.state_dir, 'nodes', 'ctl-1', 'gone'))


BAD_PATHS = [
    '/v1/nodes/ctl-0/data/..',
    '/v1/nodes/ctl-0/data/%2e%2e',
    '/v1/nodes/ctl-0/data/..%2f..%2fadmin-token',
    '/v1/nodes/ctl-0/data/../../../admin-token',
    '/v1/nodes/ctl-0/data/a/b',
    '/v1/nodes/ctl-0/data/a%2Fb',
    '/v1/nodes/ctl-0/data/.hidden',
    '/v1/nodes/ctl-0/data/UPPER',
    '/v1/nodes/ctl-0/data/' + 'x' * 65,
    '/v1/nodes/ctl-0/data/sp%20ace',
    '/v1/nodes/%2e%2e/data/item',
    '/v1/nodes/-dash/data/item',
    '/v1/nodes/ctl_0/data/item',
]


@pytest.mark.parametrize('path', BAD_PATHS)
@pytest.mark.parametrize('method', ['PUT', 'GET', 'DELETE'])
def test_bad_names_are_400_and_touch_no_file(daemon, path, method):
    before = files_under(daemon.state_dir)
    status, body = raw_request(daemon, method, path, daemon.admin_token, body=b'payload' if method == 'PUT' else b'')
    assert status == 400, body
    assert b'name' in body
    assert files_under(daemon.state_dir) - before == set()


def test_unknown_node_is_404_for_the_admin(daemon):
    response = daemon.admin().put(daemon.url + '/v1/nodes/not-registered/data/item', data=b'x')
    assert (response.status_code, response.json()['error']) == (404, 'unknown node')
    assert not os.path.exists(os.path.join(daemon.state_dir, 'nodes', 'not-registered'))


def test_metrics_are_prometheus_text(daemon):
    node_session(daemon, 'ctl-0').put(daemon.url + '/v1/nodes/ctl-0/data/metered', data=b'm' * 1000)
    response = requests.get(daemon.url + '/metrics')
    assert response.headers['Content-Type'].startswith('text/plain')
    samples = {}
    for line in response.text.splitlines():
        if line.startswith('#') or not line:
            assert line.startswith(('# HELP ', '# TYPE ')) or not line
            continue
        name, value = line.rsplit(' ', 1)
        samples[name] = float(value)
    assert samples['tripleo_helper_stored_bytes'] >= 1000
    assert samples['tripleo_helper_received_bytes_total'] >= 1000
    assert samples['tripleo_helper_uploads_in_flight'] == 0
    assert 'tripleo_helper_leases_held' in samples
    assert samples.get('tripleo_helper_http_errors_total{status="400"}', 0) >= 0


def test_openapi_document_describes_the_data_api(daemon):
    paths = requests.get(daemon.url + '/openapi.json').json()['paths']
    assert {'put', 'get', 'head', 'delete'} <= set(paths['/v1/nodes/{node}/data/{item}'])


def test_audit_log_records_who_read_and_wrote_what(daemon):
    data = b'audited'
    node_session(daemon, 'ctl-0').put(daemon.url + '/v1/nodes/ctl-0/data/audited', data=data)
    daemon.admin().get(daemon.url + '/v1/nodes/ctl-0/data/audited')
    import sqlite3
    db = sqlite3.connect(os.path.join(daemon.state_dir, 'helper.sqlite3'))
    rows = db.execute("SELECT actor, action, size, sha256 FROM audit WHERE node='ctl-0' AND item='audited' "
                      "ORDER BY id").fetchall()
    db.close()
    assert rows == [('node:ctl-0', 'put', len(data), sha256(data)), ('admin', 'get', len(data), sha256(data))]


# -- crashes and limits: each with its own daemon ---------------------------------------------------------------


def test_sigkill_during_upload_then_restart_keeps_the_previous_copy(helper_daemon):
    token = helper_daemon.add_node('ctl-0', 'Controller')
    session = helper_daemon.session(token)
    url = helper_daemon.url + '/v1/nodes/ctl-0/data/mysql'
    previous = os.urandom(MIB)
    assert session.put(url, data=previous).status_code == 201

    sock = start_partial_upload(helper_daemon, 'ctl-0', 'mysql', token, announced=50 * MIB, sent=3 * MIB)
    wait_until(lambda: temp_files(helper_daemon, 'ctl-0', 'mysql'), what='the upload to start')
    helper_daemon.kill()
    sock.close()
    assert temp_files(helper_daemon, 'ctl-0', 'mysql'), 'the killed upload should have left its temp file'

    helper_daemon.start()
    assert temp_files(helper_daemon, 'ctl-0', 'mysql') == []
    got = session.get(url)
    assert got.content == previous
    assert got.headers['Repr-Digest'] == digest_header(previous)
    assert [i['item'] for i in session.get(helper_daemon.url + '/v1/nodes/ctl-0/data').json()['items']] == ['mysql']


def test_sigterm_finishes_the_upload_in_flight_then_exits(helper_daemon):
    token = helper_daemon.add_node('ctl-0', 'Controller')
    sock = start_partial_upload(helper_daemon, 'ctl-0', 'etc', token, announced=2 * MIB, sent=MIB)
    wait_until(lambda: temp_files(helper_daemon, 'ctl-0', 'etc'), what='the upload to start')
    helper_daemon.process.send_signal(signal.SIGTERM)
    sock.sendall(b'x' * MIB)
    answer = sock.makefile('rb').readline()
    sock.close()
    assert answer.startswith(b'HTTP/1.1 201'), answer
    helper_daemon.process.wait(15)
    # uvicorn re-raises SIGTERM once shut down; systemd counts that as a clean exit.
    assert helper_daemon.process.returncode in (0, -signal.SIGTERM)
    helper_daemon.start()
    got = helper_daemon.session(token).get(helper_daemon.url + '/v1/nodes/ctl-0/data/etc')
    assert got.content == b'x' * 2 * MIB


@pytest.fixture
def limited_daemon(tmp_path):
    free = shutil.disk_usage(str(tmp_path)).free

    def start(**config):
        process = DaemonProcess(tmp_path / 'state', config=config).start()
        started.append(process)
        process.token = process.add_node('cmp-0', 'Compute')
        return process

    started = []
    start.free = free
    yield start
    for process in started:
        process.kill()


def test_upload_that_would_cross_the_disk_reserve_is_507_and_leaves_nothing(limited_daemon):
    daemon = limited_daemon(disk_reserve_bytes=limited_daemon.free + 1024 ** 4)
    session = daemon.session(daemon.token)
    url = daemon.url + '/v1/nodes/cmp-0/data/big'
    before = files_under(daemon.state_dir)
    announced = session.put(url, data=b'x' * 4096)
    assert (announced.status_code, announced.json()['error']) == (507, 'insufficient storage')
    chunked = session.put(url, data=iter([b'x' * 4096] * 4))
    assert chunked.status_code == 507
    assert 'reserve' in chunked.json()['detail']
    assert files_under(daemon.state_dir) - before <= {'helper.sqlite3-wal', 'helper.sqlite3-shm'}
    assert session.get(url).status_code == 404


def test_item_larger_than_the_limit_is_413_and_leaves_nothing(limited_daemon):
    daemon = limited_daemon(max_item_bytes=MIB)
    session = daemon.session(daemon.token)
    url = daemon.url + '/v1/nodes/cmp-0/data/big'
    assert session.put(url, data=b'x' * (MIB + 1)).status_code == 413
    too_big_chunked = session.put(url, data=iter([b'x' * 65536] * 40))
    assert (too_big_chunked.status_code, too_big_chunked.json()['error']) == (413, 'too large')
    assert temp_files(daemon, 'cmp-0', 'big') == [] and object_files(daemon, 'cmp-0', 'big') == []
    assert session.put(url, data=b'x' * MIB).status_code == 201


def test_tls_when_cert_and_key_are_given(limited_daemon, tmp_path):
    cert, key = self_signed_cert(tmp_path)
    daemon = limited_daemon(tls_cert=str(cert), tls_key=str(key))
    assert daemon.url.startswith('https://')
    session = daemon.session(daemon.token)
    assert session.put(daemon.url + '/v1/nodes/cmp-0/data/tls', data=b'over tls').status_code == 201
    assert session.get(daemon.url + '/v1/nodes/cmp-0/data/tls').content == b'over tls'
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(daemon.url + '/healthz', verify=True)


def test_state_dir_readable_by_others_is_refused(tmp_path):
    state = tmp_path / 'state'
    state.mkdir(mode=0o700)
    os.chmod(str(state), 0o755)
    command = [sys.executable, '-m', 'helper_daemon', 'serve', '--state-dir', str(state), '--listen',
               '127.0.0.1:{}'.format(free_port())]
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                            timeout=60, cwd=REPO_ROOT)
    assert result.returncode == 2
    assert 'mode 0755' in result.stderr and 'chmod 0700 ' + str(state) in result.stderr
    assert os.listdir(str(state)) == []




def test_an_aborted_upload_refuses_a_late_batch_and_leaves_no_file(tmp_path):
    # The daemon writes one batch in a worker thread while the next arrives; a batch that reaches the disk
    # after the upload failed must not recreate anything.
    from helper_daemon.store import ItemStore, StoreError

    store = ItemStore(tmp_path / 'nodes')
    upload = store.begin_upload('ctl-0', 'mysql')
    upload.write(b'x' * 1000)
    upload.abort()
    with pytest.raises(StoreError, match='already ended'):
        upload.write(b'late batch')
    assert files_under(str(tmp_path / 'nodes')) == set() and store.current('ctl-0', 'mysql') is None


def test_many_small_received_chunks_are_stored_whole_with_their_digest(tmp_path):
    # The daemon writes the chunks as they came off the socket with writev (at most WRITEV_MAX buffers each).
    from helper_daemon import store as store_module

    store = store_module.ItemStore(tmp_path / 'nodes')
    upload = store.begin_upload('ctl-0', 'mysql')
    chunks = [bytes([i % 251]) * (i % 97 + 1) for i in range(store_module.WRITEV_MAX * 2 + 7)] + [b'']
    assert upload.write_chunks(chunks) == sum(len(c) for c in chunks)
    obj = upload.commit()
    expected = b''.join(chunks)
    with open(obj.path, 'rb') as stored:
        assert stored.read() == expected
    assert obj.size == len(expected) and obj.sha256 == hashlib.sha256(expected).hexdigest()
