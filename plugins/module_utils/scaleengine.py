# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ScaleEngine's signed "command" API: PHP-compatible signing, the client, and the modules' work.

Every request is one JSON object posted as the form field ``json`` to the API
URL. It is signed the way ScaleEngine's own PHP examples sign it: the request
without ``signature`` is encoded exactly as PHP's ``json_encode`` does with
default flags, that text is signed with HMAC-SHA256 keyed by the secret string,
and the padded base64 digest is appended as the last key, ``signature``
(docs/scaleengine.md, "Signing, retries and failures"). Python's ``json.dumps``
gives different bytes (spaces, raw ``/``, ``\\u007f`` for DEL), so this module
has its own encoder.

Failures arrive as HTTP 200 with ``"status": "failure"``, a ``message`` and
often a ``code`` (same section); the client turns them into the collection's
one error type with advice, once. The client speaks the API and never decides
``changed``; the work functions at the end of this file do.

Answers are untrusted input: they are read with a size bound, decoded with
bounds on nesting and numbers, and every field the work functions use is
checked for its type, so a broken or hostile server gets a sentence naming
what was wrong instead of a traceback (docs/scaleengine.md, "Broken or
hostile answers"). This module also holds that bounded JSON decoder for the
Red5 client.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import tempfile
import time

from ansible.module_utils.common.parameters import env_fallback

try:
    import fcntl
except ImportError:  # not POSIX: signatures are then unique within one process only
    fcntl = None

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError, register_secret
from ansible_collections.mediaops.streaming.plugins.module_utils.http_client import HTTP_ARGUMENT_SPEC, RETRY_STATUSES, HttpClient, backoff_delay
from ansible_collections.mediaops.streaming.plugins.module_utils.json_answer import (
    MAX_ANSWER_BYTES,
    MAX_JSON_DEPTH,
    MAX_SHOWN_TEXT,
    AnswerError,
    answer_text,
    decode_json_answer,
    describe,
    printable,
    size_text,
)

DEFAULT_API_URL = "https://api.scaleengine.net/stable/"

# One source of truth for the connection options; mirrored by the
# ``mediaops.streaming.scaleengine`` doc fragment.
SCALEENGINE_ARGUMENT_SPEC = dict(
    api_url=dict(type="str", default=DEFAULT_API_URL, fallback=(env_fallback, ["SCALEENGINE_API_URL"])),
    cdn=dict(type="int", required=True, fallback=(env_fallback, ["SCALEENGINE_CDN"])),
    api_key=dict(type="str", required=True, no_log=True, fallback=(env_fallback, ["SCALEENGINE_API_KEY"])),
    api_secret=dict(type="str", required=True, no_log=True, fallback=(env_fallback, ["SCALEENGINE_API_SECRET"])),
    **HTTP_ARGUMENT_SPEC,
)

# Fields the client writes itself, in this order, before the command's own
# fields (the order of the reference's PHP examples, which the signature test
# vectors in tests/unit/plugins/module_utils/test_scaleengine.py follow);
# ``signature`` always comes last.
ENVELOPE_FIELDS = ("command", "api_key", "timestamp", "cdn")
RESERVED_FIELDS = frozenset((*ENVELOPE_FIELDS, "signature", "cdn_id"))

# Commands that only read; the modules send them in check mode too.
READ_COMMANDS = frozenset(("stream.details", "stream.active", "viewer.live"))
# Commands that may be sent again after a failure that left it unknown whether
# the server got them (a reset, a timeout, HTTP 502/504): reading twice is
# harmless, and closing a closed stream or disconnecting a disconnected session
# only answers "not found". Any other command could act twice; it is sent once
# (docs/scaleengine.md, "Signing, retries and failures").
REPEATABLE_COMMANDS = READ_COMMANDS | frozenset(("stream.close", "pushpublish.disconnect"))

# Bounds on what a request may hold. The API's requests are a few hundred
# bytes; a megabyte is far above any real command and far below what a PHP
# server accepts. PHP's json_encode recurses, and so does this module's.
MAX_REQUEST_BYTES = 1024 * 1024

# PHP arrays hold integers as 64-bit values; json_decode turns anything larger
# into a float, which re-encodes differently and breaks the signature.
_PHP_INT_MIN = -(2**63)
_PHP_INT_MAX = 2**63 - 1
# PHP's json_decode(..., true) turns object keys that are canonical decimal
# integers into integer keys; an object whose keys are then 0..n-1 re-encodes
# as a list.
_PHP_INTEGER_KEY = re.compile(r"^(0|-?[1-9][0-9]*)$")

# PHP json_encode's short escapes (measured with PHP 8.2; docs/scaleengine.md,
# "Signing, retries and failures"): `/` is escaped, DEL (0x7f) is not.
_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "/": "\\/",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}

