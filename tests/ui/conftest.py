"""Fixtures of the app-shell tests; the helpers themselves live in shellkit.py."""

from __future__ import annotations

import pytest
from shellkit import Sandbox, make_sandbox


@pytest.fixture
def sandbox() -> Sandbox:
    """A 1,500-message dataset ending at shellkit.END, served in-process."""
    return make_sandbox()
