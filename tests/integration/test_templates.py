"""The templates service on real Kafka and PostgreSQL with the sandbox over HTTP: what migrates and why not, the
limit, paging on both sides, Meta's re-check after duplication, manual retries."""

from __future__ import annotations

from collections import Counter

from deploy.local import kafkaio as kafka
from sandbox.state import Template, read_scenario
from tests.integration.templates_support import (
    DESTINATION,
    SOURCE,
    duplicated,
    eligible,
    outcomes_of,
    start_templates,
)


def copies_on_destination(world) -> Counter:
    return Counter((t.name, t.language) for t in world.templates_of(DESTINATION))


async def test_exactly_the_approved_green_templates_migrate_and_each_other_one_says_why(service_env, world,
                                                                                       sandbox_server):
    world.load(read_scenario("templates_mixed"))
    world.wabas[DESTINATION].template_limit = None  # Meta's rule: room for every eligible one here
    for ident, status, quality in (("610000000000001", "DISABLED", "GREEN"), ("610000000000002", "IN_APPEAL", "GREEN"),
                                   ("610000000000003", "APPROVED", "UNKNOWN")):
        world.templates[ident] = Template(ident, SOURCE, f"t_{status.lower()}_{quality.lower()}", status=status,
                                          quality_score=quality)
    service = start_templates(service_env)
    try:
        event = eligible()
        await kafka.produce_event(service_env["NUMPORT_KAFKA_BOOTSTRAP"], event)
        done = await duplicated(service_env["NUMPORT_KAFKA_BOOTSTRAP"], event.migration_id)
    finally:
        assert service.terminate() == 0, service.logs()[-3000:]
    assert outcomes_of(done) == {
        ("order_update", "en_US"): ("migrated", None), ("welcome_offer", "en_US"): ("migrated", None),
        ("password_code", "en_US"): ("migrated", None), ("receipt", "pt_BR"): ("migrated", None),
        ("shipping_delay", "en_US"): ("skipped", "QUALITY_YELLOW"), ("old_promo", "en_US"): ("skipped", "QUALITY_RED"),
        ("new_menu", "en_US"): ("skipped", "STATUS_PENDING"), ("spammy", "en_US"): ("skipped", "STATUS_REJECTED"),
        ("paused_one", "en_US"): ("skipped", "STATUS_PAUSED"),
        ("t_disabled_green", "en_US"): ("skipped", "STATUS_DISABLED"),
        ("t_in_appeal_green", "en_US"): ("skipped", "STATUS_IN_APPEAL"),
        ("t_approved_unknown", "en_US"): ("skipped", "QUALITY_UNKNOWN")}
    copied = {k for k, n in copies_on_destination(world).items() if k[0] != "existing_on_destination"}
    assert copied == {k for k, (o, _) in outcomes_of(done).items() if o == "migrated"}
    assert all(t.rating_window_ends_at is not None for t in done.templates if t.outcome == "migrated")
    assert done.template_counts["migrated"] == 4 and done.template_counts["skipped"] == 8
