# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ScaleEngine's signed "command" API: PHP-compatible signing, the client, and the modules' work.

Every request is one JSON object posted as the form field ``json`` to the API
URL. It is signed the way ScaleEngine's own PHP examples sign it: the request
without ``signature`` is encoded exactly as PHP's ``json_encode`` does with
default flags, that text is signed with HMAC-SHA256 keyed by the secret string,
and the padded base64 digest is appended as the last key, ``signature``
(field notes, "What is signed"). Python's ``json.dumps`` gives different bytes
(spaces, raw ``/``, ``\\u007f`` for DEL), so this module has its own encoder.

Failures arrive as HTTP 200 with ``"status": "failure"``, a ``message`` and
often a ``code`` (field notes, "Transport"); the client turns them into the
collection's one error type with advice, once. The client speaks the API and
never decides ``changed``; the work functions at the end of this file do.
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

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.http_client import HTTP_ARGUMENT_SPEC, HttpClient, backoff_delay

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
# fields (the order of the reference's PHP examples and of the field notes'
# test vectors); ``signature`` always comes last.
ENVELOPE_FIELDS = ("command", "api_key", "timestamp", "cdn")
RESERVED_FIELDS = frozenset((*ENVELOPE_FIELDS, "signature", "cdn_id"))

# Commands that only read; the modules send them in check mode too.
READ_COMMANDS = frozenset(("stream.details", "stream.active", "viewer.live"))

# PHP arrays hold integers as 64-bit values; json_decode turns anything larger
# into a float, which re-encodes differently and breaks the signature.
_PHP_INT_MIN = -(2**63)
_PHP_INT_MAX = 2**63 - 1
# PHP's json_decode(..., true) turns object keys that are canonical decimal
# integers into integer keys; an object whose keys are then 0..n-1 re-encodes
# as a list.
_PHP_INTEGER_KEY = re.compile(r"^(0|-?[1-9][0-9]*)$")

# PHP json_encode's short escapes (measured with PHP 8.2, field notes):
# `/` is escaped, DEL (0x7f) is not.
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

# General result codes (field notes, "Transport"), with what to do about them.
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


def php_json_encode(value, path: str = "request") -> str:
    """``value`` encoded byte for byte as PHP's ``json_encode($value)`` with default flags.

    Refuses (:class:`StreamingError`) values whose PHP round trip
    (``json_encode(json_decode($text, true))``) would change the text: floats,
    empty objects, objects whose keys PHP turns into list indexes, integers
    beyond 64 bits and text that is not valid UTF-8.
    """
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
        members = (_php_string(key, path) + ":" + php_json_encode(item, f"{path}.{key}") for key, item in value.items())
        return "{" + ",".join(members) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(php_json_encode(item, f"{path}[{index}]") for index, item in enumerate(value)) + "]"
    raise _refuse(path, f"values of type {type(value).__name__} cannot be sent")


def sign_request(request: dict, secret: str) -> str:
    """The ``signature`` of ``request`` (which must not contain one): padded base64 HMAC-SHA256 of its PHP encoding."""
    text = php_json_encode(request)
    # The secret is used as the string it is, not hex-decoded (field notes).
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
    # Encoded the same way, so the signature's own '/' appear as '\/' (field notes).
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


def is_failure(answer: dict) -> bool:
    return str(answer.get("status", "")).lower() != "success" and normalise_code(answer.get("code")) != QUEUED


def is_not_found(answer: dict) -> bool:
    """Whether a failure says the stream or session is not there (rather than that the request was wrong)."""
    if not is_failure(answer):
        return False
    if normalise_code(answer.get("code")) in AUTH_CODES or normalise_code(answer.get("code")) == HEAVY_LOAD:
        return False
    return bool(_NOT_FOUND_MESSAGE.search(str(answer.get("message") or "")))


def records(data) -> list:
    """The API's ``data`` as a list of records: tolerate a list, a dict keyed by name, a single record, or nothing."""
    if not data:
        return []
    if isinstance(data, list):
        return [item for item in data if item is not None]
    if isinstance(data, dict):
        values = list(data.values())
        # A dict of records (keyed by stream name) versus a single record.
        if values and all(isinstance(item, dict) for item in values):
            return values
        return [data]
    return [data]


# --------------------------------------------------------------------------
# Client
# --------------------------------------------------------------------------


