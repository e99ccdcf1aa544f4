"""The fleet status page (GET /ui/) in a real browser: Debian's chromium, headless, driven by playwright-core
(driver.mjs), against the daemon as a real process on loopback, with fleets of 20 and of 1000 nodes registered and
reporting through the API.

Screenshots go to integration/browser/artifacts/ (or $TRIPLEO_UPGRADE_ARTIFACTS), with measured figures in
fleet-page-figures.json there (measured, reported, never asserted).
"""

import json
import os
import shutil
import subprocess
import time

import pytest
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
CHROMIUM = os.environ.get('CHROMIUM', '/usr/bin/chromium')
ARTIFACTS = os.environ.get('TRIPLEO_UPGRADE_ARTIFACTS') or os.path.join(HERE, 'artifacts')


def _missing():
    if not os.access(CHROMIUM, os.X_OK):
        return 'browser tests skipped: no chromium at {} (apt-get install chromium)'.format(CHROMIUM)
    if shutil.which('node') is None:
        return 'browser tests skipped: no node (apt-get install nodejs npm)'
    if not os.path.isdir(os.path.join(HERE, 'node_modules', 'playwright-core')):
        return 'browser tests skipped: no playwright-core (scripts/test installs it: npm ci in integration/browser)'
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=_missing() or '')


class Browser(object):
    """One chromium with one page, driven through driver.mjs."""

    def __init__(self):
        self.process = subprocess.Popen(['node', os.path.join(HERE, 'driver.mjs')], cwd=HERE, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, universal_newlines=True,
                                        env=dict(os.environ, CHROMIUM=CHROMIUM))
        assert self._answer() == 'ready'

    def _answer(self):
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError('the browser driver exited (status {})'.format(self.process.wait(10)))
        answer = json.loads(line)
        if not answer['ok']:
            raise AssertionError(answer['error'])
        return answer['value']

    def __getattr__(self, cmd):
        def call(**arguments):
            self.process.stdin.write(json.dumps(dict(arguments, cmd=cmd)) + '\n')
            self.process.stdin.flush()
            return self._answer()
        return call

    def quit(self):
        if self.process.poll() is None:
            try:
                self.close()
            except (RuntimeError, AssertionError, BrokenPipeError):
                pass
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def build_fleet(daemon, size):
    """Controllers (ceph-mon), CephStorage, Networker and Compute nodes in every phase, registered and reporting
    through the API: controller-0 upgraded to the new OS, controller-1 leased and prepared with stored data,
    controller-2 with an inhibitor, a transfer open from controller-1 to controller-0, some computes upgraded,
    some inhibited, one failed. Returns the nodes' tokens."""
    admin = daemon.admin()
    roles = [('controller', 'Controller', 3, True), ('ceph', 'CephStorage', max(3, size // 12), False),
             ('networker', 'Networker', 2, False)]
    roles.append(('compute', 'Compute', size - sum(count for _, _, count, _ in roles), False))
    session = requests.Session()
    session.trust_env = False
    tokens = {}

    def put_status(name, **body):
        response = session.put(daemon.url + '/v1/nodes/{}/status'.format(name), json=body,
                               headers={'Authorization': 'Bearer ' + tokens[name]})
        assert response.status_code == 200, response.text

    for prefix, role, count, ceph_mon in roles:
        for index in range(count):
            name = '{}-{}'.format(prefix, index)
            response = admin.post(daemon.url + '/v1/nodes', json={'name': name, 'role': role, 'ceph_mon': ceph_mon})
            assert response.status_code == 201, response.text
            tokens[name] = response.json()['token']
            if prefix == 'controller':
                continue
            if index % 10 == 3:
                put_status(name, phase='upgraded', os_release='9.2')
            elif index % 7 == 5:
                put_status(name, phase='preupgrade', os_release='8.4', reports=[
                    {'key': 'tripleo_space', 'title': 'Not enough space on the undercloud', 'inhibitor': True,
                     'remediation': 'free space in /var/lib/tripleo-upgrade'}])
            elif index % 4 != 0:
                put_status(name, phase='preupgrade', os_release='8.4')
    put_status('controller-0', phase='preupgrade', os_release='8.4')
    put_status('controller-0', phase='prepared', os_release='8.4')
    put_status('controller-0', phase='upgraded', os_release='9.2')
    put_status('controller-2', phase='preupgrade', os_release='8.4', reports=[
        {'key': 'tripleo_corosync', 'title': 'Corosync changes its major version', 'inhibitor': False},
        {'key': 'tripleo_lease', 'title': 'Another controller holds the upgrade lease', 'inhibitor': True}])
    put_status('controller-1', phase='preupgrade', os_release='8.4')
    node = requests.Session()
    node.trust_env = False
    node.headers['Authorization'] = 'Bearer ' + tokens['controller-1']
    assert node.post(daemon.url + '/v1/nodes/controller-1/lease').status_code == 200
    # After the lease: a failed node pauses the fleet (no new lease until the admin resumes).
    put_status('compute-1', phase='failed', os_release='8.4', error='leapp upgrade failed: dnf transaction check')
    assert node.put(daemon.url + '/v1/nodes/controller-1/data/mysql', data=b'x' * 300000).status_code == 201
    put_status('controller-1', phase='prepared', os_release='8.4')
    opened = admin.post(daemon.url + '/v1/transfers', json={'role': 'Controller', 'source': 'controller-1',
                                                            'items': ['mysql']})
    assert opened.status_code == 201, opened.text
    return tokens


@pytest.fixture(scope='module', params=[20, 1000], ids=['20-nodes', '1000-nodes'])
def fleet(request, tmp_path_factory):
    from testing.daemon import DaemonProcess

    daemon = DaemonProcess(tmp_path_factory.mktemp('page') / 'state').start()
    try:
        started = time.monotonic()
        tokens = build_fleet(daemon, request.param)
        daemon.fleet_size, daemon.fleet_tokens = request.param, tokens
        daemon.setup_seconds = time.monotonic() - started
        yield daemon
    finally:
        daemon.kill()


@pytest.fixture
def browser():
    b = Browser()
    yield b
    b.quit()


def _record(size, figures):
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, 'fleet-page-figures.json')
    try:
        with open(path) as stream:
            known = json.load(stream)
    except (OSError, ValueError):
        known = {}
    known[str(size)] = figures
    with open(path, 'w') as stream:
        json.dump(known, stream, indent=2, sort_keys=True)


def _shot(browser, name, full_page=False):
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, name)
    browser.screenshot(path=path, fullPage=full_page)
    assert os.path.getsize(path) > 0
    return path


