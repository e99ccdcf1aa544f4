"""The node-side client against the daemon started as a real process on loopback."""
import hashlib
import io
import os
import subprocess

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
    assert "TLS certificate is not trusted (system trust store)" in str(untrusted.value)
