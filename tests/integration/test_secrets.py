"""No secret ever reaches what Ansible shows or records, in any form it takes on the wire.

Every module runs at ``-vvvv`` with its secrets given as module arguments and,
separately, as environment variables, in one playbook that has passing tasks
and failing ones. The failures come from servers that answer with the request
echoed back (request line, every header including Authorization, the body),
as careless servers and proxies do in their error pages, and, for ScaleEngine,
from HTTP 200 failure answers whose message quotes the credentials.

Ansible's own ``no_log`` masking replaces the raw values only, so each secret
is searched for raw and in every form it takes in transit or in an answer:
URL-encoded (``+`` and ``%20`` for a space, ``/`` kept or encoded, either hex
case), JSON-escaped (``\\u00fc``, with and without PHP's ``\\/``), HTML-escaped,
HTTP Basic credentials as base64, the ScaleEngine signatures actually sent
(read from the emulator's request log after the run), and any run of ten
characters of the random parts, which catches a secret cut short by an excerpt.
Each test makes its own long random secrets, so a match cannot be a coincidence.
"""

from __future__ import annotations

import base64
import html
import json
import re
import secrets
import textwrap
from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote, quote_plus

import pytest
import requests

from tests.emulators.red5 import Red5Emulator
from tests.emulators.red5_sm2 import Red5Sm2Emulator
from tests.emulators.scaleengine import API_PATH, DEFAULT_CDN, ScaleEngineEmulator
from tests.emulators.usp import UspEmulator
from tests.helpers.playbook import task

VERBOSITY = 4
SOURCES = ("args", "env")
USERNAME = "opérateur"
WINDOW = 10

PP = "mediaops.streaming.usp_publishing_point"
FLEET = "mediaops.streaming.usp_publishing_points"
USP_INFO = "mediaops.streaming.usp_publishing_point_info"
PURGE = "mediaops.streaming.usp_archive_purge"
STREAM = "mediaops.streaming.scaleengine_stream"
PUSH = "mediaops.streaming.scaleengine_pushpublish"
VIEWERS = "mediaops.streaming.scaleengine_viewer_info"
COMMAND = "mediaops.streaming.scaleengine_command"
RED5_INFO = "mediaops.streaming.red5_stream_info"
REGISTRY = "mediaops.streaming.red5_stream_registry"


# -- secrets and the forms they take ------------------------------------------------------


@dataclass
class Secret:
    """A long random secret with the characters that change under URL, JSON, PHP and HTML encoding."""

    label: str
    value: str
    cores: tuple[str, ...]

    @classmethod
    def new(cls, label: str) -> Secret:
        first, second = secrets.token_hex(12), secrets.token_hex(12)
        return cls(label, f"{label}/{first}+ü&\"'= {second}\\é%", (first, second))


def encoded_forms(text: str) -> dict[str, str]:
    """``text`` as it may appear once it has been sent, echoed, quoted or serialised."""
    forms = {"raw": text, "html": html.escape(text)}
    for name, encoded in (("url", quote(text, safe="")), ("url-keep-slash", quote(text)), ("url-plus", quote_plus(text))):
        forms[name] = encoded
        forms[name + "-lower-hex"] = re.sub(r"%[0-9A-F]{2}", lambda match: match.group(0).lower(), encoded)
    for name, escaped in (("json", json.dumps(text)[1:-1]), ("json-unicode", json.dumps(text, ensure_ascii=False)[1:-1])):
        forms[name] = escaped
        forms[name + "-php-slash"] = escaped.replace("/", "\\/")
    return forms


