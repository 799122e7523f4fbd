# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One way in for both Stream Manager families: the client for ``api_version``, detected when it is ``auto``.

Detection (docs/red5.md, "Which Stream Manager"): Stream Manager 2.0 answers
``GET {url}/as/v1/admin/healthz`` without authentication (its load balancers'
health check); 1.x answers ``GET {url}/streammanager/api/{version}/event/list``
with a JSON array. Neither server has a version call. An HTML page proves
nothing (2.0 serves a debug UI for every path it does not route), so the
detection fails, naming both probes and their answers, rather than guess.
"""

from __future__ import annotations

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.http_client import HttpClient
from ansible_collections.mediaops.streaming.plugins.module_utils.json_answer import AnswerError, decode_json_answer, printable
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.client import Red5Client
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.paths import AUTO, SM2, api_base, sm2_base, validate_node_group, validate_url
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.sm2 import Sm2Client

# Newest first: a 1.x server answers the versions it knows, and the newest is the richest.
DETECTION_VERSIONS = ("4.0", "3.1", "3.0", "2.0", "1.0")


def _media_type(response) -> str:
    return (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()


def _what_answered(response) -> str:
    media_type = _media_type(response)
    return f"HTTP {response.status_code} ({printable(media_type, 60) if media_type else 'no Content-Type'})"


def _is_json_array(response) -> bool:
    if not 200 <= response.status_code < 300 or "json" not in _media_type(response):
        return False
    try:
        return isinstance(decode_json_answer(response.content or b""), list)
    except AnswerError:
        return False


def detect_api_version(http, url: str) -> str:
    """``sm2``, or the newest 1.x API version the server answers; StreamingError naming every probe when neither answers."""
    healthz = sm2_base(url) + "admin/healthz"
    response = http.request("GET", healthz, headers={"Accept": "application/json"})
    if 200 <= response.status_code < 300 and _media_type(response) != "text/html":
        return SM2
    probes = [f"GET {healthz} answered {_what_answered(response)}"]
    for version in DETECTION_VERSIONS:
        event_list = api_base(url, version) + "event/list"
        response = http.request("GET", event_list, headers={"Accept": "application/json"})
        if _is_json_array(response):
            return version
        probes.append(f"GET {event_list} answered {_what_answered(response)}")
    raise StreamingError(
        f"could not tell which Stream Manager API answers at {validate_url(url)}: a Stream Manager 2.0 answers its health check with 2xx, "
        f"a 1.x its stream list with a JSON array, and here {'; '.join(probes)}",
        advice="Check url (scheme, host and port; Stream Manager 2.0 routes only the host name it was installed with), "
        "or set api_version (sm2 for Stream Manager 2.0, 1.0 to 4.0 for 1.x) to skip the detection",
    )


def _client_class(api_version: str):
    return Sm2Client if api_version == SM2 else Red5Client


def open_client(params: dict, context):
    """The client of the task's ``api_version``; with ``auto``, of the version the server answered the probes for.

    The detection and the client share one HTTP session.
    """
    if params["api_version"] != AUTO:
        return _client_class(params["api_version"])(params, context)
    validate_url(params["url"])
    validate_node_group(params["node_group"])
    http = HttpClient.from_params(params, warn=context.warn)
    try:
        api_version = detect_api_version(http, params["url"])
        return _client_class(api_version)(dict(params, api_version=api_version), context, http=http)
    except BaseException:
        http.close()
        raise
