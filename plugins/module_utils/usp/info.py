# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Work of ``usp_publishing_point_info``: read a publishing point, and optionally wait for a state.

What it returns is described in docs/usp.md; "the reference" is USP's Publishing
Point API: https://docs.unified-streaming.com/documentation/live/publishing-point-api.html
"""

from __future__ import annotations

import time

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.client import UspClient
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.identity import DELETABLE_STATES, PublishingPoint, publishing_point_from_params
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.smil import read_head_options

# settings and manifest come from the API virtual host, the others from the origin (docs/usp.md, "Two virtual hosts, two URLs").
GATHER_CHOICES = ("settings", "manifest", "state", "statistics", "archive")
# A poll more often than this would only load the origin.
MIN_WAIT_INTERVAL = 0.1


def _default_gather(params) -> list[str]:
    """Everything for which a URL is set; the manifest only when asked for, as it may be large."""
    gather = ["settings"] if params["api_url"] else []
    if params["origin_url"]:
        gather += ["state", "statistics", "archive"]
    return gather


def read_publishing_point_info(params, context, client=None) -> dict:
    """Work of ``usp_publishing_point_info``: ``publishing_point`` as read, and the seconds ``waited`` for ``wait_for``."""
    point = publishing_point_from_params(params)
    # args.INFO_REQUIRED_ONE_OF guarantees api_url or origin_url, so the default is never empty.
    gather = params["gather"] or _default_gather(params)
    with client or UspClient(params, context) as usp:
        info = {
            "exists": None,
            "url": usp.api_url(point) if params["api_url"] else usp.origin_url(point),
            "settings": None,
            "manifest": None,
            "state": None,
            "updated": None,
            "deletable": None,
            "tracks": None,
            "archive": None,
        }
        waited = 0.0
        if params["wait_for"]:
            state, waited = _wait_for_state(usp, point, params)
            info["exists"] = state is not None
            _set_state(info, state)
        if "settings" in gather or "manifest" in gather:
            _read_manifest(usp, point, gather, info)
        if "state" in gather and not params["wait_for"]:
            state = usp.read_state(point)
            _set_state(info, state)
            if info["exists"] is None:
                info["exists"] = state is not None
        if "statistics" in gather:
            info["tracks"] = usp.read_statistics(point) or []
        if "archive" in gather:
            archive = usp.read_archive(point)
            info["archive"] = archive or []
            if info["exists"] is None:
                info["exists"] = archive is not None
    return {"publishing_point": info, "waited": round(waited, 3)}


def _read_manifest(client, point: PublishingPoint, gather, info: dict) -> None:
    """``settings`` and ``manifest`` from one GET of the server manifest."""
    text, root = client.read_manifest(point)
    info["exists"] = text is not None
    if "settings" in gather:
        info["settings"] = {} if root is None else read_head_options(root)
    if "manifest" in gather:
        info["manifest"] = text


def _set_state(info: dict, state: dict | None) -> None:
    """``state``, ``updated`` and ``deletable`` from a read of ``/state`` (None: the point does not exist)."""
    if state is None:
        info.update(state=None, updated=None, deletable=None)
        return
    # The API deletes only idle, starting or stopped points (reference, "Delete").
    info.update(state=state["state"], updated=state["updated"], deletable=state["state"] in DELETABLE_STATES)


def _wait_for_state(client, point: PublishingPoint, params):
    wanted = params["wait_for"]
    timeout = params["wait_timeout"]
    interval = max(MIN_WAIT_INTERVAL, params["wait_interval"])
    started = time.monotonic()
    while True:
        state = client.read_state(point)
        if state is not None and state["state"] in wanted:
            return state, time.monotonic() - started
        elapsed = time.monotonic() - started
        if elapsed >= timeout:
            last = state["state"] if state else "does not exist"
            raise StreamingError(
                f"publishing point {point.directory} did not reach {' or '.join(wanted)} within {timeout:g}s (last state: {last})",
                advice="If an encoder is still ingesting, stop it (it must send End Of Stream); raise wait_timeout if it is just slow",
                details={"publishing_point_state": state and state["state"]},
            )
        time.sleep(min(interval, max(0.0, timeout - elapsed)))
