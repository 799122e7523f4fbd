"""Fixtures shared by the test directories that run emulators or Ansible.

Each directory's ``conftest.py`` imports the ones it uses (pytest takes a
conftest's fixtures from its namespace), so they are defined once, here.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.emulators.scaleengine import ScaleEngineEmulator
from tests.emulators.usp import UspEmulator
from tests.helpers.playbook import AnsibleRunner, collections_path


@pytest.fixture(scope="session")
def ansible_collections_path(tmp_path_factory):
    """The collections path that makes this checkout ``mediaops.streaming`` (made once per test session, in pytest's temporary directory)."""
    return collections_path(tmp_path_factory.mktemp("collections"))


@pytest.fixture(params=["fast_path", "module_path"])
def execution_path(request):
    """Each test that runs Ansible runs twice: modules in the controller's worker (the fast path), and as module processes."""
    return request.param


@pytest.fixture
def ansible_run(tmp_path, ansible_collections_path, execution_path):
    """Ansible run in ``tmp_path``: its home, temporary directories and everything its modules write stay there.

    It runs the collection's modules on the path ``execution_path`` names.

    ``TMPDIR`` is a short directory of the test's own instead, removed after
    the test: ansible-core's worker RPC (Python's multiprocessing) binds a Unix
    socket in it, and a socket path may hold at most 107 bytes, which a long
    test name's ``tmp_path`` exceeds.
    """
    short_tmp = Path(tempfile.mkdtemp(prefix="mediaops-test-"))
    try:
        yield AnsibleRunner(tmp_path, ansible_collections_path, tmp=short_tmp, fast_path=execution_path == "fast_path")
    finally:
        shutil.rmtree(short_tmp, ignore_errors=True)


@pytest.fixture
def usp():
    emulator = UspEmulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture
def usp_auth():
    emulator = UspEmulator(username="operator", password="S3cr3t-pa55/wörd").start()
    yield emulator
    emulator.stop()


@pytest.fixture
def scaleengine():
    emulator = ScaleEngineEmulator().start()
    yield emulator
    emulator.stop()
