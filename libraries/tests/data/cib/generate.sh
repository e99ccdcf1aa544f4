#!/bin/sh
# Regenerate the CIB test files with Pacemaker's crm_simulate (pacemaker-cli-utils) from cluster.xml:
# three controllers with a VIP, a promotable galera bundle and a haproxy bundle (podman).
#   online.xml   all three controllers up
#   standby.xml  controller-1 in standby (its resources moved away)
#   offline.xml  controller-2 down
# crm_simulate starts the bundle containers in a first pass; the guest nodes (galera-bundle-N) then
# need a node_state saying they are up and a promotion score, which a real cluster's controller and
# galera agent would set, before a second pass starts and promotes galera inside them.
set -eu
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

simulate() {  # simulate OUT CONFIG NODE...
    out=$1 config=$2
    shift 2
    up=''
    for node in "$@"; do up="$up -u $node"; done
    crm_simulate -x "$config" -S $up -O "$work/pass1.xml" >/dev/null
    sed -E 's|<node_state id="(galera-bundle-[0-9])" uname="\1">|<node_state id="\1" uname="\1" remote_node="true" in_ccm="true" crmd="online" join="member" expected="member"><transient_attributes id="\1"><instance_attributes id="status-\1"><nvpair id="status-\1-master-galera" name="master-galera" value="100"/></instance_attributes></transient_attributes>|' \
        "$work/pass1.xml" > "$work/fixed.xml"
    crm_simulate -x "$work/fixed.xml" -S -O "$out" >/dev/null
}

sed 's|<node id="2" uname="controller-1"/>|<node id="2" uname="controller-1"><instance_attributes id="nodes-2"><nvpair id="nodes-2-standby" name="standby" value="on"/></instance_attributes></node>|' \
    cluster.xml > "$work/standby-config.xml"

simulate online.xml cluster.xml controller-0 controller-1 controller-2
simulate standby.xml "$work/standby-config.xml" controller-0 controller-1 controller-2
simulate offline.xml cluster.xml controller-0 controller-1
chmod 0644 online.xml standby.xml offline.xml