# General result codes (docs/scaleengine.md, "Signing, retries and failures"), with what to do about them.
HEAVY_LOAD = "1000"
QUEUED = "0100"
AUTH_CODES = frozenset(("0000", "0001", "0002", "0003", "0004", "0005", "0006"))
CODE_ADVICE = {
    "0000": "The API does not know this command; check its spelling (for example stream.close, viewer.live)",
    "0001": "Check api_key and cdn (SCALEENGINE_API_KEY, SCALEENGINE_CDN): the key must belong to the account with this CDN id",
    "0002": (
        "Check that the clock of the host running the module is correct (NTP); the timestamp is sent as UTC Unix seconds and must be "
        "within the API's short validity window"
    ),
    "0003": "Check api_secret (SCALEENGINE_API_SECRET): the request signature did not verify",
    "0004": "The API reported an unexpected error; try again later and contact ScaleEngine support if it persists",
    "0005": (
        "The API key is not allowed to do this; check the key's permissions in the control panel. The same signed request sent twice (a replay) is refused too"
    ),
    "0006": "A field the command requires is missing; check the module's options (or params for scaleengine_command)",
    HEAVY_LOAD: "The API is under heavy load; try again in a few minutes (the module already retried with backoff)",
}

# A failure without one of the documented codes carries only its message.
_UNKNOWN_FAILURE_ADVICE = "Check the options (or params) the message points at; if it is unclear, ask ScaleEngine support what it means"

# How a careful client recognises "that stream / session is not there". The
# reference does not say what stream.details answers for a stream that is not
# live, nor what a disconnect of an absent session answers (inferred): a
# failure without one of the general codes whose message says so, or a success
# without data.
_NOT_FOUND_MESSAGE = re.compile(
    r"not\s+(?:be\s+)?(?:found|live|active|running|connected|exist|publishing)"
    r"|no\s+(?:such|matching|active|live)|does\s*n[o']t\s+exist|offline|unknown\s+stream",
    re.IGNORECASE,
)
# Keys under which a stream's details may list its PushPublish sessions.
_SESSION_KEYS = ("pushpublish", "push_publish", "pushpublish_sessions", "push_sessions", "sessions")


# --------------------------------------------------------------------------
# PHP-compatible JSON encoding and signing
# --------------------------------------------------------------------------


def _refuse(path: str, problem: str) -> StreamingError:
    return StreamingError(
        f"cannot sign field {path}: {problem}",
        advice="ScaleEngine verifies the signature after decoding and re-encoding the request in PHP, so values that do not survive "
        "that round trip could never verify; pass such values as strings",
    )


def _php_string(text: str, path: str) -> str:
    pieces = ['"']
    for char in text:
        code = ord(char)
        if char in _SHORT_ESCAPES:
            pieces.append(_SHORT_ESCAPES[char])
        elif code < 0x20:
            pieces.append(f"\\u{code:04x}")
        elif code < 0x80:  # printable ASCII and DEL stay raw
            pieces.append(char)
        elif 0xD800 <= code <= 0xDFFF:
            # A lone surrogate (e.g. undecodable bytes smuggled in with
            # surrogateescape) is not UTF-8; PHP's json_encode/json_decode fail on it.
            raise _refuse(path, "the text is not valid UTF-8 (it contains a lone surrogate)")
        elif code > 0xFFFF:
            code -= 0x10000
            pieces.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            pieces.append(f"\\u{code:04x}")
    pieces.append('"')
    return "".join(pieces)


