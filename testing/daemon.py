"""Fixture: the helper daemon as a real process (`python -m helper_daemon serve`) on a free loopback port.

`DaemonProcess` also works outside pytest (benchmarks): `with DaemonProcess(state_dir) as daemon: ...`.

The daemon needs Python >= 3.9 with the project installed, while the node-side suites also run under RHEL's own
Python 3.6 and 3.9 with RHEL's library versions: there the daemon runs with the interpreter named by
TRIPLEO_UPGRADE_DAEMON_PYTHON (scripts/test sets it to the project's .venv), never with `sys.executable`.
"""

import importlib.util
import os
import signal
import subprocess
import sys
import time

import pytest
import requests
import yaml

from testing.processes import ExitedEarly, NotReady, free_port, wait_for

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
START_TIMEOUT = 30.0
DAEMON_PYTHON_VARIABLE = 'TRIPLEO_UPGRADE_DAEMON_PYTHON'


def daemon_python():
    """The interpreter that runs the daemon and its CLI: $TRIPLEO_UPGRADE_DAEMON_PYTHON, else this one when it can.

    Skips the calling test, saying why, when there is none (under pytest; elsewhere the Skipped exception says it).
    """
    configured = os.environ.get(DAEMON_PYTHON_VARIABLE)
    if configured:
        if not os.access(configured, os.X_OK):
            pytest.skip('the helper daemon cannot start: {}={} is not an executable interpreter'.format(
                DAEMON_PYTHON_VARIABLE, configured))
        return configured
    if sys.version_info < (3, 9) or importlib.util.find_spec('fastapi') is None:
        pytest.skip('the helper daemon cannot run on this Python {}.{} (it needs >= 3.9 with the project installed);'
                    ' set {} to the project venv\'s python (scripts/test does)'.format(
                        sys.version_info[0], sys.version_info[1], DAEMON_PYTHON_VARIABLE))
    return sys.executable


def self_signed_cert(directory):
    """A certificate for 127.0.0.1 (its own CA) and its key in ``directory``; returns (cert, key) paths."""
    cert, key = os.path.join(str(directory), 'daemon.crt'), os.path.join(str(directory), 'daemon.key')
    subprocess.check_call(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
                           '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
                           '-keyout', key, '-out', cert], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


