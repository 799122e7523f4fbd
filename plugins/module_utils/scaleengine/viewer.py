# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Work of ``scaleengine_viewer_info``: live viewer records from ``viewer.live``, returned as the API sent them."""

from __future__ import annotations

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.json_answer import describe
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.client import ScaleEngineClient
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.names import check_name


def _one_app(value):
    if isinstance(value, bool) or not isinstance(value, (str, int)) or (isinstance(value, str) and not value.strip()):
        raise StreamingError(f"app must be an application name, an id or a list of them, not {describe(value)}")
    return check_name(value, "app")


def app_value(value):
    """``app`` as the API takes it: a name, an id, or a flat list of names and ids."""
    if isinstance(value, (list, tuple)):
        if not value:
            raise StreamingError("app must not be an empty list")
        return [_one_app(item) for item in value]
    return _one_app(value)


def url_value(value):
    """``url`` as the API takes it: a stream name or VOD path ('|'-separated, wildcards allowed), or a list of them."""
    if isinstance(value, (list, tuple)):
        if not value or not all(isinstance(item, str) and item for item in value):
            raise StreamingError("url must be a non-empty string or a list of non-empty strings")
        return check_name(list(value), "url")
    if not isinstance(value, str) or not value:
        raise StreamingError("url must be a stream name, a VOD path, a '|'-separated list of them (wildcards allowed) or a list")
    return check_name(value, "url")


def viewer_info(params, context, client=None) -> dict:
    """Work of ``scaleengine_viewer_info``: live viewer records from ``viewer.live``, returned as the API sent them."""
    fields = {"app": app_value(params["app"])}
    if params["url"] is not None:
        fields["url"] = url_value(params["url"])
    with client if client is not None else ScaleEngineClient(params, context) as api:
        answer = api.call("viewer.live", fields)
        return dict(viewers=api.records("viewer.live", answer), message=api.message(answer))
