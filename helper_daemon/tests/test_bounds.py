"""Bounded input: no node token can grow the daemon's memory or its state directory without limit."""

import json

import pytest

from helper_daemon.tests.helpers import files_under

MiB = 1024 * 1024


@pytest.fixture
def daemon(tmp_path):
    from testing.daemon import DaemonProcess

    process = DaemonProcess(tmp_path / 'state', config={'status_timeline_length': 3}).start()
    yield process
    process.kill()


def big_report(size):
    """A status report of about `size` bytes, each field within its own limit."""
    entry = {'key': 'k', 'title': 'a long summary', 'summary': 's' * 60000}
    return {'phase': 'preupgrade', 'os_release': '8.4', 'reports': [entry] * (size // 60000 + 1)}


def chunks(body):
    """The body without a Content-Length (requests sends a generator chunked)."""
    for start in range(0, len(body), 64 * 1024):
        yield body[start:start + 64 * 1024]


@pytest.mark.parametrize('announced', [True, False], ids=['content-length', 'chunked'])
def test_a_status_report_over_the_default_limit_is_413_and_changes_nothing(daemon, announced):
    session = daemon.session(daemon.add_node('ctl-0', 'Controller'))
    url = daemon.url + '/v1/nodes/ctl-0/status'
    assert session.put(url, json={'phase': 'prepared', 'os_release': '8.4'}).status_code == 200
    body = json.dumps(big_report(5 * MiB)).encode()
    response = session.put(url, data=body if announced else chunks(body),
                           headers={'Content-Type': 'application/json'})
    assert response.status_code == 413, response.text[:300]
    assert response.json()['error'] == 'too large' and str(4 * MiB) in response.json()['detail']
    status = session.get(url).json()
    assert status['phase'] == 'prepared' and len(status['timeline']) == 1


def test_a_report_just_under_the_limit_is_stored(daemon):
    session = daemon.session(daemon.add_node('ctl-0', 'Controller'))
    url = daemon.url + '/v1/nodes/ctl-0/status'
    report = big_report(3 * MiB)
    assert len(json.dumps(report)) < 4 * MiB
    assert session.put(url, json=report).status_code == 200
    assert len(session.get(url).json()['reports']) == len(report['reports'])


def test_other_json_bodies_are_bounded_too(daemon):
    daemon.add_node('ctl-0', 'Controller')
    before = files_under(daemon.state_dir)
    response = daemon.admin().post(daemon.url + '/v1/transfers', json={
        'role': 'Controller', 'items': ['mysql'], 'force': True, 'reason': 'x' * (100 * 1024)})
    assert (response.status_code, response.json()['error']) == (413, 'too large')
    assert 'nodes' not in {p.split('/')[0] for p in files_under(daemon.state_dir) - before}


def test_the_timeline_keeps_the_latest_reports_and_summarises_the_older_ones(daemon):
    session = daemon.session(daemon.add_node('ctl-0', 'Controller'))
    url = daemon.url + '/v1/nodes/ctl-0/status'
    phases = ['preupgrade', 'failed', 'preupgrade', 'prepared', 'upgraded']
    answers = [session.put(url, json={'phase': phase, 'os_release': '8.4'}).json() for phase in phases]
    status = session.get(url).json()
    assert [e['phase'] for e in status['timeline']] == ['preupgrade', 'prepared', 'upgraded']
    assert status['older_reports'] == {'count': 2, 'first_at': answers[0]['updated_at'],
                                       'last_at': answers[1]['updated_at'], 'phases': ['failed', 'preupgrade']}
    assert status['phase'] == 'upgraded'


def test_a_dropped_completed_report_still_protects_the_live_database(daemon):
    """The one-shot transfer rule needs "this node once reported completed", even after the report is dropped."""
    admin = daemon.admin()
    sessions = {name: daemon.session(daemon.add_node(name, 'Controller')) for name in ('ctl-0', 'ctl-1')}
    sessions['ctl-0'].put(daemon.url + '/v1/nodes/ctl-0/status', json={'phase': 'preupgrade', 'os_release': '8.4'})
    reports = [('completed', '9.2')] + [('preupgrade', '9.2')] * 3
    for phase, release in reports:
        sessions['ctl-1'].put(daemon.url + '/v1/nodes/ctl-1/status', json={'phase': phase, 'os_release': release})
    status = admin.get(daemon.url + '/v1/nodes/ctl-1/status').json()
    assert 'completed' not in [e['phase'] for e in status['timeline']]
    assert status['older_reports']['phases'] == ['completed']
    refused = admin.post(daemon.url + '/v1/transfers', json={'role': 'Controller', 'items': ['mysql'],
                                                             'force': True, 'reason': 'redo'})
    assert refused.status_code == 409
    assert any('ctl-1' in r and 'completed' in r for r in refused.json()['reasons'])


def test_the_timeline_keeps_its_bytes_bounded_too(tmp_path):
    from testing.daemon import DaemonProcess

    daemon = DaemonProcess(tmp_path / 'state', config={'status_timeline_bytes': 150 * 1024}).start()
    try:
        session = daemon.session(daemon.add_node('ctl-0', 'Controller'))
        url = daemon.url + '/v1/nodes/ctl-0/status'
        for phase in ('preupgrade', 'failed', 'preupgrade', 'prepared'):  # about 60 KiB each
            assert session.put(url, json=dict(big_report(50 * 1024), phase=phase)).status_code == 200
        status = session.get(url).json()
        assert [e['phase'] for e in status['timeline']] == ['preupgrade', 'prepared']
        assert (status['older_reports']['count'], status['older_reports']['phases']) == (2, ['failed', 'preupgrade'])
        huge = dict(big_report(300 * 1024), phase='upgraded')
        assert session.put(url, json=huge).status_code == 200
        status = session.get(url).json()
        assert [e['phase'] for e in status['timeline']] == ['upgraded'], 'the newest report is always kept'
        assert status['older_reports']['count'] == 4
    finally:
        daemon.kill()
