"""
Running the node's own tools (crm_mon, podman, rpm, pcs), with every failure turned into a sentence.

A command that cannot run (tool absent, time-out, non-zero exit) raises CommandFailed with a
sentence an operator understands: the facts gatherer records it as an unknown fact with that
reason, prepare and stop-services stop with it.
"""
import os
import subprocess

DEFAULT_TIMEOUT = 60


class CommandFailed(Exception):
    """The command did not give an answer; ``str()`` says which command and why."""


def run(argv, env=None, timeout=DEFAULT_TIMEOUT, ok_codes=(0,)):
    """
    Run ``argv`` and return (exit code, stdout).

    :param env: extra environment variables on top of this process's environment (e.g. CIB_file)
    :param ok_codes: exit codes that are answers, not failures (e.g. 1 for "container does not exist")
    """
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env.setdefault('LC_ALL', 'C')
    try:
        process = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   universal_newlines=True, env=full_env)
    except OSError as exc:
        raise CommandFailed('cannot run {}: {}'.format(argv[0], exc.strerror)) from exc
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise CommandFailed('`{}` did not answer within {} seconds'.format(' '.join(argv), timeout)) from None
    if process.returncode not in ok_codes:
        raise CommandFailed('`{}` failed with exit code {}: {}'.format(
            ' '.join(argv), process.returncode, (err.strip() or out.strip())[:400] or 'no output'))
    return process.returncode, out
