from leapp.models import Model, fields
from leapp.topics import TripleoUpgradeTopic


class TripleoNodeIdentity(Model):
    """This node in the TripleO deployment, from /etc/puppet/hieradata."""
    topic = TripleoUpgradeTopic

    kind = fields.StringEnum(choices=['undercloud', 'overcloud', 'unknown'])
    role = fields.Nullable(fields.String())
    """TripleO role when hieradata names it (tripleo_role_name), else None"""
    bootstrap_node = fields.Nullable(fields.String())
    is_bootstrap = fields.Nullable(fields.Boolean())
    service_names = fields.List(fields.String(), default=[])
    cluster_nodes = fields.List(fields.String(), default=[])
    """short names of the Pacemaker nodes (pacemaker_short_node_names)"""
    database_nodes = fields.List(fields.String(), default=[])
    """short names of the database nodes (mysql_short_node_names)"""
    reason = fields.Nullable(fields.String())
    """which hieradata could not be read, else None"""


class TripleoUnit(Model):
    topic = TripleoUpgradeTopic

    name = fields.String()
    load_state = fields.String()
    active_state = fields.String()
    sub_state = fields.String()
    unit_file_state = fields.String()


class TripleoUnitFacts(Model):
    """TripleO systemd units read through systemd's D-Bus API."""
    topic = TripleoUpgradeTopic

    known = fields.Boolean()
    reason = fields.Nullable(fields.String())
    units = fields.List(fields.Model(TripleoUnit), default=[])


class TripleoPacemakerFacts(Model):
    """This node in the Pacemaker cluster, from crm_mon --output-as=xml."""
    topic = TripleoUpgradeTopic

    membership = fields.StringEnum(choices=['member', 'not_member', 'unknown'])
    node_state = fields.Nullable(fields.StringEnum(choices=['online', 'standby', 'offline', 'maintenance']))
    resources = fields.List(fields.String(), default=[])
    bundles = fields.List(fields.String(), default=[])
    reason = fields.Nullable(fields.String())


class TripleoCephQuorum(Model):
    """ceph quorum_status as seen from this node's monitor."""
    topic = TripleoUpgradeTopic

    known = fields.Boolean()
    monitors = fields.List(fields.String(), default=[])
    in_quorum = fields.List(fields.String(), default=[])
    out_of_quorum = fields.List(fields.String(), default=[])
    leader = fields.Nullable(fields.String())
    reason = fields.Nullable(fields.String())


class TripleoCephFacts(Model):
    topic = TripleoUpgradeTopic

    hosts_mon = fields.Nullable(fields.Boolean())
    """None when it could not be established (see reason)"""
    container = fields.Nullable(fields.String())
    quorum = fields.Nullable(fields.Model(TripleoCephQuorum))
    reason = fields.Nullable(fields.String())


class TripleoPackageVersion(Model):
    topic = TripleoUpgradeTopic

    name = fields.String()
    version = fields.String()


class TripleoPackageFacts(Model):
    """Versions from the rpm database that the upgrade decisions need."""
    topic = TripleoUpgradeTopic

    known = fields.Boolean()
    reason = fields.Nullable(fields.String())
    pacemaker = fields.Nullable(fields.String())
    corosync = fields.Nullable(fields.String())
    openstack_release = fields.List(fields.Model(TripleoPackageVersion), default=[])


class TripleoNodeFacts(Model):
    """
    What this node is and runs, for the pre-upgrade checks. Every part that could not be
    established says so (known/membership/hosts_mon and a reason), never a guess.
    """
    topic = TripleoUpgradeTopic

    node_name = fields.String()
    identity = fields.Model(TripleoNodeIdentity)
    units = fields.Model(TripleoUnitFacts)
    pacemaker = fields.Model(TripleoPacemakerFacts)
    ceph = fields.Model(TripleoCephFacts)
    packages = fields.Model(TripleoPackageFacts)
