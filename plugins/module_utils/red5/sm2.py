# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stream Manager 2.0's REST API (``{url}/as/v1/...``): requests, login, and its answers in the shape of 1.x's.

The client speaks HTTP and maps answers; it never decides ``changed``. Its
methods have the names and return the :class:`~.answers.Answer` shapes of the
1.x client (:class:`~.client.Red5Client`), so the work functions serve both
families: a 2.0 row (``streamGuid``, ``serverAddress``, ``nodeRole``,
``subGroup``, ``nodeState``, ``subscribers``, ``durationMs``) becomes a 1.x
stream (``name``, ``scope``, ``serverAddress``, ``region``, ``type``,
``currentSubscribers``, ``startTime``) that keeps 2.0's other keys
(docs/red5.md, "Stream Manager 2.0").

Authentication (docs/red5.md, "Login"): the stream calls are public and go
without an Authorization header. Calls that need a token (the administration
API; stream calls too, on a deployment that answers them with 401) log in with
``PUT auth/login`` and HTTP Basic, keep the JWT for the module run, log in
again when its ``exp`` is less than a minute away (or a tenth of the lifetime
it came with, if shorter), and once more on a 401. The token is registered as
a secret the moment it arrives, and the login's answer is never quoted.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from urllib.parse import urlencode

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError, register_secret
from ansible_collections.mediaops.streaming.plugins.module_utils.http_client import ApiClient
from ansible_collections.mediaops.streaming.plugins.module_utils.json_answer import MAX_ANSWER_BYTES, AnswerError, decode_json_answer, describe, printable
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.answers import (
    SM2_ERROR_KEYS,
    Answer,
    normalise_stream,
    parse_answer,
    unusable,
    whole_number,
)
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.paths import SM2, guid_path, sm2_base, validate_node_group, validate_place

# Log in again when the token has less than this left, or less than a tenth of
# the lifetime it had when it came, whichever is shorter: a request sent with a
# token that expires on the way is refused, and the lifetime is the deployment's
# choice (R5AS_AUTH_JWT_TTL_MINUTES: 400 or 800 minutes), so it is read from the token.
TOKEN_REFRESH_SECONDS = 60
TOKEN_REFRESH_SHARE = 0.1
# nodeRole is the role name of the node group's configuration; these are the
# names Red5 Pro's own configurations use for the node a stream is published to.
_ORIGIN_ROLES = ("origin", "allinone")
# 2.0 keys that become 1.x keys (the rest are kept as they are, in snake_case).
_MAPPED_KEYS = {"serverAddress": "serverAddress", "subGroup": "region", "nodeRole": "type", "subscribers": "currentSubscribers"}
_CREDENTIALS_ADVICE = (
    "Set username and password (or RED5_SM_USERNAME and RED5_SM_PASSWORD) to the Stream Manager's administrator (R5AS_AUTH_USER, R5AS_AUTH_PASS)"
)


def _sm2_failure_advice(status: int, error_message: str | None) -> str:
    if status == 404 and error_message is None:
        return "Check url (scheme and host, usually https://<the name the Stream Manager was installed with>) and that the server is a Stream Manager 2.0"
    if status in (401, 403):
        return _CREDENTIALS_ADVICE
    if status >= 500:
        return "The Stream Manager failed to answer; check the logs of its services (as-streams, as-admin, as-auth) and its node group"
    return "Check the request parameters (node_group, region, endpoints, strict)"


def token_expiry(token: str) -> float | None:
    """The ``exp`` (epoch seconds) of a JWT, read without verifying it; None when the token does not say.

    The client only needs to know when to log in again; the server verifies
    the signature. Red5's tokens carry ``exp`` and no ``iat``.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        return None
    expiry = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(expiry, bool) or not isinstance(expiry, (int, float)):
        return None
    return float(expiry)


def split_guid(guid, where: str) -> tuple[str, str]:
    """``live/sub/stream1`` -> (``live/sub``, ``stream1``): the last segment is the name, as Red5's own clients split it."""
    if not isinstance(guid, str):
        raise AnswerError(f'the "streamGuid" of {where} is {describe(guid)}, not text')
    scope, _slash, name = guid.strip("/").rpartition("/")
    if not scope or not name:
        raise AnswerError(f'the "streamGuid" of {where} is "{printable(guid, 80)}", not <scope>/<name>')
    return scope, name


