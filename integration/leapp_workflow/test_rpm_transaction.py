"""
Our package tasks through the stock check_rpm_transaction_events (FilterRpmTransactionTasks), which
builds the transaction dnf gets: it keeps in to_remove only packages signed by the distribution.
"""
import os

from leapp.models import RPM, DistributionSignedRPM, FilteredRpmTransactionTasks, InstalledRPM, RpmTransactionTasks
from leapp.snactor.fixture import ActorContext
from tripleo_upgrade_libraries import tripleo_packages

RED_HAT = 'RSA/SHA256, Mon 01 Jan 1970 00:00:00 AM -03, Key ID 199e2f91fd431d51'
CLOUD_SIG = 'RSA/SHA256, Mon 01 Jan 1970 00:00:00 AM -03, Key ID f9b9fee7764429e6'


def _rpm(name, release, pgpsig=RED_HAT):
    return RPM(name=name, version='1.0', release=release, epoch='0', arch='noarch', pgpsig=pgpsig,
               packager='Red Hat, Inc.')


def run_filter(manager, *messages):
    path = os.path.join(os.environ['LEAPP_REPOSITORY_REPOS'], 'system_upgrade', 'common', 'actors',
                        'filterrpmtransactionevents')
    [actor] = [a for a in manager.actors if os.path.realpath(a.full_path) == os.path.realpath(path)]
    context = ActorContext()
    context.set_actor(actor)
    context.feed(*messages)
    context.run()
    [filtered] = context.consume(FilteredRpmTransactionTasks)
    return filtered


def test_what_we_remove_reaches_dnf_and_what_leapp_drops_is_reported(leapp_repository):
    installed = [_rpm('openstack-nova-compute', '2.el8ost'), _rpm('python3-nova', '2.el8ost'),
                 _rpm('openstack-rdo-thing', '1.el8ost', pgpsig=CLOUD_SIG), _rpm('podman', '6.el8')]
    signed = [p for p in installed if p.pgpsig == RED_HAT]
    result = tripleo_packages.transaction(['*el8ost*'], ['podman', 'python3-nova'], installed,
                                          [p.name for p in signed])
    filtered = run_filter(leapp_repository, InstalledRPM(items=installed), DistributionSignedRPM(items=signed),
                          RpmTransactionTasks(to_remove=result.to_remove, to_install=result.to_install,
                                              to_keep=result.to_keep))
    # dnf removes what the pattern matched and the distribution signed; never a package also to keep.
    assert sorted(filtered.to_remove) == ['openstack-nova-compute']
    assert 'python3-nova' in filtered.to_keep and 'python3-nova' not in filtered.to_remove
    # leapp drops the unsigned match without a word: our report names it, as an inhibitor.
    assert 'openstack-rdo-thing' in result.to_remove and 'openstack-rdo-thing' not in filtered.to_remove
    unsigned = [f for f in result.findings if f.key == 'tripleo_upgrade.packages.not_distribution_signed']
    assert unsigned and unsigned[0].inhibitor and 'openstack-rdo-thing' in unsigned[0].summary