def php_json_encode(value, path: str = "request", depth: int = 0) -> str:
    """``value`` encoded byte for byte as PHP's ``json_encode($value)`` with default flags.

    Refuses (:class:`StreamingError`) values whose PHP round trip
    (``json_encode(json_decode($text, true))``) would change the text: floats,
    empty objects, objects whose keys PHP turns into list indexes, integers
    beyond 64 bits and text that is not valid UTF-8; and lists or objects
    nested more than ``MAX_JSON_DEPTH`` levels (``depth`` is how many enclose
    ``value``), before the recursion could exhaust the stack.
    """
    if isinstance(value, (dict, list, tuple)) and depth >= MAX_JSON_DEPTH:
        raise _too_deep(path)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if not _PHP_INT_MIN <= value <= _PHP_INT_MAX:
            raise _refuse(path, f"the integer {value} does not fit in 64 bits (PHP would turn it into a float)")
        return str(value)
    if isinstance(value, float):
        raise _refuse(path, f"{value!r} is a floating-point number, which PHP re-encodes in its own notation")
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise _refuse(path, "the bytes are not valid UTF-8") from None
    if isinstance(value, str):
        return _php_string(value, path)
    if isinstance(value, dict):
        if not value:
            raise _refuse(path, "an empty object becomes an empty list ([]) in PHP; leave the field out or pass []")
        keys = list(value)
        for key in keys:
            if not isinstance(key, str):
                raise _refuse(path, f"the key {key!r} is not a string")
        if [_PHP_INTEGER_KEY.match(key) and int(key) for key in keys] == list(range(len(keys))) and keys[0] == "0":
            raise _refuse(path, 'an object whose keys are "0", "1", ... in order becomes a list in PHP; pass a list instead')
        members = (_php_string(key, path) + ":" + php_json_encode(item, f"{path}.{key}", depth + 1) for key, item in value.items())
        return "{" + ",".join(members) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(php_json_encode(item, f"{path}[{index}]", depth + 1) for index, item in enumerate(value)) + "]"
    raise _refuse(path, f"values of type {type(value).__name__} cannot be sent")


def _too_deep(path: str) -> StreamingError:
    return StreamingError(
        f"{path} nests lists and objects more than {MAX_JSON_DEPTH} levels deep",
        advice="ScaleEngine commands take flat fields; pass the value with less nesting, or as a JSON string",
    )


def check_request_fields(fields: dict, prefix: str = "") -> None:
    """Refuse request fields nested too deeply or too large to send, without recursing and before any encoding.

    The encoder and PHP's json_encode recurse once per level, and encoding
    runs character by character, so a huge or deeply nested value from a
    playbook must be refused before either sees it. The size counted here is
    a lower bound of the encoded size (escapes only lengthen it); the exact
    size is checked again once encoded.
    """
    size = 2
    pending = [(fields, prefix.rstrip("."), 1)]
    while pending:
        container, path, level = pending.pop()
        if level > MAX_JSON_DEPTH:
            raise _too_deep(path or "the request")
        is_object = isinstance(container, dict)
        for key, item in container.items() if is_object else enumerate(container):
            size += (len(str(key)) + 4) if is_object else 1
            if isinstance(item, (dict, list, tuple)):
                size += 2
                pending.append((item, (f"{path}.{key}" if path else str(key)) if is_object else f"{path}[{key}]", level + 1))
            else:
                size += len(item) + 2 if isinstance(item, (str, bytes)) else 8
            if size > MAX_REQUEST_BYTES:
                raise _too_large(f"{prefix.rstrip('.') or 'the fields'} hold more than {size_text(MAX_REQUEST_BYTES)} of text")


def _too_large(problem: str) -> StreamingError:
    return StreamingError(
        f"the request is too large to send: {problem}",
        advice=f"ScaleEngine commands take short fields; a request may have at most {size_text(MAX_REQUEST_BYTES)}, so check the values passed",
    )


def sign_request(request: dict, secret: str) -> str:
    """The ``signature`` of ``request`` (which must not contain one): padded base64 HMAC-SHA256 of its PHP encoding."""
    text = php_json_encode(request)
    # The secret is used as the string it is, not hex-decoded (docs/scaleengine.md).
    digest = hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def build_request(command: str, fields: dict, api_key: str, cdn, timestamp: int) -> dict:
    """The unsigned request in the order that is signed and sent: envelope, then the command's fields."""
    request = {"command": command, "api_key": api_key, "timestamp": timestamp, "cdn": cdn}
    for name, value in fields.items():
        if name in RESERVED_FIELDS:
            raise StreamingError(f"the field {name!r} is set by the module itself and cannot be passed to {command}")
        request[name] = value
    return request


def signed_body(request: dict, secret: str) -> str:
    """The text posted as the ``json`` form field: ``request`` plus its ``signature`` as the last key."""
    signed = dict(request)
    signed["signature"] = sign_request(request, secret)
    # A signature is a credential for as long as the timestamp is valid: a server
    # that quotes it in a failure message must not get it into the task's output.
    register_secret(signed["signature"])
    # Encoded the same way, so the signature's own '/' appear as '\/' (docs/scaleengine.md).
    return php_json_encode(signed)


# --------------------------------------------------------------------------
# Answers
# --------------------------------------------------------------------------


