"""Pinned npm tools the test suite runs (the AsyncAPI CLI), installed once into .cache/ so later runs fetch nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ASYNCAPI_CLI = "6.2.0"
ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("NUMPORT_CACHE_DIR", ROOT / ".cache"))


def asyncapi_cli() -> Path:
    """`@asyncapi/cli` at its pinned version; the folder carries the version, so a bump installs afresh."""
    prefix = CACHE / f"asyncapi-cli-{ASYNCAPI_CLI}"
    binary = prefix / "node_modules" / ".bin" / "asyncapi"
    if not binary.exists():
        npm = shutil.which("npm")
        if not npm:
            raise SystemExit("numport: validating the AsyncAPI documents needs Node.js and npm (apt-get install npm)")
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--silent",
                        f"@asyncapi/cli@{ASYNCAPI_CLI}"], check=True)
    return binary


def validate_asyncapi(document: Path) -> subprocess.CompletedProcess[str]:
    """The official CLI's verdict on one document; any error-level finding fails it."""
    env = {**os.environ, "SUPPRESS_NO_CONFIG_WARNING": "1"}
    return subprocess.run([str(asyncapi_cli()), "validate", str(document), "--fail-severity", "error"],
                          capture_output=True, text=True, env=env, timeout=300)
