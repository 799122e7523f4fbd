# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The execution context every work function receives.

A work function takes the validated parameters and an :class:`ExecutionContext`
and returns the module's return values. It never asks whether it runs in
check mode before a write and never builds ``changed`` or ``diff`` itself:

* :meth:`ExecutionContext.perform` is the one way to change a server. In check
  mode it does not call the action; either way it marks the task changed,
  unless the action reports that the server already was as wanted by
  returning ``False`` (a create answered "already exists").
* :meth:`ExecutionContext.record_before` and :meth:`ExecutionContext.record_after`
  keep what the resource looked like, for diff mode.
* :meth:`ExecutionContext.warn` reaches the operator.
* :meth:`ExecutionContext.finish` turns the work's return values into the
  result: ``changed`` and, in diff mode, ``diff``.

Whoever runs the work builds the context: :func:`.runner.run_module` from
``AnsibleModule`` today, an action plugin from its task tomorrow, a unit test
directly. The context holds no Ansible object, so it imports nothing of Ansible.
Models: theforeman.foreman's ``resource_action`` with ``record_before`` and
``record_after`` (plugins/module_utils/foreman_helper.py), and kubernetes.core's
dry-run handling in ``module_utils/k8s/service.py``.
"""

from __future__ import annotations

_NOT_RECORDED = object()


class ExecutionContext:
    """Check mode, diff mode, warnings, changes and before/after of one task run."""

    def __init__(self, check_mode: bool = False, diff_mode: bool = False, warn=None):
        self.check_mode = bool(check_mode)
        self.diff_mode = bool(diff_mode)
        self.changed = False
        self.warnings: list[str] = []
        self._warn = warn
        self._before = _NOT_RECORDED
        self._after = _NOT_RECORDED
        self._header = None

    def warn(self, message) -> None:
        """Tell the operator something they should act on (shown as a task warning)."""
        text = str(message)
        self.warnings.append(text)
        if self._warn is not None:
            self._warn(text)

    def perform(self, action, *args, **kwargs):
        """Change the server with ``action(*args, **kwargs)``, or only say that it would in check mode.

        Returns what the action returned, or None in check mode. The task is
        marked changed unless the action returned ``False``: the way a client
        method says "the server already was in that state, this request changed
        nothing" (HTTP 409 to a create, for example).
        """
        if self.check_mode:
            self.changed = True
            return None
        outcome = action(*args, **kwargs)
        if outcome is not False:
            self.changed = True
        return outcome

    def mark_changed(self) -> None:
        """Record a change this task made that no :meth:`perform` call saw (a create whose lost answer a read-back confirmed)."""
        self.changed = True

    def record_before(self, value, header: str | None = None) -> None:
        """What the resource was before this task, for diff mode (a dict, a text, or ``""`` for "did not exist")."""
        self._before = value
        if header is not None:
            self._header = header

    def record_after(self, value, header: str | None = None) -> None:
        """What the resource is (or would be, in check mode) after this task."""
        self._after = value
        if header is not None:
            self._header = header

    def diff(self) -> dict | None:
        """The ``diff`` result key, or None when diff mode is off or nothing changed or nothing was recorded."""
        if not (self.diff_mode and self.changed) or self._before is _NOT_RECORDED or self._after is _NOT_RECORDED:
            return None
        diff = {"before": self._before, "after": self._after}
        if self._header is not None:
            diff.update(before_header=self._header, after_header=self._header)
        return diff

    def finish(self, values: dict) -> dict:
        """The task's result: the work's return values with ``changed`` and, in diff mode, ``diff``."""
        result = dict(values)
        result["changed"] = self.changed
        diff = self.diff()
        if diff is not None:
            result["diff"] = diff
        return result


def run_work(work, params, context: ExecutionContext, **kwargs) -> dict:
    """Run a work function with ``context`` and return the finished result, as the runner does."""
    return context.finish(work(params, context, **kwargs))
