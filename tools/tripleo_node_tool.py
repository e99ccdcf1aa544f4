"""
Shared by the node commands in this directory (tripleo-transfer-pull, tripleo-upgrade-restore,
tripleo-upgrade-complete): they run from the installed leapp repository, outside leapp, and load
its sibling libraries/ directory as a package, the way the repository's conftest.py does.
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


def add_daemon_arguments(parser, timeout=60.0):
    """The flags that mirror the tripleo_upgrade actor configuration of the node."""
    parser.add_argument('--daemon-url', required=True, help='daemon_url of the tripleo_upgrade config')
    parser.add_argument('--token-file', required=True, help='token_file of the tripleo_upgrade config')
    parser.add_argument('--ca-file', help='ca_file of the tripleo_upgrade config')
    parser.add_argument('--node', default='', help="this node's name at the daemon (default: the short host name)")
    parser.add_argument('--timeout', type=float, default=timeout, help='network timeout in seconds')


def connect(args):
    """A HelperClient from the parsed flags; raises DaemonError when the token cannot be read."""
    from tripleo_upgrade_libraries import tripleo_helper_client
    return tripleo_helper_client.HelperClient.from_config({
        'daemon_url': args.daemon_url, 'token_file': args.token_file, 'ca_file': args.ca_file,
        'request_timeout': args.timeout})
