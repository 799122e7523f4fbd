#!/usr/bin/python
# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: red5_stream_info
short_description: Find where and how a stream is live on a Red5 Pro Stream Manager
version_added: 0.1.0
description:
  - With O(name), reads one stream from the Red5 Pro Stream Manager REST API, by default its stats (origin address, region,
    current subscribers, start time), and with O(action) the origin a broadcaster publishes to (V(broadcast)) or the edge a
    subscriber plays from (V(subscribe)), optionally in a given O(region).
  - Without O(name), lists every active stream, with stats unless O(stats=false).
  - A stream that is not publishing is RV(exists=false), not a failure. O(wait_for_publishing) waits until it publishes.
  - Speaks Stream Manager 1.x (O(api_version=1.0) to V(4.0)) and Stream Manager 2.0 (O(api_version=sm2)) with the same return
    keys; 2.0 adds some (see RV(stream)).
  - Never changes anything.
author: mediaops.streaming contributors (@mediaops)
extends_documentation_fragment:
  - mediaops.streaming.attributes
  - mediaops.streaming.attributes.info_module
  - mediaops.streaming.red5
  - mediaops.streaming.connection
options:
  name:
    description:
      - Name of the stream, for example V(demo). One path segment; put parent parts in O(scope).
      - Letters, digits and the characters C(_.~@+=,:-) only, at most 255 characters, not V(.) or V(..). Anything else (C(/),
        C(?), C(#), C(%), spaces, control characters) is refused before any request.
      - Without it, the module lists all active streams.
    type: str
  scope:
    description:
      - Scope (application) of the stream, for example V(live); nested scopes are written with C(/), for example V(live/sub).
        A leading C(/) is accepted and dropped, as the API paths carry the scope without it.
      - Each part follows the rules of O(name); the whole scope is at most 1024 characters.
      - With O(name), V(live) when not set.
      - Without O(name), limits the list to this scope and the scopes nested in it; all scopes when not set.
    type: str
  action:
    description:
      - Also look up a node for the stream. V(broadcast) gives the origin to publish to, V(subscribe) an edge to play from;
        their address and region replace the origin's in RV(stream).
      - The Stream Manager 1.x assigns an origin to a V(broadcast) lookup whether or not the stream is live (that is how an encoder
        learns where to publish), so with O(stats=false) and O(action=broadcast), RV(exists) only says that an origin was found.
      - On Stream Manager 2.0, V(broadcast) reports the origin the live stream is on, from the stream's stats; a stream that is not
        live is RV(exists=false). The module never sends 2.0's publish lookup, which distributes provisions to servers and
        answers C(409) for a live stream.
      - A V(subscribe) lookup of a stream that is not publishing is answered with an error, which gives RV(exists=false).
    type: str
    choices: [broadcast, subscribe]
  region:
    description:
      - Region to look up the node in. Needs O(action).
      - Stream Manager 1.x, a cloud region code such as V(us-east-1), V(nyc3) or V(us-ashburn-1).
      - Stream Manager 2.0, a sub-group name of the node group, such as V(ashburn), or a comma-separated list of them in order
        of preference (sent as C(subgroup)); O(action=subscribe) only.
      - If the region has no suitable node, the Stream Manager answers with the next best node elsewhere (unless O(strict));
        RV(region_fallback) says whether it did.
    type: str
  strict:
    description:
      - With O(region) or O(geozone), fail the lookup instead of falling back to another region. Needs O(action).
      - API 3.1 and 4.0, and Stream Manager 2.0 with O(action=subscribe).
    type: bool
  geozone:
    description:
      - Geographic zone to look up the node in, instead of a O(region) (the two are mutually exclusive). Needs O(action).
      - API 3.1 and 4.0 only.
    type: str
  endpoints:
    description:
      - Number of nodes to ask for. With more than one, all of them are returned in RV(stream.endpoints). Needs O(action).
      - API 3.1 and 4.0, and Stream Manager 2.0 with O(action=subscribe).
    type: int
  transcode:
    description:
      - Send C(transcode=true) (or C(false)) with the lookup, for streams provisioned with transcoding (adaptive bitrate).
        What the Stream Manager does with it depends on its provisioning. Needs O(action).
      - API 3.1 and 4.0 only.
    type: bool
  stats:
    description:
      - Read the stream's stats (C(/stats); on Stream Manager 2.0 the stream's nodes), which also tell whether it is publishing;
        without O(name), list with stats.
    type: bool
    default: true
  wait_for_publishing:
    description:
      - With O(name), poll the stats until the stream is publishing, then read it. Fails when O(wait_timeout) passes first,
        saying how long it waited and what the Stream Manager answered last.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for O(wait_for_publishing) before failing; more than 0 and at most 86400.
    type: float
    default: 60
  wait_interval:
    description: Seconds between two polls for O(wait_for_publishing); more than 0 and at most 86400.
    type: float
    default: 2
notes:
  - Stream Manager 1.x, stream entries are read with C(GET /event/{scope}/{name}), C(GET /event/{scope}/{name}/stats) and
    C(GET /event/list[/stats]). O(access_token) is never sent by this module.
  - Stream Manager 2.0, with the public calls C(GET /as/v1/streams/stream/{node_group}/stream/{scope}/{name}?aggregate=false)
    (stats, and the origin for O(action=broadcast)), C(GET /as/v1/streams/stream/{node_group}/subscribe/{scope}/{name})
    (O(action=subscribe)) and C(GET /as/v1/streams/stream/{node_group}[?stats=true]) (the list), without an Authorization
    header. A C(404) from a stream call is checked once against the node group's list, so that a wrong O(node_group) fails the
    task instead of reading as "not publishing"; with O(username) and O(password) the message names the node groups the
    Stream Manager has (C(GET /as/v1/admin/nodegroup), which needs the login).
  - Stream Manager 2.0, login C(PUT /as/v1/auth/login) with O(username) and O(password) happens only for a call that needs a
    token (the node group list above; the stream calls too, on a deployment that answers them with C(401)). The token is kept
    for the task, renewed when it expires within a minute (or within a tenth of the lifetime it came with, if shorter), and
    once on a C(401).
  - A C(400) or C(404) answer carrying the Stream Manager's C(errorMessage), or an C(errorMessage) in a successful answer, means
    "not publishing" for the stream calls (RV(message) holds it). On Stream Manager 2.0, a C(404) carrying C(error) or an empty list
    of nodes does; its C(400) is a refused parameter, which fails the task. Any other error fails the task with the server's
    message; a C(404) without C(errorMessage) means the URL or O(api_version) is wrong.
  - An answer over 8 MiB or nested more than 32 levels deep, with duplicate keys, C(NaN) or C(Infinity), or with C(name),
    C(scope), C(serverAddress), C(region), C(currentSubscribers) or C(startTime) of the wrong type fails the task with a
    message that names what is wrong. C(currentSubscribers) and C(startTime) given as strings of digits are accepted.
seealso:
  - module: mediaops.streaming.red5_stream_registry
"""

EXAMPLES = r"""
- name: Is the channel live, and since when?
  mediaops.streaming.red5_stream_info:
    url: http://sm.example.com:5080
    name: channel00
  delegate_to: localhost
  register: channel

- name: Show it
  ansible.builtin.debug:
    msg: "{{ channel.stream.server_address }} since {{ channel.stream.start_time }}, {{ channel.stream.current_subscribers }} viewers"
  when: channel.exists

- name: Where should a viewer in Europe play it from (API 4.0, no fallback to other regions)?
  mediaops.streaming.red5_stream_info:
    url: https://sm.example.com
    api_version: "4.0"
    scope: live
    name: channel00
    action: subscribe
    region: eu-west-1
    strict: true
  delegate_to: localhost
  register: edge

- name: Wait until the encoder publishes (after a restart), at most two minutes
  mediaops.streaming.red5_stream_info:
    url: http://sm.example.com:5080
    name: channel00
    wait_for_publishing: true
    wait_timeout: 120
  delegate_to: localhost

- name: Where is the channel live on a Stream Manager 2.0 (origin and edges), and where should a viewer near Frankfurt play it?
  mediaops.streaming.red5_stream_info:
    url: https://sm.example.com
    api_version: sm2
    node_group: live-eu
    name: channel00
    action: subscribe
    region: frankfurt,amsterdam
  delegate_to: localhost
  register: sm2_edge

- name: Say so when the Stream Manager had to send the viewer to another region
  ansible.builtin.debug:
    msg: "{{ sm2_edge.stream.server_address }} in {{ sm2_edge.stream.region }}{{ ' (fallback)' if sm2_edge.region_fallback else '' }}"
  when: sm2_edge.exists

- name: List every active stream in the live scope, with stats, using the connection set once for the play
  mediaops.streaming.red5_stream_info:
    scope: live
  delegate_to: localhost
  register: active
  module_defaults:
    group/mediaops.streaming.red5:
      url: http://sm.example.com:5080
      api_version: "3.1"
"""

RETURN = r"""
api_version:
  description: The API spoken, as in O(api_version); with V(auto), the one the detection found.
  returned: always
  type: str
  sample: sm2
region_fallback:
  description:
    - Whether the node the Stream Manager answered is outside the region(s) O(region) asked for, because it fell back to the next
      best one.
  returned: when O(name), O(action) and O(region) are given and the stream was found
  type: bool
  sample: false
exists:
  description: Whether the stream is publishing (see O(action) for the one exception).
  returned: when O(name) is given
  type: bool
  sample: true
message:
  description: The Stream Manager's C(errorMessage) when the stream is not publishing.
  returned: when RV(exists) is false
  type: str
  sample: Stream live/channel00 is not broadcasting
stream:
  description:
    - The stream, with the API's keys in snake_case; an empty dict when it is not publishing.
    - Keys the Stream Manager adds beyond those below are kept, in snake_case.
  returned: when O(name) is given
  type: dict
  contains:
    name:
      description: Stream name.
      type: str
      sample: channel00
    scope:
      description: Scope, without a leading C(/) whatever the API version sent.
      type: str
      sample: live
    server_address:
      description: Address of the origin (stats, O(action=broadcast)) or of the edge (O(action=subscribe)).
      type: str
      sample: 104.197.131.87
    region:
      description: Region of that node (Stream Manager 2.0, its sub-group, C(subGroup)).
      type: str
      sample: us-east-1
    type:
      description:
        - Stream Manager 2.0, the role of that node in the node group (C(nodeRole)), for example V(origin), V(edge), V(allinone).
      returned: on Stream Manager 2.0
      type: str
      sample: origin
    node_state:
      description: Stream Manager 2.0, the scaling state of that node (C(nodeState)), for example V(INSERVICE).
      returned: on Stream Manager 2.0
      type: str
      sample: INSERVICE
    stream_guid:
      description: Stream Manager 2.0, the stream's path as the API names it (C(streamGuid)), RV(stream.scope)/RV(stream.name).
      returned: on Stream Manager 2.0
      type: str
      sample: live/channel00
    duration_ms:
      description: Stream Manager 2.0, how long the stream has been up, in milliseconds (C(durationMs)); RV(stream.start_time) is
        derived from it.
      returned: on Stream Manager 2.0 with O(stats)
      type: int
      sample: 600000
    node_subscribers:
      description: Stream Manager 2.0, the subscribers of the node a V(subscribe) lookup answered (C(subscribers) of the lookup).
      returned: on Stream Manager 2.0 with O(action=subscribe)
      type: int
      sample: 3
    nodes:
      description:
        - Stream Manager 2.0, every node that carries the stream (origin, relays, transcoders, edges), each with
          C(server_address), C(region), C(type), C(node_state), C(current_subscribers) (that node's) and C(duration_ms).
      returned: on Stream Manager 2.0 with O(stats) or O(action=broadcast)
      type: list
      elements: dict
      sample: [{server_address: 10.0.0.1, region: ashburn, type: origin, node_state: INSERVICE, current_subscribers: 0, duration_ms: 600000}]
    current_subscribers:
      description: Number of subscribers (Stream Manager 2.0, the sum over RV(stream.nodes)).
      returned: with O(stats)
      type: int
      sample: 12
    start_time:
      description:
        - When the broadcast started, ISO 8601 in UTC with milliseconds.
        - Stream Manager 2.0 sends how long the stream has been up instead (C(durationMs)); the start is the module's clock minus that.
      returned: with O(stats)
      type: str
      sample: "2016-02-01T23:34:16.708Z"
    start_time_ms:
      description: The same moment as the API sends it, milliseconds since the Unix epoch.
      returned: with O(stats)
      type: int
      sample: 1454369656708
    endpoints:
      description: Every node of the answer when O(endpoints) asked for more than one (RV(stream.server_address) is the first).
      returned: when the Stream Manager answered a list
      type: list
      elements: dict
      sample: [{name: channel00, scope: live, server_address: 104.197.85.57, region: us-east-1}]
streams:
  description:
    - Every active stream (in O(scope) when given), as RV(stream) describes; API 3.1 and 4.0 add C(type).
    - Stream Manager 2.0, one item per live stream (its origin), C(current_subscribers) counted over the whole node group, with
      C(type), C(node_state), C(stream_guid) and C(duration_ms).
  returned: when O(name) is not given
  type: list
  elements: dict
  contains:
    type:
      description: Node type of the entry, V(origin) or V(edge) (API 3.1 and 4.0); Stream Manager 2.0, the node's role (C(nodeRole)).
      type: str
      sample: origin
  sample:
    - name: channel00
      scope: live
      server_address: 104.197.131.87
      region: us-east-1
      current_subscribers: 0
      start_time: "2016-10-11T09:50:49.523Z"
      start_time_ms: 1476179449523
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mediaops.streaming.plugins.module_utils.red5 import args
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.stream_info import read_stream_info
from ansible_collections.mediaops.streaming.plugins.module_utils.runner import run_module


def main():
    module = AnsibleModule(supports_check_mode=True, **args.STREAM_INFO_MODULE_KWARGS)
    run_module(module, read_stream_info)


if __name__ == "__main__":
    main()
