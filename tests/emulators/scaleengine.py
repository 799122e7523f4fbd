"""ScaleEngine API emulator: the signed "command" API of api.scaleengine.net.

An independent implementation of the references (it does not import the
collection), so a client bug shows up as a failed verification:

* POST to ``/stable/`` (the trailing slash matters: ``/stable`` answers a
  redirect, as a web server does for a directory), one form field ``json``,
  multipart/form-data or urlencoded;
* the signature is verified as a PHP server would do it: decode the JSON into
  PHP arrays, remove ``signature``, re-encode with ``json_encode`` defaults in
  the received key order, HMAC-SHA256 with the secret string, compare;
* unknown key or cdn -> ``0001``; bad signature -> ``0003``; timestamp outside
  the window (default 300 s, either way) -> ``0002``; a signature seen before
  (a replay) -> ``0005``; missing fields -> ``0006``; unknown command -> ``0000``;
  every failure is HTTP 200 with ``"status": "failure"``;
* live streams with PushPublish sessions and viewer records, consistent across
  ``stream.details``, ``stream.active``, ``stream.close``,
  ``pushpublish.disconnect`` and ``viewer.live`` (app as name, id or list; url
  as name, ``|``-separated, ``*`` wildcards or list).

Where the references are silent (inferred, and documented in
docs/scaleengine.md): ``stream.details`` / ``stream.close`` of a stream that is
not live answer a failure without a code whose message says "not live";
``stream.active`` with no live stream answers success with an empty list;
``pushpublish.disconnect`` with no matching session answers a failure without a
code saying "no matching PushPublish session".

Control actions (``POST /_emulator/<action>`` with a JSON body):
``start_stream`` {app, inst, stream[, stream_id, origin_url]}, ``stop_stream``
{app, inst, stream}, ``add_pushpublish`` {app, inst, stream, entry_name[,
push_service_id, target]}, ``set_viewers`` {app, video_url, viewer_count_avg,
...}, ``add_app`` {name[, id]}, ``heavy_load`` {count}, ``reset``, ``state``.
``on_stream_close`` (in-process only) is called with (app, inst, stream) after
a stream is closed through the API, and ``on_pushpublish_disconnect`` with
(app, inst, stream, session) for each PushPublish session a
``pushpublish.disconnect`` removed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import sys
import time
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qs

from tests.emulators.base import Emulator, Request, Response, run_cli

API_PATH = "/stable/"
# The key and secret of the reference's examples, also used by the signature test vectors (docs/scaleengine.md).
DEFAULT_API_KEY = "APX4GKLM0RKQLSP2FBO1ROPKSSW47DZE"
DEFAULT_API_SECRET = "8fc8c48da81e6a2a06a9556379bf798af508dc0792497c678b4c3532ba8b637f"
DEFAULT_CDN = 158
DEFAULT_WINDOW = 300


class _Invalid(Exception):
    """The JSON text cannot be decoded the way PHP's json_decode would."""


# -- PHP json_decode(..., true) / json_encode() model ----------------------

_INTEGER_KEY = re.compile(r"^(0|-?[1-9][0-9]*)$")


def _php_value(value):
    """A decoded JSON value turned into what PHP's arrays would hold."""
    if isinstance(value, list) and value and isinstance(value[0], tuple):
        # An object (from object_pairs_hook): canonical integer keys become
        # integer keys, and keys 0..n-1 in order make it a list again.
        pairs = [(int(key) if _INTEGER_KEY.match(key) and -(2**63) <= int(key) < 2**63 else key, _php_value(item)) for key, item in value]
        merged: dict = {}
        for key, item in pairs:  # PHP keeps the position of the first, the value of the last duplicate
            merged[key] = item
        if list(merged) == list(range(len(merged))):
            return list(merged.values())
        return {str(key): item for key, item in merged.items()}
    if isinstance(value, list):
        return [_php_value(item) for item in value]
    if isinstance(value, _EmptyObject):
        return []  # PHP decodes {} into an empty array, which encodes as []
    if isinstance(value, str) and re.search("[\ud800-\udfff]", value):
        raise _Invalid("Single unpaired UTF-16 surrogate in unicode escape")
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        return float(value)  # PHP turns integers beyond 64 bits into floats
    return value


class _EmptyObject:
    pass


