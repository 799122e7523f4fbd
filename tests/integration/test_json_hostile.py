"""Hostile and broken JSON, from the servers and from playbooks, for every ScaleEngine and Red5 module, through Ansible.

One group is one ``ansible-playbook`` run whose hosts are the group's cases
(``--forks`` at a time). Every case has its own emulator, so its request log
is its own, and gets one module task with its own arguments and faults. What
every case must show:

* the outcome the case names: a failure (with the phrases that say what was
  wrong), or a documented tolerant success (checked by the case);
* never a traceback, ``MODULE FAILURE``, an ``exception`` key, or a raw
  control character in the message (a server must not reach the terminal);
* a failure after a request names the server's URL and says what to do;
* exactly as many requests as the case allows: none for input refused
  before any request, one for a command that must not be repeated.

The bounds themselves (8 MiB answers, 32 levels of nesting, 1 MiB requests,
255 characters per Red5 name part) are documented in docs/scaleengine.md and
docs/red5.md, "Broken or hostile answers".
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.emulators.red5 import Red5Emulator
from tests.emulators.scaleengine import API_PATH, DEFAULT_API_KEY, DEFAULT_API_SECRET, DEFAULT_CDN, ScaleEngineEmulator

STREAM = "mediaops.streaming.scaleengine_stream"
PUSH = "mediaops.streaming.scaleengine_pushpublish"
VIEWERS = "mediaops.streaming.scaleengine_viewer_info"
COMMAND = "mediaops.streaming.scaleengine_command"
INFO = "mediaops.streaming.red5_stream_info"
REGISTRY = "mediaops.streaming.red5_stream_registry"

TOKEN = "Tok-hostile-json-0123456789"
START_MS = 1454369656708
START_ISO = "2016-02-01T23:34:16.708Z"
FORKS = 10
# A body just over the 8 MiB bound: viewer records (ScaleEngine) or one long unknown key (Red5).
HUGE = 8 * 1024 * 1024 + 4096
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Case:
    """One hostile input: the module, its arguments, the faults its emulator serves, and what must happen."""

    name: str
    module: str
    args: dict
    faults: tuple[dict, ...] = ()
    outcome: str = "failed"
    says: tuple[str, ...] = ()  # phrases the failure message must contain
    sent: int | None = None  # how many API requests the emulator may see (None: not checked)
    check: Callable[[dict, object], str | None] | None = None  # extra check of the result; returns a problem or None


def run_group(ansible_run, cases, make_emulator, connection, count_requests) -> list[str]:
    """Run every case of a group in one playbook; return the problems found (empty: all as expected)."""
    emulators, hosts = [], {}
    try:
        for index, case in enumerate(cases):
            emulator = make_emulator()
            emulators.append(emulator)
            for fault in case.faults:
                emulator.add_fault(**fault)
            hosts[f"case{index:02d}"] = {"ansible_connection": "local", "case_module": case.module, "case_args": dict(connection(emulator), **case.args)}
        modules = sorted({case.module for case in cases})
        tasks = "".join(f"- name: case\n  {module}: '{{{{ case_args }}}}'\n  when: case_module == '{module}'\n  ignore_errors: true\n" for module in modules)
        result = ansible_run.playbook(
            tasks,
            play_header="- hosts: all\n  gather_facts: false\n",
            inventory=json.dumps({"all": {"hosts": hosts}}),
            args=("--forks", str(FORKS)),
            # A NUL in a module argument otherwise stops Ansible itself (it logs the arguments to syslog) before the module can refuse it.
            env={"ANSIBLE_NO_TARGET_SYSLOG": "true"},
            timeout=420,
        )
        problems = []
        for marker in ("Traceback (most recent call last)", "MODULE FAILURE", "RecursionError"):
            if marker in result.output:
                problems.append(f"{marker} in the output: {result.output[-3000:]}")
        if "\x1b" in result.output:
            problems.append("a raw escape character reached the terminal")
        for index, case in enumerate(cases):
            problems += [f"{case.name}: {problem}" for problem in judge(case, result, f"case{index:02d}", emulators[index], count_requests)]
        return problems
    finally:
        for emulator in emulators:
            emulator.stop()


def judge(case: Case, result, host: str, emulator, count_requests) -> list[str]:
    entries = [entry for entry in result.tasks if entry["host"] == host and entry["task"] == "case" and entry["status"] != "skipped"]
    if not entries:
        return ["no result recorded"]
    entry = entries[-1]
    outcome, answer = entry["status"], entry["result"]
    message = answer.get("msg") or ""
    problems = []
    if outcome != case.outcome:
        problems.append(f"expected {case.outcome}, got {outcome}: {message[:600]}")
    # ansible-core 2.19+ puts an "exception" key in every failure; it must not carry a traceback.
    if "module_stderr" in answer or answer.get("exception") not in (None, "(traceback unavailable)"):
        problems.append(f"the result carries Python internals: {json.dumps(answer)[:600]}")
    if RAW_CONTROL.search(message):
        problems.append(f"the message carries a raw control character: {message[:300]!r}")
    sent = count_requests(emulator)
    if case.sent is not None and sent != case.sent:
        problems.append(f"expected {case.sent} request(s), the emulator saw {sent}")
    if outcome == "failed":
        problems += [f"the message does not say {phrase!r}: {message[:600]}" for phrase in case.says if phrase not in message]
        if sent and emulator.url() not in message:
            problems.append(f"the message does not name the URL {emulator.url()}: {message[:600]}")
        if sent and not re.search(r"\b(Check|check|Set|set|Remove|remove|run the task again|try again|Give|Use|Pass)\b", message):
            problems.append(f"the message does not say what to do: {message[:600]}")
    if case.check is not None and outcome == case.outcome:
        problem = case.check(answer, emulator)
        if problem:
            problems.append(problem)
    return problems


# -- ScaleEngine ------------------------------------------------------------------------


def scaleengine_emulator() -> ScaleEngineEmulator:
    return ScaleEngineEmulator().start()


def scaleengine_connection(emulator) -> dict:
    return {"api_url": emulator.url() + API_PATH, "cdn": DEFAULT_CDN, "api_key": DEFAULT_API_KEY, "api_secret": DEFAULT_API_SECRET, "retries": 2}


def scaleengine_requests(emulator) -> int:
    return len(emulator.log())


def answer(command: str, body: str | dict, count: int | None = None, status: int = 200) -> dict:
    """A fault that answers ``command`` (found in the multipart body's signed JSON) with ``body``."""
    text = body if isinstance(body, str) else json.dumps(body)
    return dict(
        kind="status",
        method="POST",
        match=rf'"command":"{re.escape(command)}"',
        status=status,
        body=text,
        headers={"Content-Type": "application/json"},
        count=count,
    )


def nested_list(levels: int, leaf: str = "1") -> str:
    return "[" * levels + leaf + "]" * levels


def nested_object(levels: int) -> dict:
    value: object = "leaf"
    for _level in range(levels):
        value = {"n": value}
    return value


def depth_of(value) -> int:
    depth = 0
    while isinstance(value, list) and value:
        depth, value = depth + 1, value[0]
    return depth


def _expect(condition: bool, problem: str) -> str | None:
    return None if condition else problem


STREAM_ARGS = dict(app="demo-origin", inst="live", stream="my_live_stream")
DETAILS = {"app": "demo-origin", "inst": "live", "stream": "my_live_stream", "stream_id": 1000}
RECORD = {"app": "demo-origin", "video_url": "sestore3/username/path/filename.mp4", "viewer_count_avg": 20, "viewer_count_sum": 100}
HUGE_VIEWERS = '{"status":"success","data":[' + ",".join([json.dumps(RECORD)] * (HUGE // len(json.dumps(RECORD)) + 1)) + "]}"
READ_ACTIVE = dict(command="stream.active", params={"app": "demo-origin", "inst": "live"}, read_only=True)


def viewers_answered(name: str, body: str | dict, **expected) -> Case:
    """scaleengine_viewer_info for demo-origin, its viewer.live answered with ``body``."""
    return Case(name, VIEWERS, {"app": "demo-origin"}, (answer("viewer.live", body),), **expected)


def read_active_answered(name: str, body: str | dict, **expected) -> Case:
    """scaleengine_command running stream.active read only, answered with ``body``."""
    return Case(name, COMMAND, READ_ACTIVE, (answer("stream.active", body),), **expected)


def details_answered(name: str, module: str, args: dict, data, **expected) -> Case:
    """``module`` with ``args``, its stream.details answered with success and ``data``."""
    return Case(name, module, args, (answer("stream.details", {"status": "success", "data": data}),), **expected)


def sessions_answered(name: str, entry_name: str, pushpublish, **expected) -> Case:
    """scaleengine_pushpublish on my_live_stream, the stream's details answered with these ``pushpublish`` sessions."""
    return details_answered(name, PUSH, dict(STREAM_ARGS, entry_name=entry_name), dict(DETAILS, pushpublish=pushpublish), **expected)


def close_answered(name: str, body: dict, **expected) -> Case:
    """scaleengine_stream closing my_live_stream (stream.details and stream.close sent), stream.close answered with ``body``."""
    return Case(name, STREAM, STREAM_ARGS, (answer("stream.close", body),), sent=2, **expected)


SCALEENGINE_ANSWERS = (
    viewers_answered("an answer over 8 MiB", HUGE_VIEWERS, says=("larger than 8 MiB", "viewer.live")),
    Case(
        "nesting 100000 levels deep",
        STREAM,
        STREAM_ARGS,
        (answer("stream.details", '{"status":"success","data":' + nested_list(100000) + "}"),),
        says=("more than 32 levels deep", "stream.details"),
        sent=1,
    ),
    read_active_answered("nesting 33 levels deep", '{"status":"success","data":' + nested_list(32) + "}", says=("more than 32 levels deep",)),
    read_active_answered(
        "nesting 32 levels deep is returned whole",
        '{"status":"success","data":' + nested_list(31) + "}",
        outcome="ok",
        check=lambda result, _emulator: _expect(depth_of(result["response"]["data"]) == 31, f"the response lost levels: {result['response']}"),
    ),
    viewers_answered("a list instead of an object", '[{"status":"success"}]', says=("not a JSON object",)),
    details_answered(
        "data is text: not taken for 'not live'",
        STREAM,
        STREAM_ARGS,
        "live",
        says=('"data" is the string "live", not a list or an object', "stream.details"),
        sent=1,
    ),
    viewers_answered("data is a number", {"status": "success", "data": 42}, says=('"data" is the number 42',)),
    details_answered(
        "data null: documented as not live",
        STREAM,
        STREAM_ARGS,
        None,
        outcome="ok",
        sent=1,
        check=lambda result, _emulator: _expect(result["changed"] is False and result["stream"] is None, f"not reported as not live: {result}"),
    ),
    Case(
        "records that are not objects",
        STREAM,
        dict(app="demo-origin", inst="live", stream_id=1000),
        (answer("stream.active", {"status": "success", "data": [1000, "my_live_stream"]}),),
        says=('item 0 of "data" is the number 1000, not an object', "stream.active"),
        sent=1,
    ),
    Case(
        "stream_id as text still matches",
        STREAM,
        dict(app="demo-origin", inst="live", stream_id=1000),
        (answer("stream.active", {"status": "success", "data": [dict(DETAILS, stream_id="1000")]}, count=1),),
        outcome="ok",
        sent=2,
        check=lambda result, emulator: _expect(result["changed"] is True and not emulator.streams, f"the stream was not closed: {result}"),
    ),
    viewers_answered("status is a list", {"status": ["success"], "data": []}, says=('"status" is a list',)),
    viewers_answered("code is an object", {"status": "failure", "code": {"n": 3}, "message": "x"}, says=('"code" is an object',)),
    viewers_answered("code is a boolean", {"status": "failure", "code": True}, says=("the boolean true",)),
    viewers_answered("neither status nor code", {"data": []}, says=('neither "status" nor "code"',)),
    viewers_answered(
        "message is an object: shown as text",
        {"status": "failure", "code": "0004", "message": {"error": "db down"}},
        says=('failed: {"error":"db down"} (code 0004)', "try again later"),
    ),
    viewers_answered(
        "message with terminal escapes",
        {"status": "failure", "message": "\x1b[2J\x1b[32mok: [localhost]\u202e"},
        says=("\\u001b[2J\\u001b[32mok: [localhost]\\u202e",),
    ),
    viewers_answered(
        "a message of 100000 characters is shortened",
        {"status": "failure", "message": "x" * 100000},
        says=("xxx...",),
        check=lambda result, _emulator: _expect(len(result["msg"]) < 2000, f"the message is {len(result['msg'])} characters long"),
    ),
    viewers_answered(
        "a byte order mark is tolerated",
        "\ufeff" + json.dumps({"status": "success", "message": "Found live viewers", "data": [RECORD]}),
        outcome="ok",
        check=lambda result, _emulator: _expect(result["viewers"] == [RECORD], f"viewers: {result.get('viewers')}"),
    ),
    read_active_answered("NaN", '{"status":"success","data":[NaN]}', says=("NaN, which is not a JSON number",)),
    read_active_answered("Infinity", '{"status":"success","data":[-Infinity]}', says=("-Infinity",)),
    read_active_answered("1e999", '{"status":"success","data":[1e999]}', says=("too large for a floating-point",)),
    read_active_answered("an integer of 5000 digits", '{"status":"success","data":[' + "9" * 5000 + "]}", says=("a number of 5000 digits",)),
    Case(
        "duplicate keys",
        STREAM,
        STREAM_ARGS,
        (answer("stream.details", '{"status":"failure","message":"Stream not found","status":"success"}'),),
        says=('the key "status" appears twice',),
        sent=1,
    ),
    read_active_answered("a lone surrogate escape", '{"status":"success","message":"a\\ud800b"}', says=("half of a UTF-16 surrogate pair",)),
    sessions_answered(
        "sessions given as text",
        "session_1",
        "session_1",
        says=('the "pushpublish" of stream "my_live_stream" is the string "session_1", not a list of sessions',),
        sent=1,
    ),
    Case(
        "a session that is a number",
        PUSH,
        dict(app="demo-origin", inst="live", entry_name="*"),
        (answer("stream.active", {"status": "success", "data": [dict(DETAILS, pushpublish=[{"entry_name": "session_1"}, 7])]}),),
        says=('item 1 of the "pushpublish" of stream "my_live_stream" is the number 7, not a session', "stream.active"),
        sent=1,
    ),
    sessions_answered(
        'connected "false" as text: not connected',
        "session_1",
        [{"entry_name": "session_1", "connected": "false"}],
        outcome="ok",
        sent=1,
        check=lambda result, _emulator: _expect(result["changed"] is False and result["verified"] is True, f"not reported as not connected: {result}"),
    ),
    sessions_answered(
        "connected of an odd type",
        "session_1",
        [{"entry_name": "session_1", "connected": [1]}],
        says=('"connected" of session 0', "is a list, not true or false"),
        sent=1,
    ),
    sessions_answered(
        "entry_name of an odd type",
        "*",
        [{"entry_name": {"x": 1}}],
        says=('the "entry_name" of session 0', "is an object, not text or a whole number"),
        sent=1,
    ),
    close_answered("a close answered with a status of the wrong type", {"status": 1}, says=('"status" is the number 1', "stream.close may have taken effect")),
    close_answered(
        "a close whose message is an object",
        {"status": "success", "message": ["closed", 1]},
        outcome="ok",
        check=lambda result, _emulator: _expect(result["changed"] is True and result["message"] == '["closed",1]', f"result: {result}"),
    ),
)


def refused_before_sending(name: str, module: str, args: dict, *says: str) -> Case:
    """Arguments the module refuses before it sends anything; the message says ``says``."""
    return Case(name, module, args, says=says, sent=0)


def read_active_with_deep_params(levels: int) -> dict:
    """scaleengine_command arguments: stream.active read only, with a field nested ``levels`` objects deep in its params."""
    return dict(command="stream.active", params={"app": "demo-origin", "inst": "live", "deep": nested_object(levels)}, read_only=True)


SCALEENGINE_INPUT = (
    refused_before_sending(
        "params over 1 MiB",
        COMMAND,
        dict(command="recording.start", params={"app": "demo-origin/live", "note": "x" * (1024 * 1024 + 1)}, changed=True),
        "too large to send",
        "1 MiB",
    ),
    refused_before_sending("params nested 40 levels", COMMAND, read_active_with_deep_params(40), "params.deep.n.n", "more than 32 levels deep"),
    Case(
        "params nested 32 levels are signed and sent",
        COMMAND,
        read_active_with_deep_params(31),
        outcome="ok",
        sent=1,
        check=lambda result, emulator: _expect(result["sent"] is True and "deep" in emulator.commands()[0], "the nested field did not arrive"),
    ),
    refused_before_sending("params a list", COMMAND, dict(command="stream.active", params=[1, 2], read_only=True), "params"),
    refused_before_sending(
        "stream with a newline",
        STREAM,
        dict(app="demo-origin", inst="live", stream="my_live_stream\n"),
        'stream "my_live_stream\\u000a" contains the control character U+000A at position 15',
        "Remove it",
    ),
    refused_before_sending("app with NUL", VIEWERS, dict(app="demo\x00origin"), "control character U+0000 at position 5"),
    refused_before_sending("url list with a tab", VIEWERS, dict(app="demo-origin", url=["ok", "bad\tname"]), "url", "U+0009"),
    refused_before_sending("app list nested", VIEWERS, dict(app=[["demo-origin"]]), "app must be an application name, an id or a list of them, not a list"),
    refused_before_sending("entry_name with an escape", PUSH, dict(app="demo-origin", inst="live", entry_name="\x1b[31m"), "U+001B"),
    refused_before_sending("origin_url with DEL", STREAM, dict(STREAM_ARGS, origin_url="jb-origin.secdn.net\x7f"), "origin_url", "U+007F"),
    refused_before_sending(
        "params.stream with a carriage return",
        COMMAND,
        dict(command="stream.close", params={"app": "demo-origin", "inst": "live", "stream": "my_live_stream\r"}, changed=True),
        "stream",
        "U+000D",
    ),
    refused_before_sending("a command name with a non-ASCII letter", COMMAND, dict(command="stream.\u212aill", params={}), "command must look like"),
)


def reset(command: str, count: int | None = None) -> dict:
    return dict(kind="reset", method="POST", match=rf'"command":"{re.escape(command)}"', count=count)


def warned_retry(result, _emulator) -> str | None:
    return _expect(any("retrying" in warning for warning in result.get("warnings", [])), f"no retry warning: {result.get('warnings')}")


SCALEENGINE_REPEAT = (
    Case(
        "an unknown command is not repeated after a reset",
        COMMAND,
        dict(command="recording.start", params={"app": "demo-origin/live", "stream": "my_live_stream"}, changed=True),
        (reset("recording.start"),),
        says=("ScaleEngine recording.start", "reset", "not repeated"),
        sent=1,
    ),
    *(
        Case(
            f"an unknown command is not repeated after HTTP {status}",
            COMMAND,
            dict(command="recording.start", params={"app": "demo-origin/live", "stream": "my_live_stream"}, changed=True),
            (answer("recording.start", "Bad Gateway", status=status),),
            says=(f"HTTP {status}", "recording.start was not repeated", "before running the task again"),
            sent=1,
        )
        for status in (502, 504)
    ),
    Case("a read_only command is repeated", COMMAND, READ_ACTIVE, (reset("stream.active", count=1),), outcome="ok", sent=2, check=warned_retry),
    Case(
        "stream.close is known to be safe to repeat",
        COMMAND,
        dict(command="stream.close", params={"app": "demo-origin", "inst": "live", "stream": "my_live_stream"}, changed=True),
        (reset("stream.close", count=1),),
        outcome="ok",
        sent=2,
        check=lambda result, emulator: warned_retry(result, emulator) or _expect(not emulator.streams, "the stream was not closed"),
    ),
    Case(
        "pushpublish.disconnect is known to be safe to repeat",
        COMMAND,
        dict(command="pushpublish.disconnect", params={"app": "demo-origin", "inst": "live", "entry_name": "session_1"}, changed=True),
        (answer("pushpublish.disconnect", "Bad Gateway", status=502, count=1),),
        outcome="ok",
        sent=2,
        check=warned_retry,
    ),
)


# -- Red5 Pro Stream Manager ---------------------------------------------------------------


def red5_emulator() -> Red5Emulator:
    emulator = Red5Emulator(access_token=TOKEN).start()
    emulator.start_broadcast(scope="live", name="demo", region="us-east-1", start_time=START_MS, subscribers=7)
    emulator.clear_log()
    return emulator


def red5_connection(emulator) -> dict:
    return {"url": emulator.url(), "api_version": "4.0", "retries": 1}


def red5_requests(emulator) -> int:
    return len(emulator.log())


def served(path: str, body: str | dict | list, status: int = 200, content_type: str = "application/json") -> dict:
    """A fault that answers GET/DELETE requests to ``path`` (a regular expression) with ``body``."""
    text = body if isinstance(body, str) else json.dumps(body)
    return dict(kind="status", path=path, status=status, body=text, headers={"Content-Type": content_type}, count=None)


STATS = r"/event/live/demo/stats$"
LIST = r"/event/list"
ADMIN = r"/admin/event$"
DEMO = {"name": "demo", "scope": "/live", "serverAddress": "10.0.1.10", "region": "us-east-1", "currentSubscribers": 7, "startTime": START_MS}
ONE = {"name": "demo"}
LISTING = {}
CLEAR = {"access_token": TOKEN, "include_active": True}


def stream_is(expected: dict) -> Callable[[dict, object], str | None]:
    def check(result, _emulator):
        shown = {key: result["stream"].get(key) for key in expected}
        return _expect(shown == expected, f"stream {shown} is not {expected}")

    return check


RED5_ANSWERS = (
    Case("an answer over 8 MiB", INFO, ONE, (served(STATS, {**DEMO, "padding": "x" * HUGE}),), says=("larger than 8 MiB", "/event/live/demo/stats")),
    Case("nesting 100000 levels deep", INFO, ONE, (served(STATS, '{"name":"demo","x":' + nested_list(100000) + "}"),), says=("more than 32 levels deep",)),
    Case("stats as a list", INFO, ONE, (served(STATS, [DEMO]),), says=("the stream's stats is a list, not an object",)),
    Case("scope is a number", INFO, ONE, (served(STATS, {**DEMO, "scope": 5}),), says=('the "scope" of the stream\'s stats is the number 5, not text',)),
    Case("serverAddress is a list", INFO, ONE, (served(STATS, {**DEMO, "serverAddress": ["10.0.1.10"]}),), says=('"serverAddress"', "is a list, not text")),
    Case(
        "scope missing: taken from the request",
        INFO,
        ONE,
        (served(STATS, {key: value for key, value in DEMO.items() if key != "scope"}),),
        outcome="ok",
        check=stream_is({"scope": "live", "name": "demo"}),
    ),
    Case(
        "startTime as a string of digits",
        INFO,
        ONE,
        (served(STATS, {**DEMO, "startTime": str(START_MS)}),),
        outcome="ok",
        check=stream_is({"start_time": START_ISO, "start_time_ms": START_MS}),
    ),
    Case("startTime as words", INFO, ONE, (served(STATS, {**DEMO, "startTime": "yesterday"}),), says=('"startTime"', 'the string "yesterday"')),
    Case("startTime beyond year 9999", INFO, ONE, (served(STATS, {**DEMO, "startTime": 10**17}),), says=("between the years 1 and 9999",)),
    Case("negative subscribers", INFO, ONE, (served(STATS, {**DEMO, "currentSubscribers": -1}),), says=('"currentSubscribers"', "0 or more")),
    Case(
        "a start_time key cannot replace the converted one",
        INFO,
        ONE,
        (served(STATS, {**DEMO, "start_time": "1999-01-01T00:00:00Z", "start_time_ms": 0}),),
        outcome="ok",
        check=stream_is({"start_time": START_ISO, "start_time_ms": START_MS}),
    ),
    Case("a byte order mark is tolerated", INFO, ONE, (served(STATS, "\ufeff" + json.dumps(DEMO)),), outcome="ok", check=stream_is({"current_subscribers": 7})),
    Case("NaN", INFO, ONE, (served(STATS, json.dumps(DEMO)[:-1] + ',"load":NaN}'),), says=("NaN, which is not a JSON number",)),
    Case("duplicate keys", INFO, ONE, (served(STATS, '{"name":"demo","serverAddress":"10.0.1.10","serverAddress":"203.0.113.9"}'),), says=("appears twice",)),
    Case("a lone surrogate escape", INFO, ONE, (served(STATS, '{"name":"demo\\udc80"}'),), says=("half of a UTF-16 surrogate pair",)),
    Case(
        "errorMessage as an object",
        INFO,
        ONE,
        (served(STATS, {"errorMessage": {"code": 42}, "timestamp": 1}, status=404),),
        outcome="ok",
        check=lambda result, _emulator: _expect(result["exists"] is False and result["message"] == '{"code":42}', f"result: {result}"),
    ),
    Case(
        "errorMessage with terminal escapes",
        INFO,
        ONE,
        (served(STATS, {"errorMessage": "gone\x1b[2J\u202e", "timestamp": 1}, status=404),),
        outcome="ok",
        check=lambda result, _emulator: _expect(result["message"] == "gone\\u001b[2J\\u202e", f"message: {result['message']!r}"),
    ),
    Case(
        "an empty errorMessage",
        INFO,
        ONE,
        (served(STATS, {"errorMessage": ""}),),
        outcome="ok",
        check=lambda result, _emulator: _expect(result["exists"] is False and "empty errorMessage" in result["message"], f"result: {result}"),
    ),
    Case(
        "an endpoint that is not an object",
        INFO,
        dict(name="demo", action="subscribe", endpoints=2, stats=False),
        (served(r"/event/live/demo$", [{**DEMO, "serverAddress": "10.0.1.20"}, 7]),),
        says=("endpoint 1 of the subscribe lookup is the number 7",),
    ),
    Case("the list as an object", INFO, LISTING, (served(LIST, {"streams": []}),), says=("the stream list is an object, not a JSON array",)),
    Case("a list item that is text", INFO, LISTING, (served(LIST, [DEMO, "demo"]),), says=('item 1 of the stream list is the string "demo"',)),
    Case("a list item without scope", INFO, LISTING, (served(LIST, [{"name": "demo", "serverAddress": "10.0.1.10"}]),), says=("item 0", "has no scope")),
    Case(
        "null list items are skipped",
        INFO,
        LISTING,
        (served(LIST, [None, DEMO, None]),),
        outcome="ok",
        check=lambda result, _emulator: _expect([item["name"] for item in result["streams"]] == ["demo"], f"streams: {result['streams']}"),
    ),
    Case(
        "wait_for_publishing on stats of the wrong shape",
        INFO,
        dict(name="demo", wait_for_publishing=True, wait_timeout=5, wait_interval=1),
        (served(STATS, {**DEMO, "region": 3}),),
        says=('"region"', "the number 3"),
        sent=1,
    ),
    Case(
        "count as a string of digits",
        REGISTRY,
        CLEAR,
        (served(ADMIN, {"count": "3", "timestamp": 1}),),
        outcome="ok",
        check=lambda result, _emulator: _expect((result["changed"], result["count"]) == (True, 3), f"result: {result}"),
    ),
    Case(
        "count as words",
        REGISTRY,
        CLEAR,
        (served(ADMIN, {"count": "many"}),),
        says=('"count"', 'the string "many"', "entries are probably cleared", "accessToken=REDACTED"),
    ),
    Case("a negative count", REGISTRY, CLEAR, (served(ADMIN, {"count": -1}),), says=("0 or more",)),
    Case("no count", REGISTRY, CLEAR, (served(ADMIN, {"deleted": 3}),), says=("without a count",)),
    Case("a delete answer that is a list", REGISTRY, CLEAR, (served(ADMIN, [3]),), says=("answered a list, not an object with a count",)),
)


def refused(name: str, args: dict, *says: str) -> Case:
    return Case(name, INFO, args, says=says, sent=0)


RED5_INPUT = (
    refused("name ..", {"name": ".."}, '".." cannot be a part of a path'),
    refused("name with /", {"name": "live/demo"}, "invalid stream name", "one path segment"),
    refused("name with ?", {"name": "demo?action=broadcast"}, 'the character "?" at position 5 is not allowed'),
    refused("name with #", {"name": "demo#x"}, 'the character "#" at position 5'),
    refused("name with %2f", {"name": "%2fadmin"}, 'the character "%" at position 1'),
    refused("scope with %00", {"scope": "live%00", "name": "demo"}, 'invalid scope "live%00"', 'the character "%"'),
    refused("scope with ..", {"scope": "live/../admin", "name": "demo"}, '".." cannot be a part of a path'),
    refused("name with a newline", {"name": "demo\n"}, "U+000A at position 5"),
    refused("scope with a tab", {"scope": "live\t", "name": "demo"}, "U+0009 at position 5"),
    refused("name with NUL", {"name": "de\x00mo"}, "U+0000 at position 3"),
    refused("name with a bidirectional override", {"name": "\u202eomed"}, "U+202E at position 1"),
    refused("a name of 300 characters", {"name": "n" * 300}, "a part of 300 characters is longer than 255"),
    refused("a scope of 1200 characters", {"scope": "a/" * 600, "name": "demo"}, "more than 1024"),
    refused("an empty scope", {"scope": "/", "name": "demo"}, "scope must not be empty"),
    refused("a list scope with ..", {"scope": "live/.."}, '".." cannot be a part of a path'),
    refused("a region with &", {"name": "demo", "action": "subscribe", "region": "us-east-1&strict=true"}, "invalid region", 'the character "&"'),
    refused("wait_timeout inf", {"name": "demo", "wait_for_publishing": True, "wait_timeout": "inf"}, "wait_timeout must be more than 0"),
    refused("wait_interval nan", {"name": "demo", "wait_for_publishing": True, "wait_interval": "nan"}, "wait_interval must be more than 0"),
)


SCALEENGINE = (scaleengine_emulator, scaleengine_connection, scaleengine_requests)
RED5 = (red5_emulator, red5_connection, red5_requests)
GROUPS = {
    "scaleengine answers": (SCALEENGINE_ANSWERS, *SCALEENGINE),
    "scaleengine input refused before any request": (SCALEENGINE_INPUT, *SCALEENGINE),
    "scaleengine_command repeats only what is safe": (SCALEENGINE_REPEAT, *SCALEENGINE),
    "red5 answers": (RED5_ANSWERS, *RED5),
    "red5 input refused before any request": (RED5_INPUT, *RED5),
}


@pytest.mark.parametrize("group", list(GROUPS), ids=[re.sub(r"[^A-Za-z0-9]+", "-", group) for group in GROUPS])
def test_hostile_json(ansible_run, group):
    cases, make_emulator, connection, count_requests = GROUPS[group]
    assert len({case.name for case in cases}) == len(cases), "case names must be unique"
    problems = run_group(ansible_run, cases, make_emulator, connection, count_requests)
    assert not problems, f"{len(problems)} of {len(cases)} cases went wrong:\n" + "\n".join(problems)
