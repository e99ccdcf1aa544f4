"""
The ``tripleo_upgrade`` section of Leapp's actor configuration: every key once (``KEYS``: name,
default, meaning, check), how it is read from the YAML files, and where an operator finds a wrong
value.

Leapp reads ``*.yaml`` files of the directory ``[actor_config] path`` of ``/etc/leapp/leapp.conf``
(``/etc/leapp/actor_conf.d`` by default). Its loader has traps this module exists to catch before
they cost an operator a run (checked against leapp 0.19 to 0.21):

- a value of the wrong type for the declared field stops leapp with a traceback before any actor
  runs, so every key is declared to take any YAML value and is checked here instead;
- a misspelt key is dropped silently (leapp's own warning for it never fires), so the files are
  read here too and an unknown key is reported, with the closest known key;
- the same section in two files, a file that holds no mapping (empty, or every line commented out)
  and a section that is not a mapping also stop leapp with a traceback. Leapp fails before our
  actors run, so ``tools/tripleo-upgrade-config-check`` and every node command report them.

Every problem names the key and the file, and says what to write instead.
"""
import datetime
import difflib
import glob
import json
import os
import re
import shlex
import socket
import stat
from collections import namedtuple

from urllib.parse import urlsplit

from . import tripleo_findings
from .tripleo_archive import COMPRESSIONS

SECTION = 'tripleo_upgrade'
LEAPP_CONF = '/etc/leapp/leapp.conf'
DEFAULT_CONFIG_DIR = '/etc/leapp/actor_conf.d'

# Full matches: a trailing newline must not pass (re.match with '$' lets 'mysql\n' through).
NODE_NAME_RE = re.compile(r'[A-Za-z0-9][A-Za-z0-9.-]{0,252}')
ITEM_NAME_RE = re.compile(r'[a-z0-9][a-z0-9_.-]{0,63}')
REPO_ID_RE = re.compile(r'[A-Za-z0-9][A-Za-z0-9_.:-]*')
TOKEN_RE = re.compile(r'[A-Za-z0-9_-]{32,256}')

RESTORE_MODES = ('missing-only', 'always')

Key = namedtuple('Key', ('name', 'default', 'description', 'check'))


def is_node_name(value):
    return _is_text(value) and NODE_NAME_RE.fullmatch(value) is not None


def is_item_name(value):
    return _is_text(value) and ITEM_NAME_RE.fullmatch(value) is not None


def short_host_name():
    return socket.gethostname().split('.')[0]


class ConfigSource(object):
    """
    What the YAML files of a config directory say about the section.

    values:   key -> value, as the files set them (keys the files do not set are absent)
    files:    key -> the file that set it
    problems: (file, message, remediation) for what stops leapp's own loader
    """

    def __init__(self, config_dir, values=None, files=None, problems=()):
        self.config_dir = config_dir
        self.values = values or {}
        self.files = files or {}
        self.problems = list(problems)

    def file_for(self, key):
        return self.files.get(key)


def leapp_config_dir(leapp_conf=LEAPP_CONF):
    """The directory leapp reads actor configuration from: ``[actor_config] path`` of leapp.conf, else the default."""
    import configparser
    parser = configparser.ConfigParser()
    try:
        parser.read(leapp_conf)
        return parser.get('actor_config', 'path', fallback=DEFAULT_CONFIG_DIR).rstrip('/') or DEFAULT_CONFIG_DIR
    except configparser.Error:
        return DEFAULT_CONFIG_DIR


def read_section(config_dir):
    """
    Read every ``*.yaml`` file of ``config_dir`` as leapp does (sorted by name) and return a ConfigSource.

    PyYAML is imported here, not at module level: leapp itself requires it, but the node commands
    that take every value as a flag do not.
    """
    import yaml
    source = ConfigSource(config_dir)
    sections_seen = {}
    paths = sorted(p for p in glob.glob(os.path.join(config_dir, '*')) if p.endswith('.yaml'))
    for path in paths:
        try:
            with open(path) as stream:
                parsed = yaml.safe_load(stream)
        except (IOError, OSError) as exc:
            source.problems.append((path, 'cannot be read: {}'.format(exc.strerror or exc),
                                    'make it readable by root, or remove it'))
            continue
        except yaml.YAMLError as exc:
            source.problems.append((path, 'is not valid YAML, and leapp stops with a traceback on it: {}'.format(
                ' '.join(str(exc).split())), 'fix the YAML syntax at the place named'))
            continue
        if not isinstance(parsed, dict):
            what = 'holds nothing (empty, or every line commented out)' if parsed is None else 'is not a mapping'
            source.problems.append((path, '{}, and leapp stops with a traceback on such a file'.format(what),
                                    'give it at least one section mapping, or rename it so it does not end in '
                                    '.yaml (for example .yaml.example)'))
            continue
        for section, body in parsed.items():
            if section in sections_seen:
                # Reported, and still read on, so that the values are checked as the operator meant them.
                source.problems.append((path, 'sets the section {!r} that {} sets already; leapp cannot merge a '
                                        'section split over two files and stops with a traceback'.format(
                                            section, sections_seen[section]),
                                        'keep the whole {} section in one file'.format(section)))
            sections_seen.setdefault(section, path)
            if section != SECTION:
                continue
            if not isinstance(body, dict):
                source.problems.append((path, 'its {} section is not a mapping of keys to values, and leapp stops '
                                        'with a traceback on it'.format(SECTION),
                                        'write the keys indented under {}:, or remove the empty section'.format(
                                            SECTION)))
                continue
            for key, value in body.items():
                source.values[key] = value
                source.files[key] = path
    return source


