# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ScaleEngine client: signed commands posted to the API, answers decoded and checked. Never decides ``changed``.

Every request is one JSON object posted as the form field ``json`` to the API
URL, signed with a fresh timestamp on every try (docs/scaleengine.md,
"Signing, retries and failures"). Failure answers become the collection's one
error type with advice; answers that cannot be read become a sentence saying
what is wrong (docs/scaleengine.md, "Broken or hostile answers").
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.http_client import RETRY_STATUSES, ApiClient, backoff_delay
from ansible_collections.mediaops.streaming.plugins.module_utils.json_answer import (
    MAX_ANSWER_BYTES,
    MAX_SHOWN_TEXT,
    AnswerError,
    answer_text,
    decode_json_answer,
    printable,
    size_text,
)
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.answers import (
    CODE_ADVICE,
    UNKNOWN_FAILURE_ADVICE,
    check_envelope,
    is_failure,
    is_heavy_load,
    normalise_code,
    records,
)
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.ledger import TimestampLedger
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.php_json import (
    MAX_REQUEST_BYTES,
    check_request_fields,
    php_json_encode,
    too_large,
)
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.signing import build_request, signed_body

DEFAULT_API_URL = "https://api.scaleengine.net/stable/"

# Commands that only read; the modules send them in check mode too.
READ_COMMANDS = frozenset(("stream.details", "stream.active", "viewer.live"))
# Commands sent again after a failure that left it unknown whether the server
# got them: reading twice is harmless, and closing a closed stream or
# disconnecting a disconnected session only answers "not found". Any other
# command could act twice; it is sent once (docs/scaleengine.md, "Signing, retries and failures").
REPEATABLE_COMMANDS = READ_COMMANDS | frozenset(("stream.close", "pushpublish.disconnect"))

# A status other than 200 comes from the web server or a proxy, not from the
# API, which answers failures with HTTP 200 too (docs/scaleengine.md).
_URL_STATUSES = (301, 302, 307, 308, 404, 405)


def normalise_api_url(url: str) -> str:
    """The API URL with its trailing slash: the server answers a POST without it with a redirect (docs/scaleengine.md, "Connection options")."""
    url = (url or "").strip()
    if not re.match(r"^https?://[^/?#]+", url):
        raise StreamingError(f"api_url must be an http(s) URL such as {DEFAULT_API_URL}")
    if "?" in url or "#" in url:
        raise StreamingError("api_url must not contain a query string or fragment")
    bad = re.search(r"[\x00-\x20\x7f-\x9f]", url)
    if bad:
        raise StreamingError(
            f"api_url must not contain spaces or control characters (U+{ord(bad.group()):04X} at position {bad.start() + 1})",
            advice=f"Give the URL alone, for example {DEFAULT_API_URL}",
        )
    return url if url.endswith("/") else url + "/"


def _status_advice(command: str, status: int, repeatable: bool) -> str:
    """What to do about an HTTP status other than 200."""
    if status in _URL_STATUSES:
        return f"Check api_url (for example {DEFAULT_API_URL}, with the trailing slash)"
    if status in RETRY_STATUSES and not repeatable:
        return (
            f"{command} was not repeated: the server may have carried it out before failing, and the module does not know that doing it "
            "twice is safe. Check its result (for example in the control panel) before running the task again"
        )
    if status in RETRY_STATUSES or status >= 500:
        return "The API or a proxy in front of it is failing; try again later, and check api_url if it persists"
    return f"Check api_url and any proxy between this host and the API: the ScaleEngine API answers with HTTP 200, not {status}"


