# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs and constraints of the scaleengine_* modules: the one place where they are stated.

``CONNECTION_SPEC`` is mirrored by the ``mediaops.streaming.scaleengine`` doc
fragment; each module's own options by its DOCUMENTATION.

Each module's ``*_MODULE_KWARGS`` are the keyword arguments of its ``AnsibleModule``: the spec with its
constraints. ``ArgumentSpecValidator`` takes the same keywords, so a test validates parameters as the module does.
"""

from __future__ import annotations

from ansible.module_utils.common.parameters import env_fallback

from ansible_collections.mediaops.streaming.plugins.module_utils.http_client import HTTP_ARGUMENT_SPEC
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.client import DEFAULT_API_URL

CONNECTION_SPEC = dict(
    api_url=dict(type="str", default=DEFAULT_API_URL, fallback=(env_fallback, ["SCALEENGINE_API_URL"])),
    cdn=dict(type="int", required=True, fallback=(env_fallback, ["SCALEENGINE_CDN"])),
    api_key=dict(type="str", required=True, no_log=True, fallback=(env_fallback, ["SCALEENGINE_API_KEY"])),
    api_secret=dict(type="str", required=True, no_log=True, fallback=(env_fallback, ["SCALEENGINE_API_SECRET"])),
    **HTTP_ARGUMENT_SPEC,
)

STREAM_SPEC = dict(
    CONNECTION_SPEC,
    app=dict(type="str", required=True),
    inst=dict(type="str", required=True),
    stream=dict(type="str"),
    stream_id=dict(type="int"),
    origin_url=dict(type="str"),
    state=dict(type="str", choices=["closed"], default="closed"),
)
STREAM_MUTUALLY_EXCLUSIVE = [("stream", "stream_id")]
STREAM_REQUIRED_ONE_OF = [("stream", "stream_id")]

PUSHPUBLISH_SPEC = dict(
    CONNECTION_SPEC,
    push_service_id=dict(type="int"),
    app=dict(type="str"),
    inst=dict(type="str"),
    stream=dict(type="str"),
    entry_name=dict(type="str"),
    origin_url=dict(type="str"),
    state=dict(type="str", choices=["disconnected"], default="disconnected"),
)
PUSHPUBLISH_REQUIRED_ONE_OF = [("push_service_id", "entry_name")]
PUSHPUBLISH_REQUIRED_BY = {"entry_name": ("app", "inst")}
PUSHPUBLISH_REQUIRED_TOGETHER = [("app", "inst")]

VIEWER_INFO_SPEC = dict(
    CONNECTION_SPEC,
    app=dict(type="raw", required=True),
    url=dict(type="raw"),
)

COMMAND_SPEC = dict(
    CONNECTION_SPEC,
    command=dict(type="str", required=True),
    params=dict(type="dict", default={}),
    changed=dict(type="bool", default=False),
    read_only=dict(type="bool", default=False),
)

# Each module's AnsibleModule keyword arguments (see the docstring above).
STREAM_MODULE_KWARGS = dict(argument_spec=STREAM_SPEC, mutually_exclusive=STREAM_MUTUALLY_EXCLUSIVE, required_one_of=STREAM_REQUIRED_ONE_OF)
PUSHPUBLISH_MODULE_KWARGS = dict(
    argument_spec=PUSHPUBLISH_SPEC,
    required_one_of=PUSHPUBLISH_REQUIRED_ONE_OF,
    required_by=PUSHPUBLISH_REQUIRED_BY,
    required_together=PUSHPUBLISH_REQUIRED_TOGETHER,
)
VIEWER_INFO_MODULE_KWARGS = dict(argument_spec=VIEWER_INFO_SPEC)
COMMAND_MODULE_KWARGS = dict(argument_spec=COMMAND_SPEC)