def validate(values, source, hostname=None):
    """
    Check the section.

    :param values: the section's key -> value (leapp's loaded section, or ``source.values``); keys it
                   lacks take their defaults
    :param source: ConfigSource of the config directory, to name files and find unknown keys
    :param hostname: this node's short host name, the default node name (None: ask the system)
    :return: (values, findings): the complete, normalised values when there is no problem (else None),
             and one inhibiting Finding per problem
    """
    findings = [_file_finding(path, message, remediation) for path, message, remediation in source.problems]
    for key in sorted(set(source.values) - set(DEFAULTS), key=str):
        findings.append(_unknown_key_finding(key, source))
    merged = dict(DEFAULTS)
    merged.update((k, v) for k, v in (values or {}).items() if k in DEFAULTS)
    for key in KEYS:
        for message, remediation in key.check(merged[key.name], merged):
            findings.append(_value_finding(key.name, message, remediation, source))
    if findings:
        return None, findings
    return _normalised(merged, hostname), []


def load(config_dir=None, overrides=None, hostname=None):
    """
    The node's validated configuration, for commands that run outside leapp.

    :param config_dir: None for the directory leapp reads (leapp_config_dir())
    :param overrides: key -> value given on the command line (None values are ignored)
    :return: (values, findings) as validate()
    """
    source = read_section(config_dir or leapp_config_dir())
    values = dict(source.values)
    values.update((k, v) for k, v in (overrides or {}).items() if v is not None)
    return validate(values, source, hostname)


def unsupported_framework(version):
    """The inhibitor for a leapp framework without actor configuration (older than 0.19)."""
    return tripleo_findings.Finding(
        key='tripleo_upgrade.config.framework',
        title='The leapp framework is too old for the TripleO upgrade repository',
        summary='leapp {} has no actor configuration, which the tripleo_upgrade repository reads its settings '
                'from (daemon URL, token, repositories); it needs the leapp framework 0.19 or newer '
                '(package capability leapp-framework >= 6.0).'.format(version),
        remediation='Update leapp and leapp-repository (`dnf update leapp leapp-upgrade`), then run '
                    '`leapp preupgrade` again.',
        groups=('UPGRADE_PROCESS', 'SANITY'),
        resources=[('package', 'leapp')])


def _is_text(value):
    return isinstance(value, str)


def _edit_hint(source, key):
    return source.file_for(key) or os.path.join(source.config_dir, SECTION + '.yaml')


def _value_finding(key, message, remediation, source):
    path = source.file_for(key)
    where = ('set in {}'.format(path) if path else
             'not set in any *.yaml file of {}, so the default applies'.format(source.config_dir))
    return tripleo_findings.Finding(
        key='tripleo_upgrade.config.{}'.format(key),
        title='TripleO upgrade configuration: {}.{} is not valid'.format(SECTION, key),
        summary='{}.{} ({}): {}'.format(SECTION, key, where, message),
        remediation='Edit {} and fix {}.{}: {}'.format(_edit_hint(source, key), SECTION, key, remediation),
        groups=('UPGRADE_PROCESS', 'SANITY'),
        resources=[('file', path or source.config_dir)])


def _unknown_key_finding(key, source):
    path = source.file_for(key)
    close = difflib.get_close_matches(str(key), list(DEFAULTS), n=1)
    return tripleo_findings.Finding(
        key='tripleo_upgrade.config.unknown_key',
        title='TripleO upgrade configuration: {}.{} is not a known key'.format(SECTION, key),
        summary='{} sets {}.{}, which this repository does not know; leapp ignores it without a word, so the '
                'value meant for it is not used.'.format(path, SECTION, key),
        remediation='Edit {}: {}'.format(path, 'did you mean {}?'.format(close[0]) if close else
                                         'remove it; the known keys are {}'.format(', '.join(sorted(DEFAULTS)))),
        groups=('UPGRADE_PROCESS', 'SANITY'),
        resources=[('file', path)])


