# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs of the Red5 Pro Stream Manager modules, with their constraints.

The only Red5 file that imports Ansible. ``CONNECTION_SPEC`` is mirrored by
the ``mediaops.streaming.red5`` doc fragment (the HTTP options by
``mediaops.streaming.connection``); each module's spec by its DOCUMENTATION.
What depends on ``api_version`` (a parameter only some versions have) cannot
be said here and is refused by the work functions, before any request.

Each module's ``*_MODULE_KWARGS`` are the keyword arguments of its ``AnsibleModule``: the spec with its
constraints. ``ArgumentSpecValidator`` takes the same keywords, so a test validates parameters as the module does.
"""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

from ansible_collections.mediaops.streaming.plugins.module_utils.http_client import HTTP_ARGUMENT_SPEC
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.paths import ACTIONS, API_VERSION_CHOICES, DEFAULT_API_VERSION, DEFAULT_NODE_GROUP

CONNECTION_SPEC = dict(
    url=dict(type="str", required=True, fallback=(env_fallback, ["RED5_SM_URL"])),
    api_version=dict(type="str", default=DEFAULT_API_VERSION, choices=list(API_VERSION_CHOICES), fallback=(env_fallback, ["RED5_SM_API_VERSION"])),
    access_token=dict(type="str", no_log=True, fallback=(env_fallback, ["RED5_SM_ACCESS_TOKEN"])),
    node_group=dict(type="str", default=DEFAULT_NODE_GROUP, fallback=(env_fallback, ["RED5_SM_NODE_GROUP"])),
    username=dict(type="str", fallback=(env_fallback, ["RED5_SM_USERNAME"])),
    password=dict(type="str", no_log=True, fallback=(env_fallback, ["RED5_SM_PASSWORD"])),
    **HTTP_ARGUMENT_SPEC,
)

STREAM_INFO_SPEC = dict(
    CONNECTION_SPEC,
    name=dict(type="str"),
    scope=dict(type="str"),
    action=dict(type="str", choices=list(ACTIONS)),
    region=dict(type="str"),
    strict=dict(type="bool"),
    geozone=dict(type="str"),
    endpoints=dict(type="int"),
    transcode=dict(type="bool"),
    stats=dict(type="bool", default=True),
    wait_for_publishing=dict(type="bool", default=False),
    wait_timeout=dict(type="float", default=60),
    wait_interval=dict(type="float", default=2),
)
# Red5 Pro documents region and geozone as mutually exclusive (docs/red5.md, "Sources").
STREAM_INFO_MUTUALLY_EXCLUSIVE = [("region", "geozone")]

STREAM_REGISTRY_SPEC = dict(
    CONNECTION_SPEC,
    state=dict(type="str", choices=["cleared"], default="cleared"),
    include_active=dict(type="bool"),
)

# Each module's AnsibleModule keyword arguments (see the docstring above).
STREAM_INFO_MODULE_KWARGS = dict(argument_spec=STREAM_INFO_SPEC, mutually_exclusive=STREAM_INFO_MUTUALLY_EXCLUSIVE)
STREAM_REGISTRY_MODULE_KWARGS = dict(argument_spec=STREAM_REGISTRY_SPEC)
