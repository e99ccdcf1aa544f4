"""The tripleo_upgrade section read from real YAML files, as leapp and the node commands read them."""
import os
import re

import pytest

from tripleo_upgrade_libraries import tripleo_config

TOKEN = 'A' * 43
URL = 'https://undercloud-0.ctlplane.localdomain:8990'


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / 'node-token'
    path.write_text(TOKEN + '\n')
    path.chmod(0o600)
    return str(path)


@pytest.fixture
def conf_dir(tmp_path):
    path = tmp_path / 'actor_conf.d'
    path.mkdir()
    return path


@pytest.fixture
def configure(conf_dir, token_file):
    """Write tripleo_upgrade.yaml with the daemon_url and token_file plus ``extra`` YAML lines; load it."""
    def configure(extra='', name='tripleo_upgrade.yaml'):
        (conf_dir / name).write_text('tripleo_upgrade:\n  daemon_url: {}/\n  token_file: {}\n{}'.format(
            URL, token_file, ''.join('  {}\n'.format(line) for line in extra.splitlines())))
        return tripleo_config.load(str(conf_dir), hostname='controller-0')
    return configure


def only(findings):
    assert len(findings) == 1, [f.summary for f in findings]
    return findings[0]


def test_valid_section_gives_complete_normalised_values(configure):
    values, findings = configure('persist_items: {nova-state: [/var/lib/nova]}')
    assert findings == []
    assert values['daemon_url'] == URL
    assert values['node_name'] == 'controller-0'
    assert values['restore_mode'] == 'missing-only'
    assert values['request_timeout'] == 60.0
    assert values['persist_items'] == {'nova-state': ['/var/lib/nova']}
    assert set(values) == set(tripleo_config.DEFAULTS)


@pytest.mark.parametrize('line', ['ca_file:', 'remove_packages:', 'install_packages:', 'node_name:'])
def test_a_key_written_without_a_value_takes_its_default(configure, line):
    values, findings = configure(line)
    assert findings == []
    key = line.rstrip(':')
    assert values[key] == ('controller-0' if key == 'node_name' else tripleo_config.DEFAULTS[key])


@pytest.mark.parametrize('line, expected, hint', [
    ('compression: off', "False is not one of none, zstd, auto (YAML reads an unquoted off/no/on/yes as a boolean)",
     'quoted'),
    ('node_name: 12345', '12345 is not a node name', 'in quotes'),
    ('node_name: 2024-01-01', 'datetime.date(2024, 1, 1) is a date, which leapp cannot store', 'quote the value'),
    ('request_timeout: soon', "'soon' is not a number of seconds", 'for example 60'),
])
def test_a_value_of_the_wrong_type_is_a_finding_not_a_traceback(configure, conf_dir, line, expected, hint):
    values, findings = configure(line)
    finding = only(findings)
    assert values is None and finding.inhibitor
    assert finding.key == 'tripleo_upgrade.config.' + line.split(':')[0]
    assert expected in finding.summary
    assert 'set in {}'.format(conf_dir / 'tripleo_upgrade.yaml') in finding.summary
    assert hint in finding.remediation
    assert finding.resources == (('file', str(conf_dir / 'tripleo_upgrade.yaml')),)


def test_a_misspelt_key_is_reported_with_the_key_it_resembles(configure, conf_dir):
    values, findings = configure('restore_mod: always')
    finding = only(findings)
    assert values is None
    assert finding.key == 'tripleo_upgrade.config.unknown_key'
    assert 'tripleo_upgrade.restore_mod' in finding.summary
    assert str(conf_dir / 'tripleo_upgrade.yaml') in finding.summary
    assert 'did you mean restore_mode?' in finding.remediation


def test_a_section_split_over_two_files_is_reported_naming_both(configure, conf_dir):
    (conf_dir / 'zz-site.yaml').write_text('tripleo_upgrade:\n  restore_mode: sometimes\n')
    _, findings = configure()
    finding, value_finding = findings
    assert finding.key == 'tripleo_upgrade.config.file'
    assert str(conf_dir / 'zz-site.yaml') in finding.summary
    assert "'sometimes' is not one of" in value_finding.summary
    assert 'that {} sets already'.format(conf_dir / 'tripleo_upgrade.yaml') in finding.summary
    assert 'keep the whole tripleo_upgrade section in one file' in finding.remediation


@pytest.mark.parametrize('text, expected', [
    ('# tripleo_upgrade:\n#   daemon_url: x\n', 'holds nothing (empty, or every line commented out)'),
    ('', 'holds nothing'),
    ('- a\n- b\n', 'is not a mapping'),
    ('tripleo_upgrade: [\n', 'is not valid YAML'),
])
def test_a_file_that_stops_leapps_loader_is_reported(configure, conf_dir, text, expected):
    (conf_dir / 'zz-example.yaml').write_text(text)
    _, findings = configure()
    finding = only(findings)
    assert finding.key == 'tripleo_upgrade.config.file'
    assert finding.summary.startswith(str(conf_dir / 'zz-example.yaml'))
    assert expected in finding.summary


