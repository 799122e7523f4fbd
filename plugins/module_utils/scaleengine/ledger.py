# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The replay-safe timestamp ledger (docs/scaleengine.md, "What was inferred", Replays)."""

from __future__ import annotations

import json
import os
import tempfile
import time

try:
    import fcntl
except ImportError:  # not POSIX: signatures are then unique within one process only
    fcntl = None


def default_ledger_path() -> str:
    """The ledger file shared by the module processes of one user on this host."""
    return os.path.join(tempfile.gettempdir(), f"mediaops-scaleengine-{os.getuid()}.json")


class TimestampLedger:
    """The last timestamp used for each distinct request, shared by the module processes of one user on this host.

    The timestamp exists to keep signed requests from being replayed, so a
    server may refuse a signature it has seen before. The same request signed
    twice within one second (a retry, a loop over entry names that each ask
    ``stream.active`` first, two tasks in a row) would carry the same
    signature; the ledger makes every signature unique by waiting for the
    next second only in that case. Requests are recorded by a fingerprint
    (an HMAC keyed by the secret) so the file reveals nothing. When the file
    cannot be used, uniqueness holds within this process only.
    """

    KEEP_SECONDS = 120

    def __init__(self, path: str | None = None, clock=time.time, sleep=time.sleep):
        self.path = path if path is not None else default_ledger_path()
        self.clock = clock
        self.sleep = sleep
        self._local: dict[str, int] = {}

    def claim(self, fingerprint: str) -> int:
        """A timestamp (Unix seconds) for the request ``fingerprint`` that no earlier claim of it got, recorded in the file."""
        try:
            # Never follow a link planted in a shared temporary directory, never use someone else's file.
            descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError:
            return self._claim(fingerprint, {})
        if os.fstat(descriptor).st_uid != os.getuid():
            os.close(descriptor)
            return self._claim(fingerprint, {})
        with os.fdopen(descriptor, "r+", encoding="utf-8") as handle:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_EX)
            used = self._read(handle)
            timestamp = self._claim(fingerprint, used)
            used = {key: value for key, value in used.items() if isinstance(value, int) and value > timestamp - self.KEEP_SECONDS}
            used[fingerprint] = timestamp
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(used))
        return timestamp

    @staticmethod
    def _read(handle) -> dict:
        """The recorded timestamps; a broken file counts as empty (it is rewritten whole)."""
        try:
            used = json.loads(handle.read() or "{}")
        except ValueError:
            return {}
        return used if isinstance(used, dict) else {}

    def _claim(self, fingerprint: str, used: dict) -> int:
        recorded = used.get(fingerprint)
        last = max(self._local.get(fingerprint, -1), recorded if isinstance(recorded, int) else -1)
        now = int(self.clock())
        if now <= last:
            self.sleep(max(0.0, last + 1 - self.clock()))
            now = max(int(self.clock()), last + 1)
        self._local[fingerprint] = now
        return now
