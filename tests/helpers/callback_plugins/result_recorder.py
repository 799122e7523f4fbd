"""Test-only callback: append every task result as one JSON line to $MEDIAOPS_RESULT_FILE.

ansible-core ships no machine-readable stdout callback, and the tests also want
stdout exactly as a user sees it (to prove secrets never appear there), so the
results travel through a file instead.
"""

from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: result_recorder
type: aggregate
short_description: Record task results for the collection's tests
description: Appends each task result as a JSON line to the file named by E(MEDIAOPS_RESULT_FILE).
requirements: [enabled in ANSIBLE_CALLBACKS_ENABLED]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "result_recorder"
    CALLBACK_NEEDS_ENABLED = True

    def _record(self, result, status):
        path = os.environ.get("MEDIAOPS_RESULT_FILE")
        if not path:
            return
        payload = getattr(result, "result", None)
        if payload is None:
            payload = result._result
        entry = {"task": result.task.get_name(), "host": result.host.get_name(), "status": status, "result": payload}
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, default=str) + "\n")

    def v2_runner_on_ok(self, result, **kwargs):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False, **kwargs):
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result, **kwargs):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result, **kwargs):
        self._record(result, "unreachable")
