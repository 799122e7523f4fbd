# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Red5 Pro Stream Manager REST API of one version: requests, and what their answers mean.

The client speaks HTTP and maps answers; it never decides ``changed``. The
work functions (:mod:`.stream_info`, :mod:`.stream_registry`) check the
task's parameters before they use it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from ansible_collections.mediaops.streaming.plugins.module_utils.http_client import ApiClient
from ansible_collections.mediaops.streaming.plugins.module_utils.json_answer import MAX_ANSWER_BYTES, AnswerError, describe
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.answers import Answer, normalise_stream, parse_answer, unusable, whole_number
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.paths import api_base, event_path, validate_place

_DELETE_ADVICE = (
    "The Stream Manager accepted the delete, so the entries are probably cleared; check that api_version matches the server "
    "and run the task again to see the count of what is left"
)


def _flag(value: bool) -> str:
    return "true" if value else "false"


class Red5Client(ApiClient):
    """The Stream Manager REST API for the task's ``url`` and ``api_version``."""

    def __init__(self, params, context, http=None):
        # Refuse a bad URL or version before a session is opened.
        self.base = api_base(params["url"], params["api_version"])
        super().__init__(params, context, http=http)
        self.api_version = params["api_version"]
        self._access_token = params["access_token"]
        # Stop reading an answer at the size that would be decoded at all.
        self.http.max_response_bytes = MAX_ANSWER_BYTES

    def _get(self, path: str, query: dict | None = None, not_found_ok: bool = False) -> Answer:
        url = self.base + path
        response = self.http.request("GET", url, params=query or None, headers={"Accept": "application/json"})
        shown = f"{url}?{urlencode(query)}" if query else url
        return parse_answer(response, "GET", shown, not_found_ok=not_found_ok)

    def read_stream(
        self,
        scope: str,
        name: str,
        action: str,
        region: str | None = None,
        strict: bool | None = None,
        geozone: str | None = None,
        endpoints: int | None = None,
        transcode: bool | None = None,
    ) -> Answer:
        """``GET event/{scope}/{name}?action=...``: the origin (broadcast) or edge (subscribe) for the stream.

        A subscribe request for a stream that is not publishing answers 400 or
        404 (docs/red5.md, "Errors"): that is ``Answer(found=False)``, not an error.
        """
        query = {"action": action}
        if region:
            query["region"] = validate_place(region, "region")
        if geozone:
            query["geozone"] = validate_place(geozone, "geozone")
        if strict is not None:
            query["strict"] = _flag(strict)
        if endpoints is not None:
            query["endpoints"] = str(endpoints)
        if transcode is not None:
            query["transcode"] = _flag(transcode)
        return self._get(event_path(scope, name), query, not_found_ok=True)

    def read_stream_stats(self, scope: str, name: str) -> Answer:
        """``GET event/{scope}/{name}/stats``; a stream that is not broadcasting is ``Answer(found=False)``."""
        return self._get(event_path(scope, name, stats=True), not_found_ok=True)

    def list_streams(self, stats: bool = False) -> list[dict]:
        """``GET event/list[/stats]``: every active stream, normalised.

        ``null`` items are skipped; an item without ``name`` or ``scope``
        cannot be told apart from the others and is refused, like any item
        ``normalise_stream`` refuses.
        """
        answer = self._get("event/list/stats" if stats else "event/list")
        if not isinstance(answer.data, list):
            raise unusable(answer, f"the stream list is {describe(answer.data)}, not a JSON array", advice="Check that api_version matches the server")
        streams = []
        try:
            for index, item in enumerate(answer.data):
                if item is None:
                    continue
                where = f"item {index} of the stream list"
                stream = normalise_stream(item, where)
                missing = [key for key in ("name", "scope") if stream.get(key) is None]
                if missing:
                    raise AnswerError(f"{where} has no {' and no '.join(missing)}")
                streams.append(stream)
        except AnswerError as exc:
            raise unusable(answer, str(exc)) from None
        return streams

    def delete_stream_entries(self, include_active: bool | None = None) -> dict:
        """``DELETE admin/event?accessToken=...[&includeActive=true]``: clear the stream registry; returns ``{"count", "timestamp"}``.

        The token travels only on this admin call (docs/red5.md,
        "red5_stream_registry") and is masked in the URL and body of any
        error. ``count`` is a whole number of 0 or more (also accepted as a
        string of digits); the entries are cleared by then, so an answer
        without a usable count fails saying so.
        """
        url = self.base + "admin/event"
        query = {"accessToken": self._access_token}
        if include_active:
            query["includeActive"] = "true"
        # DELETE is idempotent: the HTTP client may repeat it after a reset or a 503.
        response = self.http.request("DELETE", url, params=query, headers={"Accept": "application/json"})
        shown = url + ("?accessToken=REDACTED&includeActive=true" if include_active else "?accessToken=REDACTED")
        answer = parse_answer(response, "DELETE", shown, secret=self._access_token)
        if not isinstance(answer.data, dict):
            raise unusable(answer, f"the registry delete answered {describe(answer.data)}, not an object with a count", advice=_DELETE_ADVICE)
        if "count" not in answer.data:
            raise unusable(answer, "the registry delete answered an object without a count", advice=_DELETE_ADVICE)
        try:
            count = whole_number(answer.data["count"], "count", "the registry delete's answer", minimum=0)
        except AnswerError as exc:
            raise unusable(answer, str(exc), advice=_DELETE_ADVICE) from None
        return dict(answer.data, count=count)