def normalise_code(code) -> str | None:
    """A result code as the documented four-digit string ("0003"), whether the API sent a string or an int."""
    if code is None or isinstance(code, bool):
        return None
    if isinstance(code, int):
        return f"{code:04d}"
    text = str(code).strip()
    if not text:
        return None
    return text.zfill(4) if text.isdigit() else text


def check_envelope(answer) -> None:
    """Refuse (:class:`AnswerError`) an answer whose ``status`` or ``code`` cannot be read.

    They decide between success, failure, "not found" and a retry, so a value
    of another type is not guessed at. ``message`` is only shown, so any type
    is shown as text; ``data`` is checked where it is read.
    """
    if not isinstance(answer, dict):
        raise AnswerError(f"it is {describe(answer)}, not a JSON object")
    status, code = answer.get("status"), answer.get("code")
    if status is not None and not isinstance(status, str):
        raise AnswerError(f'its "status" is {describe(status)}, not "success" or "failure"')
    if code is not None and (isinstance(code, bool) or not isinstance(code, (str, int))):
        raise AnswerError(f'its "code" is {describe(code)}, not a result code such as "0003"')
    if status is None and code is None:
        raise AnswerError('it has neither "status" nor "code"')


def is_failure(answer: dict) -> bool:
    return str(answer.get("status") or "").lower() != "success" and normalise_code(answer.get("code")) != QUEUED


def answer_message(answer: dict, default: str = "") -> str:
    """The answer's ``message`` as bounded, printable text, whatever its JSON type."""
    return answer_text(answer.get("message")) or default


def is_not_found(answer: dict) -> bool:
    """Whether a failure says the stream or session is not there (rather than that the request was wrong)."""
    if not is_failure(answer):
        return False
    if normalise_code(answer.get("code")) in AUTH_CODES or normalise_code(answer.get("code")) == HEAVY_LOAD:
        return False
    return bool(_NOT_FOUND_MESSAGE.search(answer_message(answer)))


def records(data, what: str = "data") -> list:
    """The API's ``data`` as a list of records (objects).

    Tolerated shapes: nothing (``null``, an empty list or object: no
    records), a list, an object keyed by name whose values are all records,
    or a single record; ``null`` items of a list are skipped. Anything else
    (text, a number, an item that is not an object) raises
    :class:`AnswerError` naming it: reading such an answer as "no records"
    would, for example, take a live stream for one that is not.
    """
    if data is None:
        return []
    if isinstance(data, list):
        found = []
        for index, item in enumerate(data):
            if item is None:
                continue
            if not isinstance(item, dict):
                raise AnswerError(f"item {index} of {what} is {describe(item)}, not an object")
            found.append(item)
        return found
    if isinstance(data, dict):
        values = list(data.values())
        # A dict of records (keyed by stream name) versus a single record.
        if values and all(isinstance(item, dict) for item in values):
            return values
        return [data] if data else []
    raise AnswerError(f"{what} is {describe(data)}, not a list or an object")


# --------------------------------------------------------------------------
# Client
# --------------------------------------------------------------------------


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


class TimestampLedger:
    """The last timestamp used for each distinct request, shared by the module processes of one user on this host.

    The timestamp exists "to prevent authenticated API requests from being
    replayed" (reference), so a server may refuse a signature it has seen
    before. The same request signed twice within one second (a retry, a loop
    over entry names that each ask ``stream.active`` first, two tasks in a
    row) would carry the same signature; the ledger makes every signature
    unique by waiting for the next second only in that case. Requests are
    recorded as an HMAC of their text keyed by the secret, so the file reveals
    nothing. When the file cannot be used, uniqueness holds within this
    process only.
    """

    KEEP_SECONDS = 120

    def __init__(self, path: str | None = None, clock=time.time, sleep=time.sleep):
        self.path = path if path is not None else os.path.join(tempfile.gettempdir(), f"mediaops-scaleengine-{os.getuid()}.json")
        self.clock = clock
        self.sleep = sleep
        self._local: dict[str, int] = {}

    def claim(self, fingerprint: str) -> int:
        try:
            # Never follow a link planted in a shared temporary directory, never use someone else's file.
            descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError:
            return self._claim(fingerprint, {})
        if os.fstat(descriptor).st_uid != os.getuid():
            os.close(descriptor)
            return self._claim(fingerprint, {})
        with os.fdopen(descriptor, "r+", encoding="utf-8") as handle:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                used = json.loads(handle.read() or "{}")
            except ValueError:
                used = {}
            if not isinstance(used, dict):
                used = {}
            timestamp = self._claim(fingerprint, used)
            used = {key: value for key, value in used.items() if isinstance(value, int) and value > timestamp - self.KEEP_SECONDS}
            used[fingerprint] = timestamp
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(used))
        return timestamp

    def _claim(self, fingerprint: str, used: dict) -> int:
        last = max(self._local.get(fingerprint, -1), used.get(fingerprint, -1) if isinstance(used.get(fingerprint), int) else -1)
        now = int(self.clock())
        if now <= last:
            self.sleep(max(0.0, last + 1 - self.clock()))
            now = max(int(self.clock()), last + 1)
        self._local[fingerprint] = now
        return now