def _file_finding(path, message, remediation):
    return tripleo_findings.Finding(
        key='tripleo_upgrade.config.file',
        title='Leapp actor configuration file {} cannot be loaded'.format(os.path.basename(path)),
        summary='{} {}.'.format(path, message),
        remediation='Edit {}: {}.'.format(path, remediation),
        groups=('UPGRADE_PROCESS', 'SANITY'),
        resources=[('file', path)])


def _normalised(values, hostname):
    values = dict(values)
    values['daemon_url'] = values['daemon_url'].rstrip('/')
    values['ca_file'] = values['ca_file'] or ''
    values['node_name'] = values['node_name'] or hostname or short_host_name()
    values['request_timeout'] = float(values['request_timeout'])
    values['persist_items'] = dict((k, list(v)) for k, v in values['persist_items'].items())
    values['target_repositories'] = [dict(r) for r in values['target_repositories']]
    values['remove_packages'] = list(values['remove_packages'] or [])
    values['install_packages'] = list(values['install_packages'] or [])
    values['ceph_command'] = ceph_command_argv(values['ceph_command'])
    return values


def _check_json_storable(value):
    # leapp stores the loaded configuration as JSON: a YAML date or binary value ends the run in a traceback.
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        kind = 'a date' if isinstance(value, (datetime.date, datetime.datetime)) else type(value).__name__
        return [('{!r} is {}, which leapp cannot store'.format(value, kind), 'quote the value')]
    return []


def _checked(check):
    """Every check first refuses what leapp itself cannot store."""
    def run(value, values):
        problems = _check_json_storable(value)
        return problems or list(check(value, values))
    return run


