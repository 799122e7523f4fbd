# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Work of ``usp_publishing_point``: make the publishing point match the task.

Data flows one way: parameters -> :class:`~.client.UspClient` (HTTP only) ->
this module compares desired with current and writes through
:meth:`~..context.ExecutionContext.perform`, which decides ``changed``.
What happens when other clients change the point at the same time is
described in docs/usp.md, "Concurrent runs". "The reference" is USP's
Publishing Point API: https://docs.unified-streaming.com/documentation/live/publishing-point-api.html
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError, redact_url
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.client import UncertainCreate, UspClient
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.identity import DELETABLE_STATES, PublishingPoint, publishing_point_from_params
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.smil import (
    body_differences,
    build_manifest,
    canonical_manifest,
    check_smil_size,
    describe_head_changes,
    find_body,
    head_differences,
    merge_head,
    normalise_options,
    parse_smil,
    read_head_options,
    read_smil_file,
    render_smil,
)

# How many times one task reads the point, decides and writes before it gives
# up on a point that other clients keep changing under it (docs/usp.md, "Concurrent runs").
MAX_ROUNDS = 5


@dataclass(frozen=True)
class Desired:
    """What the task wants on the server: the manifest to send, its parsed root (None when built from options) and its head."""

    text: str
    root: object
    head: dict


def desired_manifest(params, point: PublishingPoint) -> Desired:
    """The desired manifest from ``options``, ``manifest`` or ``src``, refused before any request when unsafe or too large."""
    if params["manifest"] is not None:
        text = params["manifest"]
        check_smil_size(len(text.encode("utf-8")), "the manifest option", sending=True)
        root = parse_smil(text, source="the manifest option")
        return Desired(text, root, read_head_options(root))
    if params["src"] is not None:
        source = f"src file {params['src']}"
        raw = read_smil_file(params["src"], source)
        root = parse_smil(raw, source=source)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            # It is sent as UTF-8 text; replacing undecodable bytes would send another document.
            raise StreamingError(f"{source} is not UTF-8 text: save it as UTF-8 (mp4split writes UTF-8)") from None
        return Desired(text, root, read_head_options(root))
    options = normalise_options(params["options"] or {})
    text = build_manifest(point.name, options)
    check_smil_size(len(text.encode("utf-8")), "the manifest built from the options", sending=True)
    return Desired(text, None, options)


def ensure_publishing_point(params, context, client=None) -> dict:
    """Work of ``usp_publishing_point``: make the publishing point match ``params``.

    Returns ``url``, ``settings``, ``manifest`` and, when they apply,
    ``changes``, ``recreated`` and ``backup_file``; ``changed`` and ``diff`` come from ``context``.
    """
    point = publishing_point_from_params(params)
    desired = desired_manifest(params, point)
    backup_path = params["backup_path"]
    with client or UspClient(params, context) as usp:
        if params["state"] == "absent":
            return _ensure_absent(usp, point, backup_path, context)
        result = _PresentRun(usp, point, desired, params["recreate"], context).run()
    if backup_path and not context.check_mode:
        remove_backup(backup_path, point, context)
    return result


def _ensure_absent(client, point: PublishingPoint, backup_path, context) -> dict:
    url = client.api_url(point)
    result = {"url": url, "settings": {}, "manifest": None}
    if not (context.check_mode or context.diff_mode or backup_path):
        # Nothing needs the point's manifest, and the DELETE's own answer says whether the point existed (404: it did not).
        _delete(client, point, context, read_first=False)
        return result
    current_text, current_root = client.read_manifest(point)
    if current_root is None:
        return result
    if context.check_mode:
        _predict_refusal(client, point)
    elif backup_path:
        result["backup_file"] = save_backup(backup_path, current_text, point)
    if _delete(client, point, context, read_first=True) and context.diff_mode:
        context.record_before(canonical_manifest(current_root), header=url)
        context.record_after("", header=url)
    return result


def _predict_refusal(client, point: PublishingPoint) -> None:
    """In check mode: the API's refusal (reference, "Delete") instead of a change the real run could not make."""
    state = client.best_effort_state(point)
    if state is not None and state not in DELETABLE_STATES:
        raise StreamingError(
            f"publishing point {point.directory} is {state}: the delete would be refused (only idle, starting or stopped points can be deleted)",
            advice="Stop the encoder first, then run the task again",
            details={"publishing_point_state": state},
        )