def _pairs_hook(pairs):
    return pairs if pairs else _EmptyObject()


def php_decode(text: str):
    try:
        return _php_value(json.loads(text, object_pairs_hook=_pairs_hook))
    except ValueError as exc:
        raise _Invalid(str(exc)) from None


def _prepare_floats(value):
    """json_encode(1.0) is "1" without JSON_PRESERVE_ZERO_FRACTION (https://www.php.net/manual/en/json.constants.php); other floats are written
    as Python writes them, which differs from PHP only in the exponent notation."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, list):
        return [_prepare_floats(item) for item in value]
    if isinstance(value, dict):
        return {key: _prepare_floats(item) for key, item in value.items()}
    return value


def php_encode(value) -> str:
    """PHP's json_encode with default flags: compact, ``\\/``, lowercase ``\\uXXXX``, DEL raw.

    Built on json.dumps (ASCII-only output already gives lowercase escapes and
    surrogate pairs) and then patched where PHP differs; deliberately a
    different construction from the collection's encoder.
    """
    text = json.dumps(_prepare_floats(value), ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    # json.dumps escapes DEL; PHP leaves it raw. Only an escape that is not itself escaped ("\\u007f" is text).
    text = re.sub(r"(?<!\\)((?:\\\\)*)\\u007f", "\\1\x7f", text)
    # Outside strings JSON has no '/', so every '/' is inside a string.
    return text.replace("/", "\\/")


def php_signature(text: str, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).digest()).decode("ascii")


def _php_equal(left, right) -> bool:
    """PHP's loose ``==`` for the scalars the API compares (158 == "158")."""
    return str(left).strip() == str(right).strip()


# -- the emulator -----------------------------------------------------------


def _wildcard(pattern: str) -> re.Pattern:
    return re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$")


