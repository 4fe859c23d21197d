"""The sandbox's templates: listing pages, the migration call's paging and limits, and Meta's category re-check."""

from __future__ import annotations

import json

from sandbox.state import Template, World

DEST, SOURCE = "200000000000002", "200000000000001"


def many(world: World, count: int, waba: str = SOURCE, prefix: str = "bulk") -> None:
    for i in range(count):
        ident = str(610000000000000 + i)
        world.templates[ident] = Template(ident, waba, f"{prefix}_{i:04d}")


async def test_listing_pages_through_every_template_with_quality_as_an_object(graph, sandbox_world):
    many(sandbox_world, 230)
    seen, after = [], None
    while True:
        answer = (await graph.get(f"/v23.0/{SOURCE}/message_templates",
                                  params={"limit": 100, "fields": "name,language,status,quality_score",
                                          **({"after": after} if after else {})})).json()
        seen += answer["data"]
        if "next" not in answer["paging"]:
            break
        after = answer["paging"]["cursors"]["after"]
    assert len(seen) == 232 and len({t["id"] for t in seen}) == 232
    assert seen[0]["quality_score"] == {"score": "GREEN", "date": sandbox_world.templates[seen[0]["id"]].quality_date,
                                        "reasons": []}
    green = (await graph.get(f"/v23.0/{SOURCE}/message_templates", params={"quality_score": "GREEN",
                                                                           "limit": 5})).json()
    assert len(green["data"]) == 5


async def test_the_migration_call_pages_by_count_and_takes_template_ids(graph, sandbox_world):
    many(sandbox_world, 1100)
    source = [t.id for t in sandbox_world.templates_of(SOURCE)]
    pages = [(await graph.post(f"/v23.0/{DEST}/migrate_message_templates",
                               json={"source_waba_id": SOURCE, "page_number": p, "count": 500})).json()
             for p in range(3)]
    assert [len(p["migrated_templates"]) for p in pages] == [250, 0, 0]  # limit 250 names in the scenario
    assert sum("limit" in r for p in pages for r in p["failed_templates"].values()) == len(source) - 250
    by_ids = await graph.post(f"/v23.0/{DEST}/migrate_message_templates",  # a JSON array in the query string
                              params={"source_waba_id": SOURCE, "template_ids": json.dumps(source[:2])})
    assert by_ids.json()["migrated_templates"] == []  # already there: never copied twice
    assert len(by_ids.json()["failed_templates"]) == 2


async def test_the_migration_call_refuses_what_meta_refuses(graph, sandbox_world):
    post = graph.post
    url = f"/v23.0/{DEST}/migrate_message_templates"
    assert (await post(url, json={"source_waba_id": SOURCE, "count": 501})).status_code == 400
    assert (await post(url, json={"source_waba_id": SOURCE, "page_number": -1})).status_code == 400
    assert (await post(url, json={"page_number": 0})).status_code == 400
    assert (await post(url, json={"source_waba_id": SOURCE,
                                  "template_ids": [str(i) for i in range(501)]})).status_code == 400
    unknown = (await post(url, json={"source_waba_id": SOURCE, "template_ids": ["123"]})).json()
    assert "123" in unknown["failed_templates"]


async def test_a_new_name_takes_a_slot_and_another_language_of_a_name_there_takes_none(graph, sandbox_world):
    sandbox_world.wabas[DEST].template_limit = 1
    sandbox_world.templates["610000000000001"] = Template("610000000000001", DEST, "order_update", "pt_BR")
    sandbox_world.templates["610000000000002"] = Template("610000000000002", SOURCE, "order_update", "pt_BR")
    answer = (await graph.post(f"/v23.0/{DEST}/migrate_message_templates",
                               json={"source_waba_id": SOURCE})).json()
    copied = sorted((sandbox_world.templates[i].name, sandbox_world.templates[i].language)
                    for i in answer["migrated_templates"])
    assert copied == [("order_update", "en_US")]  # welcome_offer is a second name: no room


async def test_meta_re_checks_copies_and_rejects_a_stable_share_with_webhooks(graph, sandbox_world, hooks):
    many(sandbox_world, 20)
    await graph.post("/_sandbox/settings", json={"rejected_share": 0.5})
    await graph.post(f"/v23.0/{DEST}/migrate_message_templates", json={"source_waba_id": SOURCE})
    copies = [t for t in sandbox_world.templates_of(DEST) if t.copied_by]
    assert copies and all(t.status == "APPROVED" and t.quality_score == "UNKNOWN" for t in copies)
    reviewed = (await graph.post("/_sandbox/templates/review", json={})).json()
    rejected = {t.id for t in copies if t.status == "REJECTED"}
    assert set(reviewed["rejected"]) == rejected and 0 < len(rejected) < len(copies)
    again = (await graph.post("/_sandbox/templates/review", json={})).json()
    assert again["rejected"] == []  # each copy is re-checked once
    fields = [c["field"] for d in hooks.deliveries for e in d["payload"]["entry"] for c in e["changes"]]
    assert fields.count("template_category_update") == len(rejected)
    statuses = [c["value"] for d in hooks.deliveries for e in d["payload"]["entry"] for c in e["changes"]
                if c["field"] == "message_template_status_update"]
    assert [s["event"] for s in statuses].count("REJECTED") == len(rejected)
    assert all("-" in s["message_template_language"] for s in statuses)  # en-US, as Meta's webhooks write it
