# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP calls to USP's API and origin virtual hosts, and what each answer means.

Status codes and their meaning come from the Publishing Point API reference
(https://docs.unified-streaming.com/documentation/live/publishing-point-api.html;
docs/usp.md, "Errors"). The client never decides ``changed``: a write says
whether the server changed (``False`` when it already was as asked), and the
work function passes it to :meth:`~..context.ExecutionContext.perform`.
"""

from __future__ import annotations

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError, status_advice
from ansible_collections.mediaops.streaming.plugins.module_utils.http_client import ApiClient, is_connect_failure
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.identity import PublishingPoint, base_url
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.smil import check_smil_size, parse_smil, read_body_tracks, read_head_options

_SMIL_HEADERS = {"Content-Type": "application/smil+xml; charset=utf-8"}
_TOO_LARGE = ("the manifest is larger than the server accepts (50 MB)", "Make the manifest smaller")

# Answers the API gives to any request on a publishing point (reference, "Create", "Read", "Update", "Delete").
_COMMON_FAILURES = {
    401: ("authentication failed", "Check username and password (USP_USERNAME/USP_PASSWORD) for the API virtual host"),
    403: ("access denied", "Check that this host may use the virtual host (IP allow list, credentials)"),
    405: ("the server refused the method or the URL has a query string", "Check that api_url points at the API virtual host"),
    415: ("the URL does not end in .isml", "Check api_url and base_path"),
}


class UncertainCreate(Exception):
    """A create POST that may have reached the server, but whose answer was lost (``error`` says how)."""

    def __init__(self, error: StreamingError):
        super().__init__(str(error))
        self.error = error


def _default_advice(status: int) -> str:
    """What to do about an answer that neither the reference nor the HTTP status explains (an HTML page with 200, a 418)."""
    return status_advice(status) or "Check that api_url or origin_url points at the USP virtual host for this call, then run the task again"


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _statistics_track(track: dict) -> dict:
    params = track["params"]
    return {
        "src": track["src"],
        "type": track["type"],
        "system_bitrate": track["system_bitrate"],
        "track_id": _int_or_none(params.get("trackID")),
        "track_name": params.get("trackName"),
        "state": params.get("state"),
        "updated": params.get("updated"),
        "duration": _int_or_none(params.get("duration")),
    }


def _archive_track(track: dict) -> dict:
    params = track["params"]
    return {
        "src": track["src"],
        "type": track["type"],
        "track_id": _int_or_none(params.get("trackID")),
        "track_name": params.get("trackName"),
        "ranges": [{"start": item["start"], "end": item["end"]} for item in track["ranges"]],
    }


class UspClient(ApiClient):
    """HTTP calls to the API and origin virtual hosts; maps statuses to errors.

    It never decides ``changed``.
    """

    @staticmethod
    def http_credentials(params) -> dict:
        # The same HTTP Basic credentials on both virtual hosts (docs/usp.md, "Two virtual hosts, two URLs").
        # An empty user name is no authentication: AWX injects '' for a credential field left empty.
        return {"username": params.get("username") or None, "password": params.get("password")}

    def api_url(self, point: PublishingPoint) -> str:
        return f"{base_url(self.params.get('api_url'), 'api_url', 'USP_API_URL')}/{point.resource}"

    def origin_url(self, point: PublishingPoint, what: str = "") -> str:
        base = base_url(self.params.get("origin_url"), "origin_url", "USP_ORIGIN_URL")
        return f"{base}/{point.resource}" + (f"/{what}" if what else "")

    @staticmethod
    def _error(response, message, advice=None, details=None) -> StreamingError:
        """The error for ``response``, naming the request, its status and the start of the answer."""
        return StreamingError(
            message,
            method=response.request.method,
            url=response.url,
            status=response.status_code,
            body=response.text,
            advice=advice or _default_advice(response.status_code),
            details=details,
        )

    @staticmethod
    def parse_answer(text, source: str, url: str, option: str):
        """Parse a SMIL answer to a GET of ``url``; a refusal names the request and says what to check."""
        try:
            return parse_smil(text, source=source)
        except StreamingError as exc:
            raise StreamingError(
                exc.message,
                method="GET",
                url=url,
                status=200,
                advice=f"Check that {option} points at the USP virtual host and that no proxy answers in its place; "
                "the answer was not used, and nothing was changed because of it",
            ) from None

    def _common_failure(self, response, point: PublishingPoint, message: str, advice=None) -> StreamingError:
        """The error for an API answer: a meaning every request shares, or ``message`` with ``advice``."""
        status = response.status_code
        if status == 400:
            return self._error(response, f"the server rejected the request for {point.resource}", "The directory and the .isml must have the same name")
        if status in _COMMON_FAILURES:
            return self._error(response, *_COMMON_FAILURES[status])
        return self._error(response, message, advice)

    def read_manifest(self, point: PublishingPoint):
        """``(text, parsed root)`` of the publishing point's server manifest, or ``(None, None)`` if there is none."""
        url = self.api_url(point)
        response = self.http.request("GET", url)
        if response.status_code == 404:
            return None, None
        if response.status_code != 200:
            raise self._common_failure(response, point, f"could not read publishing point {point.directory}")
        text = response.text
        return text, self.parse_answer(text, f"the manifest of {point.directory} from the server", url, "api_url")

    def create(self, point: PublishingPoint, manifest: str) -> bool:
        """POST the manifest: True if this request created the point, False if it already existed (HTTP 409).

        Raises :class:`UncertainCreate` when the request may have reached the
        server but its answer did not come back.
        """
        data = manifest.encode("utf-8")
        check_smil_size(len(data), f"the manifest for {point.directory}", sending=True)
        url = self.api_url(point)
        # A create is never repeated: if the first POST reached the server, a
        # second one would answer 409 and hide what really happened (docs/usp.md, "A create is never sent twice").
        try:
            response = self.http.request("POST", url, data=data, headers=_SMIL_HEADERS, repeatable=False)
        except StreamingError as exc:
            if exc.__cause__ is not None and is_connect_failure(exc.__cause__):
                raise  # no connection, so nothing was sent
            raise UncertainCreate(exc) from exc
        status = response.status_code
        if status == 201:
            return True
        if status == 409:
            return False
        if status in (502, 504):
            # A gateway answered: it may have passed the POST on before it gave up.
            raise UncertainCreate(
                StreamingError(f"a gateway answered the create of {point.directory} with an error", method="POST", url=url, status=status, body=response.text)
            )
        raise self._create_failure(response, point)

    def _create_failure(self, response, point: PublishingPoint) -> StreamingError:
        """The error for a create the server refused (reference, "Create")."""
        refusals = {
            404: (
                f"could not create {point.directory}: the base path does not exist or no manifest was sent",
                f"Create the parent directory {point.base_path or '/'} on the server, or check base_path",
            ),
            413: _TOO_LARGE,
            400: (f"the server rejected the manifest for {point.directory}", "The SMIL may be malformed, or base_path may be inside another publishing point"),
            500: (f"the server failed to create the resources of {point.directory}", "See the web server's error log"),
        }
        if response.status_code in refusals:
            return self._error(response, *refusals[response.status_code])
        return self._common_failure(response, point, f"could not create publishing point {point.directory}")

    def update(self, point: PublishingPoint, manifest: str) -> bool:
        """PUT the manifest: True if updated, False if the point does not exist (HTTP 404)."""
        data = manifest.encode("utf-8")
        check_smil_size(len(data), f"the manifest for {point.directory}", sending=True)
        response = self.http.request("PUT", self.api_url(point), data=data, headers=_SMIL_HEADERS)
        if response.status_code == 200:
            return True
        if response.status_code == 404:
            # The body is never empty, so this is "does not exist on server" (reference, "Update").
            return False
        if response.status_code == 413:
            raise self._error(response, *_TOO_LARGE)
        raise self._common_failure(response, point, f"could not update publishing point {point.directory}")

    def delete(self, point: PublishingPoint):
        """DELETE the point: ``"deleted"``; ``"repeated"`` (HTTP 404 to a repeat of a DELETE whose first answer was lost);
        or False (HTTP 404 to the first DELETE: it did not exist, so this request changed nothing).
        """
        response = self.http.request("DELETE", self.api_url(point))
        if response.status_code == 200:
            return "deleted"
        if response.status_code == 404:
            return "repeated" if getattr(response, "attempts", 1) > 1 else False
        if response.status_code == 403:
            state = self.best_effort_state(point)
            raise self._error(
                response,
                f"publishing point {point.directory} cannot be deleted while it is {state or 'ingesting (not idle, starting or stopped)'}; nothing was deleted",
                "Stop the encoder first (it must send End Of Stream so the point becomes 'stopped'), wait for the state with "
                "mediaops.streaming.usp_publishing_point_info wait_for=[stopped, idle], then run this task again",
                details={"publishing_point_state": state},
            )
        if response.status_code == 500:
            raise self._error(
                response, f"the server failed to delete the resources of {point.directory}", "See the web server's error log; the point may be half deleted"
            )
        raise self._common_failure(response, point, f"could not delete publishing point {point.directory}")

    def best_effort_state(self, point: PublishingPoint) -> str | None:
        """The point's state for a message or a prediction, or None when origin_url is not set or the read fails; never raises."""
        if not self.params.get("origin_url"):
            return None
        try:
            state = self.read_state(point)
        except StreamingError:
            return None
        return state["state"] if state else None

    def _read_origin(self, point: PublishingPoint, what: str):
        """The parsed answer of ``/{what}``; None when the point does not exist (404), "" when the answer is empty (204)."""
        response = self.http.request("GET", self.origin_url(point, what))
        if response.status_code == 404:
            return None
        if response.status_code == 204:
            return ""
        if response.status_code in (401, 403):
            raise self._error(
                response,
                f"access to {what} was denied",
                "Check that the origin virtual host allows this host to read state, statistics and archive, and username and password if it asks for them",
            )
        if response.status_code != 200:
            raise self._error(
                response, f"could not read the {what} of publishing point {point.directory}", "Check that origin_url points at the origin virtual host"
            )
        return self.parse_answer(response.content, f"the {what} answer of {point.directory}", self.origin_url(point, what), "origin_url")

    def read_state(self, point: PublishingPoint) -> dict | None:
        """``{"state", "updated"}`` from ``/state``, or None when the point does not exist."""
        root = self._read_origin(point, "state")
        if root is None or root == "":
            return None
        head = read_head_options(root)
        state = head.get("state")
        if state is None:
            raise StreamingError(
                f"the state answer of {point.directory} has no 'state' meta",
                method="GET",
                url=self.origin_url(point, "state"),
                status=200,
                advice="Check that origin_url points at the USP origin virtual host",
            )
        return {"state": state, "updated": head.get("updated")}

    def _read_tracks(self, point: PublishingPoint, what: str, track_values) -> list | None:
        """``track_values`` of each track of ``/{what}``; [] when empty (HTTP 204), None when the point does not exist."""
        root = self._read_origin(point, what)
        if root is None:
            return None
        if root == "":
            return []
        return [track_values(track) for track in read_body_tracks(root)]

    def read_statistics(self, point: PublishingPoint) -> list | None:
        """Per-track statistics; [] when empty (HTTP 204), None when the point does not exist."""
        return self._read_tracks(point, "statistics", _statistics_track)

    def read_archive(self, point: PublishingPoint) -> list | None:
        """Archived ranges per track; [] when empty (HTTP 204), None when the point does not exist."""
        return self._read_tracks(point, "archive", _archive_track)

    def purge(self, point: PublishingPoint, window: str) -> None:
        """POST ``/purge?t={window}`` on the origin (reference, "Purge part of an archive")."""
        # Purging a window twice leaves the same archive, so a retry is safe.
        response = self.http.request("POST", self.origin_url(point, "purge"), params={"t": window}, data=b"", repeatable=True)
        if response.status_code in (200, 204):
            return
        if response.status_code == 404:
            raise self._error(response, f"publishing point {point.directory} does not exist on the origin", "Check name, base_path and origin_url")
        if response.status_code in (401, 403, 405):
            raise self._error(
                response,
                "the origin refused the purge",
                "Check that the origin allows HTTP POST from this host on the publishing point URL, and username and password if it asks for them",
            )
        raise self._error(response, f"purging the archive of {point.directory} failed")
