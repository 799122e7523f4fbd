# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Red5 Pro Stream Manager connection options (CONNECTION_SPEC in module_utils/red5/args.py)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
attributes:
  action_group:
    membership:
      - mediaops.streaming.red5
options:
  url:
    description:
      - Base URL of the Red5 Pro Stream Manager, with scheme and port.
      - Stream Manager 1.x, for example V(http://sm.example.com:5080) (behind TLS usually V(https://sm.example.com) without a
        port); requests go to C({url}/streammanager/api/{api_version}/...).
      - Stream Manager 2.0, for example V(https://sm.example.com), the host name it was installed with (its router answers only
        that name); requests go to C({url}/as/v1/...). A URL that already ends in C(/as/v1) is accepted.
      - If not set, the value of the E(RED5_SM_URL) environment variable is used.
    type: str
    required: true
  api_version:
    description:
      - Which Stream Manager API to speak.
      - V(1.0), V(2.0), V(3.0), V(3.1) and V(4.0) are the versions of Stream Manager 1.x's REST API. V(3.1) is served by Stream
        Manager 5.2 to 6.x, V(4.0) by 7.0 and later.
      - V(sm2) is Stream Manager 2.0 (Red5 Pro 12.x to 14.x and later), its C(/as/v1) API with O(node_group) and a login with
        O(username) and O(password).
      - V(auto) detects it, at the cost of one request (Stream Manager 2.0) or two or more (1.x) in every task; results say what was
        found in RV(mediaops.streaming.red5_stream_info#module:api_version). Set the version in production.
      - Parameters that a version lacks (O(mediaops.streaming.red5_stream_info#module:strict), C(geozone), C(endpoints),
        C(transcode), O(mediaops.streaming.red5_stream_registry#module:include_active)) are refused before any request,
        because older servers would silently ignore them.
      - If not set, the value of the E(RED5_SM_API_VERSION) environment variable is used.
    type: str
    choices: ['1.0', '2.0', '3.0', '3.1', '4.0', 'sm2', 'auto']
    default: '2.0'
  access_token:
    description:
      - Stream Manager 1.x's administrator token, sent as the C(accessToken) query parameter on administration calls only.
      - Needed by M(mediaops.streaming.red5_stream_registry) on Stream Manager 1.x; other modules never send it. Not used by
        Stream Manager 2.0.
      - Never shown in results, warnings, error messages or verbose output.
      - If not set, the value of the E(RED5_SM_ACCESS_TOKEN) environment variable is used.
    type: str
  node_group:
    description:
      - Stream Manager 2.0's node group whose streams are read (ignored by 1.x).
      - V(default) names the only node group when the Stream Manager has exactly one.
      - 1 to 16 letters, digits, C(-), C(_) or C(.).
      - If not set, the value of the E(RED5_SM_NODE_GROUP) environment variable is used.
    type: str
    default: default
  username:
    description:
      - Stream Manager 2.0's administrator (C(R5AS_AUTH_USER)), for the login (C(PUT /as/v1/auth/login) with HTTP Basic) that
        gives the token administration calls need.
      - The modules read streams through public calls and log in only when a call needs it; see the module notes.
      - If not set, the value of the E(RED5_SM_USERNAME) environment variable is used.
    type: str
  password:
    description:
      - The password of O(username) (C(R5AS_AUTH_PASS)).
      - Never shown, nor the token the login gives, in results, warnings, error messages or verbose output.
      - If not set, the value of the E(RED5_SM_PASSWORD) environment variable is used.
    type: str
"""
