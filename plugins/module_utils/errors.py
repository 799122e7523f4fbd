# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's one error type, and URL redaction for messages."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters whose values are credentials in the APIs we speak (Red5's
# accessToken, ScaleEngine's signature) or commonly are elsewhere.
_SECRET_QUERY_NAME = re.compile(r"token|secret|password|passwd|signature|api_?key|auth", re.IGNORECASE)
_EXCERPT_LENGTH = 300


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
    text = " ".join(body.split())
    return text if len(text) <= limit else text[:limit] + "..."


class StreamingError(Exception):
    """Raised by module_utils; the module turns it into ``fail_json``.

    ``message`` says what went wrong in the user's terms; ``method``, ``url``
    (redacted here, once), ``status`` and ``body`` say what the server did;
    ``advice`` says what to do about it. ``details`` are extra keys for the
    task result (for example the publishing point's current state).
    """

    def __init__(self, message, method=None, url=None, status=None, body=None, advice=None, details=None):
        self.message = message
        self.method = method
        self.url = redact_url(url) if url else None
        self.status = status
        self.body_excerpt = excerpt(body) if body else ""
        self.advice = advice
        self.details = dict(details or {})
        super().__init__(self._render())

    def _render(self) -> str:
        text = self.message
        if self.method and self.url:
            request = f"{self.method} {self.url}"
            text += f" ({request} returned HTTP {self.status})" if self.status else f" ({request})"
        if self.body_excerpt:
            text += f"; server said: {self.body_excerpt}"
        if self.advice:
            text += f". {self.advice}"
        return text

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
        return extra