def _delete(client, point: PublishingPoint, context, read_first: bool) -> bool:
    """DELETE the point through ``context``; False when it did not exist (HTTP 404 to the first request)."""
    outcome = context.perform(client.delete, point)
    if outcome is False:
        if read_first:
            # Absent is what the task wants, so this is success; but it was not this task's doing.
            context.warn(f"publishing point {point.directory} was deleted by another client between this task's read and its delete; this task deleted nothing")
        return False
    if outcome == "repeated":
        context.warn(
            f"the answer to the delete of {point.directory} was lost and the repeated delete found nothing: "
            "the first request most likely deleted it, so this task reports a change"
        )
    return True


# -- backup_path: the manifest kept on disk while the point does not exist ---------------------------------


def save_backup(path: str, text: str, point: PublishingPoint) -> str:
    """Write ``text`` to ``path`` atomically: missing directories 0700, the file 0600. Returns ``path``.

    Atomic (a temporary file renamed over ``path``) because a run killed while
    writing must not leave half a manifest that the next run would create the point from.
    """
    directory = os.path.dirname(os.path.abspath(path))
    try:
        _make_private_directories(directory)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                stream.write(text)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError as exc:
        raise StreamingError(
            f"could not save the manifest of publishing point {point.directory} to {path}: {exc.strerror or exc}; nothing was deleted",
            advice="Make the directory of backup_path writable for the user that runs the module, or choose another backup_path",
        ) from None
    return path


def _make_private_directories(directory: str) -> None:
    """Create ``directory`` and its missing parents with mode 0700; existing ones are left as they are."""
    missing = []
    while not os.path.isdir(directory):
        missing.append(directory)
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue  # another task (a second fork) created it at the same moment
        os.chmod(path, 0o700)  # the umask may have taken bits from mkdir's mode


