# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs of the usp_* modules and their constraints; the only USP file that imports Ansible.

The connection and identity options are documented once, in the
``mediaops.streaming.usp`` doc fragment (plugins/doc_fragments/usp.py), and
the HTTP options in the ``connection`` fragment.

Each module's ``*_MODULE_KWARGS`` are the keyword arguments of its ``AnsibleModule``: the spec with its
constraints. ``ArgumentSpecValidator`` takes the same keywords, so a test validates parameters as the module does.
"""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

from ansible_collections.mediaops.streaming.plugins.module_utils.http_client import HTTP_ARGUMENT_SPEC
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.identity import PUBLISHING_POINT_STATES
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.info import GATHER_CHOICES

CONNECTION_SPEC = dict(
    api_url=dict(type="str", fallback=(env_fallback, ["USP_API_URL"])),
    origin_url=dict(type="str", fallback=(env_fallback, ["USP_ORIGIN_URL"])),
    username=dict(type="str", fallback=(env_fallback, ["USP_USERNAME"])),
    password=dict(type="str", no_log=True, fallback=(env_fallback, ["USP_PASSWORD"])),
    **HTTP_ARGUMENT_SPEC,
)

IDENTITY_SPEC = dict(
    name=dict(type="str", required=True),
    base_path=dict(type="str", default=""),
)

PUBLISHING_POINT_SPEC = dict(
    CONNECTION_SPEC,
    **IDENTITY_SPEC,
    state=dict(type="str", choices=["present", "absent"], default="present"),
    options=dict(type="dict"),
    manifest=dict(type="str"),
    src=dict(type="path"),
    recreate=dict(type="bool", default=False),
    backup_path=dict(type="path"),
)
PUBLISHING_POINT_MUTUALLY_EXCLUSIVE = [("options", "manifest", "src")]

INFO_SPEC = dict(
    CONNECTION_SPEC,
    **IDENTITY_SPEC,
    gather=dict(type="list", elements="str", choices=list(GATHER_CHOICES)),
    wait_for=dict(type="list", elements="str", choices=list(PUBLISHING_POINT_STATES)),
    wait_timeout=dict(type="float", default=300),
    wait_interval=dict(type="float", default=5),
)
# There is nothing to read without either virtual host (the environment variables count: fallbacks are applied first).
INFO_REQUIRED_ONE_OF = [("api_url", "origin_url")]

ARCHIVE_PURGE_SPEC = dict(
    CONNECTION_SPEC,
    **IDENTITY_SPEC,
    all=dict(type="bool"),
    keep=dict(type="str"),
    start=dict(type="str"),
    end=dict(type="str"),
    # Purges of long archives take many minutes (docs/usp.md, "Two virtual hosts, two URLs").
    timeout=dict(type="float", default=1800),
)
# Exactly one of all=true, keep, or start with end.
ARCHIVE_PURGE_MUTUALLY_EXCLUSIVE = [("all", "keep", "start"), ("all", "keep", "end")]
ARCHIVE_PURGE_REQUIRED_ONE_OF = [("all", "keep", "start")]
ARCHIVE_PURGE_REQUIRED_TOGETHER = [("start", "end")]
# all=false alone passes required_one_of (the option is set); it must come with keep or start.
ARCHIVE_PURGE_REQUIRED_IF = [("all", False, ("keep", "start"), True)]

# usp_publishing_points: each entry of ``points`` takes exactly usp_publishing_point's options for one point (everything
# but the connection, which the task gives once), with the same constraints, checked per entry.
FLEET_POINT_SPEC = {name: spec for name, spec in PUBLISHING_POINT_SPEC.items() if name not in CONNECTION_SPEC}
FLEET_SPEC = dict(
    CONNECTION_SPEC,
    points=dict(type="list", elements="dict", required=True, options=FLEET_POINT_SPEC, mutually_exclusive=PUBLISHING_POINT_MUTUALLY_EXCLUSIVE),
    # 1 to 64: an argument spec cannot say so, so the work checks it before any request (module_utils/usp/fleet.py).
    max_workers=dict(type="int", default=8),
)

# Each module's AnsibleModule keyword arguments (see the docstring above).
PUBLISHING_POINT_MODULE_KWARGS = dict(argument_spec=PUBLISHING_POINT_SPEC, mutually_exclusive=PUBLISHING_POINT_MUTUALLY_EXCLUSIVE)
FLEET_MODULE_KWARGS = dict(argument_spec=FLEET_SPEC)
INFO_MODULE_KWARGS = dict(argument_spec=INFO_SPEC, required_one_of=INFO_REQUIRED_ONE_OF)
ARCHIVE_PURGE_MODULE_KWARGS = dict(
    argument_spec=ARCHIVE_PURGE_SPEC,
    mutually_exclusive=ARCHIVE_PURGE_MUTUALLY_EXCLUSIVE,
    required_one_of=ARCHIVE_PURGE_REQUIRED_ONE_OF,
    required_together=ARCHIVE_PURGE_REQUIRED_TOGETHER,
    required_if=ARCHIVE_PURGE_REQUIRED_IF,
)
