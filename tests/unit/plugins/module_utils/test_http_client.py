"""Pure logic of http_client.py: backoff, Retry-After, session settings."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest

from ansible_collections.mediaops.streaming.plugins.module_utils import http_client as http
from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError, excerpt
from ansible_collections.mediaops.streaming.plugins.module_utils.http_client import HttpClient


def test_backoff_grows_with_jitter_and_is_capped(monkeypatch):
    monkeypatch.setattr(http.random, "uniform", lambda low, high: high)
    assert [http.backoff_delay(attempt) for attempt in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert http.backoff_delay(20) == http.BACKOFF_MAX
    monkeypatch.setattr(http.random, "uniform", lambda low, high: low)
    assert http.backoff_delay(3) == 1.0  # never less than half the step


def test_retry_after_is_honoured_and_capped():
    assert http.backoff_delay(1, retry_after=7) == 7
    assert http.backoff_delay(1, retry_after=3600) == http.RETRY_AFTER_MAX
    assert http.backoff_delay(1, retry_after=-5) == 0


def test_parse_retry_after_forms():
    assert http.parse_retry_after("12") == 12.0
    assert http.parse_retry_after(None) is None
    assert http.parse_retry_after("soon") is None
    in_ten = http.parse_retry_after(formatdate(time.time() + 10, usegmt=True))
    assert 8 <= in_ten <= 11
    assert http.parse_retry_after(formatdate(time.time() - 100, usegmt=True)) == 0.0


def test_client_sends_utf8_basic_auth():
    client = http.HttpClient(username="operator", password="pa55/wörd")
    assert client.session.auth == (b"operator", "pa55/wörd".encode())


def test_client_tls_options():
    assert http.HttpClient(validate_certs=True, ca_path="/etc/ca.pem").session.verify == "/etc/ca.pem"
    assert http.HttpClient(validate_certs=False, ca_path="/etc/ca.pem").session.verify is False
    assert http.HttpClient().session.verify is True


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), 86401, True, "30"])
def test_timeout_outside_its_bounds_is_refused_by_name(timeout):
    with pytest.raises(StreamingError, match="timeout must be a number of seconds above 0"):
        HttpClient(timeout=timeout)


@pytest.mark.parametrize("retries", [-1, 21, 1.5, None])
def test_retries_outside_its_bounds_is_refused_by_name(retries):
    with pytest.raises(StreamingError, match="retries must be a whole number from 0 to 20"):
        HttpClient(retries=retries)


def test_server_text_in_an_excerpt_cannot_drive_the_terminal():
    assert excerpt("a\x1b[2Jb\u202ec") == "a\\u001b[2Jb\\u202ec"
