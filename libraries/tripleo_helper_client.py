"""
Client of the undercloud helper daemon, for the node side (Python 3.6, requests).

Streams both ways in constant memory, checks the sha256 of everything it sends or
receives, retries idempotent calls with backoff, and turns every failure into one
DaemonError whose message names the request, the URL and what the daemon said.
"""
import base64
import hashlib
import http.client
import socket
import ssl
import time

import requests
# requests' own urllib3 (RHEL ships it unbundled; requests.packages maps to it).
from requests.packages.urllib3 import exceptions as urllib3_exceptions

CHUNK = 1024 * 1024
RETRY_STATUSES = (502, 503, 504)

# Everything below HTTP that a call can raise. requests turns most of it into its own exceptions, but not all:
# requests < 2.26 (RHEL 8's 2.20, RHEL 9's 2.25) sends a chunked upload on a path of its own where urllib3's
# NewConnectionError, http.client's BadStatusLine and the like come through raw.
TRANSPORT_ERRORS = (requests.RequestException, urllib3_exceptions.HTTPError, http.client.HTTPException,
                    socket.error, ssl.CertificateError)
# Wrong settings, not a transient failure: never retried.
_REQUEST_INVALID = (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                    requests.exceptions.InvalidSchema, requests.exceptions.URLRequired,
                    requests.exceptions.InvalidHeader, urllib3_exceptions.LocationValueError)
_CONNECT_FAILURES = (requests.exceptions.ConnectTimeout, urllib3_exceptions.NewConnectionError,
                     urllib3_exceptions.ConnectTimeoutError, ConnectionRefusedError, socket.gaierror)
_TIMEOUTS = (requests.exceptions.ReadTimeout, urllib3_exceptions.ReadTimeoutError, socket.timeout)


class DaemonError(Exception):
    """A call to the daemon failed. ``status`` is None when no HTTP answer came back.

    ``failure`` says why no answer came back: 'untrusted' (the daemon's TLS certificate), 'unreachable' (no
    connection), 'timeout' (no answer in time), 'broken' (the connection failed once made), 'invalid' (the URL or
    a header cannot be sent); None otherwise.
    """

    def __init__(self, message, url=None, status=None, error=None, detail=None, reasons=(), failure=None):
        super(DaemonError, self).__init__(message)
        self.url = url
        self.status = status
        self.error = error
        self.detail = detail
        self.reasons = list(reasons)
        self.failure = failure


class LeaseRefused(DaemonError):
    """The daemon refused the lease (409); ``reasons`` says why, in the operator's words."""


def read_token(path):
    with open(path) as f:
        return f.read().strip()


def _b64_digest(hexdigest):
    return base64.b64encode(bytes.fromhex(hexdigest)).decode('ascii')


def parse_sha256_digest(header):
    """The hex sha256 in an RFC 9530 ``Repr-Digest``/``Content-Digest`` header value, or None."""
    for member in (header or '').split(','):
        algorithm, _, value = member.strip().partition('=')
        if algorithm.strip().lower() == 'sha-256' and value.startswith(':') and value.endswith(':'):
            try:
                return base64.b64decode(value[1:-1]).hex()
            except ValueError:
                return None
    return None


def _seekable(fileobj):
    # Pipes have seek() too, but it fails: ask the file object.
    try:
        return fileobj.seekable()
    except (AttributeError, ValueError):
        return False


class _HashingReader(object):
    """A file object read by requests in blocks, hashed on the way; has a length, so no chunked encoding."""

    def __init__(self, fileobj, size):
        self._fileobj = fileobj
        self._size = size
        self.sha256 = hashlib.sha256()
        self.sent = 0

    def __len__(self):
        return self._size

    def read(self, size=-1):
        data = self._fileobj.read(size if size and size > 0 else CHUNK)
        self.sha256.update(data)
        self.sent += len(data)
        return data


