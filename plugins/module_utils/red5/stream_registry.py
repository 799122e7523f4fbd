# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The work of ``red5_stream_registry``: clear stream entries with the administration delete.

``changed`` follows the ``count`` the Stream Manager reports. Check mode sends
no token and deletes nothing: it predicts the count from the list of active
streams, a lower bound, since entries of streams that stopped are in no list
the API offers (docs/red5.md, "red5_stream_registry"). Diff mode shows the
number of entries of the kind the delete clears, before and after.

Stream Manager 2.0 has no such delete: the work sends nothing (beyond the
detection's probes with ``api_version: auto``) and says so, unchanged.
"""

from __future__ import annotations

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.client import Red5Client
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.connect import open_client
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.paths import AUTO, SM2, check_parameter_support, clears_only_inactive

# Stream Manager 2.0 has no call that clears stream entries (docs/red5.md, "red5_stream_registry on Stream Manager 2.0").
NOTHING_TO_CLEAR_ON_SM2 = (
    "Stream Manager 2.0 has no call to clear stream entries, so nothing was cleared: an entry expires by itself once its node "
    "stops reporting the stream (R5AS_STREAM_TIMEOUT, 30 seconds by default)"
)


def _unique_streams(streams: list[dict]) -> set[tuple[str, str]]:
    # 3.1/4.0 lists may name a stream once per node, type origin and edge (docs/red5.md, "API versions").
    return {(str(stream.get("scope", "")), str(stream.get("name", ""))) for stream in streams}


def _only_inactive(params: dict) -> bool:
    """Whether the delete keeps the entries of live streams (3.1/4.0 without include_active)."""
    return clears_only_inactive(params["api_version"]) and not params["include_active"]


def _predicted_count(client: Red5Client, params: dict, context) -> int:
    """How many entries the delete would clear, as far as the list of active streams tells (a lower bound)."""
    active = len(_unique_streams(client.list_streams(stats=False)))
    if _only_inactive(dict(params, api_version=client.api_version)):
        context.warn(
            f"check mode cannot predict this clear: API {client.api_version} clears only inactive entries, which the stream list does not show; "
            "count is reported as 0"
        )
        return 0
    return active


def _clear_entries(client: Red5Client, include_active: bool | None):
    """The delete as an action for ``context.perform``: the count removed, or False when it removed nothing (nothing changed)."""
    count = client.delete_stream_entries(include_active=include_active)["count"]
    return count if count > 0 else False


def _check_registry_params(api_version: str, params: dict) -> None:
    check_parameter_support(api_version, dict(include_active=params["include_active"]))
    # Kept in code rather than as required=True: the message names the
    # environment variable too, which Ansible's "missing required arguments" does
    # not; and Stream Manager 2.0 (and auto, until detected) needs no token.
    if api_version not in (SM2, AUTO) and not params["access_token"]:
        raise StreamingError(
            "access_token is required to clear the stream registry",
            advice="Set access_token (or the RED5_SM_ACCESS_TOKEN environment variable) to the Stream Manager's administrator token",
        )


def clear_stream_registry(params: dict, context, client: Red5Client | None = None) -> dict:
    """``count``: the entries removed (in check mode, the prediction), and ``api_version``; ``changed`` and ``diff`` are added by the context."""
    _check_registry_params(params["api_version"], params)
    with client or open_client(params, context) as red5:
        api_version = red5.api_version
        _check_registry_params(api_version, params)
        if api_version == SM2:
            context.warn(NOTHING_TO_CLEAR_ON_SM2)
            return {"count": 0, "message": NOTHING_TO_CLEAR_ON_SM2, "api_version": SM2}
        predicted = _predicted_count(red5, params, context) if context.check_mode else None
        if predicted == 0:
            return {"count": 0, "api_version": api_version}
        removed = context.perform(_clear_entries, red5, params["include_active"])
    count = predicted if context.check_mode else (removed or 0)
    entries = "inactive entries" if _only_inactive(dict(params, api_version=api_version)) else "all entries"
    context.record_before({"entries": count}, header=f"stream registry, {entries}")
    context.record_after({"entries": 0})
    return {"count": count, "api_version": api_version}
