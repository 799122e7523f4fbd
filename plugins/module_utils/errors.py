# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's one error type, URL redaction, and the scrubbing of secrets from anything shown.

Ansible masks the raw values of ``no_log`` options, and only those. A secret
that has been sent takes other forms: URL-encoded in a query string,
JSON-escaped in a request body (PHP's ``json_encode`` also writes ``/`` as
``\\/``), base64 in an HTTP Basic ``Authorization`` header, HTML-escaped in an
error page. A server that echoes the request in its error body hands those
forms back, and they reach messages and results. :func:`register_secret`
records every such form of a value; :func:`scrub` replaces them with
``********``, and :func:`excerpt` scrubs before it cuts a body short, so half
a secret is never shown either. The runner registers the ``no_log`` values
(and the Basic credentials made from them) before the module's work starts,
and scrubs the message, the result and every warning; code that derives a
secret of its own (a request signature) registers it too.
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import re
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

# Query parameters whose values are credentials in the APIs we speak (Red5's
# accessToken, ScaleEngine's signature) or commonly are elsewhere.
_SECRET_QUERY_NAME = re.compile(r"token|secret|password|passwd|signature|api_?key|auth", re.IGNORECASE)
_EXCERPT_LENGTH = 300
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# The placeholder Ansible itself puts where a no_log value was.
MASK = "********"


class _Registry:
    """Every form of every registered secret, and one pattern matching them all.

    One module run is one process, so the registry holds the secrets of this task only.
    """

    def __init__(self):
        self.forms: set[str] = set()
        self.pattern: re.Pattern | None = None

    def add(self, forms: set[str]) -> None:
        if not forms <= self.forms:
            self.forms |= forms
            # Longest first, so a form that contains another (the URL-encoded
            # value contains runs of the raw one) is replaced whole.
            self.pattern = re.compile("|".join(re.escape(form) for form in sorted(self.forms, key=len, reverse=True)))

    def clear(self) -> None:
        self.forms = set()
        self.pattern = None


_REGISTRY = _Registry()


def _lower_percent_hex(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda match: match.group(0).lower(), text)


def _upper_unicode_hex(text: str) -> str:
    return re.sub(r"\\u([0-9a-f]{4})", lambda match: "\\u" + match.group(1).upper(), text)


def secret_forms(value) -> set[str]:
    """The forms ``value`` takes once sent, echoed or serialised; empty for an empty value."""
    text = "" if value is None else str(value)
    if not text:
        return set()
    forms = {text, html.escape(text, quote=True), html.escape(text, quote=False), repr(text)[1:-1]}
    # What a Python bytes repr shows (b'...\\xc3\\xbc...'), as an exception message about a request body might.
    forms.add(repr(text.encode("utf-8"))[2:-1])
    for safe in ("", "/"):
        for encoded in (quote(text, safe=safe), quote_plus(text, safe=safe)):
            forms.update((encoded, _lower_percent_hex(encoded)))
    for ensure_ascii in (True, False):
        escaped = json.dumps(text, ensure_ascii=ensure_ascii)[1:-1]
        for variant in (escaped, escaped.replace("/", "\\/")):
            forms.update((variant, _upper_unicode_hex(variant)))
    return forms


def basic_credentials(username, password) -> set[str]:
    """The base64 token of an HTTP Basic ``Authorization`` header, as UTF-8 (RFC 7617) and as Latin-1 (requests' default)."""
    if username is None or not password:
        return set()
    pair = f"{username}:{password}"
    tokens = {base64.b64encode(pair.encode("utf-8")).decode("ascii")}
    with contextlib.suppress(UnicodeEncodeError):  # a pair outside Latin-1 is never sent that way
        tokens.add(base64.b64encode(pair.encode("latin-1")).decode("ascii"))
    return tokens


def register_secret(value) -> None:
    """Mask ``value``, in all its forms, in every excerpt, error, message and result from now on."""
    _REGISTRY.add(secret_forms(value))


def forget_secrets() -> None:
    """Forget every registered secret (for tests that run several modules' work in one process)."""
    _REGISTRY.clear()


