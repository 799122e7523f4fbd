#!/usr/bin/python
# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: usp_publishing_points
short_description: Converge many Unified Streaming publishing points in one task
version_added: 0.1.0
description:
  - Creates, updates or deletes every publishing point listed in O(points), each exactly as
    M(mediaops.streaming.usp_publishing_point) does with the same options, in one task instead of one task (or one loop
    item) per point.
  - Each point sends the requests M(mediaops.streaming.usp_publishing_point) sends, and no others; an unchanged
    O(points[].state=present) point costs one C(GET).
  - At most O(max_workers) points are worked on at once, over one HTTP connection pool that keeps up to O(max_workers)
    connections to the server.
  - Every point is converged and reported in RV(results), in the order of O(points), whether it succeeded or failed. A point
    that fails does not stop the others; the task fails once all points ran, naming the points that failed.
  - A list of points that names one point (the same O(points[].base_path) and O(points[].name)) twice, gives two points the
    same O(points[].backup_path), or gives a point another point's O(points[].backup_path) as its O(points[].src), is refused
    before any request.
  - Why a module of its own and not a list option of M(mediaops.streaming.usp_publishing_point), and the time it saves, is in
    the collection's docs/fleet.md.
author: mediaops.streaming contributors (@mediaops)
extends_documentation_fragment:
  - mediaops.streaming.attributes
  - mediaops.streaming.usp.server
  - mediaops.streaming.connection
attributes:
  check_mode:
    support: full
    details: Reads every point and reports what would change, per point; sends no C(POST), C(PUT) or C(DELETE).
  diff_mode:
    support: full
    details: Shows the server manifest before and after of each point that changes, one diff per point, headed by its URL.
