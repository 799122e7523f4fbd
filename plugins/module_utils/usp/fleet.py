# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Work of ``usp_publishing_points``: many publishing points converged in one task (docs/fleet.md).

Each point runs exactly the work of ``usp_publishing_point``
(:func:`~.publishing_point.ensure_publishing_point`) with the point's options
over the task's connection options, so it sends the same requests (an
unchanged point: one GET) and decides the same way. What the fleet adds:

* one ``requests`` session for every point, whose connection pool holds
  ``max_workers`` connections per host, and a thread pool of ``max_workers``
  threads, so at most that many requests are in flight at once;
* an :class:`~..context.ExecutionContext` per point (``changed``, ``diff`` and
  warnings of that point alone), with the task's check mode and diff mode;
* a result per point, in the order of ``points``, whether it succeeded or
  failed: a failing point never stops the others, and the task fails after all
  of them ran, naming the points that failed.

A failed fleet is returned, not raised: the runner turns a raised
:class:`StreamingError` into a result without the other points' results, so
the work returns ``failed`` and ``msg`` beside ``results``, and the runner
scrubs every secret from all of it, as from any result.

What the threads share, and why it is safe: the HTTP session (urllib3's pool
is thread-safe; requests keeps no state per request on the session here: no
cookies are set by USP, the auth and headers are set once before the threads
start), the secrets registry (written before the threads start, only read by
them), and the process's warning filters (see :func:`converge_publishing_points`).
Each point parses its own SMIL with its own lxml parser and keeps its trees in
its thread. Two points writing the same ``backup_path`` would overwrite each
other's manifest, so that is refused before any request, as duplicate points are.
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ansible_collections.mediaops.streaming.plugins.module_utils.context import ExecutionContext
from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError, redact_url
from ansible_collections.mediaops.streaming.plugins.module_utils.http_client import HAS_REQUESTS, HttpClient
from ansible_collections.mediaops.streaming.plugins.module_utils.runner import bug_message
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.client import UspClient
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.identity import base_url, publishing_point_from_params
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.publishing_point import ensure_publishing_point

if HAS_REQUESTS:
    from requests.adapters import HTTPAdapter
    from urllib3.exceptions import InsecureRequestWarning

MIN_WORKERS = 1
# Far more threads than this only queue behind the GIL and the server; 64 keeps a typo (800) from opening 800 connections.
MAX_WORKERS = 64
# How many failed points the task's message names, and how many of their messages it quotes; results has them all.
NAMED_FAILURES = 20
QUOTED_FAILURES = 3
# The options of the task that are not a point's: everything else in params is the connection, shared by every point.
FLEET_OPTIONS = ("points", "max_workers")


@dataclass(frozen=True)
class PlannedPoint:
    """One entry of ``points`` ready to run: its parameters over the connection's, its label for messages and its URL."""

    params: dict
    label: str
    url: str | None  # None when the name or base_path is invalid: the point then fails on its own, before any request of its own


def plan_points(params) -> list[PlannedPoint]:
    """Each entry of ``points`` merged over the connection options; duplicates and shared backup files refused before any request."""
    connection = {name: value for name, value in params.items() if name not in FLEET_OPTIONS}
    api_base = base_url(connection.get("api_url"), "api_url", "USP_API_URL") if params["points"] else None
    planned = []
    for entry in params["points"]:
        point_params = dict(connection, **entry)
        try:
            point = publishing_point_from_params(point_params)
        except StreamingError:
            planned.append(PlannedPoint(point_params, _given_directory(entry), None))
        else:
            planned.append(PlannedPoint(point_params, point.directory, f"{api_base}/{point.resource}"))
    refuse_duplicates(planned)
    return planned


def _given_directory(entry: dict) -> str:
    base_path = entry.get("base_path") or ""
    return f"{base_path.strip('/')}/{entry.get('name')}" if base_path.strip("/") else str(entry.get("name"))


