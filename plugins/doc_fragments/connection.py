# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP options shared by every module (module_utils/http_client.py HTTP_ARGUMENT_SPEC)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  validate_certs:
    description:
      - Verify the server's TLS certificate.
      - Set to V(false) only against test servers with self-signed certificates; the task then warns once that the server
        is not verified. V(false) holds even when E(REQUESTS_CA_BUNDLE) or E(CURL_CA_BUNDLE) is set.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file with the CA certificate(s) to trust instead of the system store, for servers with a private CA.
      - It wins over the environment variables E(REQUESTS_CA_BUNDLE) and E(CURL_CA_BUNDLE), which apply only when O(ca_path)
        is not set (and O(validate_certs) is V(true)).
    type: path
  timeout:
    description:
      - Seconds to wait for the server to connect and to answer each request.
    type: float
    default: 30
  retries:
    description:
      - How many times a request that failed on the way is tried again, with exponential backoff and jitter.
      - A connection that could not be established is always retried. A request that reached the server (connection reset,
        read timeout, HTTP 429, 502, 503 or 504) is repeated only when it is safe to repeat (reads, updates, deletes); a
        create is never sent twice. C(Retry-After) is honoured (up to 60 seconds). An answer cut short in the middle of its
        body counts as a failure on the way.
      - Each retry is reported as a warning.
    type: int
    default: 3
notes:
  - The module talks to the API from the host it runs on, usually the controller (C(delegate_to=localhost) or C(connection=local)).
  - Requires the Python libraries C(requests) and C(lxml) on that host.
"""
