"""A state dir written by the daemon before issue 15 (no OSD host mark, no leapp result column, no tables for the
safety controls) is upgraded in place on start: its nodes, tokens, leases and reports stay, the new controls work."""

import os
import sqlite3

import requests

from helper_daemon.db import utcnow
from helper_daemon.tokens import token_sha256
from testing.daemon import DaemonProcess

# The tables of the daemon before issue 15, as its db.py created them (abridged to what the rows below use).
OLD_SCHEMA = """
CREATE TABLE nodes (name TEXT PRIMARY KEY, role TEXT NOT NULL, ceph_mon INTEGER NOT NULL DEFAULT 0,
    one_by_one INTEGER NOT NULL DEFAULT 0, token_sha256 TEXT NOT NULL UNIQUE, phase TEXT, os_release TEXT,
    leapp_run_id TEXT, error TEXT, reports_json TEXT, updated_at TEXT);
CREATE TABLE node_events (id INTEGER PRIMARY KEY, node TEXT NOT NULL, at TEXT NOT NULL, phase TEXT, os_release TEXT,
    leapp_run_id TEXT, error TEXT, reports_json TEXT);
CREATE TABLE leases (node TEXT PRIMARY KEY, since TEXT NOT NULL, granted_by TEXT NOT NULL);
CREATE TABLE audit (id INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, node TEXT,
    item TEXT, size INTEGER, sha256 TEXT, detail TEXT);
"""
# Now: a lease taken long ago without a report since would pause the fleet (rule node-silent), rightly.
SINCE = utcnow()


def old_state_dir(path):
    os.makedirs(path, mode=0o700)
    db = sqlite3.connect(os.path.join(path, 'helper.sqlite3'))
    with db:
        db.executescript(OLD_SCHEMA)
        for name, role, mon in (('ctl-0', 'Controller', 1), ('ctl-1', 'Controller', 1), ('ctl-2', 'Controller', 1),
                                ('cmp-0', 'Compute', 0), ('cmp-1', 'Compute', 0)):
            db.execute("INSERT INTO nodes (name, role, ceph_mon, one_by_one, token_sha256, phase, os_release) "
                       "VALUES (?,?,?,?,?,'preupgrade','8.4')", (name, role, mon, mon, token_sha256('token-' + name)))
        db.execute("INSERT INTO leases VALUES ('ctl-0', ?, 'node:ctl-0')", (SINCE,))
    db.close()


def columns(path, table):
    db = sqlite3.connect(os.path.join(path, 'helper.sqlite3'))
    try:
        return [row[1] for row in db.execute('PRAGMA table_info({})'.format(table))]
    finally:
        db.close()


def test_an_old_state_dir_is_upgraded_in_place_and_keeps_everything(tmp_path):
    state = str(tmp_path / 'state')
    old_state_dir(state)
    for start in range(2):  # the second start finds it upgraded already: nothing to do, nothing lost
        with DaemonProcess(state) as daemon:
            assert columns(state, 'nodes')[-2:] == ['ceph_osd', 'leapp_result_json']
            fleet = daemon.admin().get(daemon.url + '/v1/status')
            assert fleet.status_code == 200, fleet.text
            body = fleet.json()
            assert body['leases'] == [{'node': 'ctl-0', 'since': SINCE, 'granted_by': 'node:ctl-0'}]
            assert {n['name']: n['phase'] for n in body['nodes']} == {
                'cmp-0': 'preupgrade', 'cmp-1': 'preupgrade', 'ctl-0': 'preupgrade', 'ctl-1': 'preupgrade',
                'ctl-2': 'preupgrade'}
            assert body['paused'] is None and len(body['ceph_osd_flags']) == start
            session = requests.Session()
            session.trust_env = False
            session.headers['Authorization'] = 'Bearer token-cmp-0'
            # The old token works; the one-by-one rule still sees the old lease.
            assert session.get(daemon.url + '/v1/nodes/cmp-0/accepted-inhibitors').json() == {
                'node': 'cmp-0', 'accepted': []}
            refused = daemon.admin().post(daemon.url + '/v1/leases/check', json={'nodes': ['ctl-1']}).json()
            assert refused['allowed'] is False and refused['nodes'][0]['blockers'][0]['rule'] == 'one-by-one'
            if start == 0:
                assert session.put(daemon.url + '/v1/nodes/cmp-0/ceph-osd-flags',
                                   json={'flags': ['noout']}).status_code == 200
            assert [(f['flag'], f['node']) for f in daemon.admin().get(daemon.url + '/v1/status').json()[
                'ceph_osd_flags']] == [('noout', 'cmp-0')]