def test_an_operator_logs_in_sees_the_fleet_and_an_update_arrives_while_the_page_is_open(fleet, browser):
    size, tokens, admin_token = fleet.fleet_size, fleet.fleet_tokens, fleet.admin_token
    figures = {'fleet_setup_s': round(fleet.setup_seconds, 1)}

    opened = browser.goto(url=fleet.url + '/ui/')
    assert opened['status'] == 200
    assert "script-src 'self'" in opened['headers']['content-security-policy']

    # A wrong token, then a node's token: refused, said so, and the fleet stays hidden.
    browser.fill(selector='#token', value='not-the-admin-token')
    browser.click(selector='#login-button')
    browser.waitText(selector='#login-error', text='refused this token')
    assert browser.count(selector='#nodes tbody tr:visible') == 0
    _shot(browser, 'fleet-{}-wrong-token.png'.format(size))
    browser.fill(selector='#token', value=tokens['compute-0'])
    browser.click(selector='#login-button')
    browser.waitText(selector='#login-error', text="node's token")

    started = time.monotonic()
    browser.fill(selector='#token', value=admin_token)
    browser.click(selector='#login-button')
    browser.waitCount(selector='#nodes tbody tr', count=size, timeout=60000)
    figures['login_to_full_table_ms'] = round((time.monotonic() - started) * 1000)
    timing = browser.timing()
    figures['shell_load_ms'] = round(timing['load'])
    figures['first_render_ms'] = timing['renderMs']
    status_fetch = [r for r in timing['resources'] if r['name'].endswith('/v1/status')]
    figures['status_bytes'] = status_fetch[-1]['encoded'] if status_fetch else None
    figures['status_fetch_ms'] = round(status_fetch[-1]['ms']) if status_fetch else None
    figures['shell_bytes'] = {r['name'].rsplit('/', 1)[-1]: r['encoded'] for r in timing['resources']
                              if '/ui/' in r['name']}

    # What the operator reads: counts per role, the ceph-mon line, the transfer, the nodes' rows.
    computes = size - 3 - 2 - max(3, size // 12)
    assert browser.text(selector='#roles tr[data-role="Controller"]').split('\t')[:7] == \
        ['Controller', '3', '2', '1', '0', '1', 'yes']
    assert 'Compute\t{}'.format(computes) in browser.text(selector='#roles tr[data-role="Compute"]')
    assert browser.text(selector='#summary-ceph-mon .value') == '2 / 3 (min 2)'
    assert 'ceph-mon hosts leased (down): controller-1' in browser.text(selector='#summary')
    assert browser.text(selector='#summary-paused').endswith(
        '(rule node-failed, node compute-1): compute-1 reported phase failed: leapp upgrade failed: dnf transaction '
        'check. No new lease until resumed; nodes already down carry on.')
    transfer = browser.text(selector='#transfers tr[data-transfer="1"]')
    assert transfer.split('\t')[:6] == ['1', 'Controller', 'controller-1', 'controller-0', 'mysql', 'open']
    leased = browser.text(selector='#nodes tr[data-node="controller-1"]')
    assert 'prepared' in leased and '8.4 (old)' in leased and 'since 20' in leased and '1 item, 293.0 KiB' in leased
    inhibited = browser.text(selector='#nodes tr[data-node="controller-2"]')
    assert '1 unresolved' in inhibited and 'Another controller holds the upgrade lease' in inhibited
    assert 'Corosync' not in inhibited  # not an inhibitor
    assert '9.2 (new)' in browser.text(selector='#nodes tr[data-node="controller-0"]')
    assert 'dnf transaction check' in browser.text(selector='#nodes tr[data-node="compute-1"]')
    _shot(browser, 'fleet-{}.png'.format(size), full_page=size <= 20)

    # The timeline of one node.
    browser.click(selector='#nodes tr[data-node="controller-0"] button')
    browser.waitText(selector='#detail', text='Timeline')
    timeline = browser.text(selector='#timeline tbody')
    assert [line.split('\t')[1] for line in timeline.splitlines()] == ['upgraded', 'prepared', 'preupgrade']

    # An update while the page is open: compute-2 reports an inhibitor, and the page shows it without a reload.
    target = 'compute-2'
    sent = time.monotonic()
    response = requests.put(fleet.url + '/v1/nodes/{}/status'.format(target), headers={
        'Authorization': 'Bearer ' + tokens[target]}, json={'phase': 'preupgrade', 'os_release': '8.4', 'reports': [
            {'key': 'tripleo_l3_agent', 'title': 'Floating IPs still on this node', 'inhibitor': True}]})
    assert response.status_code == 200
    browser.waitText(selector='#nodes tr[data-node="{}"]'.format(target), text='Floating IPs still on this node')
    figures['update_to_screen_ms'] = round((time.monotonic() - sent) * 1000)
    assert browser.attr(selector='#nodes tr[data-node="{}"]'.format(target), name='class') == 'changed'
    assert '1 unresolved' in browser.text(selector='#nodes tr[data-node="{}"]'.format(target))

    # A lease released (as `tripleo-upgrade-complete` does) also shows: the ceph-mon count comes back.
    sent = time.monotonic()
    assert requests.delete(fleet.url + '/v1/nodes/controller-1/lease', headers={
        'Authorization': 'Bearer ' + tokens['controller-1']}).status_code == 204
    browser.waitText(selector='#summary-ceph-mon .value', text='3 / 3 (min 2)')
    figures['lease_release_to_screen_ms'] = round((time.monotonic() - sent) * 1000)

    # Filters: Compute nodes with an unresolved inhibitor or an error.
    browser.select(selector='#filter-role', value='Compute')
    browser.click(selector='#filter-inhibited')
    rows = browser.count(selector='#nodes tbody tr')
    expected = 2 + sum(1 for i in range(computes) if i % 10 != 3 and i % 7 == 5 and i not in (1, 2))
    assert rows == expected
    _shot(browser, 'fleet-{}-filtered-after-update.png'.format(size), full_page=True)
    _record(size, figures)

    # Logging out hides the fleet and forgets the token.
    browser.click(selector='#logout')
    browser.waitText(selector='#login-error', text='Logged out.')
    assert browser.count(selector='#fleet:visible') == 0 and browser.count(selector='#login:visible') == 1

    # One page load, every request to the daemon itself, the token in no URL, no error, no CSP violation.
    seen = browser.events()
    documents = [r for r in seen['requests'] if r['url'].rstrip('/').endswith('/ui')]
    assert len(documents) == 1, documents
    assert all(r['url'].startswith(fleet.url + '/') for r in seen['requests']), seen['requests']
    assert not [r for r in seen['requests'] if admin_token in r['url'] or 'token' in r['url']]
    assert all(r['authorization'] == 'present' for r in seen['requests'] if '/v1/' in r['url'])
    assert seen['pageErrors'] == []
    # The refused logins' 401 and 403 are the only console errors.
    assert [m for m in seen['console'] if 'Failed to load resource' not in m] == []
    log = fleet.log()
    assert admin_token not in log and tokens['compute-0'] not in log and 'not-the-admin-token' not in log
    assert log.count('"path": "/v1/status/version"') >= 3  # the page's own checks for changes are logged
