# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ScaleEngine connection options (CONNECTION_SPEC in module_utils/scaleengine/args.py)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
attributes:
  action_group:
    membership:
      - mediaops.streaming.scaleengine
options:
  api_url:
    description:
      - URL of the ScaleEngine API that the signed request is posted to.
      - The trailing slash matters (the API answers a POST without it with a redirect); one is added when missing.
      - If not set, the value of the E(SCALEENGINE_API_URL) environment variable is used.
    type: str
    default: https://api.scaleengine.net/stable/
  cdn:
    description:
      - The ScaleEngine CDN id of the account.
      - If not set, the value of the E(SCALEENGINE_CDN) environment variable is used.
    type: int
    required: true
  api_key:
    description:
      - The API key of the account.
      - If not set, the value of the E(SCALEENGINE_API_KEY) environment variable is used.
    type: str
    required: true
  api_secret:
    description:
      - The API secret that signs every request (HMAC-SHA256). It is never sent, returned or logged; neither is the signature.
      - If not set, the value of the E(SCALEENGINE_API_SECRET) environment variable is used.
    type: str
    required: true
notes:
  - Every request is signed as ScaleEngine's PHP examples sign it (PHP C(json_encode) of the request, HMAC-SHA256 with the secret,
    base64) with a fresh timestamp on every try, so the clock of the host running the module must be right (UTC Unix time).
  - API failures arrive as HTTP 200 with C(status=failure); the task fails with the API's code and message and advice for the
    documented codes. Code C(1000) (heavy load) is retried with backoff up to O(retries) times.
  - The same request is never signed twice with the same timestamp (the API may refuse a replayed signature); when it would be, the
    module waits for the next second.
"""
