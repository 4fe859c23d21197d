"""The Grafana dashboard queries only metric families numport exports, covers the ones an operator watches, and the
chart ships it unchanged as a ConfigMap when switched on."""

from __future__ import annotations

import json
import re

from prometheus_client import REGISTRY

import shared.metrics  # noqa: F401 - declares every family on the registry
from deploy.helm import tools
from tests.deploy.chart import VALUE_SETS, of_kind, render

DASHBOARD = tools.ROOT / "deploy" / "grafana" / "numport.json"
SUFFIXES = re.compile(r"_(total|bucket|count|sum|created)$")
WATCHED = {"numport_migrations", "numport_migrations_finished", "numport_saga_step_seconds",
           "numport_migration_duration_seconds", "numport_saga_escalations", "numport_graph_calls",
           "numport_graph_call_seconds", "numport_consumer_lag", "numport_outbox_oldest_seconds",
           "numport_dead_lettered", "numport_consumer_stuck", "numport_events_consumed"}


def queried() -> set[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    exprs = [target["expr"] for panel in panels for target in panel.get("targets", [])]
    return {SUFFIXES.sub("", name) for expr in exprs for name in re.findall(r"\bnumport_[a-z_]+", expr)}


def test_the_dashboard_queries_only_exported_families_and_every_watched_one() -> None:
    exported = {family.name for family in REGISTRY.collect() if family.name.startswith("numport_")}
    assert queried() <= exported, queried() - exported
    assert queried() >= WATCHED, WATCHED - queried()


def test_the_chart_ships_the_dashboard_when_switched_on() -> None:
    [config_map] = [c for c in of_kind(render(VALUE_SETS["all-on"]), "ConfigMap") if "numport.json" in c["data"]]
    assert json.loads(config_map["data"]["numport.json"]) == json.loads(DASHBOARD.read_text())
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert not [c for c in of_kind(render(VALUE_SETS["all-off"]), "ConfigMap") if "numport.json" in c["data"]]
