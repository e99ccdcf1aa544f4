"""Fixtures: real MariaDB servers on loopback, each with its own datadir, socket and port.

`MariaDBServer` also works outside pytest (benchmarks). Every command passes `--no-defaults` so
nothing from /etc/mysql leaks in; the redo log is kept small so a fresh datadir is ~26 MB.
"""
import os
import shutil
import signal
import subprocess

import pytest

from testing.processes import NotReady, free_port, wait_for

START_TIMEOUT = 30.0
STOP_TIMEOUT = 60.0


class MariaDBError(Exception):
    pass


class MariaDBServer(object):
    """One server under ``base_dir``: ``datadir``, ``socket``, ``pid_file``, ``log_file``, ``port``.

    ``with server:`` starts it and stops it at the end (kills it when the block raised).
    """

    def __init__(self, base_dir, log_file_size='8M', buffer_pool_size='32M'):
        self.base_dir = str(base_dir)
        os.makedirs(self.base_dir, exist_ok=True)
        self.datadir = os.path.join(self.base_dir, 'datadir')
        self.socket = os.path.join(self.base_dir, 'mysqld.sock')
        self.pid_file = os.path.join(self.base_dir, 'mysqld.pid')
        self.log_file = os.path.join(self.base_dir, 'mysqld.err')
        # Its own temporary directory: in a shared /tmp, another test run's cleanup broke mariadb-install-db.
        self.tmpdir = os.path.join(self.base_dir, 'tmp')
        os.makedirs(self.tmpdir, exist_ok=True)
        self.log_file_size = log_file_size
        self.buffer_pool_size = buffer_pool_size
        self.port = None
        self.process = None

    def install(self):
        """Create a fresh datadir (system tables, root over TCP without password)."""
        with open(os.path.join(self.base_dir, 'install.log'), 'wb') as log:
            status = subprocess.call(
                ['mariadb-install-db', '--no-defaults', '--datadir=' + self.datadir, '--user=root',
                 '--auth-root-authentication-method=normal', '--skip-test-db', '--tmpdir=' + self.tmpdir,
                 '--innodb-log-file-size=' + self.log_file_size], stdout=log, stderr=log)
        if status != 0:
            raise MariaDBError('mariadb-install-db failed for {}; see {}/install.log'.format(
                self.datadir, self.base_dir))
        return self

    def server_command(self):
        """The `mariadbd` command line for this datadir (also the process tests look for)."""
        return ['mariadbd', '--no-defaults', '--user=root', '--datadir=' + self.datadir,
                '--socket=' + self.socket, '--port={}'.format(self.port), '--bind-address=127.0.0.1',
                '--tmpdir=' + self.tmpdir,
                '--pid-file=' + self.pid_file, '--log-error=' + self.log_file, '--skip-name-resolve',
                '--innodb-buffer-pool-size=' + self.buffer_pool_size,
                '--innodb-log-file-size=' + self.log_file_size, '--skip-log-bin']

    def start(self):
        if self.running():
            return self
        self.port = free_port()
        self.process = subprocess.Popen(self.server_command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: self._admin('ping') == 0, 'mariadbd on ' + self.datadir, START_TIMEOUT, self.process,
                     interval=0.1)
        except NotReady as exc:
            self.kill()
            raise MariaDBError('{}; log:\n{}'.format(exc, self.log())) from None
        return self

    def running(self):
        return self.process is not None and self.process.poll() is None

    def stop(self):
        """Clean shutdown (SIGTERM), waiting until the server has flushed everything and exited."""
        if self.running():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
                raise MariaDBError('mariadbd on {} did not stop within {}s'.format(
                    self.datadir, STOP_TIMEOUT)) from None
        self.process = None

    def kill(self):
        if self.running():
            self.process.kill()
            self.process.wait()
        self.process = None

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, *exc):
        if exc_type is None:
            self.stop()
        else:
            self.kill()

    def log(self):
        try:
            with open(self.log_file, errors='replace') as stream:
                return stream.read()[-5000:]
        except OSError:
            return ''

    def _client_args(self):
        return ['--no-defaults', '-uroot', '-h127.0.0.1', '-P', str(self.port), '--protocol=tcp']

    def _admin(self, *args):
        return subprocess.call(['mariadb-admin'] + self._client_args() + list(args),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def sql(self, statements, database=None):
        """Run SQL (read from stdin, so any size); return the result rows as lists of strings."""
        command = ['mariadb'] + self._client_args() + ['--batch', '--skip-column-names']
        if database:
            command.append(database)
        result = subprocess.run(command, input=statements, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                universal_newlines=True)
        if result.returncode != 0:
            raise MariaDBError('SQL on {} failed: {}'.format(self.datadir, result.stderr.strip()))
        return [line.split('\t') for line in result.stdout.splitlines()]

    def tables(self, database):
        return [row[0] for row in self.sql('SHOW TABLES', database)]

    def fingerprint(self, database):
        """``{table: (row count, CHECKSUM TABLE)}`` for every table of ``database``."""
        result = {}
        for table in self.tables(database):
            count = int(self.sql('SELECT COUNT(*) FROM `{}`'.format(table), database)[0][0])
            checksum = self.sql('CHECKSUM TABLE `{}` EXTENDED'.format(table), database)[0][1]
            result[table] = (count, checksum)
        return result


@pytest.fixture
def mariadb_servers(tmp_path):
    """Factory: ``mariadb_servers('name')`` -> an installed, not yet started MariaDBServer; all stopped after."""
    servers = []

    def create(name):
        server = MariaDBServer(tmp_path / 'mariadb-{}'.format(name)).install()
        servers.append(server)
        return server

    yield create
    for server in servers:
        server.kill()
        shutil.rmtree(server.base_dir, ignore_errors=True)
