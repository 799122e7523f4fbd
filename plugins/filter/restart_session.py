# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The texts of the restart_session role: the check of its variables, its plan, its check-mode notes, its result and summary, its failures.

The role (roles/restart_session) runs the steps; everything it says is built
here from plain data - what its modules returned, the role's variables and
whether it runs in check mode - so that each sentence is unit-tested
(tests/unit/plugins/filter/test_restart_session.py). The documentation of each
filter is in the YAML file of the same name beside this one.

The texts reproduce how Ansible renders a template: a value alone in ``{{ }}``
among text shows ``None`` as nothing, a value joined with ``~`` shows ``None``;
Jinja's ``min``, ``max``, ``sort`` and ``unique`` compare strings regardless of case.
"""

from __future__ import annotations

import json
import os
import re

from ansible_collections.mediaops.streaming.plugins.module_utils.usp.smil import SERVER_MANAGED_OPTIONS

STEPS = ("read", "stop", "wait", "purge", "delete", "create", "start", "verify", "summary")
# The steps that have a sentence in the result (read and summary are the result).
RESULT_STEPS = ("stop", "wait", "purge", "delete", "create", "start", "verify")
NOT_RUN = "not run"
SKIPPED = "skipped: the point did not exist"
NOT_READ = "not read"
# What each step registers (the keys of ``results``, vars/main.yml ``_restart_session_results``). A task skipped by its
# condition still registers a result; one left out by --tags or --skip-tags registers nothing. So a step ran when one of
# these is there, which is what the run's tags selected, whatever tags the role inherited from the play.
STEP_RESULTS = {
    "read": ("read",),
    "stop": ("stop_stream", "stop_push", "stop_tasks"),
    "wait": ("wait",),
    "purge": ("purge",),
    "delete": ("delete",),
    "create": ("create",),
    "start": ("start",),
    "verify": ("started_wait", "red5"),
}

# What a failure at each step means for the channel (docs/restart_session.md, "Failures and re-runs").
FAILURE_MEANING = {
    "read": "Nothing was changed.",
    "stop": "Nothing was purged or deleted.",
    "wait": "",
    "purge": "The publishing point was not deleted; its archive may be partly purged.",
    "delete": "The archive was purged; the publishing point may still exist.",
    "create": "The publishing point was deleted and is NOT created yet: the channel is down until a run succeeds.",
    "start": "The publishing point was created again; the encoder may not have started.",
    "verify": "The publishing point was created again and the start tasks ran, but the channel did not come back in time.",
    "summary": "The restart itself finished; reading the result failed.",
    "unknown": "",
}

# Why media may still arrive once the encoder was stopped, by stop method.
STILL_INGESTING_HINT = {
    "scaleengine_stream": "The ScaleEngine stream was closed, but media still arrives: did the encoder reconnect, or does another source push to the point?",
    "scaleengine_pushpublish": "The PushPublish sessions were disconnected, but media still arrives: does another session or encoder push to the point?",
    "tasks": "The stop tasks ran, but the encoder did not send End Of Stream.",
    "none": "The stop method is none: stop the encoder, or choose a stop method.",
}


def _shown(value) -> str:
    """A value as ``{{ value }}`` shows it among text: ``None`` is nothing."""
    return "" if value is None else str(value)


def _folded(value):
    """Jinja's case-insensitive key for ``min``, ``max``, ``sort`` and ``unique``."""
    return value.lower() if isinstance(value, str) else value


def _unique(values, key=_folded) -> list:
    """Ansible's ``unique``: the first of equal items, in order (strings compared regardless of case)."""
    seen = []
    kept = []
    for value in values:
        folded = key(value)
        if folded not in seen:
            seen.append(folded)
            kept.append(value)
    return kept


def _ranges(archive) -> list:
    """The distinct archived ranges of all tracks (``map(attribute='ranges') | flatten | unique``)."""
    ranges = [item for track in archive or [] for item in (track.get("ranges") or [])]
    return _unique(ranges, key=lambda item: item)


def _range_bounds(ranges) -> tuple:
    return min((item["start"] for item in ranges), key=_folded), max((item["end"] for item in ranges), key=_folded)