@dataclass
class Forbidden:
    """Every string that must not appear, with a name saying which secret and which form it is."""

    strings: dict[str, str] = field(default_factory=dict)

    def secret(self, secret: Secret) -> Forbidden:
        for form, text in encoded_forms(secret.value).items():
            self.strings[f"{secret.label} ({form})"] = text
        for core in secret.cores:
            self._windows(secret.label, core)
        return self

    def token(self, label: str, token: str) -> Forbidden:
        """A value derived from secrets (Basic credentials, a signature): its forms and every 12-character run of it."""
        for form, text in encoded_forms(token).items():
            self.strings[f"{label} ({form})"] = text
        self._windows(label, token, 12)
        return self

    def _windows(self, label: str, text: str, size: int = WINDOW) -> None:
        for start in range(len(text) - size + 1):
            self.strings[f"{label} (characters {start}-{start + size})"] = text[start : start + size]


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def assert_nothing_leaks(result, forbidden: Forbidden) -> None:
    places = {
        "stdout": result.stdout,
        "stderr": result.stderr,
        "task results": "\n".join(_strings(result.tasks)),
        "task results as JSON": json.dumps(result.tasks),
    }
    leaks = {}
    for place, text in places.items():
        for label, needle in forbidden.strings.items():
            at = text.find(needle)
            secret = label.split(" (")[0]
            if at >= 0 and (secret, place) not in leaks:
                # One line per secret and place: the first form found, with where it sits.
                leaks[secret, place] = f"{label} in {place}: ...{text[max(0, at - 80) : at + len(needle) + 40]!r}..."
    assert not leaks, f"{len(leaks)} leak(s):\n" + "\n".join(leaks.values())


# -- playbook helpers ---------------------------------------------------------------------------


def statuses(result) -> list[tuple[str, str]]:
    return [(entry["task"], entry["status"]) for entry in result.tasks]


def messages(result) -> dict[str, str]:
    return {entry["task"]: entry["result"].get("msg") or "" for entry in result.tasks}


def run(ansible_run, tasks: str, env: dict):
    result = ansible_run.playbook(tasks, env=env, verbosity=VERBOSITY)
    assert "Traceback" not in result.output and "MODULE FAILURE" not in result.output, result.output[-3000:]
    return result


def assert_faults_used(emulator) -> None:
    """Every injected fault answered a request: the failing tasks failed for the reason the test is about."""
    assert emulator.faults == [], [fault.kind + " " + str(fault.status) for fault in emulator.faults]


def run_failing(ansible_run, tasks: str, env: dict, expected_statuses: list[str]):
    """Run a play whose last tasks fail on purpose: it fails, and its tasks end with ``expected_statuses`` in order."""
    result = run(ansible_run, tasks, env)
    assert result.rc != 0
    assert [status for _name, status in statuses(result)] == expected_statuses
    return result


def assert_failed_safely(result, emulator, forbidden: Forbidden, says: dict[str, str]) -> None:
    """Each failing task's message says what its fault was (task -> text), every fault was used, and no secret shows."""
    shown = messages(result)
    for name, text in says.items():
        assert text in shown[name], (name, shown[name])
    assert_faults_used(emulator)
    assert_nothing_leaks(result, forbidden)


# -- Unified Streaming -----------------------------------------------------------------------------


SMIL = (
    '<?xml version="1.0" encoding="utf-8"?>\n<smil xmlns="http://www.w3.org/2001/SMIL20/Language"><head>'
    '<meta name="archiving" content="true"/></head><body><switch></switch></body></smil>'
)


@pytest.fixture
def password():
    return Secret.new("usp-password")


@pytest.fixture
def usp(password):
    # The origin asks for the credentials too, so every request of every USP module carries them.
    emulator = UspEmulator(username=USERNAME, password=password.value, auth_origin=True).start()
    yield emulator
    emulator.stop()


def usp_connection(emulator, password: Secret, source: str, origin: bool = False, api: bool = True) -> tuple[dict, dict]:
    """(module arguments, environment) with the credentials in one or the other."""
    args = {}
    if api:
        args["api_url"] = emulator.url("api")
    if origin:
        args["origin_url"] = emulator.url("origin")
    if source == "args":
        return dict(args, username=USERNAME, password=password.value), {}
    return args, {"USP_USERNAME": USERNAME, "USP_PASSWORD": password.value}


def usp_forbidden(emulator, password: Secret) -> Forbidden:
    basic = base64.b64encode(f"{USERNAME}:{password.value}".encode()).decode("ascii")
    sent = {entry.headers.get("authorization") for entry in emulator.log()}
    # The test means something only if the credentials really travelled with every request.
    assert sent == {f"Basic {basic}"}, sent
    return Forbidden().secret(password).token("Basic credentials", basic)


