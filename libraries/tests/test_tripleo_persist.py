import json
import os
import shutil
import subprocess

import pytest

from testing.trees import make_tree, snapshot
from tripleo_upgrade_libraries import tripleo_archive, tripleo_persist
from tripleo_upgrade_libraries.tripleo_helper_client import HelperClient
from tripleo_upgrade_libraries.tripleo_persist import PersistError

NODE = 'compute-0'


@pytest.fixture
def client(helper_daemon):
    return HelperClient(helper_daemon.url, helper_daemon.add_node(NODE, 'Compute'), retries=0)


@pytest.fixture
def node_data(tmp_path):
    nova = make_tree(str(tmp_path / 'var' / 'lib' / 'nova'))
    secrets = tmp_path / 'etc' / 'libvirt' / 'secrets'
    secrets.mkdir(parents=True)
    (secrets / 'uuid.xml').write_text('<secret/>')
    return {'nova-state': [nova], 'libvirt-secrets': [str(secrets), str(tmp_path / 'etc' / 'libvirt' / 'qemu')]}


def _dropin(directory, name, text):
    os.makedirs(str(directory), exist_ok=True)
    with open(os.path.join(str(directory), name), 'w') as f:
        f.write(text)


def test_persist_set_merges_configuration_and_dropins(tmp_path):
    dropins = tmp_path / 'persist.d'
    _dropin(dropins, '10-nova.json', json.dumps({'items': {'nova-state': ['/var/lib/nova/instances', '/var/lib/nova'],
                                                          'libvirt': ['/etc/libvirt']}}))
    _dropin(dropins, 'README', 'not a drop-in')
    assert tripleo_persist.persist_set({'nova-state': ['/var/lib/nova']}, str(dropins)) == {
        'nova-state': ['/var/lib/nova', '/var/lib/nova/instances'], 'libvirt': ['/etc/libvirt']}
    assert tripleo_persist.persist_set({'a': ['/a']}, str(tmp_path / 'absent')) == {'a': ['/a']}


@pytest.mark.parametrize('text, problem', [
    ('{"items": {"nova": ["/var/lib/nova"]', 'is not valid JSON: '),
    ('{"items": {"Nova": ["/var/lib/nova"]}}', "is not valid: item name 'Nova' is not valid"),
    ('{"items": {"nova": ["var/lib/nova"]}}', "is not valid: item 'nova' needs a non-empty list of absolute paths"),
    ('{"nova": ["/var/lib/nova"]}', 'is not valid: it has no "items" mapping'),
])
def test_a_broken_dropin_is_an_error_naming_the_file(tmp_path, text, problem):
    dropins = tmp_path / 'persist.d'
    _dropin(dropins, '20-broken.json', text)
    with pytest.raises(PersistError) as error:
        tripleo_persist.persist_set({}, str(dropins))
    assert str(error.value).startswith('the persist drop-in {}/20-broken.json '.format(dropins))
    assert problem in str(error.value)


def test_round_trip_through_the_daemon_restores_every_file_as_it_was(client, node_data, helper_daemon, tmp_path):
    nova = node_data['nova-state'][0]
    before = snapshot(nova)
    records = tripleo_persist.persist(client, NODE, node_data, compression='zstd')
    assert [(r['item'], r['missing']) for r in records] == [
        ('libvirt-secrets', [str(tmp_path / 'etc' / 'libvirt' / 'qemu')]), ('nova-state', [])]
    stored = dict((i['item'], i['sha256']) for i in client.list_items(NODE))
    assert stored == dict((r['item'], r['sha256']) for r in records)
    # The daemon knows the items are zstd: their sha256 is that of the compressed bytes.
    assert set(i['encoding'] for i in client.list_items(NODE)) == {'zstd'}

    shutil.rmtree(nova)
    shutil.rmtree(node_data['libvirt-secrets'][0])
    done = tripleo_persist.restore(client, NODE, records, work_dir=str(tmp_path))
    assert sorted(done) == [('libvirt-secrets', node_data['libvirt-secrets'][0], 'restored'),
                            ('nova-state', nova, 'restored')]
    assert snapshot(nova) == before
    assert (tmp_path / 'etc' / 'libvirt' / 'secrets' / 'uuid.xml').read_text() == '<secret/>'
    assert not [n for n in os.listdir(str(tmp_path / 'var' / 'lib')) if n.startswith('.tripleo-restore-')]


def test_missing_only_keeps_what_exists_and_always_replaces_it(client, node_data, tmp_path):
    nova = node_data['nova-state'][0]
    before = snapshot(nova)
    records = tripleo_persist.persist(client, NODE, node_data)
    with open(os.path.join(nova, 'secret.key'), 'w') as f:
        f.write('changed on the new OS')

    done = tripleo_persist.restore(client, NODE, records, mode='missing-only', work_dir=str(tmp_path))
    assert ('nova-state', nova, 'present') in done
    assert open(os.path.join(nova, 'secret.key')).read() == 'changed on the new OS'

    done = tripleo_persist.restore(client, NODE, records, mode='always', work_dir=str(tmp_path))
    assert ('nova-state', nova, 'replaced') in done
    assert snapshot(nova) == before


