from leapp.libraries.common import tripleo_config, tripleo_facts
from leapp.libraries.stdlib import api
from leapp.models import (TripleoCephFacts, TripleoCephQuorum, TripleoNodeFacts, TripleoNodeIdentity,
                          TripleoPackageFacts, TripleoPackageVersion, TripleoPacemakerFacts, TripleoUnit,
                          TripleoUnitFacts, TripleoUpgradeConfig)


def scan_node_facts():
    config = next(api.consume(TripleoUpgradeConfig), None)
    # Without a valid configuration (reported by the config scanner) the facts are still worth having.
    facts = tripleo_facts.gather(config.values['node_name'] if config else tripleo_config.short_host_name())
    for part in ('identity', 'units', 'pacemaker', 'ceph', 'packages'):
        reason = facts[part].get('reason')
        if reason:
            api.current_logger().warning('TripleO node facts, %s: %s', part, reason)
    api.produce(to_model(facts))


def to_model(facts):
    units = dict(facts['units'], units=[TripleoUnit(**u) for u in facts['units']['units']])
    ceph = dict(facts['ceph'])
    if ceph['quorum'] is not None:
        ceph['quorum'] = TripleoCephQuorum(**ceph['quorum'])
    packages = dict(facts['packages'],
                    openstack_release=[TripleoPackageVersion(**p) for p in facts['packages']['openstack_release']])
    return TripleoNodeFacts(node_name=facts['node_name'],
                            identity=TripleoNodeIdentity(**facts['identity']),
                            units=TripleoUnitFacts(**units),
                            pacemaker=TripleoPacemakerFacts(**facts['pacemaker']),
                            ceph=TripleoCephFacts(**ceph),
                            packages=TripleoPackageFacts(**packages))
