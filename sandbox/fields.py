"""Which fields each Graph node type knows, serves by default and always serves: Meta answers an unknown name in
`fields` with an error, leaves out fields that have no value, and always sends a node's id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NodeType:
    name: str  # Graph's name for the node type, as its errors show it
    known: frozenset[str]  # the spec's properties for the node plus those Meta's reference pages document
    default: tuple[str, ...]  # what Meta sends when `fields` is absent
    required: tuple[str, ...] = ("id",)  # what the spec's schema requires: sent whatever `fields` asks for


class UnknownFields(ValueError):
    def __init__(self, node_type: NodeType, names: list[str]) -> None:
        super().__init__(f"Unknown field(s) {', '.join(names)} on a {node_type.name} node")


def _known(*names: str) -> frozenset[str]:
    return frozenset(" ".join(names).split())


NUMBER = NodeType("WhatsAppBusinessPhoneNumber", _known(
    "id display_phone_number verified_name quality_rating code_verification_status name_status new_name_status",
    "status country_code country_dial_code messaging_limit_tier account_mode certificate new_certificate",
    "is_official_business_account platform_type host_platform throughput last_onboarded_time is_pin_enabled",
    "is_on_biz_app is_preverified_number search_visibility conversational_automation quality_score",
    "webhook_configuration health_status eligibility_for_api_business_global_search username unified_cert_status",
    "whatsapp_business_manager_messaging_limit is_test_number"),
    ("id", "display_phone_number", "verified_name", "quality_rating", "code_verification_status", "platform_type",
     "throughput"))
LISTED_NUMBER = NodeType(NUMBER.name, NUMBER.known, NUMBER.default, ("id", "display_phone_number", "status"))
WABA = NodeType("WhatsAppBusinessAccount", _known(
    "id name timezone_id message_template_namespace account_review_status purchase_order_number audiences",
    "ownership_type subscribed_apps business_verification_status country currency on_behalf_of_business_info",
    "owner_business_info schedules is_enabled_for_insights dcc_config message_templates phone_numbers status",
    "health_status marketing_messages_lite_api_status marketing_messages_onboarding_status primary_funding_id",
    "disable_marketing_messages_on_cloud_api"),
    ("id", "name", "timezone_id", "message_template_namespace"), ("id", "name"))
BUSINESS = NodeType("Business", _known("id name timezone_id verification_status"), ("id", "name"))
TEMPLATE = NodeType("WhatsAppMessageTemplate", _known(
    "id name language category status components parameter_format quality_score previous_category",
    "correct_category sub_category rejected_reason message_send_ttl_seconds library_template_name",
    "cta_url_link_tracking_opted_out degrees_of_freedom_spec"),
    ("id", "name", "parameter_format", "components", "language", "status", "category"))
OBO_REQUEST = NodeType("BusinessOwnedObjectOnBehalfOfRequest", _known(
    "id status business_owned_object receiving_business requesting_business"),
    ("id", "status", "business_owned_object"), ("id", "status", "business_owned_object"))
ALLOCATION = NodeType("WhatsAppCreditAllocationConfig", _known("id receiving_credential credit_line_id waba_id"),
                      ("id", "receiving_credential"))
TEMPLATE_SUMMARY = NodeType("WhatsAppMessageTemplateSummary", _known(
    "total_count message_template_count message_template_limit are_translations_complete"), ())


def names(fields: str | None, node_type: NodeType) -> list[str]:
    """The top-level names `fields` asks for (nested selections such as `a{b}` name `a`); UnknownFields if any is
    not a field of the node type."""
    if not fields:
        return list(node_type.default)
    wanted = [f.split("{")[0].strip() for f in _top_level(fields) if f.strip()]
    if unknown := [f for f in wanted if f not in node_type.known]:
        raise UnknownFields(node_type, unknown)
    return wanted


def _top_level(fields: str) -> list[str]:
    """Split on the commas outside braces: `a,b{c,d}` is `a` and `b{c,d}`."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(fields):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(fields[start:i])
            start = i + 1
    return [*parts, fields[start:]]


def select(node: dict[str, Any], fields: str | None, node_type: NodeType) -> dict[str, Any]:
    wanted = dict.fromkeys([*node_type.required, *names(fields, node_type)])
    return {k: node[k] for k in wanted if node.get(k) is not None}
