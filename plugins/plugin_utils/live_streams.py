# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sources of the ``mediaops.streaming.live_streams`` inventory: live streams read through the collection's clients, as host facts.

One live stream is one host. Its facts are flat variables with the
``live_stream_`` prefix, the same keys for every vendor (docs/inventory.md,
"Host variables"): what a source does not know is ``null``, never a guess.
The readers take the parameters the vendor's modules take and an
:class:`~..module_utils.context.ExecutionContext`, and go through the same
clients, so requests are signed, retried and refused exactly as the modules'
are. Everything else here is pure: the mapping of one answer item to host
facts, which Red5 list items are live streams, unique host names, filters.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.json_answer import AnswerError, describe, printable
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.connect import open_client
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.paths import SM2
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.client import ScaleEngineClient
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.names import check_names
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.pushpublish import sessions_of
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.stream import active_streams

SCALEENGINE = "scaleengine"
RED5 = "red5"
VENDORS = (SCALEENGINE, RED5)
VENDOR_LABELS = {SCALEENGINE: "ScaleEngine", RED5: "Red5 Stream Manager"}
PREFIX = "live_stream_"
HOST_VARIABLES = tuple(
    PREFIX + key for key in ("vendor", "app", "instance", "name", "id", "scope", "origin", "region", "subscribers", "start_time", "pushpublish", "api_version")
)

# What a ScaleEngine stream.active record calls each fact, first present wins. The
# reference lists what the details hold ("stream name, ... encoder connect and
# publish times, ... pushpublish sessions") without naming every field
# (docs/inventory.md, "What was inferred").
_SCALEENGINE_NAME_KEYS = ("stream", "name")
_SCALEENGINE_ID_KEYS = ("stream_id", "id")
_SCALEENGINE_ORIGIN_KEYS = ("origin_url", "origin", "server")
_SCALEENGINE_VIEWER_KEYS = ("viewers", "viewer_count", "subscribers", "clients")
_SCALEENGINE_START_KEYS = ("publish_time", "encoder_connect_time", "start_time")
# A session's fields that say what state it is in; its push target is left out, because a push URL commonly carries the
# destination's stream key.
_SESSION_STATE_KEYS = ("status", "state")
_WHOLE_NUMBER = re.compile(r"[0-9]{1,19}")
# Red5 1.x 3.1/4.0 list items: one "origin" item per stream and one "edge" item per edge serving it (docs/red5.md, "API versions").
_RED5_ORIGIN_TYPE = "origin"


def host_facts(vendor: str, name: str, **facts) -> dict:
    """Every host variable of one live stream: the given facts, ``null`` for the others, ``[]`` for ``pushpublish``."""
    unknown = set(facts) - {variable[len(PREFIX) :] for variable in HOST_VARIABLES}
    if unknown:
        raise TypeError(f"unknown host facts: {', '.join(sorted(unknown))}")
    values = {variable: None for variable in HOST_VARIABLES}
    values[PREFIX + "pushpublish"] = []
    values.update({PREFIX + key: value for key, value in facts.items()})
    values[PREFIX + "vendor"] = vendor
    values[PREFIX + "name"] = name
    return values


def _whole_number(value) -> int | None:
    """A whole number of 0 or more (also as a string of digits), else None."""
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def epoch_seconds_to_iso(value) -> str | None:
    """Unix seconds (a whole number, also as digits) as ISO 8601 UTC (``2026-03-02T09:50:00Z``); None for anything else."""
    seconds = _whole_number(value)
    if seconds is None:
        return None
    try:
        moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.isoformat().replace("+00:00", "Z")


def _first(record: dict, keys: tuple[str, ...]):
    for key in keys:
        if record.get(key) is not None:
            return record[key]
    return None


