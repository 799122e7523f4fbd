"""Fixtures of the integration tests: the collection's modules run through Ansible against the emulators (tests/helpers)."""

from __future__ import annotations

from tests.helpers.fixtures import ansible_collections_path, ansible_run, execution_path, scaleengine, usp, usp_auth

# Imported into this conftest, the shared fixtures serve the tests of this directory.
__all__ = ["ansible_collections_path", "ansible_run", "execution_path", "scaleengine", "usp", "usp_auth"]
