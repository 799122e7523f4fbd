"""TLS options through Ansible, against the three emulators serving HTTPS with a private CA.

``requests`` lets REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE take precedence over
``Session.verify`` (https://github.com/psf/requests/issues/3829). Those
variables are set on many CI runners and controllers, so every case runs both
with them unset and with them naming the system bundle, which does not
contain the private CA: the task's ``ca_path`` and ``validate_certs`` must win
either way.
"""

from __future__ import annotations

import json
from pathlib import Path

import certifi
import pytest

from tests.emulators.red5 import Red5Emulator
from tests.emulators.scaleengine import API_PATH, DEFAULT_API_KEY, DEFAULT_API_SECRET, DEFAULT_CDN, ScaleEngineEmulator
from tests.emulators.usp import UspEmulator
from tests.helpers.playbook import task
from tests.integration.tls_ca import make_pki

BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")
SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
VALIDATE_CERTS_WARNING = "validate_certs=false"


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(params=["unset", "set"])
def bundle_env(request, monkeypatch):
    """The CA bundle variables of the environment ansible-playbook runs in (``ansible_run`` copies ``os.environ``).

    unset: none of them, so requests falls back to certifi's bundle. set:
    REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE name the system bundle, as on the
    machines where the defect was seen.
    """
    for name in BUNDLE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    if request.param == "set":
        bundle = str(SYSTEM_BUNDLE) if SYSTEM_BUNDLE.is_file() else certifi.where()
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundle)
        monkeypatch.setenv("CURL_CA_BUNDLE", bundle)
    return request.param


def _usp(pki):
    emulator = UspEmulator().start(ssl_context=pki.server_context())
    module_args = dict(api_url=emulator.url("api"), name="ch1")
    return emulator, "mediaops.streaming.usp_publishing_point_info", module_args, {}


def _scaleengine(pki):
    emulator = ScaleEngineEmulator().start(ssl_context=pki.server_context())
    module_args = dict(app="demo-origin")
    env = {
        "SCALEENGINE_API_URL": emulator.url() + API_PATH,
        "SCALEENGINE_CDN": str(DEFAULT_CDN),
        "SCALEENGINE_API_KEY": DEFAULT_API_KEY,
        "SCALEENGINE_API_SECRET": DEFAULT_API_SECRET,
    }
    return emulator, "mediaops.streaming.scaleengine_viewer_info", module_args, env


def _red5(pki):
    emulator = Red5Emulator().start(ssl_context=pki.server_context())
    emulator.start_broadcast(scope="live", name="demo", region="us-east-1")
    module_args = dict(url=emulator.url(), api_version="4.0", name="demo", scope="live")
    return emulator, "mediaops.streaming.red5_stream_info", module_args, {}


VENDORS = {"usp": _usp, "scaleengine": _scaleengine, "red5": _red5}


@pytest.fixture(params=sorted(VENDORS))
def vendor(request, pki):
    emulator, module, module_args, env = VENDORS[request.param](pki)
    yield request.param, emulator, module, module_args, env
    emulator.stop()


def run_task(ansible_run, vendor, **tls_options):
    _name, emulator, module, module_args, env = vendor
    result = ansible_run.playbook(task("tls", module, **dict(module_args, **tls_options)), env=env)
    return result, result.task("tls"), emulator


def status(result, name: str = "tls") -> str:
    """How the task ended as the callback saw it: ok, failed, ... (the result itself has no ``failed`` key)."""
    return [entry["status"] for entry in result.tasks if entry["task"] == name][-1]


def warning_texts(task_result) -> list[str]:
    """The task's warnings as text, whatever shape this ansible-core gives them (strings or warning summaries)."""
    texts = []
    for item in task_result.get("warnings") or []:
        texts.append(item if isinstance(item, str) else json.dumps(item, default=str))
    return texts


def test_default_refuses_a_certificate_from_an_unknown_ca(ansible_run, vendor, bundle_env):
    result, task_result, emulator = run_task(ansible_run, vendor)
    assert result.rc != 0, result.output
    assert status(result) == "failed"
    message = task_result["msg"]
    assert "certificate verification failed" in message, message
    assert "ca_path" in message, message
    assert emulator.url().split("//")[1] in message, message
    assert "Traceback" not in result.output and "MODULE FAILURE" not in result.output
    # Refused during the handshake: not a single request reached the server.
    assert emulator.log() == []


def test_ca_path_trusts_the_private_ca(ansible_run, vendor, bundle_env, pki):
    result, task_result, emulator = run_task(ansible_run, vendor, ca_path=str(pki.ca_cert))
    assert result.rc == 0, result.output
    assert status(result) == "ok", task_result
    assert emulator.log(), "the module sent no request"
    assert not [text for text in warning_texts(task_result) if VALIDATE_CERTS_WARNING in text]
    assert VALIDATE_CERTS_WARNING not in result.output


def test_validate_certs_false_connects_and_warns_once(ansible_run, vendor, bundle_env):
    result, task_result, emulator = run_task(ansible_run, vendor, validate_certs=False)
    assert result.rc == 0, result.output
    assert status(result) == "ok", task_result
    assert emulator.log(), "the module sent no request"
    warned = [text for text in warning_texts(task_result) if VALIDATE_CERTS_WARNING in text]
    assert len(warned) == 1, task_result.get("warnings")
    # What the user sees: one warning, and not urllib3's InsecureRequestWarning once per request besides.
    assert result.output.count(VALIDATE_CERTS_WARNING) == 1, result.output
    assert "InsecureRequestWarning" not in result.output


def test_validate_certs_false_with_ca_path_still_warns_once(ansible_run, vendor, bundle_env, pki):
    """validate_certs=false with a ca_path: verification is off (the ca_path is not used), still one warning."""
    result, task_result, _emulator = run_task(ansible_run, vendor, validate_certs=False, ca_path=str(pki.ca_cert))
    assert result.rc == 0, result.output
    assert len([text for text in warning_texts(task_result) if VALIDATE_CERTS_WARNING in text]) == 1


def test_environment_bundle_is_honoured_when_the_task_names_no_ca(ansible_run, vendor, pki, monkeypatch):
    """Without ca_path, REQUESTS_CA_BUNDLE is the operator's way to trust a CA: it must keep working."""
    for name in BUNDLE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki.ca_cert))
    result, task_result, emulator = run_task(ansible_run, vendor)
    assert result.rc == 0, result.output
    assert status(result) == "ok", task_result
    assert emulator.log()


def test_ca_path_wins_even_against_an_environment_bundle_that_would_trust_the_server(ansible_run, vendor, pki, monkeypatch):
    """ca_path names the only CAs trusted: REQUESTS_CA_BUNDLE naming the private CA must not widen it."""
    for name in BUNDLE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki.ca_cert))
    result, task_result, emulator = run_task(ansible_run, vendor, ca_path=certifi.where())
    assert result.rc != 0, result.output
    assert status(result) == "failed"
    assert "certificate verification failed" in task_result["msg"], task_result["msg"]
    assert emulator.log() == []


def test_environment_is_what_the_fixture_says(ansible_run, bundle_env):
    """The runner copies os.environ: the variables a case is named after must be exactly what ansible-playbook gets."""
    env = ansible_run.env()
    present = {name for name in BUNDLE_VARIABLES if name in env}
    assert present == (set() if bundle_env == "unset" else {"REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"})