class _HashingIterable(object):
    def __init__(self, chunks):
        self._chunks = chunks
        self.sha256 = hashlib.sha256()
        self.sent = 0

    def __iter__(self):
        for chunk in self._chunks:
            if chunk:
                self.sha256.update(chunk)
                self.sent += len(chunk)
                yield chunk


class _TimeoutAdapter(requests.adapters.HTTPAdapter):
    """Every connection gets ``timeout`` as its default, not only the requests that pass one.

    requests < 2.26 (RHEL 8 and 9) sends a chunked upload over a connection of the pool's default timeout and ignores
    the request's: without this, a daemon that stops answering during a streamed upload blocks the node forever.
    """

    def __init__(self, timeout):
        self._timeout = timeout
        super(_TimeoutAdapter, self).__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs['timeout'] = self._timeout
        super(_TimeoutAdapter, self).init_poolmanager(*args, **kwargs)

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        proxy_kwargs.setdefault('timeout', self._timeout)
        return super(_TimeoutAdapter, self).proxy_manager_for(proxy, **proxy_kwargs)


class HelperClient(object):
    def __init__(self, base_url, token, ca_file=None, timeout=60.0, retries=3, backoff=0.5):
        self.base_url = base_url.rstrip('/')
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.ca_file = ca_file or None
        self._session = requests.Session()
        for prefix in ('http://', 'https://'):
            self._session.mount(prefix, _TimeoutAdapter(timeout))
        self._session.headers['Authorization'] = 'Bearer ' + token
        self._session.headers['User-Agent'] = 'tripleo-upgrade-node'
        # Passed with every request: a session-level `verify` loses against REQUESTS_CA_BUNDLE in the environment.
        self._verify = self.ca_file or True

    @classmethod
    def from_config(cls, config):
        """From the configuration values (tripleo_config): daemon_url, token_file, ca_file, request_timeout."""
        token_file = config.get('token_file')
        try:
            token = read_token(token_file)
        except (IOError, OSError) as exc:
            raise DaemonError('cannot read the node token from {}: {}'.format(token_file, exc.strerror)) from exc
        return cls(config.get('daemon_url'), token, ca_file=config.get('ca_file') or None,
                   timeout=float(config.get('request_timeout') or 60.0))

    # -- data items ------------------------------------------------------------------------------

    def put_item(self, node, item, source, sha256_hex=None, encoding=None):
        """
        Stream ``source`` (a file object, or an iterable of bytes) to the daemon as ``node``'s ``item``.

        A seekable file is retried on connection failures; an iterable cannot be replayed and is not.
        The sha256 of what was sent is always compared with what the daemon stored. ``encoding='zstd'``: the
        bytes are a zstd frame, and the daemon records that with the item (its sha256 is of the compressed bytes).
        """
        url = self._url('nodes', node, 'data', item)
        headers = {'Content-Type': 'application/zstd' if encoding == 'zstd' else 'application/octet-stream'}
        if sha256_hex:
            headers['Content-Digest'] = 'sha-256=:{}:'.format(_b64_digest(sha256_hex))
        seekable = _seekable(source)
        if seekable:
            start = source.tell()
            size = source.seek(0, 2) - start

            def body():
                source.seek(start)
                return _HashingReader(source, size)
        else:
            chunks = iter(lambda: source.read(CHUNK), b'') if hasattr(source, 'read') else source

            def body():
                return _HashingIterable(chunks)

        sent = {}

        def send():
            sent['body'] = body()
            return self._session.put(url, data=sent['body'], headers=headers, timeout=self.timeout,
                                     verify=self._verify)

        response = self._call('PUT', url, send, retry=seekable)
        stored = self._json(response, 'PUT', url)
        local = sent['body'].sha256.hexdigest()
        if stored.get('sha256') != local or stored.get('size') != sent['body'].sent:
            raise DaemonError('PUT {}: the daemon stored {} bytes with sha256 {}, but this node sent {} bytes with '
                              'sha256 {}; the copy is corrupt, upload it again'.format(
                                  url, stored.get('size'), stored.get('sha256'), sent['body'].sent, local), url=url)
        return {'size': stored['size'], 'sha256': stored['sha256']}

    def get_item(self, node, item, dest, follow=False):
        """
        Stream ``node``'s ``item`` into ``dest`` (anything with ``write``); raise DaemonError unless it arrived whole.

        ``follow``: when the item is being uploaded, follow that upload as the daemon stores it (waiting up to the
        client's timeout for an upload to begin when none is stored yet); its size and sha256 are checked against
        the stored item once the upload has ended. Either way nothing in ``dest`` may be used before this returns.
        """
        url = self._url('nodes', node, 'data', item) + ('?follow=true' if follow else '')
        seekable = _seekable(dest)
        start = dest.tell() if seekable else 0
        attempt = 0
        waited_since = time.monotonic()
        while True:
            try:
                return self._download(url, dest, node, item)
            except DaemonError as exc:
                if follow and exc.status == 404 and time.monotonic() - waited_since < self.timeout:
                    time.sleep(0.2)  # the push has not begun yet
                    continue
                attempt += 1
                retriable = exc.status is None or exc.status in RETRY_STATUSES
                if not (seekable and retriable and attempt <= self.retries):
                    raise
                time.sleep(self.backoff * 2 ** (attempt - 1))
                dest.seek(start)
                dest.truncate()

    def _download(self, url, dest, node, item):
        # No retry here: get_item retries the whole download from the start of dest.
        response = self._call('GET', url, lambda: self._session.get(url, stream=True, timeout=self.timeout,
                                                                       verify=self._verify),
                              retry=False)
        with response:
            following = response.headers.get('Item-State') == 'uploading'
            expected_sha = parse_sha256_digest(response.headers.get('Repr-Digest'))
            expected_size = response.headers.get('Content-Length')
            sha256 = hashlib.sha256()
            size = 0
            try:
                for chunk in response.iter_content(CHUNK):
                    sha256.update(chunk)
                    size += len(chunk)
                    dest.write(chunk)
            except TRANSPORT_ERRORS as exc:
                message = 'GET {}: the transfer broke after {} bytes: {}'.format(url, size, exc)
                if following:
                    message += ' (the upload it followed failed or the daemon stopped)'
                raise DaemonError(message, url=url, failure=_failure_kind(exc)) from exc
        if following:
            # The upload has ended: what it stored is what these bytes must be.
            stored = self.head_item(node, item)
            if stored is None:
                raise DaemonError('GET {}: the upload it followed did not complete; nothing may be used'.format(url),
                                  url=url)
            expected_sha, expected_size = stored['sha256'], stored['size']
        if expected_size is not None and int(expected_size) != size:
            raise DaemonError('GET {}: received {} of {} bytes'.format(url, size, expected_size), url=url)
        if expected_sha is None:
            raise DaemonError('GET {}: the daemon sent no Repr-Digest, so the data cannot be verified'.format(url),
                              url=url)
        if sha256.hexdigest() != expected_sha:
            raise DaemonError('GET {}: received data has sha256 {}, the daemon announced {}; nothing may be used'
                              .format(url, sha256.hexdigest(), expected_sha), url=url)
        return {'size': size, 'sha256': expected_sha}

    def head_item(self, node, item):
        url = self._url('nodes', node, 'data', item)
        response = self._call('HEAD', url, lambda: self._session.head(url, timeout=self.timeout, verify=self._verify),
                              allowed=(404,))
        if response.status_code == 404:
            return None
        return {'size': int(response.headers['Content-Length']),
                'sha256': parse_sha256_digest(response.headers.get('Repr-Digest'))}

    def node_data(self, node):
        """The listing of ``node``'s items: {"items": [...], "free_bytes": room left at the daemon}."""
        return self._get_json(self._url('nodes', node, 'data'))

    def list_items(self, node):
        return self.node_data(node)['items']

    # -- status, leases, transfers --------------------------------------------------------------

    def put_status(self, node, phase, os_release=None, leapp_run_id=None, reports=(), error=None):
        body = {'phase': phase, 'os_release': os_release, 'leapp_run_id': leapp_run_id,
                'reports': list(reports), 'error': error}
        url = self._url('nodes', node, 'status')
        return self._json(self._request('PUT', url, json=body), 'PUT', url)

    def put_services(self, node, state, detail=''):
        """Tell the daemon this node's TripleO services are ``down`` (the transfer step) or ``up`` again."""
        url = self._url('nodes', node, 'services')
        return self._json(self._request('PUT', url, json={'state': state, 'detail': detail}), 'PUT', url)

    def node_status(self, node):
        """``node``'s current status at the daemon: {"phase", "os_release", ..., "timeline"}."""
        return self._get_json(self._url('nodes', node, 'status'))

    def acquire_lease(self, node, dry_run=False):
        """Ask for the right to take ``node`` down; raise LeaseRefused with the daemon's reasons."""
        url = self._url('nodes', node, 'lease')
        # Asking again for a lease the node holds is granted again, so a retry is safe.
        response = self._call('POST', url, lambda: self._session.post(
            url, params={'dry_run': 'true'} if dry_run else None, timeout=self.timeout, verify=self._verify),
            allowed=(409,))
        body = self._json(response, 'POST', url)
        if response.status_code == 409:
            reasons = body.get('reasons') or [body.get('detail') or 'no reason given']
            raise LeaseRefused('POST {}: the daemon refused the lease for {}: {}'.format(url, node, '; '.join(reasons)),
                               url=url, status=409, error=body.get('error'), detail=body.get('detail'),
                               reasons=reasons)
        return body

    def release_lease(self, node):
        self._request('DELETE', self._url('nodes', node, 'lease'))

    def node_transfers(self, node):
        return self._get_json(self._url('nodes', node, 'transfers'))['transfers']

    def complete_transfer(self, transfer_id):
        url = self._url('transfers', transfer_id, 'complete')
        response = self._call('POST', url, lambda: self._session.post(url, timeout=self.timeout, verify=self._verify),
                              retry=False)
        return self._json(response, 'POST', url)

    # -- plumbing ----------------------------------------------------------------------------------

    def _url(self, *parts):
        return '{}/v1/{}'.format(self.base_url, '/'.join(requests.utils.quote(str(p), safe='') for p in parts))

    def _get_json(self, url):
        return self._json(self._request('GET', url), 'GET', url)

    def _request(self, method, url, **kwargs):
        kwargs.setdefault('timeout', self.timeout)
        kwargs.setdefault('verify', self._verify)
        return self._call(method, url, lambda: self._session.request(method, url, **kwargs),
                          retry=method in ('GET', 'HEAD', 'PUT', 'DELETE'))

    def _call(self, method, url, send, retry=True, allowed=()):
        """Run ``send()`` with retries on connection failures and 502/503/504; raise DaemonError on failure."""
        attempt = 0
        while True:
            attempt += 1
            try:
                response = send()
            except TRANSPORT_ERRORS as exc:
                failure = _failure_kind(exc)
                if failure == 'untrusted':
                    trust = 'CA file ' + self.ca_file if self.ca_file else 'system trust store'
                    raise DaemonError('{} {}: the daemon\'s TLS certificate is not trusted ({}): {}'.format(
                        method, url, trust, exc), url=url, failure=failure) from exc
                if failure == 'invalid':
                    raise DaemonError('{} {}: the request cannot be made: {}'.format(method, url, exc),
                                      url=url, failure=failure) from exc
                if retry and attempt <= self.retries:
                    time.sleep(self.backoff * 2 ** (attempt - 1))
                    continue
                what = {'unreachable': 'the daemon is unreachable',
                        'timeout': 'the daemon did not answer within {:g} s'.format(self.timeout)}.get(
                            failure, 'the connection to the daemon failed')
                raise DaemonError('{} {}: {} after {} attempt(s): {}'.format(method, url, what, attempt, exc),
                                  url=url, failure=failure) from exc
            if response.status_code in RETRY_STATUSES and retry and attempt <= self.retries:
                response.close()
                time.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            if response.status_code >= 400 and response.status_code not in allowed:
                raise self._http_error(method, url, response)
            return response

    @staticmethod
    def _http_error(method, url, response):
        try:
            body = response.json()
        except ValueError:
            body = {}
        except TRANSPORT_ERRORS as exc:  # a streamed answer whose body broke off
            body = {'detail': 'the rest of the answer was lost: {}'.format(exc)}
        if not isinstance(body, dict):
            body = {}
        error = body.get('error') or response.reason
        detail = body.get('detail') or (response.text[:200] if not body else '')
        hint = ''
        if response.status_code == 401:
            hint = ' (the node token was refused: check token_file against the token the daemon issued)'
        elif response.status_code == 403:
            hint = ' (this node\'s token does not reach that resource)'
        message = '{} {}: HTTP {} {}{}{}'.format(method, url, response.status_code, error,
                                                 ': ' + str(detail) if detail else '', hint)
        return DaemonError(message, url=url, status=response.status_code, error=error, detail=detail,
                           reasons=body.get('reasons') or ())

    @staticmethod
    def _json(response, method, url):
        try:
            return response.json()
        except ValueError:
            raise DaemonError('{} {}: HTTP {} with a body that is not JSON: {!r}'.format(
                method, url, response.status_code, response.text[:200]), url=url, status=response.status_code) from None

    # -- issue 15: live quorum facts, Ceph OSD flags, accepted inhibitors, leapp's result -----------------------

    def request_lease(self, node, dry_run=False, ceph_mon_quorum=None):
        """
        acquire_lease() that also tells the daemon what this node sees of the monitor quorum right now
        (``ceph_mon_quorum``: {"in", "out", "observed_at", "observed_by"}, or None to send no body).

        LeaseRefused carries ``blockers`` too: the daemon's rules behind the reasons ({"rule", ...}).
        """
        url = self._url('nodes', node, 'lease')
        body = {'ceph_mon_quorum': ceph_mon_quorum} if ceph_mon_quorum else None
        response = self._call('POST', url, lambda: self._session.post(
            url, params={'dry_run': 'true'} if dry_run else None, json=body, timeout=self.timeout,
            verify=self._verify), allowed=(409,))
        answer = self._json(response, 'POST', url)
        if response.status_code == 409:
            reasons = answer.get('reasons') or [answer.get('detail') or 'no reason given']
            refused = LeaseRefused('POST {}: the daemon refused the lease for {}: {}'.format(
                url, node, '; '.join(reasons)), url=url, status=409, error=answer.get('error'),
                detail=answer.get('detail'), reasons=reasons)
            refused.blockers = [b for b in answer.get('blockers') or [] if isinstance(b, dict)]
            raise refused
        return answer

    def report_status(self, node, phase, os_release=None, leapp_run_id=None, reports=(), error=None,
                      ceph_mon_quorum=None, leapp_result=None):
        """put_status() with the optional facts: ``ceph_mon_quorum`` and FirstBoot's ``leapp_result``."""
        body = {'phase': phase, 'os_release': os_release, 'leapp_run_id': leapp_run_id,
                'reports': list(reports), 'error': error}
        if ceph_mon_quorum:
            body['ceph_mon_quorum'] = ceph_mon_quorum
        if leapp_result:
            body['leapp_result'] = leapp_result
        url = self._url('nodes', node, 'status')
        return self._json(self._request('PUT', url, json=body), 'PUT', url)

    def hold_ceph_osd_flags(self, node, flags, patience=600.0):
        """
        Record at the daemon that ``node`` holds the OSD ``flags`` (before it sets them with ceph).

        While another node is clearing flags the daemon answers 409: asked again with backoff (capped at 30 s)
        for up to ``patience`` seconds, then DaemonError with the daemon's reason.
        :return: {"node", "flags", "holders": {flag: [nodes]}}
        """
        url = self._url('nodes', node, 'ceph-osd-flags')
        deadline = time.monotonic() + patience
        attempt = 0
        while True:
            response = self._call('PUT', url, lambda: self._session.put(
                url, json={'flags': list(flags)}, timeout=self.timeout, verify=self._verify), allowed=(409,))
            if response.status_code != 409:
                return self._json(response, 'PUT', url)
            error = self._http_error('PUT', url, response)
            if time.monotonic() >= deadline:
                raise DaemonError('{} (still refused after {:g} s)'.format(error, patience), url=url, status=409,
                                  error=error.error, detail=error.detail, reasons=error.reasons)
            time.sleep(min(30.0, self.backoff * 2 ** attempt, max(0.0, deadline - time.monotonic())))
            attempt += 1

    def release_ceph_osd_flags(self, node):
        """
        End ``node``'s hold on its OSD flags. :return: {"node", "clear": [flags this node must unset now],
        "still_held": {flag: [nodes]}}; the daemon marks ``clear`` as being cleared by ``node`` until
        ceph_osd_flags_cleared(). Idempotent (asked again, a pending clear comes back; nothing held: clear []).
        """
        url = self._url('nodes', node, 'ceph-osd-flags')
        return self._json(self._request('DELETE', url), 'DELETE', url)

    def ceph_osd_flags_cleared(self, node, flags):
        """Confirm that ``node`` has unset ``flags`` with ceph (the end of the clear release_ceph_osd_flags began)."""
        url = self._url('nodes', node, 'ceph-osd-flags', 'cleared')
        self._call('POST', url, lambda: self._session.post(url, json={'flags': list(flags)}, timeout=self.timeout,
                                                            verify=self._verify))

    def accepted_inhibitors(self, node):
        """Every inhibitor acceptance that applies to ``node``: [{"key", "scope", "target", "reason", "by", "at"}]."""
        answer = self._get_json(self._url('nodes', node, 'accepted-inhibitors'))
        accepted = answer.get('accepted') if isinstance(answer, dict) else None
        return [a for a in accepted or [] if isinstance(a, dict) and a.get('key')]