def remove_backup(path: str, point: PublishingPoint, context) -> None:
    """Remove the saved manifest now that the point exists as wanted; a file that cannot be removed is only a warning."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        context.warn(
            f"publishing point {point.directory} exists as wanted, but its saved manifest {path} could not be removed ({exc.strerror or exc}): "
            "remove it by hand"
        )


class _PresentRun:
    """``state=present``: rounds of read, compare and write until the point matches or ``MAX_ROUNDS`` is spent.

    Another client (a second fork, a second operator) may create, update or
    delete the point between this task's read and its write. Each answer that
    says so (409 to a create, 404 to an update or delete) starts a new round
    from a fresh read instead of failing; a write that changed nothing returns
    ``False`` to ``context.perform``, so ``changed`` says whether this task's
    own requests changed the server.
    """

    def __init__(self, client, point: PublishingPoint, desired: Desired, recreate: bool, context):
        self.client = client
        self.point = point
        self.desired = desired
        self.recreate = bool(recreate)
        self.context = context
        self.url = client.api_url(point)
        self.writes: list[str] = []  # what this task's own requests did (created, updated, deleted), for the message when it gives up
        self.pending = None  # (text, root) read back after a create whose answer was lost
        self.vanished = False  # an update found the point deleted by another client
        self.recreated = False
        self.first_read = True
        self.before_root = None  # the point as this task first found it, for the diff

    def run(self) -> dict:
        # One round more than MAX_ROUNDS only to compare what a read-back in the last round found.
        for round_number in range(MAX_ROUNDS + 1):
            if round_number == MAX_ROUNDS and self.pending is None:
                break
            if self.pending is not None:
                (current_text, current_root), self.pending = self.pending, None
            else:
                current_text, current_root = self.client.read_manifest(self.point)
            if self.first_read:
                self.first_read, self.before_root = False, current_root
            result = self._create() if current_root is None else self._converge(current_text, current_root)
            if result is not None:
                return result
        done = " and ".join(dict.fromkeys(self.writes))
        raise StreamingError(
            f"publishing point {self.point.directory} ({redact_url(self.url)}) kept changing while this task worked on it: in {MAX_ROUNDS} rounds "
            "of read, compare and write, another client created, updated or deleted it before each write ("
            + (f"this task {done} it on the way" if done else "this task changed nothing")
            + ")",
            url=self.url,
            advice="Run the task again when the other clients are done, or let one host manage the point (run_once: true, or throttle: 1)",
        )

    def _post(self) -> bool:
        """POST the desired manifest; True if this task's request created the point (or would, in check mode).

        False when another client had created it (409), or when the answer was
        lost and reading back found the point (``self.pending`` then holds it).
        """
        try:
            created = self.context.perform(self.client.create, self.point, self.desired.text)
        except UncertainCreate as exc:
            self._read_back(exc.error)
            return False
        if created:
            self.writes.append("created")
        return created is not False

    def _read_back(self, error: StreamingError) -> None:
        """After a create whose answer was lost: read the point once, never POST again."""
        try:
            text, root = self.client.read_manifest(self.point)
        except StreamingError as read_error:
            raise StreamingError(
                f"whether publishing point {self.point.directory} was created is unknown: the create failed ({error.message}) "
                f"and reading the point back failed too ({read_error.message})",
                method=read_error.method,
                url=read_error.url,
                status=read_error.status,
                body=read_error.body_excerpt,
                advice="Check it with mediaops.streaming.usp_publishing_point_info, or run the task again: it creates the point or finds it",
            ) from None
        if root is None:
            raise StreamingError(
                f"publishing point {self.point.directory} was not created: {error.message}; reading it back shows that it does not exist, "
                "so nothing was created as far as the server shows, and the create was not sent again",
                method=error.method,
                url=error.url,
                status=error.status,
                body=error.body_excerpt,
                advice="Run the task again: that is safe, it creates the point, or finds it if the server completes the create late",
            )
        # Most likely this task's request created it: reported as a change, then compared like any other point.
        self.writes.append("created")
        self.context.mark_changed()
        self.context.warn(f"the create of {self.point.directory} got no answer ({error.message}), but the point exists now; this task reports it as created")
        self.pending = (text, root)

    def _create(self):
        created_root = self.desired.root if self.desired.root is not None else parse_smil(self.desired.text, source="the built manifest")
        if not self._post():
            return None  # another client created it after our read, or a read-back found it: compare
        if self.vanished:
            self.context.warn(
                f"publishing point {self.point.directory} was deleted by another client while this task updated it; "
                "it was created again with the desired settings"
            )
        return self._result(read_head_options(created_root), self.desired.text, created_root)

    def _converge(self, current_text: str, current_root):
        current_head = read_head_options(current_root)
        body_changes = body_differences(current_root, self.desired.root) if self.desired.root is not None else []
        if body_changes:
            return self._recreate(body_changes)
        head_changes = head_differences(current_head, self.desired.head)
        if not head_changes:
            return self._result(current_head, current_text, current_root)
        merged_head = merge_head(current_head, self.desired.head)
        new_text = render_smil(merged_head, find_body(current_root))
        updated = self.context.perform(self.client.update, self.point, new_text)
        if updated is False:
            self.vanished = True
            return None  # deleted by another client after our read: the next round creates it
        if updated:
            self.writes.append("updated")
        result = self._result(merged_head, new_text, new_text)
        result["changes"] = describe_head_changes(head_changes)
        return result

    def _recreate(self, body_changes: list[str]):
        point = self.point
        if not self.recreate:
            raise StreamingError(
                f"publishing point {point.directory} differs in its body, which the API cannot update: " + "; ".join(body_changes),
                advice="Set recreate=true to delete the publishing point and create it again (this removes its archive), "
                "or change the manifest to match the server",
                details={"body_differences": body_changes},
            )
        deleted = self.context.perform(self.client.delete, point)  # None in check mode, False when another client deleted it first
        if deleted:
            self.writes.append("deleted")
        try:
            created = self._post()
        except StreamingError as exc:
            if not deleted:
                raise
            raise _deleted_but_not_created(point, exc) from None
        self.recreated = self.recreated or bool(deleted) or created or self.pending is not None
        if not created:
            return None  # another client created it between our delete and our create, or a read-back found it: compare again
        return self._result(self.desired.head, self.desired.text, self.desired.root)

    def _result(self, settings: dict, manifest: str, after) -> dict:
        result = {"url": self.url, "settings": settings, "manifest": manifest}
        if self.recreated:
            result["recreated"] = True
        if self.context.diff_mode and self.context.changed:
            before = canonical_manifest(self.before_root) if self.before_root is not None else ""
            self.context.record_before(before, header=self.url)
            self.context.record_after(canonical_manifest(after), header=self.url)
        return result


def _deleted_but_not_created(point: PublishingPoint, error: StreamingError) -> StreamingError:
    """``error`` of the create of a ``recreate``, saying that this task's delete already removed the point and its archive."""
    recover = (
        "Run the task again with the same manifest (or options) once the cause is fixed: the point no longer exists, so the task creates it; "
        "its archive cannot be restored"
    )
    return StreamingError(
        f"{error.message}; publishing point {point.directory} is already deleted: this task deleted it (recreate=true) and its archive is gone",
        method=error.method,
        url=error.url,
        status=error.status,
        body=error.body_excerpt,
        advice=f"{error.advice}. {recover}" if error.advice else recover,
        details=error.details,
    )
