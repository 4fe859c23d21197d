"""Topics as code: the chart's table and Strimzi's KafkaTopics agree with shared/topics.py, and cap every consumer."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from deploy.helm import topics as generator
from shared.topics import ALL
from tests.deploy.chart import VALUE_SETS, of_kind, render


def kafka_topics() -> dict[str, dict]:
    docs = yaml.safe_load_all(generator.STRIMZI_TOPICS.read_text())
    return {d["metadata"]["name"]: d["spec"] for d in docs if d and d["kind"] == "KafkaTopic"}


def test_generated_files_agree_with_shared_topics() -> None:
    assert generator.stale() == [], "run `python -m deploy.helm.topics` and commit"


def test_a_changed_topic_makes_the_check_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    wider = tuple(dataclasses.replace(t, partitions=t.partitions + 3) if i == 0 else t for i, t in enumerate(ALL))
    monkeypatch.setattr(generator, "ALL", wider)
    assert set(generator.stale()) == {generator.CHART_TABLE, generator.STRIMZI_TOPICS}
    assert generator.main(["--check"]) == 1


def test_every_topic_and_dead_letter_topic_has_a_kafka_topic() -> None:
    declared = kafka_topics()
    for topic in ALL:
        for name in (topic.name, topic.dlq):
            spec = declared[name]
            assert spec["partitions"] == topic.partitions and spec["replicas"] == 3, name
            assert spec["config"]["min.insync.replicas"] == 2, name
    assert len(declared) == 2 * len(ALL)


def most_replicas(docs: list[dict]) -> dict[str, int]:
    """Each service's ceiling: its autoscaler's maximum, or its fixed replicas."""
    ceiling = {d["metadata"]["labels"]["app.kubernetes.io/component"]: d["spec"].get("replicas", 0)
               for d in of_kind(docs, "Deployment")}
    for scaler in of_kind(docs, "HorizontalPodAutoscaler"):
        ceiling[scaler["metadata"]["labels"]["app.kubernetes.io/component"]] = scaler["spec"]["maxReplicas"]
    for scaler in of_kind(docs, "ScaledObject"):
        ceiling[scaler["metadata"]["labels"]["app.kubernetes.io/component"]] = scaler["spec"]["maxReplicaCount"]
    return ceiling


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_partitions_cover_the_most_replicas_of_every_consumer(value_set: str) -> None:
    declared, ceiling = kafka_topics(), most_replicas(render(VALUE_SETS[value_set]))
    for topic in ALL:
        for consumer in topic.consumers:
            replicas = ceiling.get(consumer.replace("_", "-"), 0)
            assert declared[topic.name]["partitions"] >= replicas, (topic.name, consumer, replicas)


def test_keda_scales_each_consumer_on_every_topic_it_reads() -> None:
    for scaled in of_kind(render(VALUE_SETS["production"]), "ScaledObject"):
        service = scaled["metadata"]["labels"]["app.kubernetes.io/component"].replace("-", "_")
        triggers = {t["metadata"]["topic"]: t["metadata"] for t in scaled["spec"]["triggers"]}
        assert set(triggers) == {t.name for t in ALL if service in t.consumers}
        assert {m["consumerGroup"] for m in triggers.values()} == {f"numport.{service}"}