def usp_point(emulator, password: Secret, name: str, archive: bool = False) -> None:
    """Create a publishing point as another client would, with the same credentials (so every logged request carries them)."""
    answer = requests.post(
        f"{emulator.url('api')}/{name}/{name}.isml",
        data=SMIL.encode("utf-8"),
        headers={"Content-Type": "application/smil+xml; charset=utf-8"},
        auth=(USERNAME.encode("utf-8"), password.value.encode("utf-8")),
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    if archive:
        emulator.encoder_start(name, start_time="2026-11-23T10:00:00Z")
        emulator.encoder_push(name, count=5)
        emulator.encoder_eos(name)


@pytest.mark.parametrize("source", SOURCES)
def test_usp_publishing_point(ansible_run, usp, password, source):
    args, env = usp_connection(usp, password, source)
    usp_point(usp, password, "ch-upd")
    usp.add_fault(kind="echo", status=400, method="POST", path="^/ch-400/")
    usp.add_fault(kind="echo", status=401, path="^/ch-401/")
    usp.add_fault(kind="echo", status=500, method="PUT", path="^/ch-upd/")
    usp.add_fault(kind="echo", status=403, method="DELETE", path="^/ch-403/")
    usp_point(usp, password, "ch-403")
    tasks = (
        task("create", PP, **args, name="ch-ok", options={"archiving": True})
        + task("unchanged", PP, **args, name="ch-ok", options={"archiving": True})
        + task("create answered 400", PP, **args, name="ch-400", options={"archiving": True}, ignore_errors=True)
        + task("read answered 401", PP, **args, name="ch-401", ignore_errors=True)
        + task("update answered 500", PP, **args, name="ch-upd", options={"archiving": True, "dvr_window_length": 120}, ignore_errors=True)
        + task("delete answered 403", PP, **args, name="ch-403", state="absent")
    )
    result = run(ansible_run, tasks, env)
    assert result.rc != 0
    assert statuses(result) == [
        ("create", "ok"),
        ("unchanged", "ok"),
        ("create answered 400", "failed"),
        ("read answered 401", "failed"),
        ("update answered 500", "failed"),
        ("delete answered 403", "failed"),
    ]
    assert "server said: POST /ch-400/ch-400.isml" in messages(result)["create answered 400"]
    says = {"create answered 400": "HTTP 400", "read answered 401": "HTTP 401", "update answered 500": "HTTP 500", "delete answered 403": "HTTP 403"}
    assert_failed_safely(result, usp, usp_forbidden(usp, password), says)


@pytest.mark.parametrize("source", SOURCES)
def test_usp_publishing_points(ansible_run, usp, password, source):
    """A fleet whose failing points quote the echoed requests: every point's result, each message and the task's message stay clean."""
    args, env = usp_connection(usp, password, source)
    usp_point(usp, password, "fl-ok")
    usp_point(usp, password, "fl-upd")
    usp.add_fault(kind="echo", status=500, method="PUT", path="^/fl-upd/")
    usp.add_fault(kind="echo", status=400, method="POST", path="^/fl-400/")
    points = [
        {"name": "fl-ok", "options": {"archiving": True}},
        {"name": "fl-new", "options": {"archiving": True}},
        {"name": "fl-upd", "options": {"archiving": True, "dvr_window_length": 120}},
        {"name": "fl-400", "options": {"archiving": True}},
    ]
    tasks = task("unchanged", FLEET, **args, points=points[:1]) + task("converge", FLEET, **args, points=points, max_workers=2)
    result = run_failing(ansible_run, tasks, env, ["ok", "failed"])
    assert result.task("unchanged")["summary"] == {"ok": 1, "changed": 0, "failed": 0, "total": 1}
    converged = result.task("converge")
    assert [(point["name"], point["changed"], point["failed"]) for point in converged["results"]] == [
        ("fl-ok", False, False),
        ("fl-new", True, False),
        ("fl-upd", False, True),
        ("fl-400", False, True),
    ]
    put_failed, post_failed = converged["results"][2:]
    assert (put_failed["method"], put_failed["status"], post_failed["method"], post_failed["status"]) == ("PUT", 500, "POST", 400)
    assert "server said: PUT /fl-upd/fl-upd.isml" in put_failed["msg"] and "server said: POST /fl-400/fl-400.isml" in post_failed["msg"]
    # The echoed request, headers included, reached the results: what they show of it must be masked.
    assert "Authorization" in put_failed["response_excerpt"] and "Authorization" in post_failed["response_excerpt"]
    says = {"converge": "2 of 4 publishing points failed: fl-upd, fl-400"}
    assert_failed_safely(result, usp, usp_forbidden(usp, password), says)


@pytest.mark.parametrize("source", SOURCES)
def test_usp_publishing_point_info(ansible_run, usp, password, source):
    args, env = usp_connection(usp, password, source, origin=True)
    usp_point(usp, password, "ch-ok")
    usp_point(usp, password, "ch-state")
    usp.add_fault(kind="echo", status=401, listener="api", path="^/ch-401/")
    usp.add_fault(kind="echo", status=500, listener="origin", path="^/ch-state/.*/state$")
    usp.add_fault(kind="echo", status=403, listener="origin", path="^/ch-ok/.*/archive$")
    tasks = (
        task("read", USP_INFO, **args, name="ch-ok", gather=["settings", "state"])
        + task("missing", USP_INFO, **args, name="ch-none")
        + task("settings answered 401", USP_INFO, **args, name="ch-401", ignore_errors=True)
        + task("state answered 500", USP_INFO, **args, name="ch-state", ignore_errors=True)
        + task("archive answered 403", USP_INFO, **args, name="ch-ok")
    )
    result = run_failing(ansible_run, tasks, env, ["ok", "ok", "failed", "failed", "failed"])
    says = {"settings answered 401": "HTTP 401", "state answered 500": "HTTP 500", "archive answered 403": "HTTP 403"}
    assert_failed_safely(result, usp, usp_forbidden(usp, password), says)


@pytest.mark.parametrize("source", SOURCES)
def test_usp_archive_purge(ansible_run, usp, password, source):
    args, env = usp_connection(usp, password, source, origin=True, api=False)
    usp_point(usp, password, "arch", archive=True)
    usp_point(usp, password, "arch2", archive=True)
    usp.add_fault(kind="echo", status=401, listener="origin", path="^/arch2/.*/archive$")
    usp.add_fault(kind="echo", status=500, method="POST", listener="origin", path="^/arch2/.*/purge$")
    usp.add_fault(kind="echo", status=400, method="POST", listener="origin", path="^/arch2/.*/purge$")
    tasks = (
        task("purge", PURGE, **args, name="arch", all=True)
        + task("purge a missing point", PURGE, **args, name="nothing-here", all=True)
        + task("archive answered 401", PURGE, **args, name="arch2", all=True, ignore_errors=True)
        + task("purge answered 500", PURGE, **args, name="arch2", all=True, ignore_errors=True)
        + task("purge answered 400", PURGE, **args, name="arch2", all=True)
    )
    result = run_failing(ansible_run, tasks, env, ["ok", "ok", "failed", "failed", "failed"])
    assert result.task("purge")["changed"] is True
    # A passing task with a warning: warnings are part of what is shown.
    assert result.task("purge a missing point").get("warnings")
    says = {"archive answered 401": "HTTP 401", "purge answered 500": "HTTP 500", "purge answered 400": "HTTP 400"}
    assert_failed_safely(result, usp, usp_forbidden(usp, password), says)


def test_usp_adhoc_command(ansible_run, usp, password):
    """``ansible -m`` prints results with another callback path than ansible-playbook; the same rules hold."""
    usp.add_fault(kind="echo", status=401, listener="api")
    env = {"USP_USERNAME": USERNAME, "USP_PASSWORD": password.value}
    result = ansible_run.adhoc(USP_INFO, f"api_url={usp.url('api')} name=ch1", env=env, verbosity=VERBOSITY)
    assert result.rc != 0
    assert "HTTP 401" in result.output and "Traceback" not in result.output
    assert_faults_used(usp)
    assert_nothing_leaks(result, usp_forbidden(usp, password))


# -- ScaleEngine ------------------------------------------------------------------------------------


@pytest.fixture
def keys():
    return Secret.new("se-api-key"), Secret.new("se-api-secret")


@pytest.fixture
def scaleengine(keys):
    api_key, api_secret = keys
    emulator = ScaleEngineEmulator(api_key=api_key.value, api_secret=api_secret.value).start()
    emulator.start_stream("demo-origin", "live", "second")
    emulator.add_pushpublish("demo-origin", "live", "second", "second-push")
    yield emulator
    emulator.stop()


def se_connection(emulator, keys, source: str) -> tuple[dict, dict]:
    api_key, api_secret = keys
    args = {"api_url": emulator.url() + API_PATH, "cdn": DEFAULT_CDN}
    if source == "args":
        return dict(args, api_key=api_key.value, api_secret=api_secret.value), {}
    return args, {"SCALEENGINE_API_KEY": api_key.value, "SCALEENGINE_API_SECRET": api_secret.value}


def php_escaped(text: str) -> str:
    """A string as PHP's json_encode writes it: ``\\uXXXX`` for non-ASCII and ``\\/``."""
    return json.dumps(text)[1:-1].replace("/", "\\/")


def json_failure(keys, fake_signature: str) -> str:
    """An HTTP 200 failure answer whose message quotes the credentials and the request, as a debugging server might."""
    api_key, api_secret = keys
    quoted_request = f'{{"command":"viewer.live","api_key":"{php_escaped(api_key.value)}","signature":"{php_escaped(fake_signature)}"}}'
    message = f"Failed HMAC-SHA256 signature for api_key {api_key.value} (secret {api_secret.value}); request {quoted_request}"
    return json.dumps({"status": "failure", "code": "0003", "message": message, "handle_time": "0.0021 seconds"})


def command_match(command: str) -> str:
    return '"command":"' + re.escape(command) + '"'


def se_forbidden(emulator, keys, fake_signature: str | None = None) -> Forbidden:
    api_key, api_secret = keys
    received = emulator.received()
    assert received, "no request reached the emulator"
    assert {request.get("api_key") for request in received} == {api_key.value}
    forbidden = Forbidden().secret(api_key).secret(api_secret)
    for index, request in enumerate(received):
        forbidden.token(f"signature #{index}", request["signature"])
    if fake_signature:
        forbidden.token("signature quoted in a failure answer", fake_signature)
    return forbidden


def fake_signature() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


@dataclass
class ScaleEngineSecrets:
    """The ScaleEngine emulator of a test, its keys, where the module gets them from, and the faults the test adds."""

    emulator: ScaleEngineEmulator
    keys: tuple[Secret, Secret]
    source: str
    fake: str = field(default_factory=fake_signature)

    def connection(self) -> tuple[dict, dict]:
        return se_connection(self.emulator, self.keys, self.source)

    def echo(self, status: int, match: str) -> None:
        """The next POST matching ``match`` is answered with the request echoed back, with ``status``."""
        self.emulator.add_fault(kind="echo", status=status, method="POST", match=match)

    def failure_answer(self, match: str) -> None:
        """The next POST matching ``match`` gets an HTTP 200 failure answer quoting the credentials and a signature."""
        self.emulator.add_fault(kind="status", status=200, body=json_failure(self.keys, self.fake), method="POST", match=match)

    def assert_failed_safely(self, result, says: dict[str, str]) -> None:
        assert_failed_safely(result, self.emulator, se_forbidden(self.emulator, self.keys, self.fake), says)


@pytest.fixture(params=SOURCES)
def se(request, scaleengine, keys):
    return ScaleEngineSecrets(scaleengine, keys, request.param)


def test_scaleengine_stream(ansible_run, se):
    args, env = se.connection()
    ident = {"app": "demo-origin", "inst": "live"}
    tasks = (
        task("close", STREAM, **args, **ident, stream="my_live_stream")
        + task("close again", STREAM, **args, **ident, stream="my_live_stream")
        + task("details answered 400", STREAM, **args, **ident, stream="gone-400", ignore_errors=True)
        + task("failure answer", STREAM, **args, **ident, stream="gone-json", ignore_errors=True)
        + task("close answered 500", STREAM, **args, **ident, stream="second")
    )
    se.echo(400, command_match("stream.details") + r'.*"stream":"gone-400"')
    se.failure_answer(r'"stream":"gone-json"')
    se.echo(500, command_match("stream.close") + r'.*"stream":"second"')
    result = run_failing(ansible_run, tasks, env, ["ok", "ok", "failed", "failed", "failed"])
    assert result.task("close")["changed"] is True
    se.assert_failed_safely(result, {"details answered 400": "HTTP 400", "failure answer": "code 0003", "close answered 500": "HTTP 500"})


def test_scaleengine_pushpublish(ansible_run, se):
    args, env = se.connection()
    ident = {"app": "demo-origin", "inst": "live"}
    # With the stream named, the module asks stream.details: the stream.active faults are for the next tasks.
    tasks = (
        task("disconnect", PUSH, **args, **ident, stream="my_live_stream", entry_name="session_1")
        + task("active answered 401", PUSH, **args, **ident, entry_name="cupertino-akamai", ignore_errors=True)
        + task("failure answer", PUSH, **args, **ident, entry_name="cupertino-akamai", ignore_errors=True)
        + task("disconnect answered 500", PUSH, **args, **ident, entry_name="second-push")
    )
    se.echo(401, command_match("stream.active"))
    se.failure_answer(command_match("stream.active"))
    se.echo(500, command_match("pushpublish.disconnect") + r'.*"entry_name":"second-push"')
    result = run_failing(ansible_run, tasks, env, ["ok", "failed", "failed", "failed"])
    assert result.task("disconnect")["changed"] is True
    se.assert_failed_safely(result, {"active answered 401": "HTTP 401", "failure answer": "code 0003", "disconnect answered 500": "HTTP 500"})


def test_scaleengine_viewer_info(ansible_run, se):
    args, env = se.connection()
    tasks = (
        task("viewers", VIEWERS, **args, app="demo-origin")
        + task("answered 403", VIEWERS, **args, app="demo-channel", ignore_errors=True)
        + task("failure answer", VIEWERS, **args, app="demo-channel", ignore_errors=True)
        + task("echoed with 200", VIEWERS, **args, app="demo-channel")
    )
    # Each fault answers one request for demo-channel, in the order they were added.
    channel = r'"app":"demo-channel"'
    se.echo(403, channel)
    se.failure_answer(channel)
    # An echo with status 200 is not JSON: the "not a JSON object" path quotes the body too.
    se.echo(200, channel)
    result = run_failing(ansible_run, tasks, env, ["ok", "failed", "failed", "failed"])
    assert result.task("viewers")["viewers"]
    se.assert_failed_safely(result, {"answered 403": "HTTP 403", "failure answer": "code 0003", "echoed with 200": "not a JSON object"})


def test_scaleengine_command(ansible_run, se):
    args, env = se.connection()
    stream = {"app": "demo-origin", "inst": "live", "stream": "second"}
    tasks = (
        task("viewer.live", COMMAND, **args, command="viewer.live", params={"app": "demo-origin"}, read_only=True)
        + task("answered 400", COMMAND, **args, command="stream.details", params=stream, ignore_errors=True)
        + task("failure answer", COMMAND, **args, command="stream.active", params={"app": "demo-origin", "inst": "live"}, ignore_errors=True)
        + task("answered 500", COMMAND, **args, command="stream.close", params=stream, changed=True)
    )
    se.echo(400, command_match("stream.details"))
    se.failure_answer(command_match("stream.active"))
    se.echo(500, command_match("stream.close"))
    result = run_failing(ansible_run, tasks, env, ["ok", "failed", "failed", "failed"])
    # The whole answer is returned on success: it must not carry the credentials either.
    assert result.task("viewer.live")["response"]["status"] == "success"
    se.assert_failed_safely(result, {"answered 400": "HTTP 400", "failure answer": "code 0003", "answered 500": "HTTP 500"})


class QuotingScaleEngine(ScaleEngineEmulator):
    """A server whose failure message quotes the signature and the key it received."""

    def route(self, request):
        sent = json.loads(self._json_field(request) or "{}")
        return self._failure(f"Failed HMAC-SHA256 signature {sent.get('signature')} for api_key {sent.get('api_key')}", "0003")


@pytest.mark.parametrize("source", SOURCES)
def test_scaleengine_signature_quoted_in_a_failure_message(ansible_run, keys, source):
    api_key, api_secret = keys
    emulator = QuotingScaleEngine(api_key=api_key.value, api_secret=api_secret.value).start()
    try:
        args, env = se_connection(emulator, keys, source)
        result = run(ansible_run, task("viewers", VIEWERS, **args, app="demo-origin"), env)
        assert result.rc != 0
        assert "code 0003" in result.task("viewers")["msg"]
        assert_nothing_leaks(result, se_forbidden(emulator, keys))
    finally:
        emulator.stop()


# -- Red5 Pro Stream Manager -------------------------------------------------------------------------


@pytest.fixture
def token():
    return Secret.new("red5-token")


@pytest.fixture
def red5(token):
    emulator = Red5Emulator(access_token=token.value).start()
    emulator.start_broadcast(scope="live", name="demo", region="us-east-1")
    yield emulator
    emulator.stop()


def red5_connection(emulator, token: Secret, source: str) -> tuple[dict, dict]:
    args = {"url": emulator.url(), "api_version": "4.0"}
    if source == "args":
        return dict(args, access_token=token.value), {}
    return args, {"RED5_SM_ACCESS_TOKEN": token.value}


@pytest.mark.parametrize("source", SOURCES)
def test_red5_stream_info(ansible_run, red5, token, source):
    args, env = red5_connection(red5, token, source)
    red5.add_fault(kind="echo", status=400, method="GET", path="/event/live/echo400")
    red5.add_fault(kind="echo", status=500, method="GET", path="/event/live/echo500")
    tasks = (
        task("demo", RED5_INFO, **args, name="demo")
        + task("answered 400", RED5_INFO, **args, name="echo400", ignore_errors=True)
        + task("answered 500", RED5_INFO, **args, name="echo500")
    )
    result = run_failing(ansible_run, tasks, env, ["ok", "failed", "failed"])
    assert result.task("demo")["stream"]["name"] == "demo"
    # Lookups do not need the token, so it never travels with them.
    assert not [entry for entry in red5.log() if "accessToken" in entry.raw_query]
    assert_failed_safely(result, red5, Forbidden().secret(token), {})


@pytest.mark.parametrize("source", SOURCES)
def test_red5_stream_registry(ansible_run, red5, token, source):
    args, env = red5_connection(red5, token, source)
    # One API version per task, so each fault answers exactly one task's delete.
    red5.add_fault(kind="echo", status=401, method="DELETE", path=r"/api/3\.1/admin/event$")
    red5.add_fault(kind="echo", status=500, method="DELETE", path=r"/api/2\.0/admin/event$")
    red5.add_fault(kind="echo", status=400, method="DELETE", path=r"/api/1\.0/admin/event$")
    on_version = {version: dict(args, api_version=version) for version in ("3.1", "2.0", "1.0")}
    tasks = (
        task("clear", REGISTRY, **args)
        + task("answered 401", REGISTRY, **on_version["3.1"], include_active=True, ignore_errors=True)
        + task("answered 500", REGISTRY, **on_version["2.0"], ignore_errors=True)
        + task("answered 400", REGISTRY, **on_version["1.0"])
    )
    result = run_failing(ansible_run, tasks, env, ["ok", "failed", "failed", "failed"])
    sent = [parse_qs(entry.raw_query).get("accessToken") for entry in red5.log(method="DELETE")]
    assert len(sent) == 4 and all(value == [token.value] for value in sent), sent
    assert_failed_safely(result, red5, Forbidden().secret(token), {"answered 401": "HTTP 401", "answered 500": "HTTP 500", "answered 400": "HTTP 400"})


@pytest.fixture
def sm2_password():
    return Secret.new("red5-sm2-password")


@pytest.mark.parametrize("source", SOURCES)
def test_red5_stream_manager_2(ansible_run, sm2_password, source):
    """Stream Manager 2.0 protecting its stream calls: the password (in the login's Basic header) and every JWT, echoed back."""
    emulator = Red5Sm2Emulator(username=USERNAME, password=sm2_password.value, streams_require_auth=True).start()
    try:
        emulator.start_broadcast(scope="live", name="demo")
        args = {"url": emulator.url(), "api_version": "sm2"}
        env = {}
        if source == "args":
            args.update(username=USERNAME, password=sm2_password.value)
        else:
            env = {"RED5_SM_USERNAME": USERNAME, "RED5_SM_PASSWORD": sm2_password.value}
        # The first login of the run answers with the request echoed (its Basic header); later stream calls echo their Bearer token.
        emulator.add_fault(kind="echo", status=500, method="PUT", path=r"^/as/v1/auth/login$", count=1)
        emulator.add_fault(kind="echo", status=500, method="GET", path=r"/stream/live/echo500$")
        emulator.add_fault(kind="echo", status=400, method="GET", path=r"/subscribe/live/echo400$")
        tasks = (
            task("login answered 500", RED5_INFO, **args, name="demo", ignore_errors=True)
            + task("demo", RED5_INFO, **args, name="demo")
            + task("answered 500", RED5_INFO, **args, name="echo500", ignore_errors=True)
            + task("answered 400", RED5_INFO, **args, name="echo400", action="subscribe", stats=False)
        )
        result = run_failing(ansible_run, tasks, env, ["failed", "ok", "failed", "failed"])
        assert result.task("demo")["stream"]["name"] == "demo"
        basic = base64.b64encode(f"{USERNAME}:{sm2_password.value}".encode()).decode("ascii")
        jwts = {entry.headers["authorization"].split(" ", 1)[1] for entry in emulator.log() if entry.headers.get("authorization", "").startswith("Bearer ")}
        # The test means something only if the credentials and tokens really travelled.
        assert {entry.headers.get("authorization") for entry in emulator.log(method="PUT")} == {f"Basic {basic}"}
        assert jwts  # (logins in the same second give the same token)
        forbidden = Forbidden().secret(sm2_password).token("Basic credentials", basic)
        for index, jwt in enumerate(sorted(jwts)):
            forbidden.token(f"JWT {index}", jwt)
        assert_failed_safely(result, emulator, forbidden, {"login answered 500": "HTTP 500", "answered 500": "HTTP 500", "answered 400": "HTTP 400"})
    finally:
        emulator.stop()


# -- the runner's own edges: warnings, results, and a bug in a work function -------------------------


PROBE_MODULE = textwrap.dedent(
    """
    #!/usr/bin/python
    from urllib.parse import quote_plus

    from ansible.module_utils.basic import AnsibleModule

    from ansible_collections.mediaops.streaming.plugins.module_utils.runner import run_module


    def leak_everywhere(params, context):
        secret = params["secret"]
        forms = [secret, quote_plus(secret), repr(secret.encode("utf-8"))]
        context.warn("about to use " + " | ".join(forms))
        if params["crash"]:
            # A bug: an exception that is not the collection's error type, carrying the secret in its message.
            raise KeyError("no such key: " + " | ".join(forms))
        return {"echo": {quote_plus(secret): forms}}


    def main():
        module = AnsibleModule(
            argument_spec=dict(secret=dict(type="str", no_log=True, required=True), crash=dict(type="bool", default=False)),
            supports_check_mode=True,
        )
        run_module(module, leak_everywhere)


    if __name__ == "__main__":
        main()
    """
).lstrip()


@pytest.fixture
def probe_library(tmp_path):
    library = tmp_path / "library"
    library.mkdir()
    (library / "secret_probe.py").write_text(PROBE_MODULE)
    return library


def probe_forbidden(secret: Secret) -> Forbidden:
    forbidden = Forbidden().secret(secret)
    forbidden.strings[f"{secret.label} (Python bytes repr)"] = repr(secret.value.encode("utf-8"))[2:-1]
    return forbidden


@pytest.mark.parametrize("traceback", ["default", "error"])
def test_a_bug_in_a_work_function_fails_with_a_sentence(ansible_run, probe_library, traceback):
    secret = Secret.new("probe-secret")
    env = {"ANSIBLE_LIBRARY": str(probe_library)}
    if traceback == "error":
        # Users who turn tracebacks on must still get no module frames, which could carry the secret.
        env["ANSIBLE_DISPLAY_TRACEBACK"] = "error"
    result = ansible_run.playbook(task("probe", "secret_probe", secret=secret.value, crash=True), env=env, verbosity=VERBOSITY)
    assert result.rc != 0
    assert "MODULE FAILURE" not in result.output and "module_stderr" not in json.dumps(result.tasks)
    probe = result.task("probe")
    message = probe["msg"]
    assert "KeyError" in message and "no such key" in message, message
    assert "report" in message and "-vvv" in message, message
    # No frame of the module's own code, whatever the traceback setting.
    assert "leak_everywhere" not in result.output and "secret_probe.py" not in json.dumps(probe), result.output[-3000:]
    if traceback == "default":
        assert "Traceback" not in result.output
    assert_nothing_leaks(result, probe_forbidden(secret))


def test_warnings_and_results_are_scrubbed(ansible_run, probe_library):
    secret = Secret.new("probe-secret")
    result = ansible_run.playbook(task("probe", "secret_probe", secret=secret.value), env={"ANSIBLE_LIBRARY": str(probe_library)}, verbosity=VERBOSITY)
    assert result.rc == 0, result.output
    probe = result.task("probe")
    assert probe["warnings"] and "about to use" in str(probe["warnings"])
    assert len(next(iter(probe["echo"].values()))) == 3
    assert_nothing_leaks(result, probe_forbidden(secret))