class ScaleEngineClient:
    """Sends signed commands; returns the decoded answers. Never decides ``changed``.

    ``clock``, ``sleep`` and ``ledger`` are injectable so tests control the timestamp.
    """

    def __init__(self, params: dict, warn=None, http=None, clock=time.time, sleep=time.sleep, ledger=None):
        self.api_url = normalise_api_url(params.get("api_url") or DEFAULT_API_URL)
        self.cdn = params["cdn"]
        self.api_key = params["api_key"]
        self._secret = params["api_secret"]
        if not self.api_key or not self._secret:
            raise StreamingError("api_key and api_secret must not be empty (options or SCALEENGINE_API_KEY / SCALEENGINE_API_SECRET)")
        self.retries = max(0, int(params.get("retries", 3) or 0))
        self.warn = warn or (lambda message: None)
        if http is None:
            http = HttpClient.from_params(params, warn=self.warn)
            # Stop reading a JSON answer at the size this client decodes at all.
            http.max_response_bytes = MAX_ANSWER_BYTES
        self.http = http
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

    def _post(self, command: str, fields: dict, repeatable: bool) -> dict:
        # Refuse what cannot be signed or is too large before anything is sent.
        check_request_fields(fields)
        unsigned = php_json_encode(build_request(command, fields, self.api_key, self.cdn, 0))
        if len(unsigned) > MAX_REQUEST_BYTES:
            raise _too_large(f"{command} would be {size_text(len(unsigned))} once encoded")

        def prepare():
            request = build_request(command, fields, self.api_key, self.cdn, self._timestamp(command, fields))
            # multipart/form-data with one field, as the reference's PHP (curl with an array) sends it.
            return {"files": {"json": (None, signed_body(request, self._secret))}}

        try:
            response = self.http.request("POST", self.api_url, prepare=prepare, repeatable=repeatable)
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
        content = response.content or b""
        if response.status_code != 200:
            # The API itself answers everything, failures too, with HTTP 200: another status comes from the web server or a proxy.
            status = response.status_code
            if status in (301, 302, 307, 308, 404, 405):
                advice = f"Check api_url (for example {DEFAULT_API_URL}, with the trailing slash)"
            elif status in RETRY_STATUSES and not repeatable:
                advice = (
                    f"{command} was not repeated: the server may have carried it out before failing, and the module does not know that doing it "
                    "twice is safe. Check its result (for example in the control panel) before running the task again"
                )
            elif status in RETRY_STATUSES or status >= 500:
                advice = "The API or a proxy in front of it is failing; try again later, and check api_url if it persists"
            else:
                advice = f"Check api_url and any proxy between this host and the API: the ScaleEngine API answers with HTTP 200, not {status}"
            raise StreamingError(
                f"ScaleEngine {command} failed", method="POST", url=self.api_url, status=response.status_code, body=self._shown(content), advice=advice
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
        while True:
            answer = self._post(command, fields, repeatable)
            if normalise_code(answer.get("code")) != HEAVY_LOAD or not is_failure(answer) or attempt >= self.retries:
                return answer
            attempt += 1
            delay = backoff_delay(attempt)
            self.warn(f"ScaleEngine {command}: the API is under heavy load (code 1000); retrying in {delay:.1f}s (retry {attempt} of {self.retries})")
            self.sleep(delay)

    def failure(self, command: str, answer: dict) -> StreamingError:
        code = normalise_code(answer.get("code"))
        code = printable(code, 32) if code else None
        message = self.message(answer, "(no message)")
        shown = f"ScaleEngine {command} failed: {message}" + (f" (code {code})" if code else "")
        return StreamingError(
            shown,
            method="POST",
            url=self.api_url,
            advice=CODE_ADVICE.get(code, _UNKNOWN_FAILURE_ADVICE),
            details={"api_code": code, "api_message": message},
        )

    def call(self, command: str, fields: dict, repeatable: bool | None = None) -> dict:
        """Like :meth:`send`, but a failure answer raises :class:`StreamingError` with the API's code, message and advice."""
        answer = self.send(command, fields, repeatable)
        if is_failure(answer):
            raise self.failure(command, answer)
        return answer

    def close(self):
        self.http.close()


# --------------------------------------------------------------------------
# Work functions (one per module)
# --------------------------------------------------------------------------


def _fields(*pairs) -> dict:
    """Request fields in the given order, leaving out those the user did not set."""
    return {name: value for name, value in pairs if value is not None}


def _same_id(left, right) -> bool:
    """Whether two ids (text or whole numbers, as the API and the user may write them) are the same."""
    for value in (left, right):
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            return False
    return str(left).strip() == str(right).strip()


# Names are sent inside the signed JSON, where a control character survives,
# but no application, instance, stream or session name has one: it is a stray
# newline or tab from a template or a file, and the API would look for a name
# that does not exist.
_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f]")
NAME_OPTIONS = ("app", "inst", "stream", "entry_name", "origin_url", "url")