def refuse_duplicates(planned: list[PlannedPoint]) -> None:
    """Refuse two entries for one point (the same ``base_path``/``name``), two points writing one ``backup_path``, and a
    point reading (``src``) another point's ``backup_path``.

    Two entries for one point would race each other (two threads writing the
    same manifest, each reporting what it did) and hide which one the user meant.
    """
    positions: dict[str, list[int]] = {}
    for position, point in enumerate(planned, start=1):
        positions.setdefault(point.label, []).append(position)
    duplicates = {label: found for label, found in positions.items() if len(found) > 1}
    if duplicates:
        named = "; ".join(f"{label} (entries {', '.join(map(str, found))})" for label, found in duplicates.items())
        raise StreamingError(
            f"points lists the same publishing point more than once: {named}; nothing was sent",
            advice="Keep one entry per base_path/name: merge their options, or remove the extra entries",
        )
    backups: dict[str, list[str]] = {}
    for point in planned:
        if point.params.get("backup_path"):
            backups.setdefault(os.path.abspath(point.params["backup_path"]), []).append(point.label)
    shared = {path: labels for path, labels in backups.items() if len(labels) > 1}
    if shared:
        named = "; ".join(f"{path} ({', '.join(labels)})" for path, labels in shared.items())
        raise StreamingError(
            f"several publishing points would save their manifest to the same backup_path: {named}; nothing was sent",
            advice="Give each point its own backup_path, for example one file per point name",
        )
    # A point's own src may be its backup_path (the documented way back after a killed run), but not another point's:
    # the other point's thread may write or remove the file while this one reads it.
    crossed = [
        f"{point.label} reads src {point.params['src']}, the backup_path of {backups[os.path.abspath(point.params['src'])][0]}"
        for point in planned
        if point.params.get("src") and backups.get(os.path.abspath(point.params["src"]), [point.label]) != [point.label]
    ]
    if crossed:
        raise StreamingError(
            f"a point's src is another point's backup_path, which that point writes or removes while the fleet runs: {'; '.join(crossed)}; nothing was sent",
            advice="Create the point from its saved manifest in a task after the fleet, or give it a copy of the file",
        )


