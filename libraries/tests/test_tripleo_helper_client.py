"""The node-side client against the daemon started as a real process on loopback."""
import hashlib
import io
import os
import socket
import struct
import subprocess
import threading
import time

import pytest

from testing.processes import free_port
from tripleo_upgrade_libraries import tripleo_helper_client as client_lib

PAYLOAD = os.urandom(3 * 1024 * 1024 + 17)
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def controller(helper_daemon):
    token = helper_daemon.add_node('controller-0', 'Controller')
    helper_daemon.add_node('controller-1', 'Controller')
    return client_lib.HelperClient(helper_daemon.url, token, timeout=10)


def test_seekable_file_round_trip_is_verified(controller):
    stored = controller.put_item('controller-0', 'nova-state', io.BytesIO(PAYLOAD), sha256_hex=PAYLOAD_SHA)
    assert stored == {'size': len(PAYLOAD), 'sha256': PAYLOAD_SHA}

    out = io.BytesIO()
    assert controller.get_item('controller-0', 'nova-state', out) == stored
    assert out.getvalue() == PAYLOAD
    assert controller.head_item('controller-0', 'nova-state') == stored
    assert [i['item'] for i in controller.list_items('controller-0')] == ['nova-state']


def test_stream_of_unknown_length_is_uploaded_chunked(controller):
    chunks = (PAYLOAD[i:i + 65536] for i in range(0, len(PAYLOAD), 65536))
    assert controller.put_item('controller-0', 'stream', chunks)['sha256'] == PAYLOAD_SHA
    out = io.BytesIO()
    controller.get_item('controller-0', 'stream', out)
    assert out.getvalue() == PAYLOAD


def test_pipes_stream_both_ways(controller, tmp_path):
    """tar's stdout and stdin are pipes: streamed once, never seeked."""
    (tmp_path / 'src').mkdir()
    (tmp_path / 'src' / 'payload').write_bytes(PAYLOAD)
    tar = subprocess.Popen(['tar', '-C', str(tmp_path / 'src'), '-cf', '-', '.'], stdout=subprocess.PIPE)
    stored = controller.put_item('controller-0', 'tree', tar.stdout)
    assert tar.wait() == 0
    (tmp_path / 'dst').mkdir()
    untar = subprocess.Popen(['tar', '-C', str(tmp_path / 'dst'), '-xf', '-'], stdin=subprocess.PIPE)
    assert controller.get_item('controller-0', 'tree', untar.stdin) == stored
    untar.stdin.close()
    assert untar.wait() == 0
    assert (tmp_path / 'dst' / 'payload').read_bytes() == PAYLOAD


def test_wrong_digest_is_refused_and_previous_copy_survives(controller):
    controller.put_item('controller-0', 'item', io.BytesIO(b'first copy'))
    with pytest.raises(client_lib.DaemonError) as refused:
        controller.put_item('controller-0', 'item', io.BytesIO(b'second copy'), sha256_hex=PAYLOAD_SHA)
    assert refused.value.status == 400
    assert '/v1/nodes/controller-0/data/item' in str(refused.value)
    out = io.BytesIO()
    controller.get_item('controller-0', 'item', out)
    assert out.getvalue() == b'first copy'


def test_missing_item_head_is_none_and_get_names_the_url(controller):
    assert controller.head_item('controller-0', 'absent') is None
    with pytest.raises(client_lib.DaemonError) as missing:
        controller.get_item('controller-0', 'absent', io.BytesIO())
    assert missing.value.status == 404
    assert 'GET {}/v1/nodes/controller-0/data/absent: HTTP 404'.format(controller.base_url) in str(missing.value)


def test_refused_token_says_what_to_check(helper_daemon, controller):
    stranger = client_lib.HelperClient(helper_daemon.url, 'x' * 43, timeout=10)
    with pytest.raises(client_lib.DaemonError) as refused:
        stranger.list_items('controller-0')
    assert refused.value.status == 401
    assert 'node token was refused' in str(refused.value)