def test_a_file_not_ending_in_yaml_is_not_read(configure, conf_dir):
    (conf_dir / 'tripleo_upgrade.yaml.example').write_text('# every key commented out\n')
    assert configure()[1] == []


def test_an_empty_section_is_reported(conf_dir):
    (conf_dir / 'tripleo_upgrade.yaml').write_text('tripleo_upgrade:\n')
    _, findings = tripleo_config.load(str(conf_dir))
    assert any('section is not a mapping' in f.summary for f in findings)


def test_missing_daemon_url_is_an_inhibitor_that_says_no_file_sets_it(conf_dir, token_file):
    (conf_dir / 'tripleo_upgrade.yaml').write_text('tripleo_upgrade:\n  token_file: {}\n'.format(token_file))
    values, findings = tripleo_config.load(str(conf_dir))
    finding = only(findings)
    assert values is None and finding.inhibitor
    assert finding.key == 'tripleo_upgrade.config.daemon_url'
    assert 'not set in any *.yaml file of {}'.format(conf_dir) in finding.summary


def test_flags_override_the_files_and_an_absent_flag_changes_nothing(configure, conf_dir):
    configure('node_name: controller-1')
    values, findings = tripleo_config.load(str(conf_dir), overrides={'node_name': 'compute-3', 'daemon_url': None})
    assert findings == []
    assert (values['node_name'], values['daemon_url']) == ('compute-3', URL)


def test_every_wrong_key_is_reported_not_only_the_first(configure):
    _, findings = configure('node_name: bad name\nrequest_timeout: soon\ncompression: gzip\nrestore_mode: sometimes')
    assert sorted(f.key.rsplit('.', 1)[1] for f in findings) == [
        'compression', 'node_name', 'request_timeout', 'restore_mode']


@pytest.mark.parametrize('mode, content, expected', [
    (0o644, TOKEN, 'has mode 0644: other users can read'),
    (0o600, 'not a token', 'does not hold a token'),
    (0o600, '', 'does not hold a token'),
    (0o600, TOKEN + '\nsecond line', 'does not hold a token'),
])
def test_token_file_problems(tmp_path, conf_dir, mode, content, expected):
    path = tmp_path / 'token'
    path.write_text(content)
    path.chmod(mode)
    _, findings = tripleo_config.load(str(conf_dir), overrides={'daemon_url': URL, 'token_file': str(path)})
    finding = only(findings)
    assert finding.key == 'tripleo_upgrade.config.token_file'
    assert expected in finding.summary


def test_missing_token_file_says_where_to_put_it(tmp_path, conf_dir):
    _, findings = tripleo_config.load(str(conf_dir), overrides={'daemon_url': URL,
                                                                'token_file': str(tmp_path / 'absent')})
    finding = only(findings)
    assert 'No such file or directory' in finding.summary
    assert 'nodes import' in finding.remediation


def test_ca_file_must_exist_and_goes_with_https(configure, tmp_path):
    _, findings = configure('ca_file: {}'.format(tmp_path / 'ca.pem'))
    assert 'does not exist' in only(findings).summary
    (tmp_path / 'ca.pem').write_text('-----BEGIN CERTIFICATE-----\n')
    _, findings = configure('ca_file: {}\ndaemon_url: http://uc:8990'.format(tmp_path / 'ca.pem'),
                            name='tripleo_upgrade.yaml')
    assert any('plain http://' in f.summary for f in findings)


@pytest.mark.parametrize('items, expected', [
    ('nova', 'expected a mapping'),
    ('{Nova: [/var/lib/nova]}', "item name 'Nova' is not valid"),
    ('{"mysql\\n": [/var/lib/mysql]}', "item name 'mysql\\n' is not valid"),
    ('{nova: []}', 'non-empty list of absolute paths'),
    ('{nova: [var/lib/nova]}', 'non-empty list of absolute paths'),
])
def test_persist_items_shape(configure, items, expected):
    _, findings = configure('persist_items: ' + items)
    assert expected in only(findings).summary


def test_repositories_take_the_options_a_satellite_or_mirror_needs(configure):
    # Block style: RHEL 8's PyYAML 3.12 refuses an unquoted URL inside [...] or {...}.
    values, findings = configure(
        'target_repositories:\n'
        '  - id: rhel-9-baseos\n    name: RHEL 9 BaseOS\n    baseurl:\n      - https://sat/BaseOS\n'
        '      - https://mirror/BaseOS\n'
        '    gpgcheck: true\n    gpgkey: file:///etc/pki/rpm-gpg/RPM-GPG-KEY-redhat-release\n    sslverify: true\n'
        '    sslcacert: /etc/rhsm/ca/katello-server-ca.pem\n    sslclientcert: /etc/pki/entitlement/1.pem\n'
        '    sslclientkey: /etc/pki/entitlement/1-key.pem\n    proxy: http://proxy:3128\n    proxy_username: u\n'
        '    proxy_password: p\n    priority: 10\n    module_hotfixes: true\n    skip_if_unavailable: false\n'
        '  - id: rhosp-17.1\n    mirrorlist: https://mirror/osp17.1/mirrors')
    assert findings == []
    assert [r['id'] for r in values['target_repositories']] == ['rhel-9-baseos', 'rhosp-17.1']


