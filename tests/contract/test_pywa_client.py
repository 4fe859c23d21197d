"""A client we did not write, pywa, against the sandbox over HTTP: every call of numport's flows that pywa offers
parses into pywa's objects, and every Graph error arrives as pywa's exception class for its code."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from pywa import WhatsApp
from pywa import errors as pywa_errors
from pywa.types.templates import ParamFormat, TemplateStatus

from deploy.local.processes import ThreadedServer
from sandbox.app import create_app
from sandbox.state import World, read_scenario
from tests.contract.answers import AnswerLog

NUMBER, SOURCE, DESTINATION, CUSTOMER = "500000000000001", "200000000000001", "200000000000002", "100000000000001"
ADD = {"cc": "55", "phone_number": "11987654321", "migrate_phone_number": True}


class ToSandbox(httpx.HTTPTransport):
    """pywa always addresses graph.facebook.com: send its requests to the sandbox over HTTP, and keep the answers."""

    def __init__(self, url: str, log: AnswerLog) -> None:
        super().__init__()
        self.target, self.log = httpx.URL(url), log

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme=self.target.scheme, host=self.target.host, port=self.target.port)
        response = super().handle_request(request)
        response.read()
        self.log.keep(request, response)
        return response


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[ThreadedServer, World]]:
    """One uvicorn for the module: each test loads its own world into it."""
    world = World()
    with ThreadedServer(create_app(world)) as served:
        yield served, world


@pytest.fixture
def sandbox(server: tuple[ThreadedServer, World]) -> Iterator[tuple[WhatsApp, httpx.Client, World]]:
    """pywa on our destination WABA, plus a plain client for the sandbox's admin calls; when the test is done, every
    answer pywa received is checked against the operation it was meant for."""
    served, world = server
    world.load(read_scenario("eligible"))
    log = AnswerLog()
    session = httpx.Client(transport=ToSandbox(served.url, log), timeout=10)
    wa = WhatsApp(token="sandbox-token", phone_id=NUMBER, waba_id=DESTINATION, session=session,
                  api_version="23.0")
    with httpx.Client(base_url=served.url, headers={"Authorization": "Bearer sandbox-token"}, timeout=10) as admin:
        yield wa, admin, world
    session.close()
    log.check_all(world)


def migrating(admin: httpx.Client) -> str:
    """OBO accepted and the number added to our WABA with the migrate flag (pywa cannot: see the module's notes)."""
    obo = admin.post(f"/v23.0/{DESTINATION}/in_progress_onbehalf_request", json={"receiving_business_id": CUSTOMER})
    assert admin.post(f"/_sandbox/obo/{obo.json()['id']}/accept").status_code == 200
    added = admin.post(f"/v23.0/{DESTINATION}/phone_numbers", json=ADD)
    assert added.status_code == 200, added.text
    return added.json()["id"]


def test_number_details(sandbox):
    wa, _, world = sandbox
    number = wa.get_business_phone_number(phone_id=NUMBER)
    assert number.id == NUMBER and number.display_phone_number == world.numbers[NUMBER].display_phone_number
    assert (number.verified_name, number.name_status, number.quality_rating) == ("Padaria Exemplo", "APPROVED", "GREEN")
    assert (number.code_verification_status, number.platform_type, number.account_mode) == ("VERIFIED", "CLOUD_API",
                                                                                            "LIVE")
    assert number.is_pin_enabled is False and number.country_dial_code == "55" and number.country_code == "BR"
    assert number.throughput == {"level": "STANDARD"}


def test_number_listing(sandbox):
    wa, _, _ = sandbox
    listed = wa.get_business_phone_numbers(waba_id=SOURCE)
    assert [n.id for n in listed] == [NUMBER] and listed[0].status == "LINKED"
    assert listed[0].display_phone_number and listed[0].verified_name == "Padaria Exemplo"


def test_request_code(sandbox):
    wa, admin, _ = sandbox
    number = migrating(admin)
    assert wa.request_verification_code(code_method="SMS", language_code="pt_BR", phone_id=number).success is True
    assert admin.get(f"/_sandbox/numbers/{number}/code").json()["code"]


def test_verify_code(sandbox):
    wa, admin, world = sandbox
    number = migrating(admin)
    wa.request_verification_code(code_method="VOICE", language_code="en", phone_id=number)
    code = admin.get(f"/_sandbox/numbers/{number}/code").json()["code"]
    assert wa.verify_phone_number(code=code, phone_id=number).success is True
    assert world.numbers[number].code_verification_status == "VERIFIED"


def test_register(sandbox):
    wa, admin, world = sandbox
    number = migrating(admin)
    wa.request_verification_code(code_method="SMS", language_code="en", phone_id=number)
    wa.verify_phone_number(code=admin.get(f"/_sandbox/numbers/{number}/code").json()["code"], phone_id=number)
    assert wa.register_phone_number(pin="424242", phone_id=number).success is True
    onboarded = wa.get_business_phone_number(phone_id=number).last_onboarded_time
    assert onboarded == world.numbers[number].last_onboarded_time is not None
    assert world.numbers[number].waba_id == DESTINATION


def test_waba_details(sandbox):
    wa, _, _ = sandbox
    waba = wa.get_business_account(waba_id=SOURCE)
    assert waba.id == SOURCE and waba.name and waba.timezone_id == "1" and waba.message_template_namespace
    assert waba.owner_business_info.id == "100000000000005" and waba.account_review_status == "APPROVED"
    assert waba.currency == "USD" and waba.ownership_type == "CLIENT_OWNED"


def test_subscribed_apps(sandbox):
    wa, admin, world = sandbox
    world.wabas[DESTINATION].subscribed_apps.clear()
    assert wa.get_business_account().subscribed_apps == ()
    assert admin.post(f"/v23.0/{DESTINATION}/subscribed_apps").status_code == 200
    (app,) = wa.get_business_account().subscribed_apps
    assert (app.id, app.name, app.link) == (world.app["id"], world.app["name"], world.app["link"])
    assert wa.api.get_waba_subscribed_apps(DESTINATION)["data"][0]["whatsapp_business_api_data"]["id"] == app.id


def test_templates_list(sandbox):
    wa, _, world = sandbox
    listed = wa.get_templates(waba_id=SOURCE)
    mine = {t.id: t for t in world.templates_of(SOURCE)}
    assert {t.id for t in listed} == set(mine) and listed.message_template_count == len(mine)
    assert listed.total_count == len(mine) and listed.message_template_limit in (250, 6000)
    first = listed[0]
    assert (first.name, first.status, first.parameter_format) == (mine[first.id].name, mine[first.id].status,
                                                                  ParamFormat.POSITIONAL)
    assert first.quality_score.score == mine[first.id].quality_score and first.components
    approved = wa.get_templates(waba_id=SOURCE, statuses=[TemplateStatus.APPROVED])
    assert {t.id for t in approved} == {i for i, t in mine.items() if t.status == "APPROVED"}


def test_template_get(sandbox):
    wa, _, world = sandbox
    template_id = world.templates_of(SOURCE)[0].id
    template = wa.get_template(template_id)
    expected = world.templates[template_id]
    assert (template.id, template.name, template.language, template.category) == (
        template_id, expected.name, expected.language, expected.category)
    assert template.parameter_format == ParamFormat.POSITIONAL and template.components[0].text == "Hello {{1}}"


def test_template_migration(sandbox):
    wa, _, world = sandbox
    for template in world.templates_of(SOURCE):  # pywa reads failed_templates as a list: give it none to read
        template.status, template.quality_score = "APPROVED", "GREEN"
    result = wa.migrate_templates(source_waba_id=SOURCE, page_number=0)
    copies = {world.templates[t.id].name for t in result.migrated}
    assert copies == {t.name for t in world.templates_of(SOURCE)} and result.failed == ()
    assert all(world.templates[t.id].waba_id == DESTINATION for t in result.migrated)


def test_template_migration_failures_are_a_map_pywa_does_not_read(sandbox):
    """Meta's documented example (and the sandbox) key failed_templates by template id; pywa 4.5 iterates it as a
    list of {id, reason}. Recorded here so an upgrade of pywa that reads the map shows up."""
    wa, admin, world = sandbox
    world.templates_of(SOURCE)[0].quality_score = "RED"
    answer = admin.post(f"/v23.0/{DESTINATION}/migrate_message_templates", json={"source_waba_id": SOURCE}).json()
    assert answer["failed_templates"] and isinstance(answer["failed_templates"], dict)
    with pytest.raises(TypeError):  # pywa indexes each key (a template id) as if it were an {id, reason} object
        wa.migrate_templates(source_waba_id=SOURCE, page_number=0)


@pytest.mark.parametrize("provoke, code, error_class", [
    ("wrong_code", 100, pywa_errors.WhatsAppError),  # pywa has no class for code 100: its base class
    ("not_migrating", 2388091, pywa_errors.PhoneNumberNotEligibleForRegistrationCode),
    ("refused_migration", 2388103, pywa_errors.CannotMigratePhoneNumber),
    ("already_there", 2388012, pywa_errors.PhoneNumberAlreadyExists),
    ("too_many_wrong_codes", 4, pywa_errors.ToManyAPICalls),
    ("register_limit", 133016, pywa_errors.RegistrationOrDeregistrationFailed),
    ("throttled", 80007, pywa_errors.RateLimitIssues),
    ("unknown_field", 100, pywa_errors.WhatsAppError),
    ("unknown_node", 100, pywa_errors.WhatsAppError),
])
def test_errors_arrive_as_pywa_exception_classes(sandbox, provoke, code, error_class):
    wa, admin, world = sandbox
    with pytest.raises(pywa_errors.WhatsAppError) as raised:
        PROVOKE[provoke](wa, admin, world)
    assert type(raised.value) is error_class and raised.value.code == code
    assert raised.value.status_code in (400, 422, 429) and raised.value.fbtrace_id


def _wrong_code(wa: WhatsApp, admin: httpx.Client, world: World) -> None:
    number = migrating(admin)
    wa.request_verification_code(code_method="SMS", language_code="en", phone_id=number)
    wa.verify_phone_number(code="000000", phone_id=number)


def _too_many_wrong_codes(wa: WhatsApp, admin: httpx.Client, world: World) -> None:
    number = migrating(admin)
    wa.request_verification_code(code_method="SMS", language_code="en", phone_id=number)
    for _ in range(world.limits.wrong_codes_allowed):
        with pytest.raises(pywa_errors.WhatsAppError):
            wa.verify_phone_number(code="000000", phone_id=number)
    wa.verify_phone_number(code="000000", phone_id=number)


def _register_limit(wa: WhatsApp, admin: httpx.Client, world: World) -> None:
    world.limits.registers_per_window = 0
    wa.register_phone_number(pin="424242", phone_id=NUMBER)


def _throttled(wa: WhatsApp, admin: httpx.Client, world: World) -> None:
    admin.post("/_sandbox/faults", json={"burst_status": 429, "burst_remaining": 1})
    wa.get_business_phone_number(phone_id=NUMBER)


def _add_directly(wa: WhatsApp, admin: httpx.Client, world: World) -> None:
    """pywa's create_phone_number has no migrate flag; numport's add is a raw call through pywa's own session."""
    wa.api._request("POST", f"/{DESTINATION}/phone_numbers", json=ADD)


def _already_there(wa: WhatsApp, admin: httpx.Client, world: World) -> None:
    world.numbers[NUMBER].waba_id = DESTINATION
    world.wabas[DESTINATION].subscribed_apps.append(dict(world.app))
    _add_directly(wa, admin, world)


PROVOKE = {
    "wrong_code": _wrong_code,
    "not_migrating": lambda wa, admin, world: wa.request_verification_code(code_method="SMS", language_code="en",
                                                                           phone_id=NUMBER),
    "refused_migration": _add_directly,  # the OBO request is not accepted
    "already_there": _already_there,
    "too_many_wrong_codes": _too_many_wrong_codes,
    "register_limit": _register_limit,
    "throttled": _throttled,
    "unknown_field": lambda wa, admin, world: wa.api.get_waba_info(SOURCE, fields=("name", "no_such_field")),
    "unknown_node": lambda wa, admin, world: wa.get_business_account(waba_id="123456789"),
}
