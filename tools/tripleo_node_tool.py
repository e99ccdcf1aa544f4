"""
Shared by the node commands in this directory: they run from the installed leapp repository,
outside leapp, and load its sibling libraries/ directory as a package, the way the repository's
conftest.py does.

Every command reads the node's ``tripleo_upgrade`` actor configuration, from the directory leapp
reads (``[actor_config] path`` of /etc/leapp/leapp.conf) unless ``--config-dir`` names another,
so on a configured node no flag is needed; a flag overrides its key.
"""
import os
import sys
import types

LIBRARIES_PACKAGE = 'tripleo_upgrade_libraries'


def load_libraries():
    if LIBRARIES_PACKAGE not in sys.modules:
        package = types.ModuleType(LIBRARIES_PACKAGE)
        package.__path__ = [os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))), 'libraries')]
        sys.modules[LIBRARIES_PACKAGE] = package
    return sys.modules[LIBRARIES_PACKAGE]


class ToolError(Exception):
    """What the command prints as its error before it exits 1."""


def add_config_arguments(parser):
    """The flags that override keys of the node's tripleo_upgrade configuration."""
    group = parser.add_argument_group('configuration (default: the node\'s tripleo_upgrade actor configuration)')
    group.add_argument('--config-dir', help='actor configuration directory to read (default: the one leapp reads, '
                                            '[actor_config] path of /etc/leapp/leapp.conf)')
    group.add_argument('--daemon-url', help='overrides daemon_url')
    group.add_argument('--token-file', help='overrides token_file')
    group.add_argument('--ca-file', help='overrides ca_file')
    group.add_argument('--node', help='overrides node_name (this node\'s name at the daemon)')
    group.add_argument('--timeout', type=float, help='overrides request_timeout (seconds)')
    group.add_argument('--ceph-command', help='overrides ceph_command (one command line, e.g. '
                                              '"cephadm shell -- ceph")')


def configuration(args):
    """The validated configuration values with the flags applied; ToolError lists every problem."""
    from tripleo_upgrade_libraries import tripleo_config
    values, findings = tripleo_config.load(args.config_dir, overrides={
        'daemon_url': args.daemon_url, 'token_file': args.token_file, 'ca_file': args.ca_file,
        'node_name': args.node, 'request_timeout': args.timeout,
        'ceph_command': getattr(args, 'ceph_command', None)})
    if findings:
        raise ToolError('the tripleo_upgrade configuration cannot be used:\n' + '\n'.join(
            '  - {} {}'.format(f.summary, f.remediation or '') for f in findings))
    return values


def connect(values):
    """A HelperClient from the configuration values; DaemonError when the token cannot be read."""
    from tripleo_upgrade_libraries import tripleo_helper_client
    return tripleo_helper_client.HelperClient.from_config(values)


def fail(prog, message):
    sys.stderr.write('{}: error: {}\n'.format(prog, message))
    return 1