def test_missing_only_fills_an_empty_directory_a_new_package_created(client, node_data, tmp_path):
    nova = node_data['nova-state'][0]
    before = snapshot(nova)
    records = tripleo_persist.persist(client, NODE, {'nova-state': [nova]})
    shutil.rmtree(nova)
    os.mkdir(nova)

    done = tripleo_persist.restore(client, NODE, records, mode='missing-only', work_dir=str(tmp_path))
    assert done == [('nova-state', nova, 'replaced')]
    assert snapshot(nova) == before


def test_without_a_record_the_stored_archives_say_where_they_go(client, node_data, tmp_path):
    """A reprovisioned node: prepare's record is gone with the old disk, the daemon still holds the data."""
    nova, secrets = node_data['nova-state'][0], node_data['libvirt-secrets'][0]
    before = snapshot(nova)
    tripleo_persist.persist(client, NODE, node_data)
    datadir = tmp_path / 'mysql'
    datadir.mkdir()
    (datadir / 'ibdata1').write_bytes(b'\0' * 16)
    push = subprocess.Popen(['tar', '-C', str(datadir), '--create', '--file=-', '.'], stdout=subprocess.PIPE)
    client.put_item(NODE, 'mysql', iter(lambda: push.stdout.read(65536), b''))
    assert push.wait() == 0
    shutil.rmtree(nova)
    shutil.rmtree(secrets)
    os.makedirs(nova)
    with open(os.path.join(nova, 'left-by-the-installer'), 'w') as f:
        f.write('x')

    done, skipped = tripleo_persist.restore_stored(client, NODE, work_dir=str(tmp_path))
    assert sorted(done) == [('libvirt-secrets', secrets, 'restored'), ('nova-state', nova, 'replaced')]
    assert snapshot(nova) == before
    assert (tmp_path / 'etc' / 'libvirt' / 'secrets' / 'uuid.xml').read_text() == '<secret/>'
    assert [item for item, _ in skipped] == ['mysql']
    assert 'does not hold paths of the root file system' in skipped[0][1]

    done, _ = tripleo_persist.restore_stored(client, NODE, mode='missing-only', items=['nova-state'],
                                             work_dir=str(tmp_path))
    assert done == [('nova-state', nova, 'present')]
    with pytest.raises(PersistError) as error:
        tripleo_persist.restore_stored(client, NODE, items=['nova-state', 'keystone'])
    assert str(error.value) == ('the daemon holds no item keystone of compute-0 '
                                '(it holds: libvirt-secrets, mysql, nova-state)')
    assert not [n for n in os.listdir(str(tmp_path)) if n.startswith('tripleo-restore-')]


def test_a_corrupt_copy_on_the_daemon_is_refused_before_anything_is_unpacked(client, node_data, helper_daemon,
                                                                           tmp_path):
    nova = node_data['nova-state'][0]
    records = tripleo_persist.persist(client, NODE, {'nova-state': [nova]})
    [stored] = [os.path.join(d, f) for d, _, files in os.walk(helper_daemon.state_dir) for f in files
                if records[0]['sha256'] in f]
    with open(stored, 'r+b') as f:
        f.seek(1000)
        f.write(b'\xff\xfe')
    shutil.rmtree(nova)
    with pytest.raises(PersistError) as error:
        tripleo_persist.restore(client, NODE, records, work_dir=str(tmp_path))
    assert str(error.value).startswith("item 'nova-state' could not be downloaded; nothing of it was restored: ")
    assert 'nothing may be used' in str(error.value)
    assert not os.path.lexists(nova)
    assert os.listdir(str(tmp_path / 'var' / 'lib')) == []


def test_a_copy_replaced_since_persist_is_refused(client, node_data, tmp_path):
    nova = node_data['nova-state'][0]
    records = tripleo_persist.persist(client, NODE, {'nova-state': [nova]})
    client.put_item(NODE, 'nova-state', [b'someone else\'s archive'])
    shutil.rmtree(nova)
    with pytest.raises(PersistError) as error:
        tripleo_persist.restore(client, NODE, records, work_dir=str(tmp_path))
    assert 'but this node persisted sha256 {}'.format(records[0]['sha256']) in str(error.value)
    assert not os.path.lexists(nova)


def test_an_archive_cut_short_leaves_the_previous_copy_on_the_daemon(client, node_data):
    nova = node_data['nova-state'][0]
    [record] = tripleo_persist.persist(client, NODE, {'nova-state': [nova]})

    def tar_fails_midway():
        chunks = tripleo_archive.stream([nova])
        yield next(chunks)
        chunks.close()
        raise tripleo_archive.ArchiveError('tar could not archive {}: file changed as we read it'.format(nova))

    with pytest.raises(tripleo_archive.ArchiveError):
        client.put_item(NODE, 'nova-state', tar_fails_midway())
    [stored] = client.list_items(NODE)
    assert stored['sha256'] == record['sha256']