def normalise_api_url(url: str) -> str:
    """The API URL with its trailing slash: the server answers a POST without it with a redirect (field notes, "Transport")."""
    url = (url or "").strip()
    if not re.match(r"^https?://[^/?#]+", url):
        raise StreamingError(f"api_url must be an http(s) URL such as {DEFAULT_API_URL}")
    if "?" in url or "#" in url:
        raise StreamingError("api_url must not contain a query string or fragment")
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
        self.http = http or HttpClient.from_params(params, warn=self.warn)
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

    def _post(self, command: str, fields: dict) -> dict:
        # Refuse unsignable values before anything is sent.
        php_json_encode(build_request(command, fields, self.api_key, self.cdn, 0))

        def prepare():
            request = build_request(command, fields, self.api_key, self.cdn, self._timestamp(command, fields))
            # multipart/form-data with one field, as the reference's PHP (curl with an array) sends it.
            return {"files": {"json": (None, signed_body(request, self._secret))}}

        response = self.http.request("POST", self.api_url, prepare=prepare, repeatable=True)
        body = self._scrub(response.text or "")
        if response.status_code != 200:
            advice = None
            if response.status_code in (301, 302, 307, 308, 404, 405):
                advice = f"Check api_url (for example {DEFAULT_API_URL}, with the trailing slash)"
            raise StreamingError(f"ScaleEngine {command} failed", method="POST", url=self.api_url, status=response.status_code, body=body, advice=advice)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise StreamingError(
                f"ScaleEngine {command}: the answer is not a JSON object",
                method="POST",
                url=self.api_url,
                status=response.status_code,
                body=body or "(empty body)",
                advice="Check that api_url points at the ScaleEngine API (a proxy or captive portal may be answering instead)",
            )
        return answer

    def send(self, command: str, fields: dict) -> dict:
        """Send ``command`` with ``fields``; return the decoded answer (success or failure).

        Code 1000 (heavy load) is retried with backoff, bounded by ``retries``,
        with a warning each time; each try is signed with a fresh timestamp.
        """
        attempt = 0
        while True:
            answer = self._post(command, fields)
            if normalise_code(answer.get("code")) != HEAVY_LOAD or not is_failure(answer) or attempt >= self.retries:
                return answer
            attempt += 1
            delay = backoff_delay(attempt)
            self.warn(f"ScaleEngine {command}: the API is under heavy load (code 1000); retrying in {delay:.1f}s (retry {attempt} of {self.retries})")
            self.sleep(delay)

    def failure(self, command: str, answer: dict) -> StreamingError:
        code = normalise_code(answer.get("code"))
        message = self._scrub(str(answer.get("message") or "(no message)"))
        shown = f"ScaleEngine {command} failed: {message}" + (f" (code {code})" if code else "")
        return StreamingError(
            shown,
            method="POST",
            url=self.api_url,
            advice=CODE_ADVICE.get(code),
            details={"api_code": code, "api_message": message},
        )

    def call(self, command: str, fields: dict) -> dict:
        """Like :meth:`send`, but a failure answer raises :class:`StreamingError` with the API's code, message and advice."""
        answer = self.send(command, fields)
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
    return left is not None and right is not None and str(left).strip() == str(right).strip()


def _find_stream(client, params) -> dict | None:
    """The live stream's details, or None when it is not live (read commands only)."""
    app, inst = params["app"], params["inst"]
    if params.get("stream"):
        answer = client.send("stream.details", _fields(("app", app), ("inst", inst), ("stream", params["stream"]), ("origin_url", params.get("origin_url"))))
        if is_not_found(answer):
            return None
        if is_failure(answer):
            raise client.failure("stream.details", answer)
        found = [item for item in records(answer.get("data")) if isinstance(item, dict)]
        return found[0] if found else None
    answer = client.send("stream.active", _fields(("app", app), ("inst", inst), ("origin_url", params.get("origin_url"))))
    if is_not_found(answer):
        return None
    if is_failure(answer):
        raise client.failure("stream.active", answer)
    for item in records(answer.get("data")):
        if isinstance(item, dict) and (_same_id(item.get("stream_id"), params["stream_id"]) or _same_id(item.get("id"), params["stream_id"])):
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
        return dict(changed=False, stream=current, message=str(answer.get("message") or f"{label} is not live"))
    if is_failure(answer):
        raise client.failure("stream.close", answer)
    return dict(changed=True, stream=current, message=str(answer.get("message") or ""))


def _sessions_of(streams: list) -> list | None:
    """PushPublish sessions listed in the streams' details (each with its stream name), or None when the details do not list them."""
    sessions = []
    listed = False
    for details in streams:
        for key in _SESSION_KEYS:
            if key not in details:
                continue
            listed = True
            for item in records(details[key]):
                session = {"entry_name": item} if isinstance(item, str) else item
                if isinstance(session, dict):
                    sessions.append(dict(session, stream=session.get("stream") or details.get("stream") or details.get("name")))
            break
    if not streams:
        return []  # no live stream: no session to disconnect, listed or not
    return sessions if listed else None