def _settings_text(settings) -> str:
    """``key=value, ...`` of the settings anyone chooses (the server-managed head options left out).

    Without any, the template the role printed rendered nothing, which Ansible shows as ``None``.
    """
    text = ", ".join(f"{key}={_shown(value)}" for key, value in (settings or {}).items() if key not in SERVER_MANAGED_OPTIONS)
    return text or "None"


def _state_text(state) -> str:
    """``is started``, or ``exists`` when the state was not read (a real run reads it only while waiting)."""
    return f"is {state}" if state else "exists"


def _archive_before_text(archive) -> str:
    if archive is None:
        return NOT_READ
    ranges = _ranges(archive)
    if not ranges:
        return "empty"
    first, last = _range_bounds(ranges)
    tracks = "+".join(_shown(track.get("track_name")) for track in archive)
    return f"{tracks} from {first} to {last} ({len(ranges)} range(s))"


def _archive_after_text(archive) -> str:
    if archive is None:
        return NOT_READ
    ranges = _ranges(archive)
    if not ranges:
        return "empty"
    first, last = _range_bounds(ranges)
    return f"{len(ranges)} range(s) from {first} to {last}"


def _scaleengine_stream(run) -> str:
    return f"{_shown(run.get('scaleengine_app'))}/{_shown(run.get('scaleengine_inst'))}/{_shown(run.get('scaleengine_stream'))}"


def _source_text(run, current: str) -> str:
    """How the point is created again; ``current`` says it for a point that comes back as it is."""
    source = run["source"]
    if source == "options":
        return "with the options " + json.dumps(run.get("options"))
    if source == "manifest":
        return "from restart_session_manifest"
    if source == "manifest_src":
        return "from " + str(run.get("manifest_src"))
    if run.get("from_backup"):
        return f"with the manifest saved at {run.get('backup_path')} before an earlier run deleted it"
    return current


# -- the variables (step 1) ---------------------------------------------------------------------------------


def restart_session_problems(run):
    """What is wrong with variables that depend on each other, before any request (the argument spec checks each alone).

    The task files and the manifest file are checked here too: a missing start file must not be found after the delete.
    """
    method = run["stop_method"]
    problems = []
    if len([source for source in (run.get("options"), run.get("manifest"), run.get("manifest_src")) if source]) > 1:
        problems.append("set at most one of restart_session_options, restart_session_manifest and restart_session_manifest_src")
    if method == "tasks" and not run.get("stop_tasks"):
        problems.append("restart_session_stop_tasks is required with restart_session_stop_method=tasks")
    if method.startswith("scaleengine_") and not (run.get("scaleengine_app") and run.get("scaleengine_inst")):
        problems.append(f"restart_session_scaleengine_app and restart_session_scaleengine_inst are required with restart_session_stop_method={method}")
    for name in ("stop_tasks", "start_tasks", "manifest_src"):
        path = run.get(name)
        if path and not os.path.isfile(path):
            problems.append(f"restart_session_{name} {path} is not a file")
    return problems


# -- the plan (step 1) ------------------------------------------------------------------------------


def _stop_plan(run) -> str:
    method = run["stop_method"]
    if method == "scaleengine_stream":
        return "close the ScaleEngine stream " + _scaleengine_stream(run)
    if method == "scaleengine_pushpublish":
        if run.get("scaleengine_push_service_id") is not None:
            sessions = "service " + str(run["scaleengine_push_service_id"])
        else:
            sessions = "session(s) " + str(run.get("scaleengine_entry_name"))
        return f"disconnect the ScaleEngine PushPublish {sessions} of {_scaleengine_stream(run)}"
    if method == "tasks":
        return "stop the encoder with " + _shown(run.get("stop_tasks"))
    return "stop nothing (stop method none): the encoder must stop by itself"


def _wait_plan(run) -> list:
    started = f"- wait up to {run.get('started_timeout')} s for the point to be started" if run.get("wait_for_started") else ""
    red5 = ""
    if run.get("wait_for_red5"):
        red5 = f"- wait up to {run.get('red5_timeout')} s for the Red5 stream {run.get('red5_scope')}/{run.get('red5_stream')} to publish"
    return [started, red5]


