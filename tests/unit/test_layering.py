"""The layers a newcomer may trust, held by walking every import (lazy ones and importlib's included)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("shared", "services", "sandbox", "deploy", "numport_cli", "benchmarks")
# The only ways one service reaches into another (the README's architecture section says why each exists).
ENTRIES = {
    "services.precheck.dry_run": "the gateway's dry-run: precheck's rules, run in the gateway, reading Graph only",
    "services.billing.reports": "billing's documented SQL views, read by the gateway's billing report",
    "services.gateway.cli": "the CLI's helpers (call, options, console), for other services' cli.py only",
}
# Who may import the Graph stand-in: tests, the local launcher, the CLI, and the benchmarks that drive it like tests.
MAY_USE_SANDBOX = ("sandbox", "deploy.local", "numport_cli", "benchmarks", "tests")


def imports(source: str) -> Iterator[str]:
    """Every module a source names: `import a.b`, `from a import b` (as a.b), importlib.import_module("a.b")."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            yield node.args[0].value


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


def violation(importer: str, target: str) -> str | None:
    """Why `importer` (a dotted module) may not import `target`, or None when it may."""
    top = importer.split(".")[0]
    if top == "shared" and any(within(target, p) for p in PACKAGES if p != "shared"):
        return "shared/ is plumbing every service imports: it imports no service, sandbox, deploy or CLI"
    if within(target, "sandbox") and not any(within(importer, p) for p in MAY_USE_SANDBOX):
        return "only tests, the local launcher, the CLI and benchmarks may import the sandbox"
    if top == "services":
        own = ".".join(importer.split(".")[:2])
        if any(within(target, p) for p in ("deploy", "numport_cli")):
            return "a service imports neither the local launcher nor the CLI root"
        if not within(target, "services") or within(target, own):
            return None
        entry = next((e for e in ENTRIES if within(target, e)), None)
        if entry is None:
            return f"a service reaches another only through {', '.join(ENTRIES)}"
        if entry == "services.gateway.cli" and not importer.endswith(".cli"):
            return "the gateway's CLI helpers are for CLI modules"
    return None


def violations(root: Path) -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            module = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
            for target in imports(path.read_text()):
                if (why := violation(module, target)) is not None:
                    found.append(f"{module} imports {target}: {why}")
    return found


def test_every_import_respects_the_layers():
    assert violations(ROOT) == []


def test_the_walk_finds_each_kind_of_breach(tmp_path):
    breaches = {
        "shared/plumbing.py": "import importlib\nimportlib.import_module('services.gateway.main')\n",
        "services/gateway/adapter.py": "def lazy():\n    from services.precheck import checks\n",
        "services/billing/ledger.py": "from sandbox.state import World\n",
        "services/templates/rounds.py": "from services.gateway.cli import call\n",
        "services/precheck/fine.py": "from services.precheck import domain\nfrom shared import events\n",
        "services/gateway/fine.py": "from services.precheck.dry_run import DryRun\n",
    }
    for name, text in breaches.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = violations(tmp_path)
    assert sorted(line.split(" imports ")[0] for line in found) == [
        "services.billing.ledger", "services.gateway.adapter", "services.templates.rounds", "shared.plumbing"]