options:
  api_url:
    description:
      - Base URL of the USP API virtual host (the one with C(UspHandleApi on)), for example V(http://live-api.example.com).
      - Every point is created, read, updated and deleted here.
      - If not set, the value of the E(USP_API_URL) environment variable is used. Required (option or variable) unless
        O(points) is empty.
    type: str
  origin_url:
    description:
      - Base URL of the USP origin virtual host (C(UspHandleIsm on)), for example V(http://live.example.com).
      - Only read to say why a delete is (or in check mode would be) refused, as M(mediaops.streaming.usp_publishing_point)
        does.
      - If not set, the value of the E(USP_ORIGIN_URL) environment variable is used.
    type: str
  points:
    description:
      - The publishing points, each with the options M(mediaops.streaming.usp_publishing_point) takes for one point.
      - An empty list is allowed and changes nothing.
      - Usually kept in a vars file (the "fleet file") and passed as V({{ fleet }}).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Name of the publishing point, for example V(channel00). Its server manifest is C({base_path}/{name}/{name}.isml).
          - The same characters and length as in M(mediaops.streaming.usp_publishing_point), checked before any request of
            this point.
        type: str
        required: true
      base_path:
        description:
          - Parent directories of the publishing point below the document root, for example V(events/2026). Empty for the root.
        type: str
        default: ''
      state:
        description:
          - V(present) creates or updates the point; V(absent) deletes it with all its files, including the archive.
        type: str
        choices: [present, absent]
        default: present
      options:
        description:
          - Server manifest head options, compared after normalisation; see
            O(mediaops.streaming.usp_publishing_point#module:options).
          - Mutually exclusive with O(points[].manifest) and O(points[].src).
        type: dict
      manifest:
        description:
          - The full server manifest (SMIL text); its body (tracks) must equal the server's or O(points[].recreate) must be set.
        type: str
      src:
        description:
          - Path to a server manifest file on the host that runs the module; as O(points[].manifest) otherwise.
        type: path
      recreate:
        description:
          - When the desired body differs from the server's, delete the point and create it again (this removes its archive).
        type: bool
        default: false
      backup_path:
        description:
          - A file holding the point's manifest while the point is deleted; see
            O(mediaops.streaming.usp_publishing_point#module:backup_path).
          - Each point needs its own file, which no other point may read as its O(points[].src) (its own point may, as in
            M(mediaops.streaming.usp_publishing_point)).
        type: path
  max_workers:
    description:
      - How many points are worked on at once, and so the most requests in flight at once and the connections kept open to
        each virtual host.
      - From V(1) to V(64); other values are refused before any request.
      - More workers than the server answers in parallel only queue; on a small controller the fleet's own work, not the
        server, is usually the limit (docs/fleet.md has measured figures).
    type: int
    default: 8
notes:
  - XML from the server or from O(points[].manifest)/O(points[].src) is handled as in M(mediaops.streaming.usp_publishing_point),
    without entity expansion, DTD loading or network access, and refused above 50 MiB or with a C(<!DOCTYPE>).
  - A point whose name is invalid fails on its own (reported in RV(results)); the other points run.
  - The secrets of the task (O(password)) are masked in every point's result, message and warning.
seealso:
  - module: mediaops.streaming.usp_publishing_point
  - module: mediaops.streaming.usp_publishing_point_info
"""

EXAMPLES = r"""
# fleet.yml, a vars file:
#   fleet:
#     - name: channel00
#       options: {archiving: true, archive_segment_length: 1800}
#     - name: match42
#       base_path: events/2026
#       src: files/match42.isml
#     - name: channel09
#       state: absent

- name: Converge every channel of the fleet file, eight at a time
  mediaops.streaming.usp_publishing_points:
    api_url: http://live-api.example.com
    points: "{{ fleet }}"
  delegate_to: localhost
  register: converged

- name: Show what changed
  ansible.builtin.debug:
    msg: "{{ converged.results | selectattr('changed') | map(attribute='name') | list }}"

- name: With the connection set once per play, and fewer requests in flight
  module_defaults:
    group/mediaops.streaming.usp:
      api_url: http://live-api.example.com
      origin_url: http://live.example.com
      username: ansible
      password: "{{ usp_api_password }}"
  block:
    - name: Converge the fleet, four points at a time
      mediaops.streaming.usp_publishing_points:
        points: "{{ fleet }}"
        max_workers: 4
      delegate_to: localhost
"""

RETURN = r"""
results:
  description:
    - One result per entry of O(points), in the same order, for every point whether it succeeded or failed.
    - A point that succeeded has what M(mediaops.streaming.usp_publishing_point) returns for it (RV(results[].url),
      RV(results[].settings), RV(results[].manifest), and RV(results[].changes), RV(results[].recreated) and
      RV(results[].backup_file) when they apply).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The point's O(points[].name).
      returned: always
      type: str
      sample: channel00
    base_path:
      description: The point's O(points[].base_path), as given.
      returned: always
      type: str
      sample: events/2026
    url:
      description:
        - URL of the point's server manifest on the API virtual host.
        - For a failed point, the URL of the request that failed, or V(null) when its name or base_path is invalid.
      returned: always
      type: str
      sample: http://live-api.example.com/channel00/channel00.isml
    changed:
      description:
        - Whether this task changed the point (or would, in check mode).
        - A failed point may have changed, for example when O(points[].recreate) deleted it and the create failed.
      returned: always
      type: bool
      sample: false
    failed:
      description: Whether the point failed; RV(results[].msg) then says why.
      returned: always
      type: bool
      sample: false
    msg:
      description: Why the point failed, and what to do.
      returned: when the point failed
      type: str
      sample: "could not update publishing point channel07 (PUT http://live-api.example.com/channel07/channel07.isml returned HTTP 500)"
    method:
      description: The HTTP method of the request that failed.
      returned: when the point failed on a request
      type: str
      sample: PUT
    status:
      description: The HTTP status of the answer that made the point fail.
      returned: when the point failed on an answer
      type: int
      sample: 500
    response_excerpt:
      description: The start of the server's answer that made the point fail, secrets masked.
      returned: when the point failed on an answer with a body
      type: str
      sample: Internal Server Error
    settings:
      description: Head options of the point after the task, as strings; empty when O(points[].state=absent).
      returned: when the point succeeded
      type: dict
      sample: {archiving: "true", dvr_window_length: "30"}
    manifest:
      description: The server manifest (SMIL text) after the task; V(null) when O(points[].state=absent).
      returned: when the point succeeded
      type: str
    changes:
      description: The head options that were (or would be) updated, as C(name 'before' -> 'after').
      returned: when an existing point was updated
      type: str
      sample: "dvr_window_length: '30' -> '60'"
    recreated:
      description: Whether the point was (or would be) deleted and created again because its body differed.
      returned: when O(points[].recreate=true) and the body differed
      type: bool
    backup_file:
      description: The file the point's manifest was written to before the delete.
      returned: when O(points[].state=absent) wrote O(points[].backup_path)
      type: str
    diff:
      description: The point's manifest before and after, with the point's URL as header.
      returned: in diff mode, when the point changed
      type: dict
    warnings:
      description: The point's own warnings (also among the task's warnings, prefixed with the point).
      returned: always
      type: list
      elements: str
      sample: []
summary:
  description:
    - How many points were already as wanted (V(ok)), changed (or would change, in check mode) (V(changed)), failed (V(failed)),
      and in all (V(total)); V(ok) + V(changed) + V(failed) = V(total).
  returned: always
  type: dict
  sample: {ok: 997, changed: 2, failed: 1, total: 1000}
msg:
  description:
    - When a point failed, how many and which failed (up to 20 named), with the messages of the first three.
  returned: when a point failed
  type: str
  sample: "1 of 1000 publishing points failed: channel07. channel07: could not update publishing point channel07 (PUT ...
    returned HTTP 500) ... Every point's result, failed or not, is in results; the others were converged"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mediaops.streaming.plugins.module_utils.runner import run_module
from ansible_collections.mediaops.streaming.plugins.module_utils.usp import args
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.fleet import converge_publishing_points


def main():
    module = AnsibleModule(supports_check_mode=True, **args.FLEET_MODULE_KWARGS)
    run_module(module, converge_publishing_points, requires=("requests", "lxml"))


if __name__ == "__main__":
    main()
