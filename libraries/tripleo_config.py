"""
The ``tripleo_upgrade`` section of Leapp's actor configuration: defaults, validation, and
where an operator finds a wrong value.

Leapp reads the section from ``/etc/leapp/actor_conf.d/*.yaml`` and checks the basic types;
everything else is checked here, and every problem names the key and the file that set it.
"""
import os
import re
import stat

from urllib.parse import urlsplit

from . import tripleo_findings
from .tripleo_archive import COMPRESSIONS

SECTION = 'tripleo_upgrade'
CONFIG_DIR = '/etc/leapp/actor_conf.d'

NODE_NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$')
ITEM_NAME_RE = re.compile(r'^[a-z0-9][a-z0-9_.-]{0,63}$')
REPO_ID_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.:-]*$')
TOKEN_RE = re.compile(r'^[A-Za-z0-9_-]{32,256}$')

RESTORE_MODES = ('missing-only', 'always')

# key -> default. The Leapp schema (configs/tripleo_upgrade.py) and the model share these names.
DEFAULTS = {
    'daemon_url': '',
    'token_file': '/etc/tripleo-upgrade/node-token',
    'ca_file': '',
    'node_name': '',
    'request_timeout': 60,
    'persist_items': {},
    'persist_dropin_dir': '/etc/tripleo-upgrade/persist.d',
    'compression': 'none',
    'restore_mode': 'missing-only',
    'target_repositories': [],
    'remove_packages': [],
    'install_packages': [],
}


class ConfigProblem(object):
    def __init__(self, key, message, remediation):
        self.key = key
        self.message = message
        self.remediation = remediation

    def __repr__(self):
        return 'ConfigProblem({!r}, {!r})'.format(self.key, self.message)


def validate(section, config_dir=None):
    """
    Check the values of the ``tripleo_upgrade`` section.

    :param section: the section as leapp loaded it (missing keys take their defaults)
    :param config_dir: where the operator's YAML files are, to name the file in problems
                       (default: CONFIG_DIR)
    :return: (values, findings): the complete, normalised values when there is no problem
             (else None), and one inhibiting Finding per problem
    """
    config_dir = config_dir or CONFIG_DIR
    values = dict(DEFAULTS)
    values.update(section or {})
    problems = []
    for key in sorted(DEFAULTS):
        for message, remediation in _CHECKS[key](values[key], values):
            problems.append(ConfigProblem(key, message, remediation))
    findings = [_finding(problem, config_dir) for problem in problems]
    if findings:
        return None, findings
    return _normalised(values), []


def defining_file(config_dir, key):
    """The last YAML file in config_dir that sets ``tripleo_upgrade.<key>`` (the one leapp uses), or None."""
    try:
        names = sorted(n for n in os.listdir(config_dir) if n.endswith('.yaml'))
    except OSError:
        return None
    found = None
    for name in names:
        path = os.path.join(config_dir, name)
        try:
            with open(path) as f:
                text = f.read()
        except (OSError, IOError):
            continue
        if _section_sets_key(text, key):
            found = path
    return found


def _section_sets_key(text, key):
    in_section = False
    key_re = re.compile(r'^\s+["\']?' + re.escape(key) + r'["\']?\s*:')
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith('#'):
            continue
        if not line[0].isspace():
            in_section = re.match(r'^["\']?' + SECTION + r'["\']?\s*:', line) is not None
            continue
        if in_section and key_re.match(line):
            return True
    return False


def _finding(problem, config_dir):
    path = defining_file(config_dir, problem.key)
    where = ('set in {}'.format(path) if path else
             'not set in any *.yaml file of {}, so the default applies'.format(config_dir))
    return tripleo_findings.Finding(
        key='tripleo_upgrade.config.{}'.format(problem.key),
        title='TripleO upgrade configuration: {}.{} is not valid'.format(SECTION, problem.key),
        summary='{}.{} ({}): {}'.format(SECTION, problem.key, where, problem.message),
        severity='high',
        inhibitor=True,
        remediation='Edit {} and fix {}.{}: {}'.format(path or os.path.join(config_dir, 'tripleo_upgrade.yaml'),
                                                       SECTION, problem.key, problem.remediation),
        groups=('UPGRADE_PROCESS', 'SANITY'),
    )


def _normalised(values):
    values = dict(values)
    values['daemon_url'] = values['daemon_url'].rstrip('/')
    values['request_timeout'] = float(values['request_timeout'])
    values['persist_items'] = dict((k, list(v)) for k, v in values['persist_items'].items())
    return values


def _is_text(value):
    return isinstance(value, str)


def _check_daemon_url(value, values):
    if not _is_text(value) or not value:
        yield ('it is empty; the node cannot reach the undercloud helper daemon',
               'set it to the daemon URL, for example https://undercloud.ctlplane.localdomain:8990')
        return
    parts = urlsplit(value)
    if parts.scheme not in ('http', 'https') or not parts.hostname:
        yield ('{!r} is not an http:// or https:// URL with a host'.format(value),
               'use the form https://HOST:PORT')
    elif parts.query or parts.fragment:
        yield ('{!r} has a query or fragment, which the daemon API does not take'.format(value),
               'remove everything after the host, port and optional path')


def _check_absolute_path(value, what):
    if not _is_text(value) or not value.startswith('/'):
        yield ('{!r} is not an absolute path'.format(value), 'give the absolute path of {}'.format(what))


