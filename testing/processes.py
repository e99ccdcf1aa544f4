"""Small helpers for the real processes that fixtures and benchmarks start: a free loopback port, and
waiting until a process (or any condition) is ready."""
import socket
import time


class NotReady(RuntimeError):
    """What `wait_for` waited for did not become ready in time."""


class ExitedEarly(NotReady):
    """The process `wait_for` watched ended before it was ready."""


def free_port():
    """A TCP port on 127.0.0.1 that nothing was bound to a moment ago."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def wait_for(ready, what, timeout, process=None, interval=0.05):
    """Call ``ready()`` every ``interval`` seconds until it returns true.

    Raises ``ExitedEarly`` as soon as ``process`` (a Popen, when given) has exited, and ``NotReady`` once
    ``timeout`` seconds have passed; both messages name ``what``.
    """
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise ExitedEarly('{} exited with {} before it was ready'.format(what, process.returncode))
        if ready():
            return
        if time.monotonic() > deadline:
            raise NotReady('{} not ready after {:.0f}s'.format(what, timeout))
        time.sleep(interval)
