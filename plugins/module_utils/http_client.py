# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP transport shared by every vendor client.

One ``requests`` session per module run. Retries come in two layers:

* establishing the connection is retried by urllib3's ``Retry`` for every
  method, because nothing has been sent when it fails;
* a request that reached the server (a reset mid-answer, a read timeout, an
  HTTP 429/502/503/504) is sent again only when it is safe to repeat: an
  idempotent method, or a caller that says so (``repeatable=True``). A caller
  that must change the request on every try (ScaleEngine re-signs with a fresh
  timestamp) passes ``prepare``, called before each attempt.

Waits grow exponentially with jitter and honour ``Retry-After`` (capped, so a
server cannot park a job for an hour). Every retry is reported through
``warn`` so operators see a flaky server instead of a slow job.
"""

from __future__ import annotations

import random
import re
import time
import traceback
import warnings
from email.utils import parsedate_to_datetime

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError, redact_url

try:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.exceptions import ConnectTimeoutError, InsecureRequestWarning, NewConnectionError
    from urllib3.util.retry import Retry
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None

RETRY_STATUSES = frozenset((429, 502, 503, 504))
IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "OPTIONS", "PUT", "DELETE"))
BACKOFF_FACTOR = 0.5
BACKOFF_MAX = 10.0
RETRY_AFTER_MAX = 60.0
# The largest answer read into memory. Above USP's 50 MB server-manifest limit,
# far above any JSON answer of the three APIs; a larger body is a broken or
# hostile server, refused before it can exhaust the controller's memory.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
_READ_CHUNK = 64 * 1024
# Bounds on the options, so a typo cannot park a job for days (NaN and
# infinity are refused too: requests would fail on them with a Python error).
MAX_TIMEOUT = 86400.0
MAX_RETRIES = 20
USER_AGENT = "mediaops.streaming (Ansible collection)"

# Options every module has; mirrored by the ``connection`` doc fragment.
HTTP_ARGUMENT_SPEC = dict(
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
    timeout=dict(type="float", default=30),
    retries=dict(type="int", default=3),
)


# What a transport failure means, most specific first, after the timeouts and connect failures.
_TRANSPORT_ERROR_TEXTS = (
    (
        (requests.exceptions.ConnectionError, "the connection was reset or closed by the server"),
        (requests.exceptions.ContentDecodingError, "the answer's Content-Encoding could not be decoded"),
        (requests.exceptions.TooManyRedirects, "the server redirected too many times"),
        (requests.exceptions.InvalidURL, "the URL is not valid"),
    )
    if HAS_REQUESTS
    else ()
)


def backoff_delay(attempt: int, retry_after: float | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based)."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), RETRY_AFTER_MAX)
    ceiling = min(BACKOFF_MAX, BACKOFF_FACTOR * (2 ** (attempt - 1)))
    # "Equal jitter": at least half the exponential step, so retries from many
    # forks spread out but never hammer the server back-to-back.
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):g} MiB" if count >= 1024 * 1024 else f"{count} bytes"


def _ssl_reason(exc: BaseException) -> str:
    """The OpenSSL reason of a TLS failure ("certificate verify failed: self-signed certificate"), without Python's wrapping."""
    text = str(exc)
    match = re.search(r"certificate verify failed: ([^()\]'\"]+)", text)
    if match:
        return "certificate verify failed: " + match.group(1).strip()
    match = re.search(r"\[SSL: ([A-Z_]+)\]", text)
    return match.group(1).lower().replace("_", " ") if match else "the TLS handshake failed"


def is_connect_failure(exc: BaseException) -> bool:
    """True when the TCP/TLS connection was never established (nothing was sent)."""
    seen = set()
    pending = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, (NewConnectionError, ConnectTimeoutError, requests.exceptions.ConnectTimeout)):
            return True
        pending.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))
        pending.append(getattr(current, "reason", None))
        pending.append(current.__cause__)
        pending.append(current.__context__)
    return False


