"""The pinned chart tools, built or unpacked once into .cache/ before the first deploy test runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.helm import tools


@pytest.fixture(scope="session", autouse=True)
def deploy_tools() -> dict[str, Path]:
    return tools.ensure()