@pytest.mark.parametrize('repos, expected', [
    ('{id: x}', 'expected a list of repositories'),
    ('[{id: rhel-9, name: RHEL 9}]', "repository 'rhel-9': no baseurl, mirrorlist or metalink"),
    ('[{id: a, baseurl: "http://m/a"}, {id: a, baseurl: "http://m/b"}]', "id 'a' appears twice"),
    ('[{id: a, baseurl: "http://m/a", gpg_key: k}]', 'unknown option(s) gpg_key'),
    ('[{id: a, baseurl: "http://m/a", gpgcheck: "1"}]', "gpgcheck is '1', not true or false"),
    ('[{id: a, baseurl: "http://m/a", priority: 0}]', 'priority is 0, not a whole number from 1 to 99'),
    ('[{id: a, baseurl: "http://m/a", sslcacert: ca.pem}]', "sslcacert is 'ca.pem', not an absolute path"),
    ('[{id: a, baseurl: "http://m/a", name: "A\\n[other]\\nbaseurl=http://evil"}]', 'not text on one line'),
    ('[{id: a, baseurl: "http://m/a\\ngpgcheck=0"}]', 'not a URL'),
    ('[{id: "a]\\n[b", baseurl: "http://m/a"}]', 'is not a repository id'),
])
def test_target_repositories_shape(configure, repos, expected):
    _, findings = configure('target_repositories: ' + repos)
    assert expected in only(findings).summary


def test_names_are_full_matches():
    assert tripleo_config.is_item_name('mysql') and not tripleo_config.is_item_name('mysql\n')
    assert tripleo_config.is_node_name('controller-0') and not tripleo_config.is_node_name('controller-0\n')


def test_the_config_dir_is_the_one_leapp_conf_names(tmp_path):
    conf = tmp_path / 'leapp.conf'
    conf.write_text('[repositories]\nrepo_path=/etc/leapp/repos.d/\n\n[actor_config]\npath=/srv/leapp/conf.d/\n')
    assert tripleo_config.leapp_config_dir(str(conf)) == '/srv/leapp/conf.d'
    assert tripleo_config.leapp_config_dir(str(tmp_path / 'absent.conf')) == tripleo_config.DEFAULT_CONFIG_DIR


def test_a_framework_without_actor_configuration_is_one_clear_inhibitor():
    finding = tripleo_config.unsupported_framework('0.17.0')
    assert finding.inhibitor and finding.key == 'tripleo_upgrade.config.framework'
    assert 'leapp 0.17.0 has no actor configuration' in finding.summary and '0.19 or newer' in finding.summary


def test_the_packaged_example_is_a_valid_section_on_this_python(tmp_path, token_file):
    """The example an operator uncomments must load with the node's own PyYAML (3.12 on RHEL 8)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, 'packaging', 'tripleo_upgrade.yaml')) as f:
        lines = [re.sub(r'^# ?', '', line) for line in f.read().splitlines()
                 if re.match(r'^# ?(tripleo_upgrade:|  )', line)]
    conf_dir = tmp_path / 'example'
    conf_dir.mkdir()
    (conf_dir / 'tripleo_upgrade.yaml').write_text('\n'.join(lines) + '\n')
    _, findings = tripleo_config.load(str(conf_dir), overrides={'token_file': token_file, 'ca_file': ''})
    assert findings == []


@pytest.mark.parametrize('line, argv', [
    ('ceph_command: [podman, exec, ceph-mon-controller-0, ceph]', ['podman', 'exec', 'ceph-mon-controller-0', 'ceph']),
    ('ceph_command: "cephadm shell -- ceph"', ['cephadm', 'shell', '--', 'ceph']),
    ('ceph_command: "/usr/bin/ceph --cluster \'ceph\'"', ['/usr/bin/ceph', '--cluster', 'ceph']),
    ('ceph_command:', []),
])
def test_ceph_command_is_an_argv_prefix(configure, line, argv):
    values, findings = configure(line)
    assert findings == []
    assert values['ceph_command'] == argv


@pytest.mark.parametrize('line, expected', [
    ('ceph_command: "podman exec \'ceph-mon"', 'cannot be split into a command and its arguments'),
    ('ceph_command: [podman, "", ceph]', 'every word must be non-empty text on one line'),
    ('ceph_command: {podman: exec}', 'is neither a command line nor a list of its words'),
    ('ceph_command: "--cluster ceph"', 'starts with an option, not the program to run'),
    ('ceph_command: "bin/ceph"', 'the program bin/ceph is a relative path'),
    ('ceph_command: "cephadm shell -- ceph osd"', "ends with the ceph subcommand 'osd'"),
])
def test_a_bad_ceph_command_names_the_key_and_what_to_write(configure, conf_dir, line, expected):
    values, findings = configure(line)
    assert values is None
    finding = only(findings)
    assert finding.key == 'tripleo_upgrade.config.ceph_command'
    assert expected in finding.summary
    assert 'cephadm shell -- ceph' in finding.remediation
    assert str(conf_dir / 'tripleo_upgrade.yaml') in finding.summary