def translate_row(row, where: str, now_ms: int) -> dict:
    """One 2.0 node-stream object in 1.x's shape (camelCase, before :func:`~.answers.normalise_stream`).

    ``startTime`` is ``now_ms`` minus ``durationMs`` (how long the stream has
    been up); both ``durationMs`` and ``nodeState`` are kept. A plain string
    (what pre-release list answers held) is taken as the stream's guid.
    """
    if isinstance(row, str):
        row = {"streamGuid": row}
    if not isinstance(row, dict):
        raise AnswerError(f"{where} is {describe(row)}, not an object")
    for key in ("subGroup", "nodeRole", "nodeState"):
        value = row.get(key)
        if value is not None and not isinstance(value, str):
            raise AnswerError(f'the "{key}" of {where} is {describe(value)}, not text')
    stream = {key: value for key, value in row.items() if key not in _MAPPED_KEYS and key not in ("name", "scope", "startTime", "region", "type")}
    if row.get("streamGuid") is not None:
        stream["scope"], stream["name"] = split_guid(row["streamGuid"], where)
    for key, mapped in _MAPPED_KEYS.items():
        if key in row:
            stream[mapped] = row[key]
    if row.get("subscribers") is not None:
        stream["currentSubscribers"] = whole_number(row["subscribers"], "subscribers", where, minimum=0)
    if row.get("durationMs") is not None:
        duration = whole_number(row["durationMs"], "durationMs", where, minimum=0)
        stream["durationMs"] = duration
        stream["startTime"] = now_ms - duration
    return stream


def _origin_index(rows: list[dict]) -> int:
    for role in _ORIGIN_ROLES:
        for index, row in enumerate(rows):
            if row.get("type") == role:
                return index
    return 0


