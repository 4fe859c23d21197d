"""The chart renders valid Kubernetes for every values set, and refuses wrong values with a message naming them."""

from __future__ import annotations

import copy

import pytest
import yaml

from deploy.helm import tools
from tests.deploy.chart import EXAMPLES, VALUE_SETS, VALUES, by_name, kubeconform, lint, of_kind, render, run, template

WRONG = sorted((VALUES / "wrong").glob("*.yaml"))


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_helm_lint_strict_passes(value_set: str) -> None:
    outcome = lint(VALUE_SETS[value_set])
    assert outcome.code == 0, outcome.out + outcome.err


@pytest.mark.parametrize("kube_version", tools.KUBE_VERSIONS)
@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_every_rendered_object_validates(value_set: str, kube_version: str) -> None:
    rendered = template(VALUE_SETS[value_set], kube_version=kube_version)
    assert rendered.code == 0, rendered.err
    checked = kubeconform(rendered.out, kube_version)
    assert checked.code == 0, checked.out + checked.err
    count = len([d for d in yaml.safe_load_all(rendered.out) if d])
    assert f"{count} resources found" in checked.out and "Invalid: 0, Errors: 0, Skipped: 0" in checked.out


def test_examples_validate() -> None:
    names = ("kafka.yaml", "kafka-topics.yaml", "kafka-user.yaml", "postgres.yaml")
    manifests = "\n---\n".join((EXAMPLES / name).read_text() for name in names)
    checked = kubeconform(manifests)
    assert checked.code == 0 and "Invalid: 0, Errors: 0, Skipped: 0" in checked.out, checked.out + checked.err


def test_the_validator_rejects_what_the_api_server_would() -> None:
    docs = render(VALUE_SETS["production"])
    scaled = copy.deepcopy(of_kind(docs, "ScaledObject")[0])
    scaled["spec"]["triggers"][0]["metadata"]["lagThreshold"] = 50  # KEDA wants strings
    deployment = copy.deepcopy(of_kind(docs, "Deployment")[0])
    deployment["spec"]["template"]["spec"]["containers"][0]["imgae"] = "numport"
    checked = kubeconform(yaml.safe_dump_all([scaled, deployment]))
    assert checked.code == 1
    assert "lagThreshold" in checked.out and "'imgae' not allowed" in checked.out and "Invalid: 2" in checked.out


@pytest.mark.parametrize("wrong", WRONG, ids=[p.stem for p in WRONG])
def test_wrong_values_fail_the_schema_with_their_path(wrong) -> None:
    expected = wrong.read_text().splitlines()[0].removeprefix("# expect: ")
    outcome = template([VALUES / "ids.yaml", wrong])
    assert outcome.code != 0 and "don't meet the specifications of the schema" in outcome.err
    assert expected in outcome.err, outcome.err


def test_install_without_the_required_ids_is_refused() -> None:
    outcome = template([])
    assert outcome.code != 0 and "at '/meta/appId'" in outcome.err and "at '/meta/bspBusinessId'" in outcome.err


@pytest.mark.parametrize("setting", ["services.precheck.replicaCount=4",
                                     "services.gateway.autoscaling.maxReplicas=6"])
def test_more_replicas_than_partitions_is_refused(setting: str) -> None:
    outcome = template(VALUE_SETS["defaults"], setting)
    assert outcome.code != 0 and "has 3 partitions" in outcome.err, outcome.err


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_each_deployment_has_probes_resources_security_and_a_pdb(value_set: str) -> None:
    docs = render(VALUE_SETS[value_set])
    budgets = [p["spec"]["selector"]["matchLabels"] for p in of_kind(docs, "PodDisruptionBudget")]
    assert of_kind(docs, "Deployment")
    for deployment in of_kind(docs, "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        [container] = pod["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]) and resources["limits"]["memory"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert pod["automountServiceAccountToken"] is False
        assert deployment["spec"]["selector"]["matchLabels"] in budgets


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_no_secret_value_in_rendered_manifests(value_set: str) -> None:
    docs = render(VALUE_SETS[value_set])
    secret_settings = {"NUMPORT_DATABASE_URL", *yaml.safe_load((tools.ROOT / "deploy/helm/numport/values.yaml")
                                                               .read_text())["secrets"]["keys"]}
    assert not of_kind(docs, "Secret")
    for config in of_kind(docs, "ConfigMap"):
        assert not secret_settings & set(config["data"])
    for deployment in of_kind(docs, "Deployment"):
        for env in deployment["spec"]["template"]["spec"]["containers"][0]["env"]:
            if env["name"] in secret_settings:
                assert set(env) == {"name", "valueFrom"} and "secretKeyRef" in env["valueFrom"], env
            else:
                assert "@" not in env.get("value", ""), env  # no credentials in a URL


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_one_autoscaler_per_deployment_and_no_replicas_under_it(value_set: str) -> None:
    docs = render(VALUE_SETS[value_set])
    targets = [h["spec"]["scaleTargetRef"]["name"] for h in of_kind(docs, "HorizontalPodAutoscaler")]
    targets += [s["spec"]["scaleTargetRef"]["name"] for s in of_kind(docs, "ScaledObject")]
    assert len(targets) == len(set(targets))
    for name, deployment in by_name(docs, "Deployment").items():
        assert ("replicas" in deployment["spec"]) is (name not in targets), name


def test_disabled_services_render_nothing_and_enabled_ones_everything() -> None:
    defaults = by_name(render(VALUE_SETS["defaults"]), "Deployment")
    assert set(defaults) == {"numport-gateway", "numport-precheck", "numport-registration", "numport-templates",
                             "numport-billing", "numport-partner-change"}
    everything = render(VALUE_SETS["all-on"])
    names = {"gateway", "precheck", "registration", "templates", "billing", "partner-change"}
    for kind in ("Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"):
        assert {f"numport-{n}" for n in names} <= set(by_name(everything, kind)), kind


def test_the_gateway_finds_registration_and_the_network_policy_lets_only_it_in() -> None:
    docs = render(VALUE_SETS["production"])
    gateway = by_name(docs, "Deployment")["numport-gateway"]["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "NUMPORT_REGISTRATION_URL", "value": "http://numport-registration:8080"} in gateway["env"]
    policies = by_name(docs, "NetworkPolicy")
    assert policies["numport-default-deny"]["spec"] == {
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "numport", "app.kubernetes.io/instance": "numport"}},
        "policyTypes": ["Ingress", "Egress"]}
    callers = [peer for rule in policies["numport-registration"]["spec"]["ingress"] for peer in rule["from"]]
    gateway_pods = {"app.kubernetes.io/name": "numport", "app.kubernetes.io/instance": "numport",
                    "app.kubernetes.io/component": "gateway"}
    assert {"podSelector": {"matchLabels": gateway_pods}} in callers
    assert not any("ingress-nginx" in str(peer) for peer in callers)


def test_the_ingress_exposes_the_partner_api_but_not_metrics() -> None:
    [ingress] = of_kind(render(VALUE_SETS["production"]), "Ingress")
    paths = {p["path"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]}
    assert "/v1" in paths and not {"/", "/metrics", "/healthz", "/readyz"} & paths


def test_the_dockerfile_passes_hadolint() -> None:
    dockerfile = tools.ROOT / "deploy" / "Dockerfile"
    outcome = run(tools.hadolint(), "--no-color", dockerfile)
    assert outcome.code == 0, outcome.out + outcome.err
    unpinned = run(tools.hadolint(), "--no-color", "-", stdin=dockerfile.read_text() + "RUN pip install requests\n")
    assert unpinned.code == 1 and "DL3013" in unpinned.out