def restart_session_plan(before, run, check_mode=False):
    """What step 1 says will happen: what was read, then one line per step that will do something.

    In check mode it ends with what the steps would do where check mode cannot ask the server
    (:func:`restart_session_check_mode_note`), said here once instead of by a task in each step.
    The state and the archive are read only in check mode, and shown only when read.
    """
    exists = bool(before.get("exists"))
    read = [
        f"channel {_shown(run.get('channel'))}: {_shown(before.get('url'))} "
        + (_state_text(before.get("state")) if exists else "does not exist (a previous run deleted it)")
    ]
    if exists:
        if before.get("archive") is not None:
            read.append("archive: " + _archive_before_text(before.get("archive")))
        read.append("settings: " + _settings_text(before.get("settings")))
    plan = [f"- {_stop_plan(run)}" if exists else "- skip stop, wait, purge and delete: the point does not exist"]
    if exists:
        delete = "- delete the publishing point"
        if check_mode and not before.get("deletable"):
            delete += " once the encoder has stopped (check mode does not stop it)"
        if run["source"] == "current":
            delete += f", after saving its manifest at {run.get('backup_path')}"
        plan += [
            f"- wait up to {run.get('stop_timeout')} s for the point to be stopped or idle",
            "- purge the archive completely and verify that it is empty",
            delete,
        ]
    create = _source_text(run, "with the manifest it has now (the same settings)")
    start_tasks = run.get("start_tasks")
    plan += [
        f"- create it {'again ' if exists else ''}{create}",
        f"- start the encoder with {start_tasks}" if start_tasks else "- start nothing (no restart_session_start_tasks): the encoder must reconnect by itself",
        *_wait_plan(run),
    ]
    will = "(check mode) would" if check_mode else "will"
    notes = _check_mode_notes(before, run) if check_mode else []
    return [line for line in read if line] + [will + ":"] + [line for line in plan if line] + notes


# -- what check mode does not do (steps 3, 5, 6 and 8) -----------------------------------------------------


def _verify_waits(run) -> str:
    waits = []
    if run.get("wait_for_started"):
        waits.append(f"up to {run.get('started_timeout')} s for the point to be started")
    if run.get("wait_for_red5"):
        waits.append(f"up to {run.get('red5_timeout')} s for the Red5 stream {run.get('red5_scope')}/{run.get('red5_stream')} to publish")
    return ", and ".join(waits)


def restart_session_check_mode_note(before, step, run):
    """What a step would do where check mode cannot ask the server: it does not wait, stop the encoder or delete."""
    url, state = _shown(before.get("url")), _shown(before.get("state"))
    notes = {
        "wait": lambda: (
            f"(check mode) would wait up to {_shown(run.get('stop_timeout'))} s for {_shown(run.get('channel'))} to be stopped or idle (it is {state} now)"
        ),
        "delete": lambda: f"(check mode) would delete {url} after the encoder stops (it is {state} now, and check mode does not stop it)",
        # Only a point that exists is not created in check mode, and such a point was not taken from a saved manifest.
        "create": lambda: f"(check mode) would create {url} again {_source_text(dict(run, from_backup=False), 'with the manifest it has now')}",
        "verify": lambda: "(check mode) would wait " + _verify_waits(run),
    }
    return notes[step]()


def _check_mode_notes(before, run) -> list:
    """The notes of the steps that check mode cannot ask the server about, for the plan."""
    exists = bool(before.get("exists"))
    steps = []
    if exists:
        steps.append("wait")
        if not before.get("deletable"):
            steps.append("delete")
        steps.append("create")
    if run.get("wait_for_started") or run.get("wait_for_red5"):
        steps.append("verify")
    return [restart_session_check_mode_note(before, step, run) for step in steps]


# -- the result (step 9) ----------------------------------------------------------------------------


def _would(check_mode: bool, verb: str, done: str) -> str:
    """``(check mode) would close`` or ``closed``."""
    return f"(check mode) would {verb}" if check_mode else done


