"""Where leapp's computed order puts our actors among the stock ones of a real el8toel9 upgrade."""
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


@pytest.fixture(scope='module')
def order():
    done = subprocess.run([sys.executable, os.path.join(HERE, 'phase_order.py'), ROOT,
                           os.environ['LEAPP_REPOSITORY_REPOS']],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_prepare_runs_after_the_steps_that_fail_most_and_before_the_boot_entry(order):
    interim = order['InterimPreparation']
    assert 'tripleo_prepare' in interim['Main'], 'in the After stage a failure still reboots into the upgrade'
    main = interim['Main']
    assert main.index('upgrade_initramfs_generator') < main.index('tripleo_prepare')
    assert main.index('dnf_dry_run') < main.index('tripleo_prepare')
    # The boot entry becomes the default boot: a failed preparation must not leave it behind.
    assert main.index('tripleo_prepare') < main.index('add_upgrade_boot_entry')


def test_restore_runs_at_the_first_boot_and_our_checks_before_the_report(order):
    assert 'tripleo_restore' in order['FirstBoot']['Main']
    assert 'tripleo_config_scanner' in order['FactsCollection']['Main']
    assert 'tripleo_target_repositories' in order['FactsCollection']['Main']
    assert 'tripleo_preupgrade_checks' in order['Checks']['Main']
    assert 'tripleo_report_upload' in order['Reports']['Main']


def test_our_repositories_reach_the_target_userspace_creator(order):
    facts = order['FactsCollection']['Main'] + order['TargetTransactionFactsCollection']['Main']
    assert facts.index('tripleo_target_repositories') < facts.index('target_userspace_creator')