def check_name(value, option: str):
    """``value`` unchanged, or :class:`StreamingError` when it is text with a control character."""
    if isinstance(value, (list, tuple)):
        for item in value:
            check_name(item, option)
        return value
    if isinstance(value, str):
        match = _CONTROL_CHARACTER.search(value)
        if match:
            raise StreamingError(
                f'{option} "{printable(value, 60, collapse=False)}" contains the control character U+{ord(match.group()):04X} at position {match.start() + 1}',
                advice="Remove it (it usually comes from a template or a file, for example a trailing newline): names never contain control characters",
            )
    return value


def _check_names(params: dict, options=NAME_OPTIONS) -> None:
    for option in options:
        check_name(params.get(option), option)


def _records(client, command: str, answer: dict) -> list:
    try:
        return records(answer.get("data"), '"data"')
    except AnswerError as exc:
        raise client.malformed(command, str(exc)) from None


def _find_stream(client, params) -> dict | None:
    """The live stream's details, or None when it is not live (read commands only)."""
    app, inst = params["app"], params["inst"]
    if params.get("stream"):
        answer = client.send("stream.details", _fields(("app", app), ("inst", inst), ("stream", params["stream"]), ("origin_url", params.get("origin_url"))))
        if is_not_found(answer):
            return None
        if is_failure(answer):
            raise client.failure("stream.details", answer)
        found = _records(client, "stream.details", answer)
        return found[0] if found else None
    answer = client.send("stream.active", _fields(("app", app), ("inst", inst), ("origin_url", params.get("origin_url"))))
    if is_not_found(answer):
        return None
    if is_failure(answer):
        raise client.failure("stream.active", answer)
    for item in _records(client, "stream.active", answer):
        if _same_id(item.get("stream_id"), params["stream_id"]) or _same_id(item.get("id"), params["stream_id"]):
            return item
    return None


def _client(params, warn, client):
    return client if client is not None else ScaleEngineClient(params, warn=warn)


def close_stream(params, check_mode=False, diff=False, warn=None, client=None) -> dict:
    """Work of ``scaleengine_stream``: close the stream when (and only when) it is live."""
    if not params.get("app") or not params.get("inst"):
        raise StreamingError("app and inst are required to find the stream")
    if bool(params.get("stream")) == (params.get("stream_id") is not None):
        raise StreamingError("give exactly one of stream and stream_id")
    _check_names(params)
    client = _client(params, warn, client)
    current = _find_stream(client, params)
    label = f"{params['app']}/{params['inst']}/" + (params["stream"] if params.get("stream") else f"stream_id {params['stream_id']}")
    if current is None:
        return dict(changed=False, stream=None, message=f"{label} is not live; nothing to close")
    if check_mode:
        return dict(changed=True, stream=current, message=f"{label} is live and would be closed (check mode)")
    if params.get("stream"):
        identity = (("app", params["app"]), ("inst", params["inst"]), ("stream", params["stream"]))
    else:
        # The reference closes "by sending the stream_id" alone.
        identity = (("stream_id", params["stream_id"]),)
    answer = client.send("stream.close", _fields(*identity, ("origin_url", params.get("origin_url"))))
    if is_not_found(answer):
        # It stopped between the check and the close (or a retry found it closed already).
        return dict(changed=False, stream=current, message=client.message(answer, f"{label} is not live"))
    if is_failure(answer):
        raise client.failure("stream.close", answer)
    return dict(changed=True, stream=current, message=client.message(answer))