def _stop_step(run, results, check_mode) -> str:
    method = run["stop_method"]
    stream = _scaleengine_stream(run)
    if method == "scaleengine_stream":
        if results.get("stop_stream", {}).get("changed"):
            return f"{_would(check_mode, 'close', 'closed')} the ScaleEngine stream {stream}"
        return f"the ScaleEngine stream {stream} was not live: nothing to close"
    if method == "scaleengine_pushpublish":
        push = results.get("stop_push", {})
        if push.get("changed"):
            sessions = ", ".join(str(session.get("entry_name") or "session") for session in push.get("sessions_disconnected") or [])
            return f"{_would(check_mode, 'disconnect', 'disconnected')} PushPublish {sessions} of {stream}"
        return f"no PushPublish session of {stream} was connected: nothing to disconnect"
    if method == "tasks":
        return f"ran {_shown(run.get('stop_tasks'))}" + (" in check mode" if check_mode else "")
    return "nothing stopped (stop method none)"


def _wait_step(before, results, check_mode) -> str:
    if check_mode:
        return f"(check mode) did not wait (the point is {before.get('state')} now)"
    wait = results.get("wait", {})
    return f"{(wait.get('publishing_point') or {}).get('state')} after {wait.get('waited')} s"


def _purge_step(results, check_mode) -> str:
    if not results.get("purge", {}).get("changed"):
        return "the archive was already empty"
    return _would(check_mode, "purge", "purged") + " the whole archive (t=0)" + ("" if check_mode else "; verified empty")


def _delete_step(results, check_mode) -> str:
    delete = results.get("delete", {})
    if delete.get("skipped"):
        return "(check mode) would delete it after the encoder stops"
    if delete.get("changed"):
        return _would(check_mode, "delete", "deleted")
    return "already deleted"


def _create_step(run, results, check_mode) -> str:
    create = results.get("create", {})
    source = _source_text(run, "with the manifest it had before")
    if create.get("skipped"):
        return "(check mode) would create it again " + source
    if create.get("changed"):
        return f"{_would(check_mode, 'create', 'created')} {source}"
    return "already present as desired"


def _start_step(run, check_mode) -> str:
    if run.get("start_tasks"):
        return f"ran {run['start_tasks']}" + (" in check mode" if check_mode else "")
    return "nothing to run (the encoder reconnects by itself)"


def _verify_step(run, results, check_mode) -> str:
    for_started, for_red5 = run.get("wait_for_started"), run.get("wait_for_red5")
    if check_mode and (for_started or for_red5):
        return "(check mode) would wait " + " and ".join(text for text, asked in (("for started", for_started), ("for the Red5 stream", for_red5)) if asked)
    done = []
    if for_started:
        done.append(f"started after {results.get('started_wait', {}).get('waited')} s")
    if for_red5:
        stream = results.get("red5", {}).get("stream") or {}
        where = f"{stream.get('server_address', '?')} ({stream.get('region', '?')})"
        done.append(f"Red5 {run.get('red5_scope')}/{run.get('red5_stream')} publishing on {where}")
    return "; ".join(done) or "nothing to verify (no wait asked for)"


def _ran(step, results) -> bool:
    """Whether the run's tags selected ``step``: one of its tasks registered a result (skipped ones too)."""
    return any(results.get(name) for name in STEP_RESULTS.get(step, ()))


def _done(registered) -> bool:
    """Whether a registered task result is from a task that ran (not one skipped by its condition)."""
    return bool(registered) and not registered.get("skipped")


def _step_texts(before, run, results, check_mode) -> dict:
    exists = bool(before.get("exists"))
    texts = {
        "stop": lambda: _stop_step(run, results, check_mode) if exists else SKIPPED,
        "wait": lambda: _wait_step(before, results, check_mode) if exists else SKIPPED,
        "purge": lambda: _purge_step(results, check_mode) if exists else SKIPPED,
        "delete": lambda: _delete_step(results, check_mode) if exists else SKIPPED,
        "create": lambda: _create_step(run, results, check_mode),
        "start": lambda: _start_step(run, check_mode),
        "verify": lambda: _verify_step(run, results, check_mode),
    }
    return {step: texts[step]() if _ran(step, results) else NOT_RUN for step in RESULT_STEPS}


