# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where module_utils meet ``AnsibleModule``.

A module's ``main()`` builds ``AnsibleModule`` and calls :func:`run_module`
with its work function. The work function takes the validated parameters and
an :class:`~.context.ExecutionContext` (check mode, diff mode, warnings, the one
way to perform a change), returns the module's return values and raises
:class:`StreamingError`; it never sees ``AnsibleModule``, so the same code runs
in unit tests with a fake client and in the controller's worker (the fast
path, plugins/plugin_utils/fast_path.py).

This is also the edge where secrets are kept out of what Ansible shows.
Ansible masks the raw ``no_log`` values in the result, but not the forms they
take on the wire (URL-encoded, JSON-escaped, Basic credentials) nor anything
in warnings, so every ``no_log`` value is registered with
:func:`~.errors.register_secret` before the work starts, and the message, the
result and every warning are scrubbed on their way out (docs/security.md).
A bug in a work function ends the same way as any other failure: one
scrubbed sentence, no traceback.
"""

from __future__ import annotations

import importlib
import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.mediaops.streaming.plugins.module_utils.context import ExecutionContext
from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError, basic_credentials, excerpt, register_secret, scrub

ISSUES_URL = "https://github.com/mediaops/streaming/issues"
# An unexpected exception's own text may be long (a whole answer); the sentence stays readable.
_BUG_TEXT_LENGTH = 500


def _import_error(library: str) -> str | None:
    """The traceback of importing ``library`` (requests, lxml), or None when it imports."""
    try:
        importlib.import_module(library)
    except ImportError:
        return traceback.format_exc()
    return None


def register_secrets(no_log_values, params) -> None:
    """Register every ``no_log`` value of the task, and the HTTP Basic credentials made from ``username`` and ``password``."""
    for value in no_log_values:
        register_secret(value)
    for token in basic_credentials(params.get("username"), params.get("password")):
        register_secret(token)


def bug_message(exc: BaseException) -> str:
    # A KeyError's str() is the repr of its text, which escapes it a second time; the text itself reads better and is what gets scrubbed.
    text = exc.args[0] if len(exc.args) == 1 and isinstance(exc.args[0], str) else str(exc)
    detail = excerpt(text, _BUG_TEXT_LENGTH) or "no message"
    return (
        f"The module stopped on an unexpected {type(exc).__name__} ({detail}). This is a bug in the mediaops.streaming collection: "
        f"please report it at {ISSUES_URL} with the task and the output of ansible-playbook -vvv (remove anything private first)"
    )


def missing_libraries(requires) -> dict[str, str]:
    """The libraries of ``requires`` that do not import, each with the traceback of trying."""
    missing = {}
    for library in requires:
        import_error = _import_error(library)
        if import_error is not None:
            missing[library] = import_error
    return missing


def execute(work, params, no_log_values, *, check_mode: bool, diff_mode: bool, warn) -> dict:
    """Run ``work`` with a context of the task's modes and return the task's result, every secret scrubbed.

    Success is the work's return values with ``changed`` (and ``diff``);
    failure is ``failed`` and ``msg`` with the error's request details. Both
    the module (:func:`run_module`) and the controller fast path
    (plugins/plugin_utils/fast_path.py) end here, so they cannot differ in
    what they return or mask. ``warn`` receives each warning already scrubbed.
    """
    register_secrets(no_log_values, params)
    # AnsibleModule does not mask warnings at all, not even the raw no_log values.
    context = ExecutionContext(check_mode=check_mode, diff_mode=diff_mode, warn=lambda message: warn(scrub(str(message))))
    try:
        return scrub(context.finish(work(params, context)))
    except StreamingError as exc:
        return dict(scrub(exc.result()), failed=True, msg=scrub(str(exc)))
    # A bug still ends as a task failure with a sentence, not a traceback or MODULE FAILURE.
    except Exception as exc:  # pylint: disable=broad-exception-caught
        return {"failed": True, "msg": scrub(bug_message(exc))}


def run_module(module, work, requires=("requests",)):
    """Check libraries, run ``work`` and exit the module with its result."""
    for library, import_error in missing_libraries(requires).items():
        module.fail_json(msg=missing_required_lib(library), exception=import_error)
    result = execute(work, module.params, module.no_log_values, check_mode=module.check_mode, diff_mode=module._diff, warn=module.warn)
    if result.pop("failed", False):
        # exception="": no formatted traceback in the result, even with
        # ANSIBLE_DISPLAY_TRACEBACK set. The message says what happened and what to
        # do; Python frames (and the local values an error can carry) would only
        # add internals, and text that no scrubbing has seen.
        module.fail_json(exception="", **result)
    module.exit_json(**result)