def check_max_workers(value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not MIN_WORKERS <= value <= MAX_WORKERS:
        raise StreamingError(f"max_workers must be a whole number from {MIN_WORKERS} to {MAX_WORKERS}, got {value!r}; nothing was sent")
    return value


class PointTransport(HttpClient):
    """The fleet's one :class:`HttpClient` as one point sees it: the same session and connection pool, the point's own warnings.

    :func:`ensure_publishing_point` closes its client when it is done; closing
    the shared session then would cut the other points' connections, so
    ``close`` is left to the fleet. An ``HttpClient`` keeps no state per
    request, so the copy differs from the shared one only in ``warn``.
    """

    def __init__(self, shared: HttpClient, warn):  # pylint: disable=super-init-not-called
        # Not HttpClient.__init__, which would open a session of its own.
        vars(self).update(vars(shared))
        self.warn = warn

    def close(self):
        """Nothing: the fleet closes the shared session once every point is done."""


def size_connection_pool(http: HttpClient, connections: int) -> None:
    """Let ``http``'s session keep ``connections`` connections per host, keeping its retry policy.

    requests keeps 10 connections per host by default and drops (closes) the
    connections above that once answered, so more than 10 threads would open a
    new connection for most requests. The adapter is replaced before any
    request, with the retry policy (``Retry``) the ``HttpClient`` gave the one it replaces.
    """
    retry_policy = http.session.get_adapter("https://").max_retries
    adapter = HTTPAdapter(pool_maxsize=connections, max_retries=retry_policy)
    http.session.mount("http://", adapter)
    http.session.mount("https://", adapter)


def _shared_client_factory(params, context, connections: int):
    """A factory of per-point :class:`UspClient` objects over one ``HttpClient``, and that ``HttpClient``."""
    shared = HttpClient.from_params(params, warn=context.warn, **UspClient.http_credentials(params))
    size_connection_pool(shared, connections)

    def client_for(point_params, point_context):
        return UspClient(point_params, point_context, http=PointTransport(shared, point_context.warn))

    return client_for, shared


def converge_point(planned: PlannedPoint, client_for, check_mode: bool, diff_mode: bool) -> dict:
    """Run ``usp_publishing_point``'s work for one point; its result, or its failure as a result. Never raises."""
    context = ExecutionContext(check_mode=check_mode, diff_mode=diff_mode)
    try:
        values = ensure_publishing_point(planned.params, context, client=client_for(planned.params, context))
    except StreamingError as exc:
        return point_failure(planned, context, str(exc), exc.result())
    # A bug reached by one point's answers is reported for that point; the others still run and report.
    except Exception as exc:  # pylint: disable=broad-exception-caught
        return point_failure(planned, context, bug_message(exc), {})
    return point_success(planned, context, values)


def _identity(planned: PlannedPoint) -> dict:
    return {"name": planned.params.get("name"), "base_path": planned.params.get("base_path")}


def point_success(planned: PlannedPoint, context: ExecutionContext, values: dict) -> dict:
    """The result of a point that converged: what ``usp_publishing_point`` returns, with its name, ``failed`` and its warnings."""
    return dict(_identity(planned), **context.finish(values), failed=False, warnings=list(context.warnings))


def point_failure(planned: PlannedPoint, context: ExecutionContext, message: str, request: dict) -> dict:
    """The result of a point that failed: its message, the failed request's keys (method, url, status, ...) and what it changed first."""
    result = dict(_identity(planned), url=redact_url(planned.url) if planned.url else None, changed=context.changed, failed=True, msg=message)
    result.update(request)
    result["warnings"] = list(context.warnings)
    return result


def summarise(results: list[dict]) -> dict:
    """How many points were ok (already as wanted), changed, failed, and in all; ok + changed + failed = total."""
    failed = sum(1 for result in results if result["failed"])
    changed = sum(1 for result in results if result["changed"] and not result["failed"])
    return {"ok": len(results) - failed - changed, "changed": changed, "failed": failed, "total": len(results)}


def failure_message(planned: list[PlannedPoint], results: list[dict]) -> str | None:
    """The task's message when points failed, naming them and quoting the first messages; None when none failed."""
    failed = [(point.label, result["msg"]) for point, result in zip(planned, results, strict=True) if result["failed"]]
    if not failed:
        return None
    labels = ", ".join(label for label, _message in failed[:NAMED_FAILURES])
    if len(failed) > NAMED_FAILURES:
        labels += f" and {len(failed) - NAMED_FAILURES} more"
    quoted = " | ".join(f"{label}: {message}" for label, message in failed[:QUOTED_FAILURES])
    more = f" (and {len(failed) - QUOTED_FAILURES} more)" if len(failed) > QUOTED_FAILURES else ""
    return (
        f"{len(failed)} of {len(results)} publishing points failed: {labels}. {quoted}{more}. "
        "Every point's result, failed or not, is in results; the others were converged"
    )


def fleet_result(planned: list[PlannedPoint], results: list[dict], context: ExecutionContext) -> dict:
    """The task's values: ``results``, ``summary``, the points' diffs as a list; ``failed`` and ``msg`` when a point failed.

    Each point's warnings reach the task's warnings too, prefixed with the point, in the order of ``points``.
    """
    for point, result in zip(planned, results, strict=True):
        for warning in result["warnings"]:
            context.warn(f"{point.label}: {warning}")
        if result["changed"]:
            context.mark_changed()
    values = {"results": results, "summary": summarise(results)}
    diffs = [result["diff"] for result in results if "diff" in result]
    if diffs:
        # A list: Ansible's callbacks show each diff of a list with its own headers (CallbackBase._get_diff).
        values["diff"] = diffs
    message = failure_message(planned, results)
    if message is not None:
        values.update(failed=True, msg=message)
    return values


def converge_publishing_points(params, context, client_for=None) -> dict:
    """Work of ``usp_publishing_points``: converge every point of ``points``, at most ``max_workers`` at a time.

    ``client_for(point_params, point_context)`` makes each point's client;
    by default every point gets a :class:`UspClient` over one shared session.
    """
    workers = check_max_workers(params["max_workers"])
    planned = plan_points(params)
    if not planned:
        return fleet_result(planned, [], context)
    workers = min(workers, len(planned))
    shared = None
    if client_for is None:
        client_for, shared = _shared_client_factory(params, context, workers)
    try:
        # Each request silences urllib3's InsecureRequestWarning in warnings.catch_warnings(), which saves and restores the
        # process's filter list: from many threads at once, one thread's restore can drop another's filter mid-request.
        # Ignored here for the whole fleet, it is in every list a thread saves or restores, so the overlap cannot show it.
        with warnings.catch_warnings():
            if HAS_REQUESTS:
                warnings.simplefilter("ignore", InsecureRequestWarning)
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="usp-point") as executor:
                futures = [executor.submit(converge_point, point, client_for, context.check_mode, context.diff_mode) for point in planned]
                results = [future.result() for future in futures]
    finally:
        if shared is not None:
            shared.close()
    return fleet_result(planned, results, context)
