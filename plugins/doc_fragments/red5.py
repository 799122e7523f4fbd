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
      - Base URL of the Red5 Pro Stream Manager, with scheme and port, for example V(http://sm.example.com:5080)
        (behind TLS usually V(https://sm.example.com) without a port).
      - Requests go to C({url}/streammanager/api/{api_version}/...).
      - If not set, the value of the E(RED5_SM_URL) environment variable is used.
    type: str
    required: true
  api_version:
    description:
      - Version of the Stream Manager REST API path to speak.
      - V(3.1) is served by Stream Manager 5.2 to 6.x, V(4.0) by 7.0 and later.
      - Parameters that a version lacks (O(mediaops.streaming.red5_stream_info#module:strict), C(geozone), C(endpoints),
        C(transcode), O(mediaops.streaming.red5_stream_registry#module:include_active)) are refused before any request,
        because older servers would silently ignore them.
      - If not set, the value of the E(RED5_SM_API_VERSION) environment variable is used.
    type: str
    choices: ['1.0', '2.0', '3.0', '3.1', '4.0']
    default: '2.0'
  access_token:
    description:
      - The Stream Manager's administrator token, sent as the C(accessToken) query parameter on administration calls only.
      - Needed by M(mediaops.streaming.red5_stream_registry); other modules never send it.
      - Never shown in results, warnings, error messages or verbose output.
      - If not set, the value of the E(RED5_SM_ACCESS_TOKEN) environment variable is used.
    type: str
"""