def _text(value) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def scaleengine_pushpublish(record: dict, where: str) -> list[dict]:
    """The PushPublish sessions a stream.active record lists: ``entry_name``, ``push_service_id``, ``connected`` and the state the answer gives.

    Read as ``scaleengine_pushpublish`` reads them (docs/scaleengine.md, "What
    was inferred"); a shape that cannot be read raises :class:`AnswerError`.
    """
    try:
        sessions = sessions_of([record])
    except AnswerError as exc:
        raise AnswerError(f"{where}: {exc}") from None
    entries = []
    for session in sessions or []:
        entry = {"entry_name": session.get("entry_name"), "push_service_id": session.get("push_service_id"), "connected": session["_connected"]}
        for key in _SESSION_STATE_KEYS:
            if isinstance(session.get(key), str):
                entry[key] = session[key]
        entries.append(entry)
    return entries


def scaleengine_stream_facts(record, app: str, inst: str, where: str = "the stream") -> dict:
    """The host facts of one record of ScaleEngine's ``stream.active`` for ``app``/``inst``; :class:`AnswerError` when it has no stream name."""
    if not isinstance(record, dict):
        raise AnswerError(f"{where} is {describe(record)}, not an object")
    name = _first(record, _SCALEENGINE_NAME_KEYS)
    if _text(name) is None:
        raise AnswerError(f'{where} has no stream name ("stream" is {describe(name)})')
    stream_id = _first(record, _SCALEENGINE_ID_KEYS)
    number = _whole_number(stream_id)
    return host_facts(
        SCALEENGINE,
        name,
        app=app,
        instance=inst,
        id=number if number is not None else _text(stream_id),
        origin=_text(_first(record, _SCALEENGINE_ORIGIN_KEYS)),
        region=_text(record.get("region")),
        subscribers=_whole_number(_first(record, _SCALEENGINE_VIEWER_KEYS)),
        start_time=epoch_seconds_to_iso(_first(record, _SCALEENGINE_START_KEYS)),
        pushpublish=scaleengine_pushpublish(record, where),
    )


def is_live_stream_item(stream: dict, api_version: str) -> bool:
    """Whether a normalised Red5 list item is a live stream: on 1.x its origin item (``type`` origin, or no type before 3.1); on 2.0 every row."""
    if api_version == SM2:
        return True
    return stream.get("type") in (None, _RED5_ORIGIN_TYPE)


def red5_stream_facts(stream: dict, api_version: str) -> dict:
    """The host facts of one normalised Red5 list item (``Red5Client.list_streams`` / ``Sm2Client.list_streams``)."""
    return host_facts(
        RED5,
        stream["name"],
        id=stream.get("stream_guid") if api_version == SM2 else None,
        scope=stream.get("scope"),
        origin=stream.get("server_address"),
        region=stream.get("region"),
        subscribers=stream.get("current_subscribers"),
        start_time=stream.get("start_time"),
        api_version=api_version,
    )


def describe_stream(facts: dict) -> str:
    """How messages name a stream: ``scaleengine stream demo-origin/live/ch1``, ``red5 stream live/ch1``."""
    vendor = facts[PREFIX + "vendor"]
    parts = [facts[PREFIX + "app"], facts[PREFIX + "instance"]] if vendor == SCALEENGINE else [facts[PREFIX + "scope"]]
    return f"{vendor} stream " + "/".join(str(part) for part in [*parts, facts[PREFIX + "name"]] if part is not None)


class HostNames:
    """Unique host names for the streams of one inventory source, in the order the streams come.

    The first stream keeps the name its template rendered; a later one that
    renders a taken name becomes ``<name>@<vendor>``, then
    ``<name>@<vendor>:<app>/<inst>`` (Red5: ``<name>@red5:<scope>``), then
    that with ``~2``, ``~3``... (docs/inventory.md, "Host names").
    """

    def __init__(self):
        self.owners: dict[str, dict] = {}

    def assign(self, rendered: str, facts: dict) -> tuple[str, str | None]:
        """The host name of the stream ``facts`` whose template rendered ``rendered``, and the warning to give when it had to change."""
        vendor = facts[PREFIX + "vendor"]
        place = f"{facts[PREFIX + 'app']}/{facts[PREFIX + 'instance']}" if vendor == SCALEENGINE else str(facts[PREFIX + "scope"])
        candidates = [rendered, f"{rendered}@{vendor}", f"{rendered}@{vendor}:{place}"]
        name = next((candidate for candidate in candidates if candidate not in self.owners), None)
        count = 2
        while name is None:
            if f"{candidates[-1]}~{count}" not in self.owners:
                name = f"{candidates[-1]}~{count}"
            count += 1
        self.owners[name] = facts
        if name == rendered:
            return name, None
        owner = self.owners[rendered]
        return name, (
            f"live_streams: {describe_stream(owner)} and {describe_stream(facts)} both have the host name '{rendered}'; "
            f"the {describe_stream(facts)} is named '{name}' (set hostname to a template that tells them apart, or filter one out)"
        )