class HttpClient:
    """A ``requests`` session with the collection's timeout, TLS and retry policy.

    It speaks HTTP and nothing else: it never decides ``changed`` and never
    interprets a vendor's answer beyond "retry or not".
    """

    def __init__(
        self, timeout=30, validate_certs=True, ca_path=None, username=None, password=None, retries=3, warn=None, max_response_bytes=MAX_RESPONSE_BYTES
    ):
        if not HAS_REQUESTS:  # the module reports missing_required_lib before this
            raise StreamingError("the Python library 'requests' is required")
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not 0 < timeout <= MAX_TIMEOUT:
            raise StreamingError(f"timeout must be a number of seconds above 0 and at most {MAX_TIMEOUT:g}, got {timeout!r}")
        if not isinstance(retries, int) or isinstance(retries, bool) or not 0 <= retries <= MAX_RETRIES:
            raise StreamingError(f"retries must be a whole number from 0 to {MAX_RETRIES}, got {retries!r}")
        self.timeout = timeout
        self.retries = retries
        self.max_response_bytes = max_response_bytes
        self.warn = warn or (lambda message: None)
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        # Passed with every request, never only set on the session: requests lets
        # REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override Session.verify
        # (https://github.com/psf/requests/issues/3829), which would silently
        # ignore the task's ca_path and validate_certs=false. A per-request value
        # wins; True still lets the environment's bundle apply, as it should when
        # the task names no CA of its own.
        self.verify = ca_path if (validate_certs and ca_path) else bool(validate_certs)
        self.session.verify = self.verify
        if not validate_certs:
            self.warn("validate_certs=false: server certificates are not verified, so anyone on the network path can pose as the server; set ca_path instead")
        if username is not None:
            # requests would encode str credentials as Latin-1; RFC 7617 and
            # htpasswd files use UTF-8, so a non-ASCII password must go as UTF-8.
            self.session.auth = (username.encode("utf-8"), (password or "").encode("utf-8"))
        # urllib3 retries only the connection itself, for any method.
        # read=False re-raises read errors unchanged, so a read timeout stays a
        # ReadTimeout instead of becoming a generic "max retries" connection error.
        connect_retry = Retry(total=None, connect=self.retries, read=False, status=0, other=0, redirect=5, backoff_factor=BACKOFF_FACTOR, raise_on_status=False)
        adapter = HTTPAdapter(max_retries=connect_retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    @classmethod
    def from_params(cls, params, warn=None, username=None, password=None):
        return cls(
            timeout=params.get("timeout", 30),
            validate_certs=params.get("validate_certs", True),
            ca_path=params.get("ca_path"),
            username=username,
            password=password,
            retries=params.get("retries", 3),
            warn=warn,
        )

    def request(self, method, url, params=None, data=None, headers=None, files=None, prepare=None, repeatable=None, timeout=None):
        """Send one logical request; return the final ``requests.Response``.

        Any HTTP status is returned to the caller, which maps it to a meaning;
        transport failures (and retries exhausted on them) raise
        :class:`StreamingError`. ``prepare()`` may return a dict of
        ``params``/``data``/``headers``/``files`` overrides for each attempt.
        """
        method = method.upper()
        if repeatable is None:
            repeatable = method in IDEMPOTENT_METHODS
        attempts = 1 + (self.retries if repeatable else 0)
        timeout = timeout or self.timeout
        for attempt in range(1, attempts + 1):
            kwargs = dict(params=params, data=data, headers=headers, files=files)
            if prepare is not None:
                kwargs.update(prepare())
            try:
                response = self._send(method, url, timeout, kwargs)
            except requests.exceptions.RequestException as exc:
                reason = self._describe_transport_error(exc, timeout)
                if is_connect_failure(exc) or not repeatable or attempt == attempts:
                    raise self._transport_error(exc, reason, method, url, repeatable) from exc
                self._wait_before_retry(f"{method} {redact_url(url)}: {reason}", attempt, attempts)
                continue
            if response.status_code in RETRY_STATUSES and repeatable and attempt < attempts:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                self._wait_before_retry(f"{method} {redact_url(url)} returned HTTP {response.status_code}", attempt, attempts, retry_after)
                continue
            # How many times the request was sent: a 404 to the repeat of a
            # DELETE whose first answer was lost means "deleted", not "missing".
            response.attempts = attempt
            return response
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _send(self, method, url, timeout, kwargs):
        """One attempt: the request sent and its whole body read; a TLS failure raised as the collection's error."""
        try:
            with warnings.catch_warnings():
                # The one warning about validate_certs=false was given when the client was made.
                warnings.simplefilter("ignore", InsecureRequestWarning)
                response = self.session.request(method, url, timeout=timeout, verify=self.verify, stream=True, **kwargs)
                self._read_body(response, method, url)
        except requests.exceptions.SSLError as exc:
            raise StreamingError(
                f"TLS certificate verification failed: {_ssl_reason(exc)}",
                method=method,
                url=url,
                advice="Set ca_path to the CA bundle that signed the server certificate (validate_certs=false only for testing)",
            ) from exc
        return response

    @staticmethod
    def _transport_error(exc, reason, method, url, repeatable) -> StreamingError:
        advice = None
        if not repeatable and not is_connect_failure(exc):
            advice = "The request was not repeated because it is not safe to repeat; check the server's state before running the task again"
        return StreamingError(f"request failed: {reason}", method=method, url=url, advice=advice)

    def _wait_before_retry(self, what, attempt, attempts, retry_after=None) -> None:
        delay = backoff_delay(attempt, retry_after)
        self.warn(f"{what}; retrying in {delay:.1f}s (retry {attempt} of {attempts - 1})")
        time.sleep(delay)

    def _read_body(self, response, method, url) -> None:
        """Read the whole body now, refusing more than ``max_response_bytes``.

        Reading inside the retry loop means an answer cut short (a reset or
        close in the middle of the body) is a transport failure like any other,
        and a huge body never reaches memory whole.
        """
        declared = response.headers.get("Content-Length", "")
        too_large = StreamingError(
            f"the answer is larger than {_size(self.max_response_bytes)}; it was not read",
            method=method,
            url=url,
            status=response.status_code,
            advice="Check that the URL points at the right server: no answer of this API should be that large",
        )
        if declared.isdigit() and int(declared) > self.max_response_bytes:
            response.close()
            raise too_large
        chunks, size = [], 0
        try:
            for chunk in response.iter_content(_READ_CHUNK):
                size += len(chunk)
                if size > self.max_response_bytes:
                    raise too_large
                chunks.append(chunk)
        finally:
            response.close()
        # requests' own cache of the body: .content, .text and .json() read it from here.
        response._content = b"".join(chunks)

    @staticmethod
    def _describe_transport_error(exc, timeout) -> str:
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return f"connection timed out after {timeout:g}s"
        if isinstance(exc, requests.exceptions.ReadTimeout) or "Read timed out" in str(exc):
            return f"no answer within {timeout:g}s (raise the timeout option if the server is slow)"
        if is_connect_failure(exc):
            return "could not connect to the server (is the URL right and the server up?)"
        if isinstance(exc, requests.exceptions.ChunkedEncodingError) or "IncompleteRead" in str(exc):
            return "the server closed the connection before the whole answer arrived"
        for kind, text in _TRANSPORT_ERROR_TEXTS:
            if isinstance(exc, kind):
                return text
        return "the request failed (" + type(exc).__name__ + ")"

    def close(self):
        self.session.close()


class ApiClient:
    """The contract every vendor client follows.

    Built from the task's parameters and its :class:`~.context.ExecutionContext`
    (whose ``warn`` reports retries), it speaks one vendor's API over one
    :class:`HttpClient` and never decides ``changed``. Used as a context
    manager, it closes its session when the work is done. A test passes
    ``http`` (any object with ``request`` and ``close``) instead of a real
    session, or hands the work function a fake client altogether.
    """

    def __init__(self, params, context, http=None):
        self.params = params
        self.context = context
        self.http = http if http is not None else HttpClient.from_params(params, warn=context.warn, **self.http_credentials(params))

    @staticmethod
    def http_credentials(params) -> dict:
        """``username`` and ``password`` for HTTP Basic authentication, when the vendor uses it."""
        return {}

    def close(self) -> None:
        self.http.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback_):
        self.close()
        return False