class ScaleEngineEmulator(Emulator):
    """ScaleEngine signed command API emulator (api.scaleengine.net/stable/)."""

    listeners = ("api",)

    def __init__(
        self,
        cdn: int = DEFAULT_CDN,
        api_key: str = DEFAULT_API_KEY,
        api_secret: str = DEFAULT_API_SECRET,
        window: float = DEFAULT_WINDOW,
        clock=time.time,
        codes_as_int: bool = False,
        seed: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.cdn = cdn
        self.api_key = api_key
        self.api_secret = api_secret
        self.window = window
        self.clock = clock
        self.codes_as_int = codes_as_int
        self.seed = seed
        #: called with (app, inst, stream) after stream.close closed a stream
        self.on_stream_close = None
        self.on_pushpublish_disconnect = None
        self.reset()

    # -- state -----------------------------------------------------------

    def reset(self) -> None:
        with self.lock:
            self.apps: dict[str, int] = {}
            self.streams: dict[tuple[str, str, str], dict] = {}
            self.viewers: list[dict] = []
            self.used_signatures: dict[str, float] = {}
            self.accepted: list[dict] = []
            self._stream_ids = itertools.count(1000)
            self._service_ids = itertools.count(1234)
            if self.seed:
                self.add_app("demo-origin", 1)
                self.add_app("demo-channel", 2)
                self.start_stream("demo-origin", "live", "my_live_stream")
                self.add_pushpublish("demo-origin", "live", "my_live_stream", "session_1", target="rtmp://a.example.net/live/one")
                self.add_pushpublish("demo-origin", "live", "my_live_stream", "cupertino-akamai", target="https://akamai.example.net/ingest")
                self.set_viewers("demo-origin", "my_live_stream", 20, 10, 30, 100)
                self.set_viewers("demo-origin", "my_live_stream_720p", 12, 8, 15, 60)
                self.set_viewers("demo-origin", "sestore3/username/path/filename.mp4", 5, 2, 7, 25)
                self.set_viewers("demo-channel", "channel1", 3, 1, 4, 9)

    def add_app(self, name: str, app_id: int | None = None) -> int:
        with self.lock:
            if name not in self.apps:
                self.apps[name] = app_id if app_id is not None else max(self.apps.values(), default=0) + 1
            return self.apps[name]

    def start_stream(self, app: str, inst: str, stream: str, stream_id: int | None = None, origin_url: str = "jb-origin.secdn.net") -> dict:
        with self.lock:
            self.add_app(app)
            now = int(self.clock())
            details = {
                "app": app,
                "inst": inst,
                "stream": stream,
                "stream_id": stream_id if stream_id is not None else next(self._stream_ids),
                "origin_url": origin_url,
                "encoder_connect_time": now,
                "publish_time": now,
                "video_codec": "H264",
                "audio_codec": "AAC",
                "recording": False,
                "pushpublish": [],
            }
            self.streams[(app, inst, stream)] = details
            return details

    def stop_stream(self, app: str, inst: str, stream: str) -> bool:
        with self.lock:
            return self.streams.pop((app, inst, stream), None) is not None

    def add_pushpublish(self, app, inst, stream, entry_name, push_service_id=None, target="rtmp://push.example.net/live") -> dict:
        with self.lock:
            details = self.streams.get((app, inst, stream))
            if details is None:
                raise KeyError(f"{app}/{inst}/{stream} is not live")
            session = {
                "entry_name": entry_name,
                "push_service_id": push_service_id if push_service_id is not None else next(self._service_ids),
                "target": target,
                "connected": True,
            }
            details["pushpublish"].append(session)
            return session

    def set_viewers(self, app, video_url, avg, minimum=None, maximum=None, total=None) -> dict:
        with self.lock:
            self.add_app(app)
            record = {
                "app": app,
                "video_url": video_url,
                "viewer_count_avg": avg,
                "viewer_count_min": avg if minimum is None else minimum,
                "viewer_count_max": avg if maximum is None else maximum,
                "viewer_count_sum": avg if total is None else total,
            }
            self.viewers = [item for item in self.viewers if (item["app"], item["video_url"]) != (app, video_url)]
            self.viewers.append(record)
            return record

    def is_live(self, app: str, inst: str, stream: str) -> bool:
        with self.lock:
            return (app, inst, stream) in self.streams

    def commands(self, name: str | None = None) -> list[dict]:
        """Accepted (verified) requests, in order, optionally only one command."""
        with self.lock:
            return [dict(item) for item in self.accepted if name is None or item.get("command") == name]

    def received(self) -> list[dict]:
        """Every request posted to the API path, decoded (whether accepted or not)."""
        decoded = []
        for entry in self.log(method="POST", path=re.escape(API_PATH) + "$"):
            text = self._json_field(entry)
            try:
                decoded.append(json.loads(text) if text else {})
            except ValueError:
                decoded.append({})
        return decoded

    # -- HTTP ------------------------------------------------------------

    @staticmethod
    def _json_field(request: Request) -> str | None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("multipart/form-data"):
            message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + request.body)
            for part in message.iter_parts():
                if part.get_param("name", header="content-disposition") == "json":
                    payload = part.get_payload(decode=True) or b""
                    return payload.decode("utf-8")  # strict: invalid UTF-8 raises, as json_decode fails
            return None
        if content_type.startswith("application/x-www-form-urlencoded"):
            values = parse_qs(request.body.decode("ascii", errors="strict"), keep_blank_values=True, errors="strict")
            return values["json"][0] if "json" in values else None
        return None

    def _failure(self, message: str, code: str | None = None) -> Response:
        answer: dict = {"status": "failure", "message": message}
        if code is not None:
            answer["code"] = int(code) if self.codes_as_int else code
        answer["handle_time"] = "0.0021 seconds"
        return Response.json(answer)

    @staticmethod
    def _success(message: str, data=None) -> Response:
        answer: dict = {"message": message, "status": "success"}
        if data is not None:
            answer["data"] = data
        answer["handle_time"] = "0.0034 seconds"
        return Response.json(answer)

    def route(self, request: Request) -> Response:
        if request.path == API_PATH.rstrip("/"):
            # What a web server does for a directory without its slash; a POST becomes a GET on redirect.
            return Response(301, b"", {"Location": API_PATH})
        if request.path != API_PATH:
            return Response.text("Not Found\n", status=404)
        if request.method != "POST":
            return self._failure("No request: POST the json field", "0006")
        decoded = self._decoded_command(request)
        return decoded if isinstance(decoded, Response) else self._verified(decoded)

    def _decoded_command(self, request: Request) -> dict | Response:
        """The command in the request's json field, or the failure the API answers instead."""
        try:
            text = self._json_field(request)
        except (UnicodeDecodeError, ValueError):
            return self._failure("Malformed request: invalid UTF-8", "0004")
        if text is None:
            return self._failure("Required fields missing: json", "0006")
        try:
            decoded = php_decode(text)
        except _Invalid as exc:
            return self._failure(f"Malformed JSON request: {exc}", "0004")
        if not isinstance(decoded, dict):
            return self._failure("Malformed JSON request: not an object", "0004")
        return decoded

    def _verified(self, decoded: dict) -> Response:
        signature = decoded.pop("signature", None)
        cdn = decoded.get("cdn", decoded.get("cdn_id"))
        if decoded.get("api_key") != self.api_key or cdn is None or not _php_equal(cdn, self.cdn):
            return self._failure("CDN authorization failed", "0001")
        if not isinstance(signature, str) or not hmac.compare_digest(signature, php_signature(php_encode(decoded), self.api_secret)):
            return self._failure("Failed HMAC-SHA256 signature", "0003")
        try:
            timestamp = int(str(decoded.get("timestamp")))
        except ValueError:
            return self._failure("Timestamp outside valid range", "0002")
        now = self.clock()
        if abs(now - timestamp) > self.window:
            return self._failure("Timestamp outside valid range", "0002")
        with self.lock:
            for used, seen in list(self.used_signatures.items()):
                if now - seen > 2 * self.window:
                    del self.used_signatures[used]
            if signature in self.used_signatures:
                return self._failure("Unauthorized access: this signed request was already used", "0005")
            self.used_signatures[signature] = now
            self.accepted.append(dict(decoded))
            return self._dispatch(decoded)

    def _dispatch(self, request: dict) -> Response:
        handlers = {
            "stream.close": self._stream_close,
            "stream.details": self._stream_details,
            "stream.active": self._stream_active,
            "pushpublish.disconnect": self._pushpublish_disconnect,
            "viewer.live": self._viewer_live,
        }
        handler = handlers.get(str(request.get("command")))
        if handler is None:
            return self._failure(f"Unrecognized command: {request.get('command')}", "0000")
        return handler(request)

    def _missing(self, request: dict, *names) -> Response | None:
        missing = [name for name in names if request.get(name) in (None, "")]
        return self._failure(f"Required fields missing: {', '.join(missing)}", "0006") if missing else None

    def _stream_by_request(self, request: dict) -> tuple[tuple | None, Response | None]:
        if request.get("stream_id") not in (None, ""):
            for key, details in self.streams.items():
                if _php_equal(details["stream_id"], request["stream_id"]):
                    return key, None
            return None, self._failure(f"Stream not found: stream_id {request['stream_id']} is not live")
        missing = self._missing(request, "app", "inst", "stream")
        if missing:
            return None, missing
        key = (str(request["app"]), str(request["inst"]), str(request["stream"]))
        if key not in self.streams:
            return None, self._failure(f"Stream not found: {'/'.join(key)} is not live")
        return key, None

    def _stream_details(self, request: dict) -> Response:
        missing = self._missing(request, "app", "inst", "stream")
        if missing:
            return missing
        key, failure = self._stream_by_request(request)
        return failure or self._success("Stream details", json.loads(json.dumps(self.streams[key])))

    def _stream_active(self, request: dict) -> Response:
        missing = self._missing(request, "app", "inst")
        if missing:
            return missing
        active = [json.loads(json.dumps(details)) for (app, inst, _stream), details in self.streams.items() if (app, inst) == (request["app"], request["inst"])]
        return self._success(f"{len(active)} active streams", active)

    def _stream_close(self, request: dict) -> Response:
        key, failure = self._stream_by_request(request)
        if failure:
            return failure
        del self.streams[key]
        if self.on_stream_close is not None:
            self.on_stream_close(*key)
        return self._success("")

    def _pushpublish_disconnect(self, request: dict) -> Response:
        service_id = request.get("push_service_id")
        if service_id in (None, ""):
            missing = self._missing(request, "app", "inst", "entry_name")
            if missing:
                return missing
        disconnected = []
        removed = []
        for (app, inst, stream), details in self.streams.items():
            if request.get("app") not in (None, "") and app != request["app"]:
                continue
            if request.get("inst") not in (None, "") and inst != request["inst"]:
                continue
            if request.get("stream") not in (None, "") and stream != request["stream"]:
                continue
            kept = []
            for session in details["pushpublish"]:
                by_id = service_id not in (None, "") and _php_equal(session["push_service_id"], service_id)
                by_name = service_id in (None, "") and request.get("entry_name") in ("*", session["entry_name"])
                (disconnected if by_id or by_name else kept).append(session)
                if by_id or by_name:
                    removed.append(((app, inst, stream), session))
            details["pushpublish"] = kept
        if self.on_pushpublish_disconnect is not None:
            for key, session in removed:
                self.on_pushpublish_disconnect(*key, session)
        if not disconnected:
            return self._failure("No matching PushPublish session is connected")
        return self._success(", ".join(session["entry_name"] for session in disconnected) + " disconnected")

    def _app_names(self, value) -> list[str] | None:
        values = value if isinstance(value, list) else [value]
        names = []
        for item in values:
            if isinstance(item, int) or (isinstance(item, str) and item.isdigit()):
                matches = [name for name, app_id in self.apps.items() if app_id == int(item)]
            else:
                matches = [item] if item in self.apps else []
            if not matches:
                return None
            names.extend(matches)
        return names

    def _viewer_live(self, request: dict) -> Response:
        missing = self._missing(request, "app")
        if missing:
            return missing
        names = self._app_names(request["app"])
        if names is None:
            return self._failure(f"Application not found: {request['app']}", "0005")
        url = request.get("url")
        patterns = None
        if url not in (None, ""):
            parts = url if isinstance(url, list) else str(url).split("|")
            patterns = [_wildcard(str(part)) for part in parts if str(part)]
        data = [
            dict(record)
            for record in self.viewers
            if record["app"] in names and (patterns is None or any(pattern.match(record["video_url"]) for pattern in patterns))
        ]
        return self._success("Found live viewers" if data else "No live viewers found", data)

    # -- control API ---------------------------------------------------------

    def control(self, action: str, payload: dict) -> Response:
        handlers = {
            "reset": self._control_reset,
            "state": self._control_state,
            "start_stream": lambda args: Response.json(self.start_stream(**args), status=201),
            "stop_stream": lambda args: Response.json({"stopped": self.stop_stream(**args)}),
            "add_pushpublish": lambda args: Response.json(self.add_pushpublish(**args), status=201),
            "set_viewers": lambda args: Response.json(self.set_viewers(**args), status=201),
            "add_app": lambda args: Response.json({"id": self.add_app(args["name"], args.get("id"))}, status=201),
            "heavy_load": self._control_heavy_load,
        }
        if action not in handlers:
            return super().control(action, payload)
        try:
            return handlers[action](payload)
        except (KeyError, TypeError, ValueError) as exc:
            return Response.json({"error": str(exc)}, status=400)

    def _control_reset(self, _payload: dict) -> Response:
        self.reset()
        return Response.json({"reset": True})

    def _control_state(self, _payload: dict) -> Response:
        with self.lock:
            return Response.json(
                {"apps": self.apps, "streams": [dict(details) for details in self.streams.values()], "viewers": self.viewers, "accepted": self.accepted}
            )

    def _control_heavy_load(self, payload: dict) -> Response:
        body = json.dumps({"status": "failure", "code": "1000", "message": "Heavy load, try again in a few minutes"})
        self.add_fault(
            kind="status",
            method="POST",
            path=re.escape(API_PATH) + "$",
            count=int(payload.get("count", 1)),
            status=200,
            body=body,
            headers={"Content-Type": "application/json"},
        )
        return Response.json({"added": True}, status=201)

    @classmethod
    def add_arguments(cls, parser) -> None:
        parser.add_argument("--cdn", type=int, default=DEFAULT_CDN, help="account CDN id")
        parser.add_argument("--api-key", default=DEFAULT_API_KEY)
        parser.add_argument("--api-secret", default=DEFAULT_API_SECRET)
        parser.add_argument("--window", type=float, default=DEFAULT_WINDOW, help="accepted timestamp skew in seconds")
        parser.add_argument("--empty", action="store_true", help="start without the demo apps, streams and viewers")

    @classmethod
    def from_args(cls, args) -> ScaleEngineEmulator:
        return cls(cdn=args.cdn, api_key=args.api_key, api_secret=args.api_secret, window=args.window, seed=not args.empty)


if __name__ == "__main__":
    sys.exit(run_cli(ScaleEngineEmulator))
