"""A running service answers /healthz, /readyz and /metrics, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio

import httpx

from deploy.local import kafkaio as kafka
from deploy.local.processes import ServiceProcess
from shared import topics
from tests.factories import migration_requested


async def test_probes_metrics_and_graceful_stop(service_env, eligible_world):
    service = ServiceProcess("precheck", service_env).start()
    try:
        service.wait_ready()
        base = f"http://127.0.0.1:{service.port}"
        async with httpx.AsyncClient(base_url=base) as http:
            assert (await http.get("/healthz")).json() == {"status": "ok", "service": "precheck"}
            ready = (await http.get("/readyz")).json()
            assert ready == {"ready": True, "service": "precheck", "checks": {"database": True, "kafka": True}}
            await kafka.produce_event(service_env["NUMPORT_KAFKA_BOOTSTRAP"], migration_requested())
            await kafka.read(service_env["NUMPORT_KAFKA_BOOTSTRAP"], topics.PRECHECK_RESULTS.name)
            for _ in range(50):  # the relay counts a row once its publication is committed, just after the send
                metrics = (await http.get("/metrics")).text
                if 'numport_outbox_published_total{service="precheck"} 1.0' in metrics:
                    break
                await asyncio.sleep(0.1)
        assert 'numport_events_consumed_total{outcome="processed",service="precheck",topic=' in metrics
        assert 'numport_outbox_published_total{service="precheck"} 1.0' in metrics
        assert 'numport_graph_calls_total{operation="GET /{id}/phone_numbers",outcome="ok",status="200"}' in metrics
    finally:
        code = service.terminate()
    assert code == 0
    logs = service.logs()
    assert '"msg": "shutting down on signal"' in logs and '"msg": "service stopped"' in logs
    assert service_env["NUMPORT_GRAPH_TOKEN"] not in logs
