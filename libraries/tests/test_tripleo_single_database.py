"""A single-controller cloud (database_datadir configured): prepare persists the stopped database as the item
mysql, the restore on the new OS puts it back through the transfer's staging, swap and flag file. Real MariaDB,
the daemon as a process, units on the private D-Bus."""
import json
import os
import shutil
import threading

import pytest

from tripleo_upgrade_libraries import tripleo_config, tripleo_prepare, tripleo_restore, tripleo_transfer
from tripleo_upgrade_libraries.tripleo_helper_client import HelperClient
from tripleo_upgrade_libraries.tripleo_systemd import Systemd

NODE = 'controller-0'
DATASET = ("CREATE DATABASE nova; USE nova; CREATE TABLE instances (id INT PRIMARY KEY, name VARCHAR(64)); "
           "INSERT INTO instances VALUES (1, 'vm-a'), (2, 'vm-b');")


@pytest.fixture
def single_controller(tmp_path, systemd_bus, helper_daemon, mariadb_servers):
    systemd_bus.load([systemd_bus.unit('tripleo_mysql.service'), systemd_bus.unit('tripleo_nova_api.service')])
    client = HelperClient(helper_daemon.url, helper_daemon.add_node(NODE, 'Controller'), retries=0)
    database = mariadb_servers('single')
    database.start().sql(DATASET)
    for name, version in (('old', '8.4'), ('new', '9.2')):
        (tmp_path / ('os-release-' + name)).write_text('NAME="Red Hat Enterprise Linux"\nVERSION_ID="{}"\n'.format(
            version))
    return {'client': client, 'db': database, 'bus': systemd_bus, 'daemon': helper_daemon, 'tmp': tmp_path,
            'record': str(tmp_path / 'prepare-state.json'), 'flags': str(tmp_path / 'flags')}


def _stops_with_its_unit(bus, database):
    """The unit's ExecStop: the server exits when systemd stops tripleo_mysql."""
    def watch():
        while database.running():
            if bus.units()['tripleo_mysql.service']['active_state'] == 'inactive':
                database.stop()
                return
            threading.Event().wait(0.1)
    thread = threading.Thread(target=watch)
    thread.start()
    return thread


def _restore(node):
    return tripleo_restore.restore(node['client'], Systemd(node['bus'].address), NODE, 'missing-only',
                                   state_file=node['record'], os_release_file=str(node['tmp'] / 'os-release-new'),
                                   work_dir=str(node['tmp']), flag_dir=node['flags'])


@pytest.mark.parametrize('compression', ['none', 'zstd'])
def test_the_database_comes_back_verified_on_the_upgraded_node(single_controller, compression):
    node, db = single_controller, single_controller['db']
    expected = db.fingerprint('nova')
    watcher = _stops_with_its_unit(node['bus'], db)
    state = tripleo_prepare.prepare(node['client'], Systemd(node['bus'].address), NODE, {}, compression,
                                    state_file=node['record'], os_release_file=str(node['tmp'] / 'os-release-old'),
                                    database_datadir=db.datadir)
    watcher.join()
    assert state['phase'] == 'prepared' and state['database']['item'] == 'mysql'
    assert state['database']['compression'] == compression
    stored = node['client'].head_item(NODE, 'mysql')
    assert (stored['size'], stored['sha256']) == (state['database']['size'], state['database']['sha256'])
    # The daemon holds the item in the configured encoding (its sha256 is of those bytes).
    listed = {entry['item']: entry for entry in node['client'].list_items(NODE)}
    assert listed['mysql']['encoding'] == ('zstd' if compression == 'zstd' else 'identity')

    # The new OS: the datadir is not what it was (a reinstalled disk holds nothing).
    shutil.rmtree(db.datadir)
    os.mkdir(db.datadir)
    result = _restore(node)
    assert (('mysql', db.datadir, 'database installed')) in result['restored']
    flag = tripleo_transfer.flag_path(db.datadir, node['flags'])
    with open(flag) as stream:
        recorded = json.load(stream)
    assert (recorded['state'], recorded['source'], recorded['sha256']) == ('installed', NODE, stored['sha256'])
    assert db.start().fingerprint('nova') == expected

    # TripleO starts the database and it takes writes: a re-run of the restore must never replace them.
    db.sql("USE nova; INSERT INTO instances VALUES (3, 'written-after-the-restore');")
    db.stop()
    again = _restore(node)
    assert ('mysql', db.datadir, 'database already installed') in again['restored']
    assert int(db.start().sql('SELECT COUNT(*) FROM nova.instances')[0][0]) == 3


def test_a_database_server_that_does_not_exit_rolls_prepare_back(single_controller, monkeypatch):
    node, db = single_controller, single_controller['db']
    from tripleo_upgrade_libraries import tripleo_single_database
    monkeypatch.setattr(tripleo_single_database, 'SERVER_EXIT_WAIT', 1.0)
    with pytest.raises(tripleo_prepare.PrepareError) as raised:
        tripleo_prepare.prepare(node['client'], Systemd(node['bus'].address), NODE, {}, state_file=node['record'],
                                os_release_file=str(node['tmp'] / 'os-release-old'), database_datadir=db.datadir)
    assert 'a database server still runs on {}'.format(db.datadir) in str(raised.value)
    assert node['bus'].units()['tripleo_mysql.service']['active_state'] == 'active'  # started again
    assert node['client'].head_item(NODE, 'mysql') is None


def test_the_configuration_key_takes_an_absolute_path_or_nothing():
    assert tripleo_config.DEFAULTS['database_datadir'] == ''
    key = next(k for k in tripleo_config.KEYS if k.name == 'database_datadir')
    assert list(key.check('/var/lib/mysql', {})) == [] and list(key.check('', {})) == []
    assert list(key.check('var/lib/mysql', {}))[0][0] == "'var/lib/mysql' is not an absolute path"
