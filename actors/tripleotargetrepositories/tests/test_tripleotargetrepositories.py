from leapp.models import (RPM, CustomTargetRepository, InstalledRPM, RpmTransactionTasks,
                          TripleoUpgradeConfig)
from leapp.reporting import Report
from leapp.utils.report import is_inhibitor


def _rpm(name, version, release):
    return RPM(name=name, epoch='0', packager='Red Hat', version=version, release=release, arch='noarch',
               pgpsig='RSA/SHA256, key ID 199e2f91fd431d51')


def _config(**values):
    base = dict(daemon_url='https://undercloud-0:8990', token_file='/etc/tripleo-upgrade/node-token',
                persist_dropin_dir='/etc/tripleo-upgrade/persist.d')
    base.update(values)
    return TripleoUpgradeConfig(**base)


INSTALLED = InstalledRPM(items=[
    _rpm('openstack-nova-compute', '20.6.1', '2.el8ost'),
    _rpm('python3-nova', '20.6.1', '2.el8ost'),
    _rpm('podman', '4.0.2', '6.module+el8.6.0'),
])


def test_repositories_and_expanded_package_tasks(current_actor_context):
    current_actor_context.feed(INSTALLED, _config(
        target_repositories=[{'id': 'rhel-9-baseos', 'name': 'RHEL 9 BaseOS', 'baseurl': 'http://mirror/BaseOS'},
                             {'id': 'rhosp-17.1', 'name': 'OSP 17.1', 'baseurl': 'http://mirror/osp17.1'}],
        remove_packages=['*el8ost*'], install_packages=['podman', 'python3-tripleoclient']))
    current_actor_context.run()
    repos = current_actor_context.consume(CustomTargetRepository)
    assert [(r.repoid, r.name, r.baseurl) for r in repos] == [
        ('rhel-9-baseos', 'RHEL 9 BaseOS', 'http://mirror/BaseOS'), ('rhosp-17.1', 'OSP 17.1', 'http://mirror/osp17.1')]
    [tasks] = current_actor_context.consume(RpmTransactionTasks)
    assert tasks.to_remove == ['openstack-nova-compute', 'python3-nova']
    assert tasks.to_install == ['python3-tripleoclient']
    assert tasks.to_keep == ['podman']
    assert not current_actor_context.consume(Report)


def test_a_pattern_that_matches_nothing_is_reported_not_inhibiting(current_actor_context):
    current_actor_context.feed(INSTALLED, _config(remove_packages=['*el7ost*']))
    current_actor_context.run()
    [report] = current_actor_context.consume(Report)
    assert not is_inhibitor(report.report)
    assert report.report['key'] == 'tripleo_upgrade.packages.remove_packages'
    assert "'*el7ost*' matches none of the 3 installed packages" in report.report['summary']
    assert not current_actor_context.consume(RpmTransactionTasks)