class DaemonProcess(object):
    """A daemon with its own state dir; `config` (a dict of settings) goes into a YAML config file.

    `tokens` maps each node registered with add_node to its token.
    """

    def __init__(self, state_dir, config=None):
        self.state_dir = str(state_dir)
        self.port = free_port()
        self.config = dict(config or {})
        # With TLS the certificate (issued for 127.0.0.1) is also the CA that clients verify against.
        self.verify = str(self.config['tls_cert']) if self.config.get('tls_cert') else True
        self.url = '{}://127.0.0.1:{}'.format('https' if self.config.get('tls_cert') else 'http', self.port)
        base = os.path.dirname(self.state_dir.rstrip('/'))
        self.config_path = os.path.join(base, 'helper-{}.yaml'.format(self.port))
        self.log_path = os.path.join(base, 'helper-{}.log'.format(self.port))
        self.process = None
        self.tokens = {}

    @property
    def pid(self):
        return self.process.pid if self.process else None

    def command(self, *args):
        """The CLI with this daemon's config: `daemon.command('nodes', 'list')` -> argv."""
        return [daemon_python(), '-m', 'helper_daemon'] + list(args) + ['--config', self.config_path]

    def start(self):
        config = dict({k: str(v) if isinstance(v, os.PathLike) else v for k, v in self.config.items()},
                      state_dir=self.state_dir, listen='127.0.0.1:{}'.format(self.port))
        with open(self.config_path, 'w') as stream:
            yaml.safe_dump(config, stream)
        log = open(self.log_path, 'ab')
        try:
            self.process = subprocess.Popen(self.command('serve'), cwd=REPO_ROOT, stdout=log, stderr=log)
        finally:
            log.close()
        what = 'the helper daemon (GET {}/healthz)'.format(self.url)
        try:
            wait_for(self._healthy, what, START_TIMEOUT, self.process)
        except ExitedEarly as exc:
            raise RuntimeError('{}; its log:\n{}'.format(exc, self.log())) from None
        except NotReady as exc:
            self.kill()
            raise RuntimeError('{}; its log:\n{}'.format(exc, self.log())) from None
        return self

    def _healthy(self):
        try:
            return requests.get(self.url + '/healthz', timeout=1, verify=self.verify).status_code == 200
        except requests.ConnectionError:
            return False

    def log(self):
        try:
            with open(self.log_path, errors='replace') as stream:
                return stream.read()[-20000:]
        except OSError:
            return ''

    @property
    def admin_token(self):
        with open(os.path.join(self.state_dir, 'admin-token')) as stream:
            return stream.read().strip()

    def admin(self):
        return self.session(self.admin_token)

    def session(self, token):
        """A requests session with that bearer token."""
        session = requests.Session()
        session.headers['Authorization'] = 'Bearer ' + token
        session.verify = self.verify
        session.trust_env = False  # loopback: no proxies, and REQUESTS_CA_BUNDLE must not replace `verify`
        return session

    def add_node(self, name, role, ceph_mon=False, one_by_one=None):
        """Register a node through the admin API; returns its token."""
        response = self.admin().post(self.url + '/v1/nodes', json={
            'name': name, 'role': role, 'ceph_mon': ceph_mon, 'one_by_one': one_by_one, 'rotate_token': True})
        response.raise_for_status()
        self.tokens[name] = response.json()['token']
        return self.tokens[name]

    def token_file(self, name):
        """A 0600 file with the node's token (registered with add_node)."""
        path = os.path.join(os.path.dirname(self.state_dir.rstrip('/')), 'token-{}-{}'.format(self.port, name))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w') as stream:
            stream.write(self.tokens[name] + '\n')
        return path

    def _signal(self, signum):
        # Signal the pid itself: in a forked test process (leapp runs actor tests in one) the daemon is not
        # our child, Popen.poll() wrongly says it exited, and send_signal() would do nothing.
        if not self.process:
            return False
        try:
            os.kill(self.process.pid, signum)
        except ProcessLookupError:
            return False
        return True

    def _wait_gone(self, timeout):
        """Until the process is gone (a zombie counts as gone); SIGKILL it after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            self.process.poll()  # reaps it when it is our child
            try:
                with open('/proc/{}/stat'.format(self.process.pid)) as stream:
                    if stream.read().rpartition(')')[2].split()[0] == 'Z':
                        return
            except FileNotFoundError:
                return
            if time.monotonic() > deadline:
                self._signal(signal.SIGKILL)
            time.sleep(0.02)

    def kill(self):
        """SIGKILL: no cleanup at all, as in a power cut of the process."""
        if self._signal(signal.SIGKILL):
            self._wait_gone(10)

    def stop(self):
        """SIGTERM: the daemon finishes in-flight requests and exits."""
        if self._signal(signal.SIGTERM):
            self._wait_gone(15)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


@pytest.fixture
def helper_daemon(tmp_path):
    state_dir = tmp_path / 'helper-state'
    daemon = DaemonProcess(str(state_dir)).start()
    try:
        yield daemon
    finally:
        daemon.kill()


@pytest.fixture
def tls_daemon(tmp_path):
    """The daemon serving TLS with a self-signed certificate for 127.0.0.1 (`.verify` is its path)."""
    cert, key = self_signed_cert(tmp_path)
    daemon = DaemonProcess(str(tmp_path / 'tls-state'), config={'tls_cert': cert, 'tls_key': key}).start()
    try:
        yield daemon
    finally:
        daemon.kill()