def test_node_token_does_not_reach_another_node(controller):
    with pytest.raises(client_lib.DaemonError) as forbidden:
        controller.put_item('controller-1', 'nova-state', io.BytesIO(b'x'))
    assert forbidden.value.status == 403
    assert 'does not reach' in str(forbidden.value)


def test_unreachable_daemon_is_one_message_after_retries():
    port = free_port()
    client = client_lib.HelperClient('http://127.0.0.1:{}'.format(port), 'x' * 43, timeout=2, retries=2,
                                     backoff=0.01)
    with pytest.raises(client_lib.DaemonError) as unreachable:
        client.put_status('controller-0', 'preupgrade')
    assert unreachable.value.status is None
    message = str(unreachable.value)
    assert message.startswith('PUT http://127.0.0.1:{}/v1/nodes/controller-0/status: '.format(port))
    assert 'unreachable after 3 attempt(s)' in message


def test_status_is_accepted(controller):
    answer = controller.put_status('controller-0', 'preupgrade', os_release='8.4', leapp_run_id='run-1',
                                   reports=[{'key': 'k', 'title': 't', 'summary': 's', 'severity': 'high',
                                             'inhibitor': True, 'remediation': 'r'}])
    assert isinstance(answer, dict)


def test_from_config_names_an_unreadable_token_file(tmp_path):
    missing = str(tmp_path / 'node-token')
    with pytest.raises(client_lib.DaemonError) as error:
        client_lib.HelperClient.from_config({'daemon_url': 'http://127.0.0.1:1', 'token_file': missing})
    assert missing in str(error.value)


def test_digest_header_parsing():
    assert client_lib.parse_sha256_digest('sha-512=:AAAA:, sha-256=:{}:'.format(
        client_lib._b64_digest(PAYLOAD_SHA))) == PAYLOAD_SHA
    assert client_lib.parse_sha256_digest('sha-256=abc') is None
    assert client_lib.parse_sha256_digest(None) is None


def test_tls_with_the_configured_ca_file(tls_daemon):
    token = tls_daemon.add_node('compute-0', 'Compute')
    client = client_lib.HelperClient(tls_daemon.url, token, ca_file=tls_daemon.verify, timeout=10)
    assert client.put_item('compute-0', 'item', io.BytesIO(PAYLOAD))['sha256'] == PAYLOAD_SHA


def test_untrusted_tls_certificate_is_named_not_retried(tls_daemon, tmp_path):
    token = tls_daemon.add_node('compute-0', 'Compute')
    client = client_lib.HelperClient(tls_daemon.url, token, timeout=10)
    with pytest.raises(client_lib.DaemonError) as untrusted:
        client.list_items('compute-0')
    assert untrusted.value.status is None
    assert untrusted.value.failure == 'untrusted'
    assert "TLS certificate is not trusted (system trust store)" in str(untrusted.value)


@pytest.mark.parametrize('source', ['seekable file', 'stream'])
def test_untrusted_tls_certificate_is_named_for_uploads_too(tls_daemon, source):
    token = tls_daemon.add_node('compute-0', 'Compute')
    client = client_lib.HelperClient(tls_daemon.url, token, timeout=10, retries=2, backoff=0.01)
    with pytest.raises(client_lib.DaemonError) as untrusted:
        client.put_item('compute-0', 'item', UPLOAD_SOURCES[source]())
    assert untrusted.value.failure == 'untrusted'
    assert str(untrusted.value).startswith('PUT {}/v1/nodes/compute-0/data/item: the daemon\'s TLS certificate is '
                                           'not trusted (system trust store): '.format(tls_daemon.url))


# -- transport failures: whatever requests/urllib3 raise (RHEL 8's requests 2.20 and urllib3 1.24 included), the
#    caller gets one DaemonError that names the request's URL, and so the node and the item.

