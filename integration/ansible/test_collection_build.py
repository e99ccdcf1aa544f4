"""The collection builds with ansible-galaxy as a release would, with ansible-core 2.16 (the last line that manages
RHEL 8's Python 3.6 targets)."""
import os
import subprocess
import tarfile

import pytest

from testing.daemon import REPO_ROOT

ANSIBLE_BIN = os.environ.get('TRIPLEO_UPGRADE_ANSIBLE_BIN', os.path.join(REPO_ROOT, '.venv-ansible', 'bin'))
COLLECTION = os.path.join(REPO_ROOT, 'ansible_collections', 'tripleo', 'system_upgrade')
STEPS = ('preupgrade', 'prepare', 'run', 'transfer_data', 'complete', 'cleanup')


def test_the_collection_builds_with_every_step_and_its_readme(tmp_path):
    galaxy = os.path.join(ANSIBLE_BIN, 'ansible-galaxy')
    if not os.access(galaxy, os.X_OK):
        pytest.skip('no ansible-galaxy in {} (scripts/test makes .venv-ansible)'.format(ANSIBLE_BIN))
    version = subprocess.run([galaxy, '--version'], stdout=subprocess.PIPE, universal_newlines=True).stdout
    assert 'core 2.16.' in version, version
    done = subprocess.run([galaxy, 'collection', 'build', COLLECTION, '--output-path', str(tmp_path)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, cwd=str(tmp_path))
    assert done.returncode == 0, done.stdout
    with tarfile.open(str(tmp_path / 'tripleo-system_upgrade-0.1.0.tar.gz')) as archive:
        names = archive.getnames()
    assert {'README.md', 'MANIFEST.json', 'FILES.json', 'meta/runtime.yml'} <= set(names)
    assert {'playbooks/system_upgrade_{}.yml'.format(step) for step in STEPS} <= set(names)
    assert not [n for n in names if n.startswith('.ansible')], names
