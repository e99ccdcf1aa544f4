"""The fleet status page's shell (GET /ui/, app.js, app.css) and its change counter (GET /v1/status/version),
against a real daemon. The page itself, in a real browser: integration/browser/."""

import re
import subprocess

import pytest
import requests

from testing.daemon import REPO_ROOT

SHELL = {'/ui/': 'text/html', '/ui/app.js': 'text/javascript', '/ui/app.css': 'text/css'}


@pytest.mark.parametrize('path', sorted(SHELL))
def test_the_shell_is_served_to_anyone_with_the_security_headers(helper_daemon, path):
    response = requests.get(helper_daemon.url + path)
    assert response.status_code == 200
    assert response.headers['Content-Type'].split(';')[0] == SHELL[path]
    csp = response.headers['Content-Security-Policy']
    directives = dict(d.strip().split(' ', 1) for d in csp.split(';'))
    assert directives['default-src'] == "'none'"
    assert directives['script-src'] == "'self'" and directives['connect-src'] == "'self'"
    assert directives['style-src'] == "'self'" and directives['frame-ancestors'] == "'none'"
    assert 'unsafe-inline' not in csp and 'unsafe-eval' not in csp
    assert response.headers['X-Content-Type-Options'] == 'nosniff'
    assert response.headers['Referrer-Policy'] == 'no-referrer'


def test_the_shell_holds_no_data_no_inline_script_and_no_outside_asset(helper_daemon):
    html = requests.get(helper_daemon.url + '/ui/').text
    assert re.findall(r'<script[^>]*>', html) == ['<script src="app.js" defer>']
    assert '</script>' in html and not re.search(r'<script[^>]*>\s*\S', html.replace('<script src="app.js" defer>'
                                                                                      '</script>', ''))
    for path in SHELL:
        body = requests.get(helper_daemon.url + path).text
        assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', body), path
        assert 'url(' not in body and '@import' not in body, path
    script = requests.get(helper_daemon.url + '/ui/app.js').text
    # The token goes in a header, never into storage, a cookie or a URL.
    assert 'localStorage' not in script and 'sessionStorage' not in script and 'document.cookie' not in script
    assert '"Authorization": "Bearer " + token' in script
    assert 'innerHTML' not in script


def test_the_status_version_is_for_the_admin_only(helper_daemon):
    token = helper_daemon.add_node('cmp-0', 'Compute')
    assert requests.get(helper_daemon.url + '/v1/status/version').status_code == 401
    assert helper_daemon.session(token).get(helper_daemon.url + '/v1/status/version').status_code == 403


def test_the_status_version_changes_with_what_the_status_shows_and_only_then(helper_daemon):
    daemon, admin = helper_daemon, helper_daemon.admin()

    def version():
        answer = admin.get(daemon.url + '/v1/status/version')
        assert answer.status_code == 200
        return answer.json()['version']

    token = daemon.add_node('ctl-0', 'Controller')
    node = daemon.session(token)
    seen = [version()]
    assert version() == seen[-1]
    assert admin.get(daemon.url + '/v1/status').status_code == 200  # reading changes nothing
    assert version() == seen[-1]

    changes = [
        lambda: node.put(daemon.url + '/v1/nodes/ctl-0/status', json={'phase': 'preupgrade', 'os_release': '8.4'}),
        lambda: node.put(daemon.url + '/v1/nodes/ctl-0/data/etc', data=b'config'),
        lambda: node.post(daemon.url + '/v1/nodes/ctl-0/lease'),
        lambda: node.delete(daemon.url + '/v1/nodes/ctl-0/lease'),
        # the CLI writes the registry directly, from another process
        lambda: subprocess.run(daemon.command('nodes', 'add', 'cmp-9', '--role', 'Compute'), cwd=REPO_ROOT,
                               check=True, stdout=subprocess.DEVNULL),
    ]
    for change in changes:
        change()
        seen.append(version())
        assert seen[-1] != seen[-2]
    assert len(set(seen)) == len(seen)
    assert 'cmp-9' in [n['name'] for n in admin.get(daemon.url + '/v1/status').json()['nodes']]


def test_the_access_log_never_shows_a_token(helper_daemon):
    token = helper_daemon.admin_token
    assert helper_daemon.admin().get(helper_daemon.url + '/v1/status/version').status_code == 200
    # A token pasted into a URL by mistake: the log keeps the path only.
    assert requests.get(helper_daemon.url + '/ui/', params={'token': token}).status_code == 200
    assert requests.get(helper_daemon.url + '/v1/status/version',
                        headers={'Authorization': 'Bearer wrong-' + token[:8]}).status_code == 401
    log = helper_daemon.log()
    assert '"path": "/v1/status/version"' in log and '"path": "/ui/"' in log
    assert token not in log and token[:8] not in log