class RudeServer(object):
    """A TCP server on loopback that misbehaves once per connection, in a thread.

    ``behaviour`` is one of: 'cut-request' (reads ``cut_after`` bytes of the request, then resets the connection),
    'garbage' (reads the request and answers something that is not HTTP), 'silent' (reads the request and never
    answers), 'cut-response' (answers 200 announcing PAYLOAD but sends ``cut_after`` bytes of it, then resets),
    'short-response' (the same, then closes the connection in order: urllib3 < 2 takes that as the end of the body).
    """

    def __init__(self, behaviour, cut_after=64 * 1024):
        self.behaviour = behaviour
        self.cut_after = cut_after
        self.received = []  # bytes read per connection
        self._listener = socket.socket()
        self._listener.bind(('127.0.0.1', 0))
        self._listener.listen(8)
        self.url = 'http://127.0.0.1:{}'.format(self._listener.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve)
        self._thread.daemon = True
        self._thread.start()

    def _serve(self):
        self._listener.settimeout(0.1)
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except socket.timeout:
                continue
            with connection:
                connection.settimeout(10)
                self._misbehave(connection)

    def _read(self, connection, until):
        data = b''
        while not until(data):
            try:
                chunk = connection.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        self.received.append(len(data))
        return data

    @staticmethod
    def _whole_request(data):
        head, found, body = data.partition(b'\r\n\r\n')
        if not found:
            return False
        headers = head.lower()
        if b'transfer-encoding: chunked' in headers:
            return body.endswith(b'0\r\n\r\n')
        length = [line for line in headers.split(b'\r\n') if line.startswith(b'content-length:')]
        return len(body) >= (int(length[0].split(b':')[1]) if length else 0)

    def _misbehave(self, connection):
        if self.behaviour == 'cut-request':
            self._read(connection, lambda data: len(data) >= self.cut_after)
            _reset(connection)
            return
        # The whole request first, so the client sees what comes next, not a reset for unread data.
        self._read(connection, self._whole_request)
        if self.behaviour == 'garbage':
            connection.sendall(b'this is not HTTP\r\n\r\n')
        elif self.behaviour == 'silent':
            self._stop.wait(10)
        elif self.behaviour in ('cut-response', 'short-response'):
            connection.sendall('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n'
                               'Repr-Digest: sha-256=:{}:\r\n\r\n'.format(len(PAYLOAD), client_lib._b64_digest(
                                   PAYLOAD_SHA)).encode('ascii') + PAYLOAD[:self.cut_after])
            if self.behaviour == 'cut-response':
                _reset(connection)

    def close(self):
        self._stop.set()
        self._thread.join(15)
        self._listener.close()


def _reset(connection):
    """Close with an RST, as a crashed peer or a middlebox does, not with an orderly FIN."""
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))


@pytest.fixture
def rude_server():
    servers = []

    def start(behaviour, **kwargs):
        servers.append(RudeServer(behaviour, **kwargs))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


UPLOAD_SOURCES = {
    # A file: sent with a Content-Length, retried from its start.
    'seekable file': lambda: io.BytesIO(PAYLOAD),
    # tar's stdout and the like: sent with chunked transfer encoding, through requests' own low-level path in
    # requests < 2.26 (RHEL 8 and 9), where urllib3's exceptions used to come through raw.
    'stream': lambda: (PAYLOAD[i:i + 65536] for i in range(0, len(PAYLOAD), 65536)),
}


def _item_error(error, base_url, item='nova-state'):
    """The DaemonError an operator reads: the request and its URL (node and item), and no HTTP status."""
    message = str(error.value)
    url = '{}/v1/nodes/controller-0/data/{}'.format(base_url, item)
    assert error.value.url == url
    assert error.value.status is None
    return message


@pytest.mark.parametrize('source', sorted(UPLOAD_SOURCES))
def test_upload_to_a_port_where_nothing_listens_is_one_daemon_error(source):
    base_url = 'http://127.0.0.1:{}'.format(free_port())
    client = client_lib.HelperClient(base_url, 'x' * 43, timeout=5, retries=1, backoff=0.01)
    with pytest.raises(client_lib.DaemonError) as unreachable:
        client.put_item('controller-0', 'nova-state', UPLOAD_SOURCES[source]())
    message = _item_error(unreachable, base_url)
    assert unreachable.value.failure == 'unreachable'
    attempts = 2 if source == 'seekable file' else 1
    assert message.startswith('PUT {}/v1/nodes/controller-0/data/nova-state: the daemon is unreachable after {} '
                              'attempt(s): '.format(base_url, attempts))


