# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""scaleengine/ledger.py: every signature unique, across processes, without following planted links. Every ledger file lives in tmp_path."""

from __future__ import annotations

import json
import os
import tempfile

from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.ledger import TimestampLedger, default_ledger_path
from tests.unit.plugins.module_utils.scaleengine.fakes import FakeClock, make_client


def test_every_try_is_signed_again_with_a_fresh_timestamp(tmp_path):
    client, http, clock = make_client({"status": "success"}, tmp_path=tmp_path, tries_per_answer=3)
    client.call("viewer.live", {"app": "demo-origin"})
    bodies = [json.loads(body) for _url, body in http.posted]
    assert [body["timestamp"] for body in bodies] == [1700000000, 1700000001, 1700000002]
    assert len({body["signature"] for body in bodies}) == 3
    assert clock.slept  # waited for the next second instead of reusing one


def test_ledger_keeps_signatures_unique_across_processes(tmp_path):
    clock = FakeClock()
    first = TimestampLedger(path=str(tmp_path / "l.json"), clock=clock, sleep=clock.sleep)
    second = TimestampLedger(path=str(tmp_path / "l.json"), clock=clock, sleep=clock.sleep)
    assert first.claim("same") == 1700000000
    assert second.claim("other") == 1700000000  # a different request needs no wait
    assert second.claim("same") == 1700000001
    assert not (tmp_path / "l.json").stat().st_mode & 0o077


def test_ledger_refuses_a_planted_link(tmp_path):
    target = tmp_path / "precious"
    target.write_text("keep me")
    (tmp_path / "link.json").symlink_to(target)
    clock = FakeClock()
    ledger = TimestampLedger(path=str(tmp_path / "link.json"), clock=clock, sleep=clock.sleep)
    assert ledger.claim("x") == 1700000000
    assert ledger.claim("x") == 1700000001  # still unique within the process
    assert target.read_text() == "keep me"


def test_ledger_forgets_old_timestamps_and_survives_a_broken_file(tmp_path):
    path = tmp_path / "ledger.json"
    path.write_text("not json")
    clock = FakeClock()
    ledger = TimestampLedger(path=str(path), clock=clock, sleep=clock.sleep)
    assert ledger.claim("a") == 1700000000
    clock.now += TimestampLedger.KEEP_SECONDS + 1
    assert ledger.claim("b") == 1700000121
    assert json.loads(path.read_text()) == {"b": 1700000121}


def test_ledger_without_a_usable_file_is_unique_within_the_process(tmp_path):
    clock = FakeClock()
    ledger = TimestampLedger(path=str(tmp_path / "missing-directory" / "ledger.json"), clock=clock, sleep=clock.sleep)
    assert [ledger.claim("x"), ledger.claim("x")] == [1700000000, 1700000001]
    assert not (tmp_path / "missing-directory").exists()


def test_the_default_ledger_is_one_file_per_user_in_the_temporary_directory():
    """Only the path: nothing is written outside tmp_path."""
    assert default_ledger_path() == os.path.join(tempfile.gettempdir(), f"mediaops-scaleengine-{os.getuid()}.json")
    assert TimestampLedger().path == default_ledger_path()
