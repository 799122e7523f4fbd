# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Work of ``scaleengine_command``: any signed command; ``changed`` is what the user declared."""

from __future__ import annotations

import re

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.json_answer import describe, printable, size_text
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.client import REPEATABLE_COMMANDS, ScaleEngineClient
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.names import check_names
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.php_json import MAX_REQUEST_BYTES, check_request_fields, php_json_encode, too_large
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.signing import RESERVED_FIELDS

_COMMAND = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+", re.IGNORECASE | re.ASCII)


def _command_name(params) -> str:
    command = (params["command"] or "").strip()
    if not _COMMAND.fullmatch(command):
        raise StreamingError(f"command must look like 'stream.close' or 'viewer.live', not \"{printable(command, 60)}\"")
    return command


def _command_fields(params) -> dict:
    """The command's own fields, refused before anything is signed or sent (in check mode too) when they cannot be sent."""
    raw = params["params"]
    if raw is None:  # params: null in the task; the spec's default applies only when it is left out
        raw = {}
    if not isinstance(raw, dict):
        raise StreamingError(f"params must be an object of the command's fields, not {describe(raw)}")
    fields = dict(raw)
    reserved = sorted(RESERVED_FIELDS.intersection(fields))
    if reserved:
        raise StreamingError(f"params must not contain {', '.join(reserved)}: the module sets them from the connection options")
    return fields


def _check_sendable(fields: dict) -> None:
    check_request_fields(fields, "params.")
    size = sum(len(name) + 4 + len(php_json_encode(value, f"params.{name}", depth=1)) for name, value in fields.items())
    if size > MAX_REQUEST_BYTES:
        raise too_large(f"params would be {size_text(size)} once encoded")
    check_names(fields)


def run_command(params, context, client=None) -> dict:
    """Work of ``scaleengine_command``: any signed command; ``changed`` is what the user declared.

    Sent again after a failure that left it unknown whether the server got it
    only when it is known to be safe: ``read_only=true`` or a command of
    ``REPEATABLE_COMMANDS``. Diff (when the command is declared a change):
    ``{"command": ..., "sent": false}`` before, ``"sent": true`` after.
    """
    command = _command_name(params)
    fields = _command_fields(params)
    read_only = bool(params["read_only"])
    # Not mutually_exclusive in the spec: both are booleans, and only true with true contradict each other.
    if read_only and params["changed"]:
        raise StreamingError("changed=true contradicts read_only=true")
    declared_changed = bool(params["changed"]) and not read_only
    _check_sendable(fields)
    if read_only:
        with client if client is not None else ScaleEngineClient(params, context) as api:
            return dict(sent=True, response=api.call(command, fields, repeatable=True))
    if context.check_mode and not declared_changed:
        # perform() reports a change in check mode, and this command is declared to change nothing: it is left unsent, unchanged.
        return dict(sent=False, response=None)
    context.record_before({"command": command, "sent": False}, header=command)
    context.record_after({"command": command, "sent": True}, header=command)
    answers = []

    def send():
        # The client is made only when the command is sent: in check mode nothing is sent, so no connection is prepared either.
        with client if client is not None else ScaleEngineClient(params, context) as api:
            answers.append(api.call(command, fields, repeatable=command in REPEATABLE_COMMANDS))
        return None if declared_changed else False

    context.perform(send)
    return dict(sent=bool(answers), response=answers[0] if answers else None)