def _check_daemon_url(value, values):
    if not _is_text(value) or not value:
        yield ('{!r}: the node cannot reach the undercloud helper daemon without it'.format(value),
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
    if not _is_text(value) or not value.startswith('/') or '\n' in value:
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
    if not TOKEN_RE.fullmatch(token):
        yield ('{} does not hold a token (expected 32 to 256 characters of A-Z a-z 0-9 _ -)'.format(value),
               'write the token the daemon issued for this node into the file, alone on one line')


def _checked_optional_path(what):
    def check(value, values):
        if value in ('', None):
            return
        for problem in _check_absolute_path(value, what):
            yield problem
    return check


def _check_ca_file(value, values):
    if value in ('', None):
        return
    for p in _check_absolute_path(value, 'the CA bundle that signed the daemon certificate'):
        yield p
        return
    if not os.path.isfile(value):
        yield ('{} does not exist or is not a file'.format(value),
               'copy the CA certificate (PEM) that signed the daemon certificate to {}'.format(value))
    elif _is_text(values.get('daemon_url')) and values['daemon_url'].startswith('http://'):
        yield ('a CA file is set but daemon_url uses plain http://, so the CA would not be used',
               'use https:// in daemon_url, or leave ca_file empty')


def _check_node_name(value, values):
    if value in ('', None):
        return
    if not is_node_name(value):
        yield ('{!r} is not a node name (letters, digits, dots and dashes, at most 253)'.format(value),
               'write the short host name the node has in the TripleO inventory in quotes, or leave it empty')


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
        if not is_item_name(item):
            problems.append(('item name {!r} is not valid (lower-case letters, digits, _ . -, at most 64)'.format(
                item), 'rename the item'))
        if not isinstance(paths, list) or not paths or not all(
                _is_text(p) and p.startswith('/') and '\n' not in p for p in paths):
            problems.append(('item {!r} needs a non-empty list of absolute paths, not {!r}'.format(item, paths),
                             'list the absolute paths to persist for {!r}'.format(item)))
    return problems


def _check_dropin_dir(value, values):
    return _check_absolute_path(value, 'the directory of persist drop-in files')


def _check_choice(choices):
    def check(value, values):
        if value not in choices:
            hint = ' (YAML reads an unquoted off/no/on/yes as a boolean)' if isinstance(value, bool) else ''
            yield ('{!r} is not one of {}{}'.format(value, ', '.join(choices), hint),
                   'use one of {}, quoted'.format(', '.join(choices)))
    return check


# dnf repository options an operator needs for a mirror or a Satellite, by the kind of value they take.
_REPO_URL_LISTS = ('baseurl', 'gpgkey')
_REPO_URLS = ('mirrorlist', 'metalink', 'proxy')
_REPO_BOOLEANS = ('gpgcheck', 'repo_gpgcheck', 'sslverify', 'module_hotfixes', 'skip_if_unavailable')
_REPO_PATHS = ('sslcacert', 'sslclientcert', 'sslclientkey')
_REPO_TEXTS = ('name', 'username', 'password', 'proxy_username', 'proxy_password', 'metadata_expire')
_REPO_NUMBERS = {'priority': (1, 99), 'cost': (0, 1000000), 'timeout': (1, 3600)}
_REPO_NAME_LISTS = ('excludepkgs', 'includepkgs')
REPO_OPTIONS = (('id',) + _REPO_URL_LISTS + _REPO_URLS + _REPO_BOOLEANS + _REPO_PATHS + _REPO_TEXTS
                + tuple(sorted(_REPO_NUMBERS)) + _REPO_NAME_LISTS)
_URL_SCHEMES = ('http', 'https', 'ftp', 'file')


def _is_url(value):
    return _is_text(value) and urlsplit(value).scheme in _URL_SCHEMES and not re.search(r'[\s]', value)


def _is_one_line(value):
    return _is_text(value) and not re.search(r'[\r\n\x00]', value)


def _repository_option_problem(option, value):
    """Why ``value`` is not good for the dnf option ``option``, or None."""
    if option in _REPO_URL_LISTS:
        urls = value if isinstance(value, list) else [value]
        if not urls or not all(_is_url(u) for u in urls):
            return 'a URL (http://, https://, ftp://, file://) or a list of them'
    elif option in _REPO_URLS:
        if not (_is_url(value) or (option == 'proxy' and value == '_none_')):
            return 'a URL (http://, https://, ftp://, file://)' + (' or _none_' if option == 'proxy' else '')
    elif option in _REPO_BOOLEANS:
        if not isinstance(value, bool):
            return 'true or false'
    elif option in _REPO_PATHS:
        if not (_is_one_line(value) and value.startswith('/')):
            return 'an absolute path'
    elif option in _REPO_NUMBERS:
        low, high = _REPO_NUMBERS[option]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return 'a whole number from {} to {}'.format(low, high)
    elif option in _REPO_NAME_LISTS:
        if not isinstance(value, list) or not all(_is_one_line(v) and v.strip() for v in value):
            return 'a list of package names or globs'
    elif option in _REPO_TEXTS:
        if not (_is_one_line(value) or (option == 'metadata_expire' and isinstance(value, int))):
            return 'text on one line'
    return None


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
        if not _is_text(repo_id) or not REPO_ID_RE.fullmatch(repo_id):
            yield ('{}: id {!r} is not a repository id'.format(label, repo_id),
                   'give every repository an id of letters, digits and _ . : -')
        elif repo_id in seen:
            yield ('{}: id {!r} appears twice'.format(label, repo_id), 'give every repository its own id')
        else:
            seen.add(repo_id)
            label = 'repository {!r}'.format(repo_id)
        unknown = sorted(set(repo) - set(REPO_OPTIONS), key=str)
        if unknown:
            yield ('{}: unknown option(s) {}'.format(label, ', '.join(map(str, unknown))),
                   'use only the dnf options {}'.format(', '.join(REPO_OPTIONS)))
        if not any(repo.get(option) for option in ('baseurl', 'mirrorlist', 'metalink')):
            yield ('{}: no baseurl, mirrorlist or metalink'.format(label),
                   'give the baseurl of the repository (http://, https://, ftp:// or file://)')
        for option in REPO_OPTIONS[1:]:
            if option in repo:
                wanted = _repository_option_problem(option, repo[option])
                if wanted:
                    yield ('{}: {} is {!r}, not {}'.format(label, option, repo[option], wanted),
                           'give {} as {}'.format(option, wanted))


def _check_package_list(value, values):
    if value is None:
        return
    if not isinstance(value, list) or not all(_is_one_line(v) and v.strip() == v and v for v in value):
        yield ('expected a list of package names or patterns, got {!r}'.format(value),
               'use for example ["*el8ost*"], or leave it out')


def ceph_command_argv(value):
    """The ceph_command value as an argv prefix: a list as it is, a string split as a shell would; [] when unset."""
    if value in ('', None, []):
        return []
    if _is_text(value):
        return shlex.split(value)
    return [str(v) for v in value]


def _check_ceph_command(value, values):
    if value in ('', None, []):
        return
    example = ('for example ["podman", "exec", "ceph-mon-controller-0", "ceph"], "cephadm shell -- ceph", or '
               'leave it empty on a node without Ceph OSDs')
    if _is_text(value):
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            yield ('{!r} cannot be split into a command and its arguments ({})'.format(value, exc),
                   'fix the quoting, or give the command as a list: ' + example)
            return
    elif isinstance(value, list):
        argv = value
    else:
        yield ('{!r} is neither a command line nor a list of its words'.format(value), 'give it ' + example)
        return
    if not argv or not all(_is_one_line(word) and word for word in argv):
        yield ('{!r} is not a command: every word must be non-empty text on one line'.format(value),
               'give it ' + example)
        return
    if argv[0].startswith('-'):
        yield ('{!r} starts with an option, not the program to run'.format(value), 'give it ' + example)
    elif '/' in argv[0] and not argv[0].startswith('/'):
        yield ('{!r}: the program {} is a relative path'.format(value, argv[0]),
               'name the program by its absolute path or by a name found on PATH; ' + example)
    elif argv[-1] in ('osd', 'set', 'unset', 'quorum_status'):
        yield ('{!r} ends with the ceph subcommand {!r}; it must stop at the ceph program, the node adds '
               '`osd set FLAG` and the like'.format(value, argv[-1]), 'give it ' + example)


KEYS = (
    Key('daemon_url', '', 'URL of the undercloud helper daemon, e.g. https://undercloud-0.ctlplane.localdomain:8990.',
        _check_daemon_url),
    Key('token_file', '/etc/tripleo-upgrade/node-token', 'File with this node\'s token issued by the daemon '
        '(mode 0600).', _check_token_file),
    Key('ca_file', '', 'CA bundle that signed the daemon certificate; empty uses the system trust store.',
        _check_ca_file),
    Key('node_name', '', 'Node name as the daemon knows it; empty means the short host name.', _check_node_name),
    Key('request_timeout', 60, 'Seconds to wait for the daemon to answer one request.', _check_request_timeout),
    Key('persist_items', {}, 'Node data kept across the upgrade: item name -> list of absolute paths.',
        _check_persist_items),
    Key('persist_dropin_dir', '/etc/tripleo-upgrade/persist.d', 'Directory of *.json drop-in files in which '
        'TripleO services declare more items to persist.', _check_dropin_dir),
    Key('compression', 'auto', 'Compression of persisted archives: none, zstd, or auto (zstd where the node has '
        'the zstd binary).', _check_choice(COMPRESSIONS)),
    Key('restore_mode', 'missing-only', 'missing-only (in-place upgrade: restore only what is missing or an empty '
        'directory) or always (replace what is there).', _check_choice(RESTORE_MODES)),
    Key('target_repositories', [], 'Newer OS and OpenStack repositories for the upgrade: a list of mappings with '
        'id and baseurl (or mirrorlist/metalink) and any of the dnf options {}.'.format(
            ', '.join(o for o in REPO_OPTIONS if o not in ('id', 'baseurl'))),
        _check_repositories),
    Key('remove_packages', [], 'Installed packages to remove during the upgrade: names or glob patterns such as '
        '*el8ost*.', _check_package_list),
    Key('install_packages', [], 'Packages to install or keep on the target system.', _check_package_list),
    Key('database_datadir', '', 'Single-controller cloud only (no other node to transfer the database from): the '
        'database datadir, e.g. /var/lib/mysql, that prepare persists, stopped, as the item mysql and the restore '
        'puts back verified through the transfer\'s staging, swap and flag file. Empty: the database moves by a '
        'transfer.', _checked_optional_path('the database datadir')),
    Key('ceph_command', [], 'Nodes hosting Ceph OSDs (ceph-osd@*.service or cephadm\'s ceph-FSID@osd.N.service '
        'units): the command that reaches the cluster, as a list of words or one command line, to which the node '
        'adds ceph\'s arguments (`osd set noout`, `osd dump --format json`, `quorum_status -f json`), e.g. '
        '["podman", "exec", "ceph-mon-controller-0", "ceph"] or "cephadm shell -- ceph". Prepare sets the OSD '
        'flags noout, norecover, nobackfill, norebalance and nodeep-scrub with it before the node goes down; '
        'tripleo-upgrade-complete and tripleo-upgrade-abort unset them. Empty: this node hosts no OSD (a node '
        'with OSD units and no ceph_command is refused by the pre-upgrade checks and by prepare).',
        _check_ceph_command),
)
KEYS = tuple(key._replace(check=_checked(key.check)) for key in KEYS)
DEFAULTS = dict((key.name, key.default) for key in KEYS)
