import pytest

from leapp.actors import config as actor_config
from leapp.configs.common.tripleo_upgrade import TRIPLEO_UPGRADE_CONFIG
from leapp.libraries.common import tripleo_config
from leapp.models import TripleoUpgradeConfig
from leapp.reporting import Report
from leapp.utils.report import is_inhibitor


@pytest.fixture
def actor_conf_dir(tmp_path, monkeypatch):
    """A real actor_conf.d loaded by leapp's own config loader, as `leapp upgrade` does."""
    conf_dir = tmp_path / 'actor_conf.d'
    conf_dir.mkdir()
    monkeypatch.setattr(tripleo_config, 'CONFIG_DIR', str(conf_dir))

    def load(text):
        (conf_dir / 'tripleo_upgrade.yaml').write_text(text)
        monkeypatch.setattr(actor_config, '_ACTOR_CONFIG', None)
        actor_config.load(str(conf_dir), actor_config.normalize_schemas([TRIPLEO_UPGRADE_CONFIG]))
    return load


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / 'node-token'
    path.write_text('b' * 43 + '\n')
    path.chmod(0o600)
    return str(path)


def test_valid_configuration_produces_the_model(current_actor_context, actor_conf_dir, token_file):
    actor_conf_dir('tripleo_upgrade:\n'
                   '  daemon_url: https://undercloud-0.ctlplane.localdomain:8990\n'
                   '  token_file: {}\n'
                   '  remove_packages: ["*el8ost*"]\n'
                   '  persist_items: {{nova-state: [/var/lib/nova]}}\n'.format(token_file))
    current_actor_context.run()
    [config] = current_actor_context.consume(TripleoUpgradeConfig)
    assert config.daemon_url == 'https://undercloud-0.ctlplane.localdomain:8990'
    assert config.remove_packages == ['*el8ost*']
    assert config.persist_items == {'nova-state': ['/var/lib/nova']}
    assert not current_actor_context.consume(Report)


def test_invalid_value_is_an_inhibitor_naming_key_and_file(current_actor_context, actor_conf_dir, token_file):
    actor_conf_dir('tripleo_upgrade:\n'
                   '  daemon_url: undercloud-0:8990\n'
                   '  token_file: {}\n'.format(token_file))
    current_actor_context.run()
    assert not current_actor_context.consume(TripleoUpgradeConfig)
    [report] = current_actor_context.consume(Report)
    assert is_inhibitor(report.report)
    assert report.report['key'] == 'tripleo_upgrade.config.daemon_url'
    assert 'tripleo_upgrade.yaml' in report.report['summary']
    assert "'undercloud-0:8990' is not an http:// or https:// URL" in report.report['summary']