def _is_connected(session: dict) -> bool:
    if session.get("connected") is False:
        return False
    status = str(session.get("status") or session.get("state") or "").lower()
    return status not in ("disconnected", "stopped", "closed", "inactive")


def _session_entry(session: dict) -> dict:
    return {"entry_name": session.get("entry_name"), "push_service_id": session.get("push_service_id"), "stream": session.get("stream")}


def disconnect_pushpublish(params, check_mode=False, diff=False, warn=None, client=None) -> dict:
    """Work of ``scaleengine_pushpublish``: disconnect the sessions that are connected."""
    service_id = params.get("push_service_id")
    entry_name = params.get("entry_name")
    app, inst, stream = params.get("app"), params.get("inst"), params.get("stream")
    if service_id is None and not (app and inst and entry_name):
        raise StreamingError("give push_service_id, or app, inst and entry_name (entry_name '*' disconnects all pushes)")
    client = _client(params, warn, client)

    sessions = None
    if app and inst:
        if stream:
            details = _find_stream(client, dict(params, stream_id=None))
            streams = [details] if details else []
        else:
            answer = client.send("stream.active", _fields(("app", app), ("inst", inst), ("origin_url", params.get("origin_url"))))
            if is_failure(answer) and not is_not_found(answer):
                raise client.failure("stream.active", answer)
            streams = [] if is_failure(answer) else [item for item in records(answer.get("data")) if isinstance(item, dict)]
        sessions = _sessions_of(streams)

    verified = sessions is not None
    matched = []
    if verified:
        for session in sessions:
            if not _is_connected(session):
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
        return dict(changed=False, verified=verified, sessions_disconnected=[], message=str(answer.get("message") or ""))
    if is_failure(answer):
        raise client.failure("pushpublish.disconnect", answer)
    return dict(changed=True, verified=verified, sessions_disconnected=matched, message=str(answer.get("message") or ""))


def _app_value(value):
    """``app`` as the API takes it: a name, an id, or a list of names and ids."""
    if isinstance(value, (list, tuple)):
        if not value:
            raise StreamingError("app must not be an empty list")
        return [_app_value(item) for item in value]
    if isinstance(value, bool) or not isinstance(value, (str, int)) or (isinstance(value, str) and not value.strip()):
        raise StreamingError(f"app must be an application name, an id or a list of them, not {value!r}")
    return value


def _url_value(value):
    if isinstance(value, (list, tuple)):
        if not value or not all(isinstance(item, str) and item for item in value):
            raise StreamingError("url must be a non-empty string or a list of non-empty strings")
        return list(value)
    if not isinstance(value, str) or not value:
        raise StreamingError("url must be a stream name, a VOD path, a '|'-separated list of them (wildcards allowed) or a list")
    return value


def viewer_info(params, check_mode=False, diff=False, warn=None, client=None) -> dict:
    """Work of ``scaleengine_viewer_info``: live viewer records from ``viewer.live``."""
    fields = {"app": _app_value(params.get("app"))}
    if params.get("url") is not None:
        fields["url"] = _url_value(params["url"])
    client = _client(params, warn, client)
    answer = client.call("viewer.live", fields)
    viewers = [item for item in records(answer.get("data")) if isinstance(item, dict)]
    return dict(changed=False, viewers=viewers, message=str(answer.get("message") or ""))


def run_command(params, check_mode=False, diff=False, warn=None, client=None) -> dict:
    """Work of ``scaleengine_command``: any signed command; ``changed`` is what the user declared."""
    command = (params.get("command") or "").strip()
    if not re.match(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$", command, re.IGNORECASE):
        raise StreamingError(f"command must look like 'stream.close' or 'viewer.live', not {command!r}")
    fields = dict(params.get("params") or {})
    reserved = sorted(RESERVED_FIELDS.intersection(fields))
    if reserved:
        raise StreamingError(f"params must not contain {', '.join(reserved)}: the module sets them from the connection options")
    read_only = bool(params.get("read_only"))
    if read_only and params.get("changed"):
        raise StreamingError("changed=true contradicts read_only=true")
    declared_changed = bool(params.get("changed")) and not read_only
    # Refuse unsignable values before anything else, in check mode too.
    for name, value in fields.items():
        php_json_encode(value, f"params.{name}")
    if check_mode and not read_only:
        return dict(changed=declared_changed, sent=False, response=None)
    client = _client(params, warn, client)
    answer = client.call(command, fields)
    return dict(changed=declared_changed, sent=True, response=answer)