def _causes(exc):
    """``exc`` and every exception it wraps (cause, context, urllib3's ``reason``, exceptions in its args)."""
    seen, pending = [], [exc]
    while pending:
        current = pending.pop(0)
        if current is None or not isinstance(current, BaseException) or any(current is s for s in seen):
            continue
        seen.append(current)
        pending.extend([current.__cause__, current.__context__, getattr(current, 'reason', None)])
        pending.extend(arg for arg in current.args if isinstance(arg, BaseException))
    return seen


def _untrusted(cause):
    # Python 3.7+: SSLCertVerificationError (a CertificateError); 3.6: SSLError with that reason, or urllib3's
    # hostname check's CertificateError. Other TLS failures (a cut, a plain-HTTP port) are connection failures.
    return isinstance(cause, ssl.CertificateError) or (
        isinstance(cause, ssl.SSLError) and getattr(cause, 'reason', None) == 'CERTIFICATE_VERIFY_FAILED')


def _failure_kind(exc):
    """DaemonError.failure for a transport exception: 'invalid', 'untrusted', 'unreachable', 'timeout' or 'broken'."""
    causes = _causes(exc)
    if any(isinstance(cause, _REQUEST_INVALID) for cause in causes):
        return 'invalid'
    if any(_untrusted(cause) for cause in causes):
        return 'untrusted'
    if any(isinstance(cause, _CONNECT_FAILURES) for cause in causes):
        return 'unreachable'
    if any(isinstance(cause, _TIMEOUTS) for cause in causes):
        return 'timeout'
    return 'broken'