def _without_zstd(tmp_path, monkeypatch):
    """PATH with tar (and sh, which tar runs programs with) but no zstd: a bare RHEL 8 node."""
    bare = tmp_path / 'bare-bin'
    bare.mkdir()
    for program in ('tar', 'sh'):
        found = subprocess.check_output(['bash', '-c', 'command -v ' + program], universal_newlines=True).strip()
        os.symlink(found, str(bare / program))
    monkeypatch.setenv('PATH', str(bare))


def test_compression_auto_is_zstd_where_the_node_has_it_and_none_where_not(client, node_data, tmp_path,
                                                                          monkeypatch):
    nova = node_data['nova-state'][0]
    [record] = tripleo_persist.persist(client, NODE, {'nova-state': [nova]}, compression='auto')
    assert record['compression'] == 'zstd'
    assert [i['encoding'] for i in client.list_items(NODE)] == ['zstd']
    _without_zstd(tmp_path, monkeypatch)
    [record] = tripleo_persist.persist(client, NODE, {'nova-state': [nova]}, compression='auto')
    # What is recorded and declared is what was sent: never "auto", never zstd bytes called identity.
    assert record['compression'] == 'none'
    assert [i['encoding'] for i in client.list_items(NODE)] == ['identity']
    with pytest.raises(PersistError, match='no zstd binary'):
        tripleo_persist.persist(client, NODE, {'nova-state': [nova]}, compression='zstd')


def test_a_zstd_item_on_a_node_without_zstd_is_refused_and_changes_nothing(client, node_data, tmp_path,
                                                                          monkeypatch):
    nova = node_data['nova-state'][0]
    records = tripleo_persist.persist(client, NODE, {'nova-state': [nova]}, compression='zstd')
    shutil.rmtree(nova)
    _without_zstd(tmp_path, monkeypatch)
    with pytest.raises(PersistError) as error:
        tripleo_persist.restore(client, NODE, records, work_dir=str(tmp_path))
    assert 'install the zstd package' in str(error.value)
    assert not os.path.lexists(nova)
    assert os.listdir(str(tmp_path / 'var' / 'lib')) == []


@pytest.mark.parametrize('compression', ['none', 'zstd'])
def test_a_corrupt_copy_replaces_nothing_in_always_mode(client, node_data, helper_daemon, tmp_path, compression):
    # Restore unpacks while it downloads: what it unpacked before the digest check failed must never be used.
    nova = node_data['nova-state'][0]
    records = tripleo_persist.persist(client, NODE, {'nova-state': [nova]}, compression=compression)
    before = snapshot(nova)
    [stored] = [os.path.join(d, f) for d, _, files in os.walk(helper_daemon.state_dir) for f in files
                if records[0]['sha256'] in f]
    with open(stored, 'r+b') as f:
        f.seek(os.path.getsize(stored) - 10)
        f.write(b'\xff' * 4)
    with pytest.raises(PersistError) as error:
        tripleo_persist.restore(client, NODE, records, mode='always', work_dir=str(tmp_path))
    assert 'nothing of it was restored' in str(error.value)
    assert snapshot(nova) == before
    assert os.listdir(str(tmp_path / 'var' / 'lib')) == ['nova']


def test_several_paths_and_a_path_inside_another_come_back_from_one_download(client, tmp_path):
    etc = tmp_path / 'etc' / 'svc'
    (etc / 'conf.d').mkdir(parents=True)
    (etc / 'main.conf').write_text('main')
    (etc / 'conf.d' / 'extra.conf').write_text('extra')
    keys = tmp_path / 'etc' / 'keys'
    keys.mkdir()
    (keys / 'key.pem').write_text('key')
    paths = [str(etc), str(etc / 'conf.d'), str(keys)]
    records = tripleo_persist.persist(client, NODE, {'svc': paths})
    shutil.rmtree(str(etc))
    shutil.rmtree(str(keys))
    done = tripleo_persist.restore(client, NODE, records, work_dir=str(tmp_path))
    assert done == [('svc', p, 'restored') for p in paths]
    assert (etc / 'main.conf').read_text() == 'main' and (etc / 'conf.d' / 'extra.conf').read_text() == 'extra'
    assert (keys / 'key.pem').read_text() == 'key'
    assert sorted(os.listdir(str(tmp_path / 'etc'))) == ['keys', 'svc']
    done = tripleo_persist.restore(client, NODE, records, mode='always', work_dir=str(tmp_path))
    assert done == [('svc', p, 'replaced') for p in paths]
    assert (etc / 'conf.d' / 'extra.conf').read_text() == 'extra'
    assert sorted(os.listdir(str(tmp_path / 'etc'))) == ['keys', 'svc']