class Sm2Client(ApiClient):
    """Stream Manager 2.0 for the task's ``url`` and ``node_group``."""

    api_version = SM2

    def __init__(self, params, context, http=None, clock=time.time):
        # Refuse a bad URL or node group before a session is opened.
        self.base = sm2_base(params["url"])
        self.node_group = validate_node_group(params["node_group"])
        super().__init__(params, context, http=http)
        self.http.max_response_bytes = MAX_ANSWER_BYTES
        self._username = params.get("username")
        self._password = params.get("password")
        self._clock = clock
        self._token = None
        self._token_expiry = None
        self._refresh_margin = TOKEN_REFRESH_SECONDS
        # Set when a stream call answered 401: the deployment protects them, so they carry the token from then on.
        self._streams_need_token = False
        self._node_group_confirmed = False

    # -- login ---------------------------------------------------------------------------

    def has_credentials(self) -> bool:
        return bool(self._username) and bool(self._password)

    def login(self) -> None:
        """``PUT auth/login`` with HTTP Basic and an explicit empty body; keeps the token and when it expires."""
        if not self.has_credentials():
            raise StreamingError("this Stream Manager 2.0 call needs a login, and username or password is not set", advice=_CREDENTIALS_ADVICE)
        url = self.base + "auth/login"
        pair = base64.b64encode(f"{self._username}:{self._password}".encode()).decode("ascii")
        # Content-Length: 0 on a body-less PUT: some front ends (Red5's own installers
        # add it for Google Cloud's load balancer) refuse a PUT that has none.
        headers = {"Authorization": f"Basic {pair}", "Accept": "application/json", "Content-Length": "0"}
        response = self.http.request("PUT", url, data=b"", headers=headers)
        self._accept_token(response, url)

    def _accept_token(self, response, url: str) -> None:
        """Keep the token of a login answer; the answer itself is never quoted in an error, since it may hold the token."""
        if response.status_code in (401, 403):
            raise StreamingError(
                "the Stream Manager refused the login: wrong username or password",
                method="PUT",
                url=url,
                status=response.status_code,
                advice="Check username and password (or RED5_SM_USERNAME and RED5_SM_PASSWORD): "
                "they are the Stream Manager's R5AS_AUTH_USER and R5AS_AUTH_PASS",
            )
        if not 200 <= response.status_code < 300:
            # A refused login carries no token: its error text is worth showing.
            parse_answer(response, "PUT", url, error_keys=SM2_ERROR_KEYS, advice=_sm2_failure_advice)
        try:
            data = decode_json_answer(response.content or b"")
        except AnswerError as exc:
            data, problem = None, str(exc)
        else:
            problem = (
                None if isinstance(data, dict) and isinstance(data.get("token"), str) and data["token"].strip() else f"it is {describe(data)} without a token"
            )
        if problem is not None:
            raise StreamingError(
                f"the Stream Manager's login answer cannot be used: {problem}",
                method="PUT",
                url=url,
                status=response.status_code,
                advice='Check that url points at a Stream Manager 2.0 (its login answers {"token": ...})',
            )
        token = data["token"]
        # Both forms: the one sent (trimmed) and the one received.
        register_secret(token)
        register_secret(token.strip())
        self._token = token.strip()
        self._token_expiry = token_expiry(self._token)
        if self._token_expiry is not None:
            lifetime = max(0.0, self._token_expiry - self._clock())
            self._refresh_margin = min(TOKEN_REFRESH_SECONDS, lifetime * TOKEN_REFRESH_SHARE)

    def _bearer(self) -> dict:
        """The Authorization header, logging in first when there is no token or it is about to expire."""
        if self._token is None or (self._token_expiry is not None and self._token_expiry - self._clock() < self._refresh_margin):
            self.login()
        return {"Authorization": f"Bearer {self._token}"}

    # -- requests ----------------------------------------------------------------------------

    def _send(self, path: str, query: dict | None, headers: dict | None = None):
        all_headers = {"Accept": "application/json", **(headers or {})}
        return self.http.request("GET", self.base + path, params=query or None, headers=all_headers)

    def _parse(self, response, path: str, query: dict | None, not_found_ok: bool) -> Answer:
        shown = self.base + path + (f"?{urlencode(query)}" if query else "")
        # 2.0's 400 is a refused parameter, never "not live" (1.x used it for that).
        return parse_answer(response, "GET", shown, not_found_ok=not_found_ok, error_keys=SM2_ERROR_KEYS, advice=_sm2_failure_advice, not_found_statuses=(404,))

    def _authorized_get(self, path: str, query: dict | None = None, not_found_ok: bool = False) -> Answer:
        """A GET with the token; a 401 (the token expired or was revoked early) logs in once more and repeats it."""
        response = self._send(path, query, self._bearer())
        if response.status_code == 401:
            self.login()
            response = self._send(path, query, self._bearer())
        return self._parse(response, path, query, not_found_ok)

    def _public_get(self, path: str, query: dict | None = None, not_found_ok: bool = False) -> Answer:
        """A stream call: without Authorization, unless this deployment answered one with 401."""
        if self._streams_need_token:
            return self._authorized_get(path, query, not_found_ok)
        response = self._send(path, query)
        if response.status_code == 401:
            if not self.has_credentials():
                raise StreamingError(
                    "this Stream Manager asks for a login on its stream calls, and username or password is not set",
                    method="GET",
                    url=self.base + path,
                    status=401,
                    advice=_CREDENTIALS_ADVICE,
                )
            self._streams_need_token = True
            return self._authorized_get(path, query, not_found_ok)
        return self._parse(response, path, query, not_found_ok)

    # -- node groups ------------------------------------------------------------------------------

    def list_node_groups(self) -> list[str]:
        """``GET admin/nodegroup`` (with the token): the names of the node groups."""
        answer = self._authorized_get("admin/nodegroup")
        if not isinstance(answer.data, list) or not all(isinstance(name, str) for name in answer.data):
            raise unusable(answer, f"the node group list is {describe(answer.data)}, not a JSON array of names")
        return answer.data

    def _node_group_error(self, answer: Answer) -> StreamingError:
        advice = "Set node_group (or RED5_SM_NODE_GROUP) to the node group's name; default names the only node group only when there is exactly one"
        if self.has_credentials():
            try:
                names = self.list_node_groups()
            except StreamingError as exc:
                advice += f" (listing the node groups failed: {exc})"
            else:
                advice += f"; this Stream Manager has {', '.join(names) if names else 'no node group'}"
        else:
            advice += "; with username and password set, this message lists the node groups the Stream Manager has"
        reason = f": {answer.message}" if answer.message else ""
        return StreamingError(
            f'node group "{self.node_group}" was not found on the Stream Manager{reason}',
            method=answer.method,
            url=answer.url,
            status=answer.status,
            advice=advice,
        )

    def _confirm_node_group(self) -> None:
        """After a 404 from a stream call: the node group's stream list tells "not live" (it exists) from "no such node group" (404 again)."""
        if self._node_group_confirmed:
            return
        listing = self._public_get(f"streams/stream/{self.node_group}", not_found_ok=True)
        if not listing.found:
            raise self._node_group_error(listing)
        self._node_group_confirmed = True

    # -- streams ------------------------------------------------------------------------------

    def _rows(self, answer: Answer, what: str) -> list[dict]:
        """The answer's rows in 1.x's shape; ``null`` items skipped."""
        if not isinstance(answer.data, list):
            raise unusable(
                answer, f"{what} is {describe(answer.data)}, not a JSON array", advice="Check that api_version matches the server (sm2 for Stream Manager 2.0)"
            )
        now_ms = int(self._clock() * 1000)
        try:
            return [translate_row(row, f"item {index} of {what}", now_ms) for index, row in enumerate(answer.data) if row is not None]
        except AnswerError as exc:
            raise unusable(answer, str(exc)) from None

    def _not_found(self, answer: Answer) -> Answer:
        self._confirm_node_group()
        return answer

    def read_stream_stats(self, scope: str, name: str) -> Answer:
        """``GET streams/stream/{ng}/stream/{guid}?aggregate=false``: where the stream is (origin first), or ``Answer(found=False)``.

        Every node carrying the stream answers a row; the stream is its origin
        (``nodeRole`` origin, else allinone, else the first row) with the
        subscribers of all rows added up, and the rows as ``nodes``. Not live
        is a 404 with an error, or an empty array (docs/red5.md, "What was
        assumed for Stream Manager 2.0").
        """
        path = f"streams/stream/{self.node_group}/stream/{guid_path(scope, name)}"
        answer = self._public_get(path, {"aggregate": "false"}, not_found_ok=True)
        if not answer.found:
            return self._not_found(answer)
        rows = self._rows(answer, "the stream's stats")
        if not rows:
            return Answer(False, message=f"no node reports stream {scope}/{name} as live", status=answer.status, method=answer.method, url=answer.url)
        stream = dict(rows[_origin_index(rows)])
        counts = [row["currentSubscribers"] for row in rows if row.get("currentSubscribers") is not None]
        if counts:
            stream["currentSubscribers"] = sum(counts)
        stream["nodes"] = [{key: value for key, value in row.items() if key not in ("name", "scope", "streamGuid", "startTime")} for row in rows]
        return Answer(True, data=stream, status=answer.status, method=answer.method, url=answer.url)

    def read_stream(self, scope, name, action, region=None, strict=None, geozone=None, endpoints=None, transcode=None) -> Answer:
        """The node for ``action``: the origin of the live stream (``broadcast``) or an edge (``subscribe``).

        ``broadcast`` reads the stream's stats: 2.0's publish lookup
        distributes provisions and answers 409 for a live stream, so an info
        module never sends it. ``geozone`` and ``transcode`` were refused
        before any request (paths.check_parameter_support).
        """
        if action == "broadcast":
            return self.read_stream_stats(scope, name)
        query = {}
        if region:
            query["subgroup"] = validate_place(region, "region")
        if strict is not None:
            query["strict"] = "true" if strict else "false"
        if endpoints is not None:
            query["endpoints"] = str(endpoints)
        path = f"streams/stream/{self.node_group}/subscribe/{guid_path(scope, name)}"
        answer = self._public_get(path, query, not_found_ok=True)
        if not answer.found:
            return self._not_found(answer)
        rows = self._rows(answer, "the subscribe lookup's answer")
        if not rows:
            return Answer(
                False, message=f"the Stream Manager found no edge for stream {scope}/{name}", status=answer.status, method=answer.method, url=answer.url
            )
        # A lookup row's subscribers are that node's, not the stream's: kept apart from the stats' total.
        nodes = [{("nodeSubscribers" if key == "currentSubscribers" else key): value for key, value in row.items()} for row in rows]
        data = nodes if endpoints is not None and endpoints > 1 else nodes[0]
        return Answer(True, data=data, status=answer.status, method=answer.method, url=answer.url)

    def list_streams(self, stats: bool = False) -> list[dict]:
        """``GET streams/stream/{ng}[?stats=true]``: one row per live stream (its origin; with stats, subscribers of the whole cluster), normalised."""
        path = f"streams/stream/{self.node_group}"
        query = {"stats": "true"} if stats else None
        answer = self._public_get(path, query, not_found_ok=True)
        if not answer.found:
            raise self._node_group_error(answer)
        self._node_group_confirmed = True
        streams = []
        try:
            for index, row in enumerate(self._rows(answer, "the stream list")):
                where = f"item {index} of the stream list"
                if row.get("name") is None:
                    raise AnswerError(f"{where} has no streamGuid")
                streams.append(normalise_stream(row, where))
        except AnswerError as exc:
            raise unusable(answer, str(exc)) from None
        return streams
