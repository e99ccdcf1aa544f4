"""Small helpers shared by the daemon tests (imported as helper_daemon.tests.helpers)."""

import base64
import hashlib
import http.client
import os
import socket
import subprocess

from testing.daemon import REPO_ROOT
from testing.processes import NotReady, wait_for


def helper(daemon, *args, timeout=60):
    """Run `tripleo-upgrade-helper ARGS` against `daemon`, as an operator would; the finished process."""
    return subprocess.run(daemon.command(*args), cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=timeout)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def digest_header(data):
    return 'sha-256=:' + base64.b64encode(hashlib.sha256(data).digest()).decode() + ':'


def files_under(root):
    """Every file and directory below root, as relative paths (to see that nothing was created)."""
    found = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            found.add(os.path.relpath(os.path.join(dirpath, name), root))
    return found


def raw_request(daemon, method, path, token, body=b'', headers=None):
    """Send the path exactly as given (no client-side normalisation of '..' or %2e); (status, body)."""
    conn = http.client.HTTPConnection('127.0.0.1', daemon.port, timeout=10)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        conn.putheader('Authorization', 'Bearer ' + token)
        conn.putheader('Content-Length', str(len(body)))
        for key, value in (headers or {}).items():
            conn.putheader(key, value)
        conn.endheaders()
        if body:
            conn.send(body)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def start_partial_upload(daemon, node, item, token, announced, sent):
    """Open a raw socket, announce `announced` bytes and send only `sent` of them; returns the socket."""
    sock = socket.create_connection(('127.0.0.1', daemon.port))
    head = ('PUT /v1/nodes/{}/data/{} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n'
            'Content-Length: {}\r\n\r\n').format(node, item, token, announced)
    sock.sendall(head.encode() + b'x' * sent)
    return sock


def wait_until(predicate, timeout=10.0, what='condition'):
    try:
        wait_for(predicate, what, timeout)
    except NotReady:
        raise AssertionError('timed out waiting for ' + what) from None


def temp_files(daemon, node, item):
    item_dir = os.path.join(daemon.state_dir, 'nodes', node, item)
    try:
        return [n for n in os.listdir(item_dir) if n.startswith('.tmp-')]
    except FileNotFoundError:
        return []


def object_files(daemon, node, item):
    item_dir = os.path.join(daemon.state_dir, 'nodes', node, item)
    try:
        return sorted(n for n in os.listdir(item_dir) if n.startswith('obj-'))
    except FileNotFoundError:
        return []
