# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The work of ``red5_stream_registry``: clear stream entries with the administration delete.

``changed`` follows the ``count`` the Stream Manager reports. Check mode sends
no token and deletes nothing: it predicts the count from the list of active
streams, a lower bound, since entries of streams that stopped are in no list
the API offers (docs/red5.md, "red5_stream_registry"). Diff mode shows the
number of entries of the kind the delete clears, before and after.
"""

from __future__ import annotations

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.client import Red5Client
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.paths import check_parameter_support, clears_only_inactive


def _unique_streams(streams: list[dict]) -> set[tuple[str, str]]:
    # 3.1/4.0 lists may name a stream once per node, type origin and edge (docs/red5.md, "API versions").
    return {(str(stream.get("scope", "")), str(stream.get("name", ""))) for stream in streams}


def _only_inactive(params: dict) -> bool:
    """Whether the delete keeps the entries of live streams (3.1/4.0 without include_active)."""
    return clears_only_inactive(params["api_version"]) and not params["include_active"]


def _predicted_count(client: Red5Client, params: dict, context) -> int:
    """How many entries the delete would clear, as far as the list of active streams tells (a lower bound)."""
    active = len(_unique_streams(client.list_streams(stats=False)))
    if _only_inactive(params):
        context.warn(
            f"check mode cannot predict this clear: API {params['api_version']} clears only inactive entries, which the stream list does not show; "
            "count is reported as 0"
        )
        return 0
    return active


def _clear_entries(client: Red5Client, include_active: bool | None):
    """The delete as an action for ``context.perform``: the count removed, or False when it removed nothing (nothing changed)."""
    count = client.delete_stream_entries(include_active=include_active)["count"]
    return count if count > 0 else False


def clear_stream_registry(params: dict, context, client: Red5Client | None = None) -> dict:
    """``count``: the entries the Stream Manager removed (in check mode, the prediction); ``changed`` and ``diff`` are added by the context."""
    check_parameter_support(params["api_version"], dict(include_active=params["include_active"]))
    # Kept in code rather than as required=True: the message names the
    # environment variable too, which Ansible's "missing required arguments" does not.
    if not params["access_token"]:
        raise StreamingError(
            "access_token is required to clear the stream registry",
            advice="Set access_token (or the RED5_SM_ACCESS_TOKEN environment variable) to the Stream Manager's administrator token",
        )
    with client or Red5Client(params, context) as red5:
        predicted = _predicted_count(red5, params, context) if context.check_mode else None
        if predicted == 0:
            return {"count": 0}
        removed = context.perform(_clear_entries, red5, params["include_active"])
    count = predicted if context.check_mode else (removed or 0)
    entries = "inactive entries" if _only_inactive(params) else "all entries"
    context.record_before({"entries": count}, header=f"stream registry, {entries}")
    context.record_after({"entries": 0})
    return {"count": count}
