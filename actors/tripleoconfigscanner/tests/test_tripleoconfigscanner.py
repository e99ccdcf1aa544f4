"""
The config scanner with the configuration loaded by leapp's own loader from real YAML files, as
`leapp upgrade` loads it (leapp.conf's [actor_config] path, every *.yaml file there).
"""
import pytest

from leapp import config as leapp_config
from leapp.actors import config as actor_config
from leapp.configs.common.tripleo_upgrade import TRIPLEO_UPGRADE_CONFIG
from leapp.models import TripleoUpgradeConfig
from leapp.reporting import Report
from leapp.utils.report import is_inhibitor


@pytest.fixture
def conf_dir(tmp_path, monkeypatch):
    """An actor configuration directory that leapp.conf names ([actor_config] path), as on a node."""
    path = tmp_path / 'srv-actor-conf'
    path.mkdir()
    framework = leapp_config.get_config()
    had_section = framework.has_section('actor_config')
    if not had_section:
        framework.add_section('actor_config')
    before = framework.get('actor_config', 'path') if framework.has_option('actor_config', 'path') else None
    framework.set('actor_config', 'path', '{}/'.format(path))
    monkeypatch.setattr(actor_config, '_ACTOR_CONFIG', None)
    yield path
    if not had_section:
        framework.remove_section('actor_config')
    elif before is not None:
        framework.set('actor_config', 'path', before)


def leapp_loads(conf_dir):
    """What `leapp upgrade` does before any actor runs (command_utils.load_actor_configs_and_store_it_in_db)."""
    actor_config.load(str(conf_dir), actor_config.normalize_schemas([TRIPLEO_UPGRADE_CONFIG]))


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / 'node-token'
    path.write_text('b' * 43 + '\n')
    path.chmod(0o600)
    return str(path)


def configure(conf_dir, token_file, *lines):
    (conf_dir / 'tripleo_upgrade.yaml').write_text(
        'tripleo_upgrade:\n  daemon_url: https://undercloud-0.ctlplane.localdomain:8990\n  token_file: {}\n{}'.format(
            token_file, ''.join('  {}\n'.format(line) for line in lines)))
    leapp_loads(conf_dir)


def test_valid_configuration_produces_the_model(current_actor_context, conf_dir, token_file):
    configure(conf_dir, token_file, 'node_name: controller-0', 'remove_packages: ["*el8ost*"]',
              'persist_items: {nova-state: [/var/lib/nova]}')
    current_actor_context.run()
    [config] = current_actor_context.consume(TripleoUpgradeConfig)
    assert config.values['daemon_url'] == 'https://undercloud-0.ctlplane.localdomain:8990'
    assert config.values['node_name'] == 'controller-0'
    assert config.values['remove_packages'] == ['*el8ost*']
    assert config.values['persist_items'] == {'nova-state': ['/var/lib/nova']}
    assert config.config_dir == str(conf_dir)
    assert not current_actor_context.consume(Report)


@pytest.mark.parametrize('line', ['ca_file:', 'remove_packages:'])
def test_a_key_without_a_value_loads_and_takes_its_default(current_actor_context, conf_dir, token_file, line):
    configure(conf_dir, token_file, line)
    current_actor_context.run()
    [config] = current_actor_context.consume(TripleoUpgradeConfig)
    assert config.values['ca_file'] == '' and config.values['remove_packages'] == []


@pytest.mark.parametrize('line, key, expected', [
    ('compression: off', 'compression', 'False is not one of none, zstd, auto'),
    ('node_name: 12345', 'node_name', '12345 is not a node name'),
    ('daemon_url: undercloud-0:8990', 'daemon_url', "'undercloud-0:8990' is not an http:// or https:// URL"),
])
def test_a_wrong_value_loads_and_is_an_inhibitor_naming_key_and_file(current_actor_context, conf_dir, token_file,
                                                                     line, key, expected):
    configure(conf_dir, token_file, line)
    current_actor_context.run()
    assert not current_actor_context.consume(TripleoUpgradeConfig)
    [report] = current_actor_context.consume(Report)
    assert is_inhibitor(report.report)
    assert report.report['key'] == 'tripleo_upgrade.config.' + key
    assert expected in report.report['summary']
    assert str(conf_dir / 'tripleo_upgrade.yaml') in report.report['summary']
    resource = {'scheme': 'file', 'title': str(conf_dir / 'tripleo_upgrade.yaml')}
    assert resource in report.report['detail']['related_resources']


def test_a_misspelt_key_that_leapp_drops_is_an_inhibitor(current_actor_context, conf_dir, token_file):
    configure(conf_dir, token_file, 'restore_mod: always')
    assert 'restore_mod' not in actor_config.retrieve_config(TRIPLEO_UPGRADE_CONFIG)['tripleo_upgrade']
    current_actor_context.run()
    [report] = current_actor_context.consume(Report)
    assert is_inhibitor(report.report)
    assert report.report['key'] == 'tripleo_upgrade.config.unknown_key'
    assert 'did you mean restore_mode?' in report.report['detail']['remediations'][0]['context']


def test_leapps_loader_fails_on_a_split_section_and_the_config_check_says_why(conf_dir, token_file):
    from leapp.libraries.common import tripleo_config
    (conf_dir / 'zz-site.yaml').write_text('tripleo_upgrade:\n  restore_mode: always\n')
    with pytest.raises(ValueError):
        configure(conf_dir, token_file)
    _, findings = tripleo_config.load(str(conf_dir))
    assert [f.key for f in findings] == ['tripleo_upgrade.config.file']
    assert 'leapp cannot merge a section split over two files' in findings[0].summary


def test_a_framework_without_actor_configuration_is_an_inhibitor_not_a_traceback(current_actor_context, conf_dir,
                                                                                 token_file, monkeypatch):
    from leapp.actors import Actor
    configure(conf_dir, token_file)
    initialise = Actor.__init__

    def without_config(self, *args, **kwargs):  # as on leapp < 0.19, whose actors have no config
        initialise(self, *args, **kwargs)
        del self.config
    monkeypatch.setattr(Actor, '__init__', without_config)
    current_actor_context.run()
    [report] = current_actor_context.consume(Report)
    assert is_inhibitor(report.report) and report.report['key'] == 'tripleo_upgrade.config.framework'
    assert not current_actor_context.consume(TripleoUpgradeConfig)
