"""Render the chart with real helm and validate objects with kubeconform, offline, with the pinned tools."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from deploy.helm import tools

CHART = tools.ROOT / "deploy" / "helm" / "numport"
EXAMPLES = tools.ROOT / "deploy" / "helm" / "examples"
VALUES = Path(__file__).with_name("values")
KUBE_VERSION = tools.KUBE_VERSIONS[-1]
# The values files `helm install` sees in each case; ids.yaml holds the two values every install must give.
VALUE_SETS = {
    "defaults": [VALUES / "ids.yaml"],
    "production": [EXAMPLES / "values-production.yaml", VALUES / "ids.yaml"],
    "all-on": [VALUES / "ids.yaml", VALUES / "all-on.yaml"],
    "all-off": [VALUES / "ids.yaml", VALUES / "all-off.yaml"],
}


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


def run(*args: str | Path, stdin: str | None = None) -> Outcome:
    done = subprocess.run([str(a) for a in args], input=stdin, capture_output=True, text=True, timeout=120)
    return Outcome(done.returncode, done.stdout, done.stderr)


def _value_args(files: list[Path], sets: tuple[str, ...]) -> list[str]:
    return [arg for f in files for arg in ("-f", str(f))] + [arg for s in sets for arg in ("--set", s)]


def template(files: list[Path], *sets: str, kube_version: str = KUBE_VERSION) -> Outcome:
    return run(tools.go_tool("helm"), "template", "numport", CHART, "--namespace", "numport",
               "--kube-version", kube_version, *_value_args(files, sets))


def lint(files: list[Path], kube_version: str = KUBE_VERSION) -> Outcome:
    return run(tools.go_tool("helm"), "lint", "--strict", "--kube-version", kube_version, CHART,
               *_value_args(files, ()))


def render(files: list[Path], *sets: str) -> list[dict]:
    outcome = template(files, *sets)
    assert outcome.code == 0, outcome.err
    return [doc for doc in yaml.safe_load_all(outcome.out) if doc]


def kubeconform(manifests: str, kube_version: str = KUBE_VERSION) -> Outcome:
    """Strict validation, every schema local: built-in kinds for `kube_version`, then the CRDs of the four operators."""
    crds = f"{tools.CRD_SCHEMAS}/{{{{.Group}}}}/{{{{.ResourceKind}}}}_{{{{.ResourceAPIVersion}}}}.json"
    return run(tools.go_tool("kubeconform"), "-strict", "-summary", "-kubernetes-version", kube_version,
               "-schema-location", crds, "-schema-location", tools.builtin_schemas(kube_version), "-", stdin=manifests)


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def by_name(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in of_kind(docs, kind)}