def _session_items(value, where: str) -> list[dict]:
    """The sessions listed under one key of a stream's details: a list of sessions or entry names, or an object of them."""
    if isinstance(value, dict):
        return records(value, where)
    if not isinstance(value, list):
        raise AnswerError(f"{where} is {describe(value)}, not a list of sessions")
    sessions = []
    for index, item in enumerate(value):
        if item is None:
            continue
        session = {"entry_name": item} if isinstance(item, str) else item
        if not isinstance(session, dict):
            raise AnswerError(f"item {index} of {where} is {describe(item)}, not a session")
        sessions.append(session)
    return sessions


def _identity_field(record: dict, field: str, where: str):
    value = record.get(field)
    if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))):
        raise AnswerError(f'the "{field}" of {where} is {describe(value)}, not text or a whole number')
    return value


def _sessions_of(streams: list) -> list | None:
    """PushPublish sessions listed in the streams' details (each with its stream name), or None when the details do not list them.

    A key that is present but ``null`` counts as not listing them, so the
    disconnect is sent rather than skipped on an answer that says nothing.
    Raises :class:`AnswerError` for sessions whose shape cannot be read.
    """
    sessions = []
    listed = False
    for position, details in enumerate(streams):
        name = _identity_field(details, "stream", f"stream {position}") or _identity_field(details, "name", f"stream {position}")
        for key in _SESSION_KEYS:
            if details.get(key) is None:
                continue
            listed = True
            where = f'the "{key}" of stream ' + (f'"{printable(str(name), 60)}"' if name is not None else str(position))
            for index, session in enumerate(_session_items(details[key], where)):
                for field in ("entry_name", "push_service_id", "stream"):
                    _identity_field(session, field, f"session {index} in {where}")
                sessions.append(dict(session, stream=session.get("stream") or name, _connected=_is_connected(session, f"session {index} in {where}")))
            break
    if not streams:
        return []  # no live stream: no session to disconnect, listed or not
    return sessions if listed else None


_TRUE_FLAGS = ("true", "1", "yes")
_FALSE_FLAGS = ("false", "0", "no")
_NOT_CONNECTED_STATES = ("disconnected", "stopped", "closed", "inactive")


def _is_connected(session: dict, where: str) -> bool:
    """Whether a listed session is connected: ``connected`` as a boolean (also 0/1 or "true"/"false"), else its ``status``/``state``."""
    flag = session.get("connected")
    if isinstance(flag, str) and flag.strip().lower() in _TRUE_FLAGS + _FALSE_FLAGS:
        flag = flag.strip().lower() in _TRUE_FLAGS
    if flag is not None and not (isinstance(flag, bool) or (isinstance(flag, int) and flag in (0, 1))):
        raise AnswerError(f'"connected" of {where} is {describe(flag)}, not true or false')
    if flag is not None and not flag:
        return False
    state = session.get("status") if session.get("status") is not None else session.get("state")
    if state is None:
        return True
    if not isinstance(state, str):
        raise AnswerError(f'the "status" of {where} is {describe(state)}, not text such as "connected"')
    return state.strip().lower() not in _NOT_CONNECTED_STATES


def _session_entry(session: dict) -> dict:
    return {"entry_name": session.get("entry_name"), "push_service_id": session.get("push_service_id"), "stream": session.get("stream")}


def disconnect_pushpublish(params, check_mode=False, diff=False, warn=None, client=None) -> dict:
    """Work of ``scaleengine_pushpublish``: disconnect the sessions that are connected."""
    service_id = params.get("push_service_id")
    entry_name = params.get("entry_name")
    app, inst, stream = params.get("app"), params.get("inst"), params.get("stream")
    if service_id is None and not (app and inst and entry_name):
        raise StreamingError("give push_service_id, or app, inst and entry_name (entry_name '*' disconnects all pushes)")
    _check_names(params)
    client = _client(params, warn, client)

    sessions = None
    if app and inst:
        if stream:
            source = "stream.details"
            details = _find_stream(client, dict(params, stream_id=None))
            streams = [details] if details else []
        else:
            source = "stream.active"
            answer = client.send(source, _fields(("app", app), ("inst", inst), ("origin_url", params.get("origin_url"))))
            if is_failure(answer) and not is_not_found(answer):
                raise client.failure(source, answer)
            streams = [] if is_failure(answer) else _records(client, source, answer)
        try:
            sessions = _sessions_of(streams)
        except AnswerError as exc:
            raise client.malformed(source, str(exc)) from None

    verified = sessions is not None
    matched = []
    if verified:
        for session in sessions:
            if not session["_connected"]:
                continue
            if service_id is not None and not _same_id(session.get("push_service_id"), service_id):
                continue
            if entry_name not in (None, "*") and str(session.get("entry_name")) != entry_name:
                continue
            matched.append(_session_entry(session))
        if not matched:
            return dict(changed=False, verified=True, sessions_disconnected=[], message="no matching PushPublish session is connected")
    else:
        matched = [{"entry_name": entry_name, "push_service_id": service_id, "stream": stream}]
    if check_mode:
        return dict(changed=True, verified=verified, sessions_disconnected=matched, message="would disconnect (check mode)")

    if service_id is not None:
        # Stored sessions are found by their service id; app/inst/stream are
        # "optional, unless manually connected" (reference), so sent when given.
        fields = _fields(("push_service_id", service_id), ("app", app), ("inst", inst), ("stream", stream), ("entry_name", entry_name))
    else:
        fields = _fields(("app", app), ("inst", inst), ("stream", stream), ("entry_name", entry_name))
    fields.update(_fields(("origin_url", params.get("origin_url"))))
    answer = client.send("pushpublish.disconnect", fields)
    if is_not_found(answer):
        return dict(changed=False, verified=verified, sessions_disconnected=[], message=client.message(answer))
    if is_failure(answer):
        raise client.failure("pushpublish.disconnect", answer)
    return dict(changed=True, verified=verified, sessions_disconnected=matched, message=client.message(answer))