class ScaleEngineClient(ApiClient):
    """Sends signed commands; returns the decoded answers. Never decides ``changed``.

    ``http`` (see :class:`ApiClient`), ``clock``, ``sleep`` and ``ledger`` are
    injectable so tests control the transport and the timestamp.
    """

    def __init__(self, params: dict, context, http=None, clock=time.time, sleep=time.sleep, ledger=None):
        # An empty api_url (SCALEENGINE_API_URL set to nothing) means the default.
        self.api_url = normalise_api_url(params["api_url"] or DEFAULT_API_URL)
        self.cdn = params["cdn"]
        self.api_key = params["api_key"]
        self._secret = params["api_secret"]
        if not self.api_key or not self._secret:
            raise StreamingError("api_key and api_secret must not be empty (options or SCALEENGINE_API_KEY / SCALEENGINE_API_SECRET)")
        super().__init__(params, context, http=http)
        if http is None:
            # Stop reading a JSON answer at the size this client decodes at all.
            self.http.max_response_bytes = MAX_ANSWER_BYTES
        self.retries = max(0, params["retries"] or 0)
        self.sleep = sleep
        self.ledger = ledger if ledger is not None else TimestampLedger(clock=clock, sleep=sleep)

    def _timestamp(self, command: str, fields: dict) -> int:
        """Unix seconds (UTC) for a new try of this request, never the one of an earlier try of the same request.

        Every try is signed again with a fresh timestamp; see :class:`TimestampLedger`.
        """
        unsigned = php_json_encode(build_request(command, fields, self.api_key, self.cdn, 0))
        fingerprint = hmac.new(self._secret.encode("utf-8"), (self.api_url + unsigned).encode("utf-8"), hashlib.sha256).hexdigest()[:32]
        return self.ledger.claim(fingerprint)

    def _scrub(self, text: str) -> str:
        """Remove the credentials from text that came back from the server, in case it echoes the request."""
        for secret in (self._secret, self.api_key):
            if secret:
                text = text.replace(secret, "********")
        return re.sub(r'("signature"\s*:\s*")[^"]*', r"\1********", text)

    def _shown(self, value, limit: int = MAX_SHOWN_TEXT) -> str:
        """Text from the server, for a message: credentials removed (before shortening, so none is cut in half), bounded, printable."""
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        elif value is not None and not isinstance(value, str):
            value = answer_text(value, MAX_ANSWER_BYTES)
        return printable(self._scrub(value or ""), limit)

    def message(self, answer: dict, default: str = "") -> str:
        """The answer's ``message`` for a result or an error: any JSON type, credentials removed, bounded."""
        return self._shown(answer.get("message")) or default

    def malformed(self, command: str, problem: str, body: bytes | None = None, decoded: bool = True) -> StreamingError:
        """The error for an answer this client cannot use (``decoded=False``: cannot even read), naming what is wrong with it."""
        advice = (
            "Check that api_url points at the ScaleEngine API (a proxy or captive portal may be answering instead); "
            "if it does, report the answer to ScaleEngine support"
        )
        if command not in READ_COMMANDS:
            advice += f". {command} may have taken effect: check its result (for example in the control panel) before running the task again"
        return StreamingError(
            f"ScaleEngine {command}: " + ("the answer cannot be used: " if decoded else "the answer is not a JSON object the module can read: ") + problem,
            method="POST",
            url=self.api_url,
            status=200,
            body=None if body is None else (self._shown(body) or "(empty body)"),
            advice=advice,
        )

    def records(self, command: str, answer: dict) -> list:
        """The records of the answer's ``data``; an answer whose ``data`` are no records raises the error naming what is wrong."""
        try:
            return records(answer.get("data"), '"data"')
        except AnswerError as exc:
            raise self.malformed(command, str(exc)) from None

    def _request(self, command: str, fields: dict, repeatable: bool):
        """The HTTP answer to ``command``, every try signed with a fresh timestamp; a transport failure names the command."""

        def prepare():
            request = build_request(command, fields, self.api_key, self.cdn, self._timestamp(command, fields))
            # multipart/form-data with one field, as the reference's PHP sends it (docs/scaleengine.md).
            return {"files": {"json": (None, signed_body(request, self._secret))}}

        try:
            return self.http.request("POST", self.api_url, prepare=prepare, repeatable=repeatable)
        except StreamingError as exc:
            raise StreamingError(
                f"ScaleEngine {command}: {exc.message}",
                method=exc.method,
                url=exc.url,
                status=exc.status,
                body=exc.body_excerpt or None,
                advice=exc.advice,
                details=exc.details,
            ) from None

    def _post(self, command: str, fields: dict, repeatable: bool) -> dict:
        # Refuse what cannot be signed or is too large before anything is sent.
        check_request_fields(fields)
        unsigned = php_json_encode(build_request(command, fields, self.api_key, self.cdn, 0))
        if len(unsigned) > MAX_REQUEST_BYTES:
            raise too_large(f"{command} would be {size_text(len(unsigned))} once encoded")
        response = self._request(command, fields, repeatable)
        content = response.content or b""
        if response.status_code != 200:
            raise StreamingError(
                f"ScaleEngine {command} failed",
                method="POST",
                url=self.api_url,
                status=response.status_code,
                body=self._shown(content),
                advice=_status_advice(command, response.status_code, repeatable),
            )
        try:
            answer = decode_json_answer(content)
        except AnswerError as exc:
            raise self.malformed(command, str(exc), content, decoded=False) from None
        try:
            check_envelope(answer)
        except AnswerError as exc:
            raise self.malformed(command, str(exc), content) from None
        return answer

    def send(self, command: str, fields: dict, repeatable: bool | None = None) -> dict:
        """Send ``command`` with ``fields``; return the decoded answer (success or failure).

        ``repeatable`` says whether the HTTP request may be sent again after a
        failure that left it unknown whether the server got it; by default,
        for the commands in ``REPEATABLE_COMMANDS`` only. Code 1000 (heavy
        load) is the API's refusal to start, so it is retried for every
        command, with backoff, bounded by ``retries``, with a warning each
        time; each try is signed with a fresh timestamp.
        """
        if repeatable is None:
            repeatable = command in REPEATABLE_COMMANDS
        attempt = 0
        answer = self._post(command, fields, repeatable)
        while is_heavy_load(answer) and attempt < self.retries:
            attempt += 1
            delay = backoff_delay(attempt)
            self.context.warn(f"ScaleEngine {command}: the API is under heavy load (code 1000); retrying in {delay:.1f}s (retry {attempt} of {self.retries})")
            self.sleep(delay)
            answer = self._post(command, fields, repeatable)
        return answer

    def failure(self, command: str, answer: dict) -> StreamingError:
        """The error for a failure answer: the API's message and code, and advice for the documented codes."""
        code = normalise_code(answer.get("code"))
        code = printable(code, 32) if code else None
        message = self.message(answer, "(no message)")
        shown = f"ScaleEngine {command} failed: {message}" + (f" (code {code})" if code else "")
        return StreamingError(
            shown,
            method="POST",
            url=self.api_url,
            advice=CODE_ADVICE.get(code, UNKNOWN_FAILURE_ADVICE),
            details={"api_code": code, "api_message": message},
        )

    def call(self, command: str, fields: dict, repeatable: bool | None = None) -> dict:
        """Like :meth:`send`, but a failure answer raises :class:`StreamingError` with the API's code, message and advice."""
        answer = self.send(command, fields, repeatable)
        if is_failure(answer):
            raise self.failure(command, answer)
        return answer