def _timings(results) -> dict:
    """Seconds of the steps whose module measured them: the waits (``waited``)."""
    waits = {"wait": results.get("wait") or {}, "verify": results.get("started_wait") or {}}
    return {step: registered["waited"] for step, registered in waits.items() if _done(registered) and registered.get("waited") is not None}


def _before(before, results) -> dict:
    """The point before the run: what step 1 read, and the archive as the purge read it first (step 1 reads it only in check mode)."""
    exists = bool(before.get("exists"))
    purge = results.get("purge") or {}
    archive = purge.get("archive_before") if _done(purge) else before.get("archive")
    return {
        "exists": exists,
        "state": before.get("state"),
        "settings": before.get("settings") or {},
        "archive": _archive_before_text(archive) if exists else "none",
    }


def _after(before, results) -> dict:
    """The point after the run, from what the steps returned (no read of its own).

    The create says its settings, the wait for started its state, the purge the archive it left.
    """
    create, delete, purge = (results.get(name) or {} for name in ("create", "delete", "purge"))
    started = (results.get("started_wait") or {}).get("publishing_point") or {}
    wait = (results.get("wait") or {}).get("publishing_point") or {}
    if _done(create):
        exists, settings, state = True, create.get("settings") or {}, started.get("state")
    elif _done(delete):
        exists, settings, state = False, {}, None
    else:
        exists, settings = bool(before.get("exists")), before.get("settings") or {}
        state = started.get("state") or wait.get("state") or before.get("state")
    return {
        "exists": exists,
        "state": state if exists else None,
        "settings": settings,
        "archive": _archive_after_text(purge.get("archive_after")) + " after the purge" if _done(purge) else NOT_READ,
    }


def restart_session_result(before, run, results, check_mode=False, now=0.0):
    """The fact ``restart_session_result``: the run as data, with one sentence per step.

    ``results`` holds what the steps registered (``read``, ``stop_stream``, ``stop_push``, ``stop_tasks``,
    ``wait``, ``purge``, ``delete``, ``create``, ``start``, ``started_wait``, ``red5``; a step that did not run
    leaves its results out), ``started_at`` and ``started`` (the time the run started, in seconds since the epoch).
    """
    purge_left = [item for entry in (results.get("purge") or {}).get("archive_after") or [] for item in (entry.get("ranges") or [])]
    return {
        "channel": run.get("channel"),
        "url": before.get("url"),
        "check_mode": check_mode,
        "started_at": results.get("started_at"),
        "total_seconds": round(float(now) - float(results.get("started")), 1),
        "timings": _timings(results),
        "recreated_from": run["source"],
        "before": _before(before, results),
        "after": {} if check_mode else _after(before, results),
        "archive_purged": not check_mode and _ran("purge", results) and not purge_left,
        "steps": _step_texts(before, run, results, check_mode),
    }


# -- the summary (step 9) ---------------------------------------------------------------------------


def _settings_changes(before, after) -> str:
    keys = _unique([*before, *after])
    changed = [key for key in sorted((key for key in keys if key not in SERVER_MANAGED_OPTIONS), key=_folded) if before.get(key) != after.get(key)]
    return ", ".join(f"{key}: {_shown(before.get(key, '(not set)'))} -> {_shown(after.get(key, '(not set)'))}" for key in changed)


def _state_line(point, missing: str) -> str:
    if not point.get("exists"):
        return missing
    return f"{_state_text(point.get('state'))}; archive: {point.get('archive')}; settings: {_settings_text(point.get('settings'))}"


def _timings_line(result) -> str:
    waits = ", ".join(f"{step} {seconds} s" for step, seconds in (result.get("timings") or {}).items())
    return f"timings: total {result.get('total_seconds')} s" + (f"; {waits}" if waits else "")


