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
      - The Stream Manager assigns an origin to a V(broadcast) lookup whether or not the stream is live (that is how an encoder
        learns where to publish), so with O(stats=false) and O(action=broadcast), RV(exists) only says that an origin was found.
      - A V(subscribe) lookup of a stream that is not publishing is answered with an error, which gives RV(exists=false).
    type: str
    choices: [broadcast, subscribe]
  region:
    description:
      - Region to look up the node in, a cloud region code such as V(us-east-1), V(nyc3) or V(us-ashburn-1). Needs O(action).
      - If the region has no suitable node, the Stream Manager answers with the next best node elsewhere (unless O(strict)).
    type: str
  strict:
    description:
      - With O(region) or O(geozone), fail the lookup instead of falling back to another region. Needs O(action).
      - API 3.1 and 4.0 only.
    type: bool
  geozone:
    description:
      - Geographic zone to look up the node in, instead of a O(region) (the two are mutually exclusive). Needs O(action).
      - API 3.1 and 4.0 only.
    type: str
  endpoints:
    description:
      - Number of nodes to ask for. With more than one, all of them are returned in RV(stream.endpoints). Needs O(action).
      - API 3.1 and 4.0 only.
    type: int
  transcode:
    description:
      - Send C(transcode=true) (or C(false)) with the lookup, for streams provisioned with transcoding (adaptive bitrate).
        What the Stream Manager does with it depends on its provisioning. Needs O(action).
      - API 3.1 and 4.0 only.
    type: bool
  stats:
    description:
      - Read the stream's stats (C(/stats)), which also tell whether it is publishing; without O(name), list with stats.
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
  - Stream entries are read with C(GET /event/{scope}/{name}), C(GET /event/{scope}/{name}/stats) and C(GET /event/list[/stats]).
    O(access_token) is never sent by this module.
  - A C(400) or C(404) answer carrying the Stream Manager's C(errorMessage), or an C(errorMessage) in a successful answer, means
    "not publishing" for the stream calls (RV(message) holds it). Any other error fails the task with the server's message;
    a C(404) without C(errorMessage) means the URL or O(api_version) is wrong.
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
      description: Region of that node.
      type: str
      sample: us-east-1
    current_subscribers:
      description: Number of subscribers.
      returned: with O(stats)
      type: int
      sample: 12
    start_time:
      description: When the broadcast started, ISO 8601 in UTC with milliseconds.
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
  description: Every active stream (in O(scope) when given), as RV(stream) describes; API 3.1 and 4.0 add C(type).
  returned: when O(name) is not given
  type: list
  elements: dict
  contains:
    type:
      description: Node type of the entry, V(origin) or V(edge) (API 3.1 and 4.0 only).
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
