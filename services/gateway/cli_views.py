"""How the CLI shows the partner API's answers to people: whole ids at any terminal width, every blocker's words."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Column, Table

console = Console()


def table(*headers: str, whole: tuple[str, ...] = ("id",)) -> Table:
    """Columns in `whole` are never cut (an id must copy whole); the others wrap rather than lose characters."""
    columns = [Column(h, no_wrap=True) if h in whole else Column(h, overflow="fold") for h in headers]
    return Table(*columns, box=box.SIMPLE_HEAD)


def show_report(report: dict[str, Any], every_check: bool = False) -> None:
    checks = report["report"]
    counts = {s: sum(c["status"] == s for c in checks) for s in ("pass", "fail", "not_applicable")}
    outcome = report["outcome"].replace("_", " ")
    console.print(f"[bold]{report['phone_number']}[/]: [bold]{outcome}[/]"
                  + (f" — {report['message']}" if report.get("message") else "")
                  + (f" ({len(checks)} checks: {counts['pass']} pass, {counts['fail']} fail, "
                     f"{counts['not_applicable']} not applicable)" if checks else ""))
    if every_check:
        listed = table("check", "result", "reason code")
        for check in checks:
            colour = {"pass": "green", "fail": "red"}.get(check["status"], "dim")
            listed.add_row(check["check"], f"[{colour}]{check['status']}[/]", check.get("reason_code") or "")
        console.print(listed)
    for check in (c for c in checks if c["status"] == "fail"):  # each blocker in full, wrapped at words
        console.print(f"[red]✗ {check['reason_code']}[/] ({check['actor']} acts)", highlight=False)
        console.print(f"  {check['message']}\n  → {check['remedy']}", markup=False, highlight=False)


def show_migration(m: dict[str, Any]) -> None:
    console.print(f"[bold]{m['id']}[/] {m['phone_number']} → WABA {m['destination_waba_id']}: "
                  f"[bold]{m['state']}[/]\n  next: {m['next_action']}", soft_wrap=True)
    if collected := m["detail"].get("api_key_collected_at"):
        console.print(f"  API key: collected at {collected[:19].replace('T', ' ')} UTC")
    if (templates := template_detail(m["detail"])) is not None:
        console.print(f"  templates: {templates}")


def template_detail(detail: dict[str, Any]) -> str | None:
    """Template counts and downtime, as the templates service reported them."""
    counts = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in (detail.get("template_counts") or {}).items() if n)
    downtime = detail.get("template_downtime_seconds")
    found = [counts] if counts else []
    found += [f"template downtime {downtime:g} s"] if downtime is not None else []
    return "; ".join(found) or None


def show_timeline(events: list[dict[str, Any]]) -> None:
    found = table("when (UTC)", "event", "by", "detail")
    for event in events:
        payload = event["payload"]
        found.add_row(event["occurred_at"][:19].replace("T", " "), event["type"], payload.get("producer", ""),
                      event_detail(payload))
    console.print(found)


def event_detail(payload: dict[str, Any]) -> str:
    if payload.get("failed"):
        return ", ".join(payload["failed"])
    if (templates := template_detail(payload)) is not None:
        return templates
    if payload.get("template_outcome"):
        return f"{payload['name']} ({payload['language']}): {payload['status']}, {payload.get('reason') or ''}"
    for key, label in (("reason_code", ""), ("message", ""), ("position", "position "), ("method", "by "),
                       ("attempts_left", "tries left: "), ("completed_at", "at "), ("key_prefix", "key "),
                       ("allocation_config_id", "allocation "), ("obo_request_id", "request ")):
        if payload.get(key) not in (None, ""):
            return f"{label}{payload[key]}"
    return ""


def show_migrations(migrations: list[dict[str, Any]]) -> None:
    found = table("id", "number", "destination WABA", "state", "updated (UTC)")
    for m in migrations:
        found.add_row(m["id"], m["phone_number"], m["destination_waba_id"], m["state"],
                      m["updated_at"][:19].replace("T", " "))
    console.print(found)
