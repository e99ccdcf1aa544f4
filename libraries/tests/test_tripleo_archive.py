import os
import subprocess

import pytest

from testing.trees import make_tree, snapshot
from tripleo_upgrade_libraries import tripleo_archive

def _write_archive(path, chunks):
    with open(path, 'wb') as f:
        for chunk in chunks:
            assert len(chunk) <= tripleo_archive.CHUNK
            f.write(chunk)


@pytest.mark.parametrize('compression', ['none', 'zstd'])
def test_round_trip_keeps_owners_modes_links_acls_and_xattrs(tmp_path, compression):
    data = make_tree(str(tmp_path / 'var' / 'lib' / 'nova'))
    archive = str(tmp_path / 'nova.tar')
    _write_archive(archive, tripleo_archive.stream([data], compression))
    with open(archive, 'rb') as f:
        assert (f.read(4) == tripleo_archive.ZSTD_MAGIC) == (compression == 'zstd')
    unpacked = tmp_path / 'unpacked'
    unpacked.mkdir()
    tripleo_archive.extract(archive, str(unpacked))
    copy = str(unpacked) + data
    assert snapshot(copy) == snapshot(data)
    # The sparse file stays sparse: 8 MiB long, a few blocks on disk.
    assert os.stat(os.path.join(copy, 'sparse.img')).st_blocks * 512 < 1024 * 1024


def test_extract_only_the_given_paths(tmp_path):
    first = make_tree(str(tmp_path / 'a'))
    second = tmp_path / 'b'
    second.mkdir()
    (second / 'note').write_text('b')
    archive = str(tmp_path / 'both.tar')
    _write_archive(archive, tripleo_archive.stream([first, str(second)]))
    unpacked = tmp_path / 'unpacked'
    unpacked.mkdir()
    tripleo_archive.extract(archive, str(unpacked), [str(second)])
    assert (unpacked / str(second).lstrip('/') / 'note').read_text() == 'b'
    assert not os.path.exists(str(unpacked) + first)


def test_a_tar_failure_ends_the_stream_with_an_error_not_an_end(tmp_path):
    present = tmp_path / 'present'
    present.write_text('x')
    chunks = tripleo_archive.stream([str(present), str(tmp_path / 'gone')])
    with pytest.raises(tripleo_archive.ArchiveError) as error:
        for _ in chunks:
            pass
    message = str(error.value)
    assert message.startswith('tar could not archive {}, {}/gone: '.format(present, tmp_path))
    assert 'gone: Cannot stat: No such file or directory' in message
    assert message.endswith('(exit status 2)')


def test_relative_path_is_refused(tmp_path):
    with pytest.raises(tripleo_archive.ArchiveError) as error:
        list(tripleo_archive.stream(['var/lib/nova']))
    assert str(error.value) == "'var/lib/nova' is not an absolute path"


def test_swap_puts_the_new_tree_in_place_and_the_old_one_aside(tmp_path):
    (tmp_path / 'staged').mkdir()
    (tmp_path / 'staged' / 'f').write_text('new')
    (tmp_path / 'live').mkdir()
    (tmp_path / 'live' / 'f').write_text('old')
    aside = str(tmp_path / 'aside')
    assert tripleo_archive.swap_into_place(str(tmp_path / 'staged'), str(tmp_path / 'live'), aside) == aside
    assert (tmp_path / 'live' / 'f').read_text() == 'new'
    assert (tmp_path / 'aside' / 'f').read_text() == 'old'
    assert tripleo_archive.swap_into_place(str(tmp_path / 'aside'), str(tmp_path / 'fresh'), aside + '2') is None


def test_a_failed_swap_puts_the_old_tree_back(tmp_path):
    (tmp_path / 'live').mkdir()
    (tmp_path / 'live' / 'f').write_text('old')
    with pytest.raises(OSError):
        tripleo_archive.swap_into_place(str(tmp_path / 'vanished'), str(tmp_path / 'live'), str(tmp_path / 'aside'))
    assert (tmp_path / 'live' / 'f').read_text() == 'old'
    assert not (tmp_path / 'aside').exists()


@pytest.mark.parametrize('compression', ['none', 'zstd'])
def test_roots_are_the_paths_that_were_archived(tmp_path, compression):
    tree = make_tree(str(tmp_path / 'var' / 'lib' / 'nova'))
    single = tmp_path / 'etc' / 'nova.conf'
    single.parent.mkdir()
    single.write_text('[DEFAULT]\n')
    prefix_sibling = make_tree(str(tmp_path / 'var' / 'lib' / 'nova-extra'))
    archive = str(tmp_path / 'nova.tar')
    _write_archive(archive, tripleo_archive.stream([tree, str(single), prefix_sibling], compression))
    assert tripleo_archive.roots(archive) == [tree, str(single), prefix_sibling]


def test_roots_refuse_an_archive_of_relative_names(tmp_path):
    datadir = tmp_path / 'mysql'
    datadir.mkdir()
    (datadir / 'ibdata1').write_bytes(b'\0' * 16)
    archive = str(tmp_path / 'push.tar')
    subprocess.check_call(['tar', '-C', str(datadir), '--create', '--file', archive, '.'])
    with pytest.raises(tripleo_archive.NotRootArchive) as error:
        tripleo_archive.roots(archive)
    assert str(error.value) == "{} does not hold paths of the root file system (it holds '.')".format(archive)


def _contents_archive(directory, compression):
    return b''.join(tripleo_archive.stream_contents(str(directory), compression))


@pytest.mark.parametrize('compression', ['none', 'zstd'])
def test_a_stream_unpacks_as_it_arrives_whatever_the_chunk_sizes(tmp_path, compression):
    data = make_tree(str(tmp_path / 'mysql'))
    archive = _contents_archive(data, compression)
    unpacked = tmp_path / 'unpacked'
    unpacked.mkdir()
    extractor = tripleo_archive.StreamExtractor(str(unpacked))
    # The first write is shorter than zstd's magic number: the extractor must wait for it before choosing.
    for piece in (archive[:3], archive[3:70000], archive[70000:]):
        assert extractor.write(piece) == len(piece)
    extractor.close()
    assert snapshot(str(unpacked)) == snapshot(data)


@pytest.mark.parametrize('damage', ['truncated', 'corrupted'])
def test_a_damaged_zstd_stream_is_an_error_naming_what_failed(tmp_path, damage):
    data = tmp_path / 'mysql'
    data.mkdir()
    (data / 'ibdata1').write_bytes(os.urandom(1 << 20))
    archive = _contents_archive(data, 'zstd')
    if damage == 'truncated':
        archive = archive[:len(archive) // 2]
    else:
        middle = len(archive) // 2
        archive = archive[:middle] + bytes(b ^ 0xff for b in archive[middle:middle + 64]) + archive[middle + 64:]
    unpacked = tmp_path / 'unpacked'
    unpacked.mkdir()
    extractor = tripleo_archive.StreamExtractor(str(unpacked))
    with pytest.raises(tripleo_archive.ArchiveError) as error:
        extractor.write(archive)
        extractor.close()
    message = str(error.value)
    assert message.startswith('zstd') and ' into {}: '.format(unpacked) in message
    assert '(exit status ' in message
