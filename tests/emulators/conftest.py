"""Fixtures of the emulators' own tests (tests/helpers)."""

from __future__ import annotations

from tests.helpers.fixtures import scaleengine, usp

# Imported into this conftest, the shared fixtures serve the tests of this directory.
__all__ = ["scaleengine", "usp"]
