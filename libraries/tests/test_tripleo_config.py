import pytest

from tripleo_upgrade_libraries import tripleo_config

TOKEN = 'A' * 43


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


def valid_section(token_file, **overrides):
    section = {'daemon_url': 'https://undercloud-0.ctlplane.localdomain:8990/', 'token_file': token_file}
    section.update(overrides)
    return section


def test_valid_section_gives_complete_normalised_values(token_file, conf_dir):
    values, findings = tripleo_config.validate(valid_section(token_file), str(conf_dir))
    assert findings == []
    assert values['daemon_url'] == 'https://undercloud-0.ctlplane.localdomain:8990'
    assert values['restore_mode'] == 'missing-only'
    assert values['request_timeout'] == 60.0
    assert set(values) == set(tripleo_config.DEFAULTS)


def test_missing_daemon_url_is_an_inhibitor_that_says_no_file_sets_it(token_file, conf_dir):
    values, findings = tripleo_config.validate({'token_file': token_file}, str(conf_dir))
    assert values is None
    [finding] = findings
    assert finding.inhibitor
    assert finding.key == 'tripleo_upgrade.config.daemon_url'
    assert 'tripleo_upgrade.daemon_url' in finding.summary
    assert 'not set in any *.yaml file of {}'.format(conf_dir) in finding.summary


def test_wrong_value_names_the_file_that_set_it(token_file, conf_dir):
    (conf_dir / '10-base.yaml').write_text('tripleo_upgrade:\n  restore_mode: always\n')
    (conf_dir / '50-site.yaml').write_text(
        '# site overrides\nother_section:\n  restore_mode: x\ntripleo_upgrade:\n  restore_mode: sometimes\n')
    values, findings = tripleo_config.validate(valid_section(token_file, restore_mode='sometimes'), str(conf_dir))
    [finding] = findings
    assert str(conf_dir / '50-site.yaml') in finding.summary
    assert "'sometimes' is not one of missing-only, always" in finding.summary
    assert finding.remediation.startswith('Edit {}'.format(conf_dir / '50-site.yaml'))


def test_every_wrong_key_is_reported_not_only_the_first(token_file, conf_dir):
    section = valid_section(token_file, daemon_url='ftp://x', node_name='bad name', request_timeout='soon',
                            compression='gzip')
    _, findings = tripleo_config.validate(section, str(conf_dir))
    assert sorted(f.key.rsplit('.', 1)[1] for f in findings) == [
        'compression', 'daemon_url', 'node_name', 'request_timeout']


@pytest.mark.parametrize('mode, content, expected', [
    (0o644, TOKEN, 'has mode 0644: other users can read'),
    (0o600, 'not a token', 'does not hold a token'),
    (0o600, '', 'does not hold a token'),
])
def test_token_file_problems(tmp_path, conf_dir, mode, content, expected):
    path = tmp_path / 'token'
    path.write_text(content)
    path.chmod(mode)
    _, findings = tripleo_config.validate(valid_section(str(path)), str(conf_dir))
    [finding] = findings
    assert finding.key == 'tripleo_upgrade.config.token_file'
    assert expected in finding.summary


def test_missing_token_file_says_where_to_put_it(tmp_path, conf_dir):
    missing = str(tmp_path / 'absent')
    _, findings = tripleo_config.validate(valid_section(missing), str(conf_dir))
    [finding] = findings
    assert 'No such file or directory' in finding.summary
    assert 'nodes import' in finding.summary + finding.remediation


def test_ca_file_must_exist_and_goes_with_https(token_file, tmp_path, conf_dir):
    _, findings = tripleo_config.validate(valid_section(token_file, ca_file=str(tmp_path / 'ca.pem')), str(conf_dir))
    assert 'does not exist' in findings[0].summary
    ca = tmp_path / 'ca.pem'
    ca.write_text('-----BEGIN CERTIFICATE-----\n')
    _, findings = tripleo_config.validate(
        valid_section(token_file, ca_file=str(ca), daemon_url='http://uc:8990'), str(conf_dir))
    assert 'plain http://' in findings[0].summary


@pytest.mark.parametrize('items, expected', [
    ('nova', 'expected a mapping'),
    ({'Nova': ['/var/lib/nova']}, "item name 'Nova' is not valid"),
    ({'nova': []}, 'non-empty list of absolute paths'),
    ({'nova': ['var/lib/nova']}, 'non-empty list of absolute paths'),
])
def test_persist_items_shape(token_file, conf_dir, items, expected):
    _, findings = tripleo_config.validate(valid_section(token_file, persist_items=items), str(conf_dir))
    assert expected in findings[0].summary


@pytest.mark.parametrize('repos, expected', [
    ({'id': 'x'}, 'expected a list of repositories'),
    ([{'id': 'rhel-9', 'name': 'RHEL 9'}], "repository 'rhel-9': baseurl None is missing"),
    ([{'id': 'a', 'baseurl': 'http://m/a'}, {'id': 'a', 'baseurl': 'http://m/b'}], "id 'a' appears twice"),
    ([{'id': 'a', 'baseurl': 'http://m/a', 'gpgkey': 'k'}], 'unknown field(s) gpgkey'),
])
def test_target_repositories_shape(token_file, conf_dir, repos, expected):
    _, findings = tripleo_config.validate(valid_section(token_file, target_repositories=repos), str(conf_dir))
    assert expected in findings[0].summary


def test_defining_file_ignores_unreadable_dir(tmp_path):
    assert tripleo_config.defining_file(str(tmp_path / 'absent'), 'daemon_url') is None