def restart_session_summary(result):
    """The lines the role prints at the end, from the fact ``restart_session_result``."""
    check_mode = result.get("check_mode")
    before, after = result["before"], result.get("after") or {}
    lines = [
        f"channel {_shown(result.get('channel'))}: "
        + ("(check mode) nothing was changed; what a run would do:" if check_mode else f"restarted in {result.get('total_seconds')} s"),
        "before: " + _state_line(before, "did not exist"),
        *(f"{step}: {_shown(result['steps'][step])}" for step in RESULT_STEPS),
    ]
    if not check_mode:
        lines.append("after: " + _state_line(after, "does not exist"))
        if before.get("exists"):
            changes = _settings_changes(before.get("settings") or {}, after.get("settings") or {})
            lines.append("settings changed: " + (changes.strip() or "none (the same as before)"))
    lines.append(_timings_line(result))
    return lines


# -- failures -----------------------------------------------------------------------------------------


def _failed_step(tags) -> str:
    return next((tag for tag in tags or [] if tag in STEPS), "unknown")


def _steps_done(step, results) -> list:
    """The steps that ran before the failed ``step`` (all that ran when it is not known)."""
    before = STEPS[: STEPS.index(step)] if step in STEPS else STEPS
    return [name for name in before if _ran(name, results)]


def _left_after_purge(failed_result) -> str:
    """The failure of step 4's verification (its failed_when: ranges left after a purge that succeeded), or ''."""
    if not (failed_result or {}).get("failed_when_result"):
        return ""
    left = _ranges(failed_result.get("archive_after") or [])
    return f"the archive is not empty after the purge ({len(left)} range(s) left): is media still arriving?" if left else ""


def restart_session_failure(failed_result, tags, channel, results=None, before=None, source="", backup_path=""):
    """The role's one failure message: the module's error, where the restart stopped, what that means, how to go on.

    ``tags`` are the failed task's tags (the step is the first that names one); ``results`` what the steps registered
    (as for :func:`restart_session_result`), which says the steps done.
    """
    step = _failed_step(tags)
    done = _steps_done(step, results or {})
    saved = ""
    if step == "create" and source == "current":
        settings = {key: value for key, value in ((before or {}).get("settings") or {}).items() if key not in SERVER_MANAGED_OPTIONS}
        saved = (
            f"The settings read before the delete were: {json.dumps(settings)}; the whole manifest is saved at {backup_path}, "
            "and running the role again creates the point from it."
        )
    # A failed_when that held replaces the module's answer; Ansible words it generically (2.21: "A 'failed_when'
    # expression evaluated to 'True'."), so the purge's verification says what it found instead.
    message = _left_after_purge(failed_result) or (failed_result or {}).get("msg", "failed")
    text = (
        f"{_shown(message)} -- [restart of channel {_shown(channel)} stopped at step '{step}'; done: {', '.join(done) or 'nothing'}. "
        f"{FAILURE_MEANING[step]} {saved} Fix the cause and run the role again for this channel: it converges (a missing publishing point "
        "is created; stop, purge and delete do nothing when they are already done).]"
    )
    return re.sub(r"\s+", " ", text).strip()


def restart_session_wait_failure(failed_result, channel, stop_method, stop_timeout):
    """Why step 3 failed: the encoder still ingests after the timeout, or the state could not be read."""
    failed_result = failed_result or {}
    if "publishing_point_state" in failed_result:
        state = failed_result.get("publishing_point_state") or "does not exist"
        text = (
            f"channel {_shown(channel)}: the encoder is still ingesting (state: {_shown(state)} after {_shown(stop_timeout)} s); "
            f"nothing was purged or deleted. {STILL_INGESTING_HINT[stop_method]} Stop it, then run the role again "
            "(or raise restart_session_stop_timeout if it is just slow)."
        )
    else:
        text = f"channel {_shown(channel)}: could not read the state of the publishing point: {_shown(failed_result.get('msg'))}; nothing was purged or deleted"
    return re.sub(r"\s+", " ", text).strip()


class FilterModule:
    """The restart_session role's texts."""

    def filters(self):
        return {
            "restart_session_problems": restart_session_problems,
            "restart_session_plan": restart_session_plan,
            "restart_session_result": restart_session_result,
            "restart_session_summary": restart_session_summary,
            "restart_session_failure": restart_session_failure,
            "restart_session_wait_failure": restart_session_wait_failure,
            "restart_session_check_mode_note": restart_session_check_mode_note,
        }