def test_download_from_a_port_where_nothing_listens_is_one_daemon_error(tmp_path):
    base_url = 'http://127.0.0.1:{}'.format(free_port())
    client = client_lib.HelperClient(base_url, 'x' * 43, timeout=5, retries=1, backoff=0.01)
    with open(str(tmp_path / 'download'), 'wb') as dest, pytest.raises(client_lib.DaemonError) as unreachable:
        client.get_item('controller-0', 'nova-state', dest)
    assert _item_error(unreachable, base_url).startswith(
        'GET {}/v1/nodes/controller-0/data/nova-state: the daemon is unreachable after 1 attempt(s): '.format(
            base_url))


@pytest.mark.parametrize('source', sorted(UPLOAD_SOURCES))
def test_upload_cut_in_the_middle_of_the_body_is_one_daemon_error(rude_server, source):
    server = rude_server('cut-request')
    client = client_lib.HelperClient(server.url, 'x' * 43, timeout=10, retries=1, backoff=0.01)
    with pytest.raises(client_lib.DaemonError) as cut:
        client.put_item('controller-0', 'nova-state', UPLOAD_SOURCES[source]())
    message = _item_error(cut, server.url)
    assert cut.value.failure == 'broken'
    assert message.startswith('PUT {}/v1/nodes/controller-0/data/nova-state: the connection to the daemon failed '
                              'after '.format(server.url))
    # The server really got part of the body; a file is sent again, a stream cannot be.
    assert len(server.received) == (2 if source == 'seekable file' else 1)
    assert all(server.cut_after <= received < len(PAYLOAD) for received in server.received)


@pytest.mark.parametrize('source', sorted(UPLOAD_SOURCES))
def test_an_answer_that_is_not_http_is_one_daemon_error(rude_server, source):
    server = rude_server('garbage')
    client = client_lib.HelperClient(server.url, 'x' * 43, timeout=10, retries=0)
    with pytest.raises(client_lib.DaemonError) as garbage:
        client.put_item('controller-0', 'nova-state', UPLOAD_SOURCES[source]())
    assert garbage.value.failure == 'broken'
    assert _item_error(garbage, server.url).startswith(
        'PUT {}/v1/nodes/controller-0/data/nova-state: the connection to the daemon failed after 1 attempt(s): '
        .format(server.url))


@pytest.mark.parametrize('source', sorted(UPLOAD_SOURCES))
def test_a_daemon_that_never_answers_is_one_daemon_error_after_the_timeout(rude_server, source):
    server = rude_server('silent')
    client = client_lib.HelperClient(server.url, 'x' * 43, timeout=1, retries=0)
    started = time.monotonic()
    with pytest.raises(client_lib.DaemonError) as silent:
        client.put_item('controller-0', 'nova-state', UPLOAD_SOURCES[source]())
    # The server keeps the connection open for 10 s: the node gives up after its own timeout, not the server's.
    assert time.monotonic() - started < 5
    assert silent.value.failure == 'timeout'
    assert _item_error(silent, server.url).startswith(
        'PUT {}/v1/nodes/controller-0/data/nova-state: the daemon did not answer within 1 s after 1 attempt(s): '
        .format(server.url))


@pytest.mark.parametrize('behaviour', ['cut-response', 'short-response'])
def test_a_download_cut_in_the_middle_is_one_daemon_error_and_nothing_is_trusted(rude_server, behaviour):
    server = rude_server(behaviour, cut_after=1024 * 1024)
    client = client_lib.HelperClient(server.url, 'x' * 43, timeout=10, retries=0)
    dest = io.BytesIO()
    with pytest.raises(client_lib.DaemonError) as cut:
        client.get_item('controller-0', 'nova-state', dest)
    message = _item_error(cut, server.url)
    assert message.startswith('GET {}/v1/nodes/controller-0/data/nova-state: '.format(server.url))
    # urllib3 < 2 ends the body quietly at an orderly close: the size check catches it.
    assert 'the transfer broke after ' in message or 'received 1048576 of {} bytes'.format(len(PAYLOAD)) in message
    assert len(dest.getvalue()) < len(PAYLOAD)