def _app_value(value):
    """``app`` as the API takes it: a name, an id, or a flat list of names and ids."""
    if isinstance(value, (list, tuple)):
        if not value:
            raise StreamingError("app must not be an empty list")
        return [_one_app(item) for item in value]
    return _one_app(value)


def _one_app(value):
    if isinstance(value, bool) or not isinstance(value, (str, int)) or (isinstance(value, str) and not value.strip()):
        raise StreamingError(f"app must be an application name, an id or a list of them, not {describe(value)}")
    return check_name(value, "app")


def _url_value(value):
    if isinstance(value, (list, tuple)):
        if not value or not all(isinstance(item, str) and item for item in value):
            raise StreamingError("url must be a non-empty string or a list of non-empty strings")
        return check_name(list(value), "url")
    if not isinstance(value, str) or not value:
        raise StreamingError("url must be a stream name, a VOD path, a '|'-separated list of them (wildcards allowed) or a list")
    return check_name(value, "url")


def viewer_info(params, check_mode=False, diff=False, warn=None, client=None) -> dict:
    """Work of ``scaleengine_viewer_info``: live viewer records from ``viewer.live``, returned as the API sent them."""
    fields = {"app": _app_value(params.get("app"))}
    if params.get("url") is not None:
        fields["url"] = _url_value(params["url"])
    client = _client(params, warn, client)
    answer = client.call("viewer.live", fields)
    return dict(changed=False, viewers=_records(client, "viewer.live", answer), message=client.message(answer))


_COMMAND = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+", re.IGNORECASE | re.ASCII)


def run_command(params, check_mode=False, diff=False, warn=None, client=None) -> dict:
    """Work of ``scaleengine_command``: any signed command; ``changed`` is what the user declared.

    Sent again after a failure that left it unknown whether the server got it
    only when it is known to be safe: ``read_only=true`` or a command of
    ``REPEATABLE_COMMANDS``.
    """
    command = (params.get("command") or "").strip()
    if not _COMMAND.fullmatch(command):
        raise StreamingError(f"command must look like 'stream.close' or 'viewer.live', not \"{printable(command, 60)}\"")
    raw = params.get("params")
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise StreamingError(f"params must be an object of the command's fields, not {describe(raw)}")
    fields = dict(raw)
    reserved = sorted(RESERVED_FIELDS.intersection(fields))
    if reserved:
        raise StreamingError(f"params must not contain {', '.join(reserved)}: the module sets them from the connection options")
    read_only = bool(params.get("read_only"))
    if read_only and params.get("changed"):
        raise StreamingError("changed=true contradicts read_only=true")
    declared_changed = bool(params.get("changed")) and not read_only
    # Refuse what cannot be signed or sent before anything else, in check mode too.
    check_request_fields(fields, "params.")
    size = sum(len(name) + 4 + len(php_json_encode(value, f"params.{name}", depth=1)) for name, value in fields.items())
    if size > MAX_REQUEST_BYTES:
        raise _too_large(f"params would be {size_text(size)} once encoded")
    _check_names(fields)
    if check_mode and not read_only:
        return dict(changed=declared_changed, sent=False, response=None)
    client = _client(params, warn, client)
    answer = client.call(command, fields, repeatable=read_only or command in REPEATABLE_COMMANDS)
    return dict(changed=declared_changed, sent=True, response=answer)
