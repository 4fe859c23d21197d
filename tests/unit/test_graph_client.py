"""The Graph client retries what may succeed later, stops on what will not, and never leaks the token."""

from __future__ import annotations

import logging

import httpx
import pytest

from shared.graph import GraphClient, GraphOutcomeUnknown, GraphPermanentError, GraphTransientError

TOKEN = "EAAG-secret-token-value"


def error(status: int, code: int, *, transient: bool = False, headers: dict | None = None) -> httpx.Response:
    body = {"error": {"message": f"(#{code}) failure", "type": "OAuthException", "code": code,
                      "fbtrace_id": "trace", "is_transient": transient}}
    return httpx.Response(status, json=body, headers=headers or {})


class Script:
    """A fake Graph server answering with the given responses in order, recording every request."""

    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.responses.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client(script: Script, sleeps: list[float], **kwargs) -> GraphClient:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return GraphClient("https://graph.example", "v23.0", TOKEN, transport=httpx.MockTransport(script),
                       sleep=sleep, **kwargs)


async def test_retries_5xx_and_throttling_then_succeeds():
    script = Script(error(500, 2, transient=True), error(429, 80007, headers={"Retry-After": "7"}),
                    httpx.Response(200, json={"id": "1", "name_status": "APPROVED"}))
    sleeps: list[float] = []
    answer = await client(script, sleeps).get("/1", fields=["name_status"])
    assert answer["name_status"] == "APPROVED"
    assert len(script.requests) == 3
    assert sleeps[1] == 7.0 and 0 <= sleeps[0] <= 0.5
    assert script.requests[0].url.path == "/v23.0/1" and script.requests[0].url.params["fields"] == "name_status"
    assert script.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


async def test_retries_network_errors_on_reads():
    script = Script(httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.Response(200, json={"ok": 1}))
    assert await client(script, []).get("/1") == {"ok": 1}


async def test_permanent_error_is_raised_at_once_with_its_fields():
    script = Script(error(400, 100))
    with pytest.raises(GraphPermanentError) as raised:
        await client(script, []).get("/1")
    assert len(script.requests) == 1
    assert raised.value.code == 100 and raised.value.fbtrace_id == "trace" and not raised.value.is_transient


async def test_gives_up_after_max_attempts_with_the_transient_error():
    script = Script(*[error(503, 2, transient=True)] * 3)
    sleeps: list[float] = []
    with pytest.raises(GraphTransientError):
        await client(script, sleeps, max_attempts=3).get("/1")
    assert len(script.requests) == 3 and len(sleeps) == 2


async def test_backoff_grows_exponentially_within_full_jitter_bounds():
    script = Script(*[error(500, 1)] * 5, httpx.Response(200, json={}))
    sleeps: list[float] = []
    await client(script, sleeps, max_attempts=6, backoff=1.0).get("/1")
    assert all(0 <= s <= 2 ** i for i, s in enumerate(sleeps))


async def test_a_write_is_not_repeated_when_meta_may_have_acted():
    script = Script(error(500, 2, transient=True))
    with pytest.raises(GraphOutcomeUnknown):
        await client(script, []).post("/1/register", {"messaging_product": "whatsapp", "pin": "123456"})
    assert len(script.requests) == 1


async def test_a_throttled_write_is_retried_because_meta_did_not_act():
    script = Script(error(429, 4, transient=True), httpx.Response(200, json={"success": True}))
    assert await client(script, []).post("/1/request_code", {"code_method": "SMS"}) == {"success": True}


async def test_token_never_appears_in_errors_or_logs(caplog):
    caplog.set_level(logging.DEBUG)
    script = Script(error(500, 2), error(500, 2), error(400, 190))
    with pytest.raises(GraphPermanentError) as raised:
        await client(script, []).get("/1")
    assert TOKEN not in str(raised.value) and TOKEN not in repr(raised.value.__dict__)
    assert TOKEN not in caplog.text


async def test_non_json_error_body_still_parses_as_transient_5xx():
    script = Script(httpx.Response(502, text="<html>bad gateway</html>"), httpx.Response(200, json={"id": "9"}))
    assert await client(script, []).get("/9") == {"id": "9"}


async def test_a_throttled_write_stops_retrying_once_its_budget_is_spent():
    """A write must settle inside its outcome window; retrying a throttled write past the budget would let a
    restart read Meta's state while our last attempt is still on its way."""
    now = [0.0]
    script = Script(*(error(429, 80007, headers={"Retry-After": "15"}) for _ in range(5)))
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    graph = GraphClient("https://graph.example", "v23.0", TOKEN, transport=httpx.MockTransport(script),
                        sleep=sleep, clock=lambda: now[0], timeout=10, max_attempts=5)
    with pytest.raises(GraphTransientError):
        await graph.post("/1/register", {"pin": "123456"})
    assert graph.write_budget == 20 and sleeps == [15.0]  # a second wait of 15 s would pass the 20 s budget
    assert graph.outcome_window > graph.write_budget + graph.timeout