def scrub(value):
    """``value`` with every registered secret masked: strings, and the keys and items of dicts, lists and tuples, at any depth."""
    pattern = _REGISTRY.pattern
    if pattern is None:
        return value
    if isinstance(value, str):
        return pattern.sub(MASK, value)
    if isinstance(value, dict):
        return {scrub(key): scrub(item) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub(item) for item in value]
    if isinstance(value, tuple):
        return tuple(scrub(item) for item in value)
    return value


def redact_url(url: str) -> str:
    """Return ``url`` without user info and with secret-looking query values masked."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(name, "REDACTED" if _SECRET_QUERY_NAME.search(name) else value) for name, value in pairs], safe=":/*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def excerpt(body: str | bytes | None, limit: int = _EXCERPT_LENGTH) -> str:
    """A one-line, bounded excerpt of a response body for error messages."""
    if body is None:
        return ""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    # Before cutting: a secret that straddles the cut would otherwise show its first half.
    text = " ".join(scrub(body).split())
    # A server's text reaches terminals and CI logs: terminal escapes and bidi
    # overrides are shown as escapes, not obeyed.
    text = _UNPRINTABLE.sub(lambda match: f"\\u{ord(match.group(0)):04x}", text)
    return text if len(text) <= limit else text[:limit] + "..."


# What to do about an HTTP status, for errors whose vendor code has no better
# advice. Every module reads before it writes, so running the task again is
# always safe: it carries on from what is on the server.
_STATUS_ADVICE = {
    401: "Check the credentials given to the module (its user name, password, key or token options, or their environment variables)",
    403: "Check that this host and these credentials are allowed to do this on the server (IP allow lists, permissions)",
    408: "The server gave up waiting for the request; run the task again, and check the network if it persists",
    429: "The server is limiting the request rate; run the task again later, or with fewer forks",
    500: "The server failed while handling the request; see its error log, then run the task again",
    502: "A proxy or load balancer got no valid answer from the server; check that the server is up, then run the task again",
    503: "The server is unavailable (overloaded or in maintenance); run the task again when it is back",
    504: "A proxy or load balancer timed out waiting for the server; check the server, then run the task again",
}


def status_advice(status) -> str | None:
    """What to do about HTTP ``status`` when nothing more specific is known."""
    if not isinstance(status, int) or isinstance(status, bool):
        return None
    if status in _STATUS_ADVICE:
        return _STATUS_ADVICE[status]
    if status >= 500:
        return "The server failed to answer; check its logs, then run the task again"
    return None


class StreamingError(Exception):
    """Raised by module_utils; the module turns it into ``fail_json``.

    ``message`` says what went wrong in the user's terms; ``method``, ``url``
    (redacted here, once), ``status`` and ``body`` say what the server did;
    ``advice`` says what to do about it (by default, what an HTTP ``status``
    usually calls for). ``details`` are extra keys for the task result (for
    example the publishing point's current state).
    """

    def __init__(self, message, method=None, url=None, status=None, body=None, advice=None, details=None):
        self.message = message
        self.method = method
        self.url = redact_url(url) if url else None
        self.status = status
        self.body_excerpt = excerpt(body) if body else ""
        self.advice = advice if advice is not None else status_advice(status)
        self.details = dict(details or {})
        super().__init__(self._render())

    def __str__(self) -> str:
        # Rendered again, not cached: a secret registered after the error was made is masked too.
        return self._render()

    def _render(self) -> str:
        text = self.message
        if self.method and self.url:
            request = f"{self.method} {self.url}"
            text += f" ({request} returned HTTP {self.status})" if self.status else f" ({request})"
        if self.body_excerpt:
            text += f"; server said: {self.body_excerpt}"
        if self.advice:
            text += f". {self.advice}"
        return scrub(text)

    def result(self) -> dict:
        """Extra keys for ``fail_json``: what was requested and what came back."""
        extra = dict(self.details)
        if self.method:
            extra["method"] = self.method
        if self.url:
            extra["url"] = self.url
        if self.status is not None:
            extra["status"] = self.status
        if self.body_excerpt:
            extra["response_excerpt"] = self.body_excerpt
        return scrub(extra)
