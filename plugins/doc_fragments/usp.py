# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""USP connection and identity options (module_utils/usp/args.py CONNECTION_SPEC, IDENTITY_SPEC).

``mediaops.streaming.usp.server`` documents the action group and the connection to the
server (every usp_* module); ``mediaops.streaming.usp`` the identity of one publishing
point (the modules of one point, not usp_publishing_points). The server part is not
called ``usp.connection``: Ansible would resolve that name to the ``connection`` fragment.
"""

from __future__ import annotations


class ModuleDocFragment:
    # The action group and the connection options.
    SERVER = r"""
attributes:
  action_group:
    membership:
      - mediaops.streaming.usp
options:
  api_url:
    description:
      - Base URL of the USP API virtual host (the one with C(UspHandleApi on)), for example V(http://live-api.example.com).
      - Create, read, update and delete of the server manifest go here.
      - If not set, the value of the E(USP_API_URL) environment variable is used.
    type: str
  origin_url:
    description:
      - Base URL of the USP origin virtual host (C(UspHandleIsm on)) that the encoder pushes to, for example V(http://live.example.com).
      - C(/state), C(/statistics), C(/archive) and C(/purge) go here. It is never derived from O(api_url), because on a real
        server the same C(GET name.isml) means different things on each virtual host.
      - If not set, the value of the E(USP_ORIGIN_URL) environment variable is used.
    type: str
  username:
    description:
      - User name for HTTP basic authentication on both virtual hosts.
      - If not set, the value of the E(USP_USERNAME) environment variable is used.
      - An empty user name means no authentication (no C(Authorization) header is sent), as when it is not set; this is what an
        AWX credential with an empty user name field injects.
    type: str
  password:
    description:
      - Password for HTTP basic authentication. Never shown in output or logs.
      - If not set, the value of the E(USP_PASSWORD) environment variable is used.
    type: str
"""

    # The identity of one publishing point.
    DOCUMENTATION = r"""
options:
  name:
    description:
      - Name of the publishing point, for example V(channel00). The server manifest is C({base_path}/{name}/{name}.isml).
      - ASCII letters, digits, C(_), C(-) and C(.) only; no C(/), C(..), query strings, spaces or control characters, and nothing
        is trimmed. At most 250 bytes (the server stores the file C({name}.isml)). Checked before any request.
    type: str
    required: true
  base_path:
    description:
      - Parent directories of the publishing point below the document root, for example V(events/2026). Empty for the root.
      - The same characters as O(name), separated by single C(/); each part at most 255 bytes, and
        C({base_path}/{name}/{name}.isml) at most 1024 bytes.
    type: str
    default: ''
"""