class FilterError(Exception):
    """A filter that could not be evaluated for a stream, with ``strict`` on."""


def passes_filters(filters, evaluate, strict: bool, warn, label: str) -> bool:
    """Whether every filter (a Jinja2 conditional) is true for one stream.

    ``evaluate(condition)`` returns its truth. A filter that fails to evaluate
    raises :class:`FilterError` with ``strict``, and otherwise is ignored for
    this stream with a warning, as constructed inventories ignore a failed
    expression.
    """
    for condition in filters or ():
        try:
            if not evaluate(condition):
                return False
        except Exception as exc:  # pylint: disable=broad-exception-caught  # any template error is the filter's, reported with it
            message = f"live_streams: could not evaluate the filter {condition!r} for {label}: {exc}"
            if strict:
                raise FilterError(message) from None
            warn(message + " (the filter is ignored for it: strict is false)")
    return True


# -- the sources --------------------------------------------------------------------------


def scaleengine_apps(apps) -> list[tuple[str, str]]:
    """``scaleengine_apps`` as (app, inst) pairs in order, duplicates dropped; StreamingError naming the item that is not an {app, inst}."""
    pairs = []
    if not apps:
        raise StreamingError("scaleengine_apps must list at least one application instance, for example [{app: demo-origin, inst: live}]")
    for index, item in enumerate(apps):
        if not isinstance(item, dict) or set(item) - {"app", "inst"} or not all(_text(item.get(key)) for key in ("app", "inst")):
            raise StreamingError(
                f"item {index + 1} of scaleengine_apps is {printable(repr(item), 100)}, not a mapping with the text keys app and inst",
                advice="stream.active needs both, for example {app: demo-origin, inst: live}",
            )
        check_names(item, ("app", "inst"))
        pair = (item["app"], item["inst"])
        if pair not in pairs:
            pairs.append(pair)
    return pairs


def read_scaleengine_streams(params: dict, apps, context, client=None) -> list[dict]:
    """The host facts of the live streams of every (app, inst): one ``stream.active`` each, through one client (one HTTP session)."""
    pairs = scaleengine_apps(apps)
    if params["cdn"] is None:
        raise StreamingError("the ScaleEngine source needs the CDN id: set scaleengine_cdn or SCALEENGINE_CDN")
    facts = []
    with client if client is not None else ScaleEngineClient(params, context) as api:
        for app, inst in pairs:
            records = active_streams(api, {"app": app, "inst": inst, "origin_url": None})
            try:
                facts.extend(
                    scaleengine_stream_facts(record, app, inst, f"stream {index + 1} of the stream.active answer for {app}/{inst}")
                    for index, record in enumerate(records)
                )
            except AnswerError as exc:
                raise api.malformed("stream.active", str(exc)) from None
    return facts


def read_red5_streams(params: dict, context, client=None) -> list[dict]:
    """The host facts of the Stream Manager's live streams: its list with stats (``api_version`` ``auto`` is detected first)."""
    if not params["url"]:
        raise StreamingError("the Red5 source needs the Stream Manager's URL: set red5_url or RED5_SM_URL")
    with client if client is not None else open_client(params, context) as red5:
        api_version = red5.api_version
        return [red5_stream_facts(stream, api_version) for stream in red5.list_streams(stats=True) if is_live_stream_item(stream, api_version)]