def _check_token_file(value, values):
    problems = list(_check_absolute_path(value, 'the file holding this node\'s token'))
    if problems:
        for p in problems:
            yield p
        return
    try:
        st = os.stat(value)
    except OSError as exc:
        yield ('cannot read {}: {}'.format(value, exc.strerror),
               'copy the token that `tripleo-upgrade-helper nodes import` issued for this node to {} '
               '(mode 0600, owner root)'.format(value))
        return
    if not stat.S_ISREG(st.st_mode):
        yield ('{} is not a regular file'.format(value), 'put the node token in a regular file')
        return
    if st.st_mode & 0o077:
        yield ('{} has mode {:04o}: other users can read this node\'s token'.format(value, stat.S_IMODE(st.st_mode)),
               'run `chmod 0600 {}` (and make sure it belongs to root)'.format(value))
        return
    try:
        with open(value) as f:
            token = f.read().strip()
    except (OSError, IOError) as exc:
        yield ('cannot read {}: {}'.format(value, exc.strerror), 'make the file readable by root')
        return
    if not TOKEN_RE.match(token):
        yield ('{} does not hold a token (expected 32 to 256 characters of A-Z a-z 0-9 _ -)'.format(value),
               'write the token the daemon issued for this node into the file, alone on one line')


def _check_ca_file(value, values):
    if value == '':
        return
    for p in _check_absolute_path(value, 'the CA bundle that signed the daemon certificate'):
        yield p
        return
    if not os.path.isfile(value):
        yield ('{} does not exist or is not a file'.format(value),
               'copy the CA certificate (PEM) that signed the daemon certificate to {}'.format(value))
    elif values.get('daemon_url', '').startswith('http://'):
        yield ('a CA file is set but daemon_url uses plain http://, so the CA would not be used',
               'use https:// in daemon_url, or leave ca_file empty')


def _check_node_name(value, values):
    if value == '':
        return
    if not _is_text(value) or not NODE_NAME_RE.match(value):
        yield ('{!r} is not a node name (letters, digits, dots and dashes, at most 253)'.format(value),
               'use the short host name the node has in the TripleO inventory, or leave it empty')


def _check_request_timeout(value, values):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 3600:
        yield ('{!r} is not a number of seconds between 0 and 3600'.format(value), 'use for example 60')


def _check_persist_items(value, values):
    if not isinstance(value, dict):
        yield ('expected a mapping of item name to a list of absolute paths, got {!r}'.format(value),
               'use for example {"nova-state": ["/var/lib/nova"]}')
        return
    for problem in persist_items_problems(value):
        yield problem


def persist_items_problems(items):
    """(problem, remediation) for every bad name or path list in an item -> [absolute paths] mapping."""
    problems = []
    for item in sorted(items, key=str):
        paths = items[item]
        if not _is_text(item) or not ITEM_NAME_RE.match(item):
            problems.append(('item name {!r} is not valid (lower-case letters, digits, _ . -, at most 64)'.format(
                item), 'rename the item'))
        if not isinstance(paths, list) or not paths or not all(_is_text(p) and p.startswith('/') for p in paths):
            problems.append(('item {!r} needs a non-empty list of absolute paths, not {!r}'.format(item, paths),
                             'list the absolute paths to persist for {!r}'.format(item)))
    return problems


def _check_dropin_dir(value, values):
    return _check_absolute_path(value, 'the directory of persist drop-in files')


def _check_choice(choices):
    def check(value, values):
        if value not in choices:
            yield ('{!r} is not one of {}'.format(value, ', '.join(choices)),
                   'use one of {}'.format(', '.join(choices)))
    return check


def _check_repositories(value, values):
    if not isinstance(value, list):
        yield ('expected a list of repositories, each with id, name and baseurl, got {!r}'.format(value),
               'use for example [{"id": "rhosp-17.1", "name": "OpenStack 17.1", "baseurl": "http://..."}]')
        return
    seen = set()
    for index, repo in enumerate(value):
        label = 'repository #{}'.format(index + 1)
        if not isinstance(repo, dict):
            yield ('{}: expected a mapping with id, name and baseurl, got {!r}'.format(label, repo),
                   'give id, name and baseurl for every repository')
            continue
        repo_id = repo.get('id')
        if not _is_text(repo_id) or not REPO_ID_RE.match(repo_id):
            yield ('{}: id {!r} is not a repository id'.format(label, repo_id),
                   'give every repository an id of letters, digits and _ . : -')
        elif repo_id in seen:
            yield ('{}: id {!r} appears twice'.format(label, repo_id), 'give every repository its own id')
        else:
            seen.add(repo_id)
            label = 'repository {!r}'.format(repo_id)
        baseurl = repo.get('baseurl')
        if not _is_text(baseurl) or urlsplit(baseurl).scheme not in ('http', 'https', 'ftp', 'file'):
            yield ('{}: baseurl {!r} is missing or not a URL'.format(label, baseurl),
                   'give the baseurl of the repository (http://, https://, ftp:// or file://)')
        unknown = sorted(set(repo) - {'id', 'name', 'baseurl'})
        if unknown:
            yield ('{}: unknown field(s) {}'.format(label, ', '.join(map(str, unknown))),
                   'use only id, name and baseurl')


def _check_package_list(value, values):
    if not isinstance(value, list) or not all(_is_text(v) and v.strip() == v and v for v in value):
        yield ('expected a list of package names or patterns, got {!r}'.format(value),
               'use for example ["*el8ost*"]')


_CHECKS = {
    'daemon_url': _check_daemon_url,
    'token_file': _check_token_file,
    'ca_file': _check_ca_file,
    'node_name': _check_node_name,
    'request_timeout': _check_request_timeout,
    'persist_items': _check_persist_items,
    'persist_dropin_dir': _check_dropin_dir,
    'compression': _check_choice(COMPRESSIONS),
    'restore_mode': _check_choice(RESTORE_MODES),
    'target_repositories': _check_repositories,
    'remove_packages': _check_package_list,
    'install_packages': _check_package_list,
}
