"""Templates on the Cloud API wire: reading the catalogue (``GET /{waba-id}/
message_templates``, paged by cursor) and the ``type: template`` send body (§8).

Pure translation; :class:`adapters.whatsapp.cloud.CloudWhatsApp` makes the requests.
"""

from __future__ import annotations

from typing import Any

from bot.templates.model import MessageTemplate, TemplateMessage, placeholders

CATALOGUE_FIELDS = "name,language,category,status,components,parameter_format"
PAGE_SIZE = 100
MAX_PAGES = 50
"""A WABA holds at most a few thousand templates; a cursor loop beyond this is a bug."""


def from_graph(raw: Any) -> MessageTemplate | None:
    """One entry of the catalogue; None for an entry without name or language."""
    if not isinstance(raw, dict):
        return None
    name, language = raw.get("name"), raw.get("language")
    if not isinstance(name, str) or not isinstance(language, str) or not name or not language:
        return None
    fields: dict[str, Any] = {}
    for component in raw.get("components") or []:
        if not isinstance(component, dict):
            continue
        kind = str(component.get("type", "")).upper()
        text = component.get("text") if isinstance(component.get("text"), str) else None
        if kind == "HEADER":
            fields["header_format"] = str(component.get("format") or "TEXT").upper()
            fields["header"] = text
        elif kind == "BODY":
            fields["body"] = text or ""
        elif kind == "FOOTER":
            fields["footer"] = text
        elif kind == "BUTTONS":
            buttons = [b for b in component.get("buttons") or [] if isinstance(b, dict)]
            fields["buttons"] = tuple(str(b.get("text", "")) for b in buttons)
            fields["button_parameters"] = sum(1 for b in buttons if _needs_parameter(b))
    return MessageTemplate(
        name=name,
        language=language,
        category=str(raw.get("category") or ""),
        status=str(raw.get("status") or ""),
        named_parameters=raw.get("parameter_format") == "NAMED",
        **fields,
    )


def _needs_parameter(button: dict[str, Any]) -> bool:
    return bool(placeholders(str(button.get("url", "")))) or button.get("type") == "COPY_CODE"


def next_cursor(page: dict[str, Any]) -> str | None:
    """The ``after`` cursor if Meta says there is a next page (``paging.next``)."""
    paging = page.get("paging")
    if not isinstance(paging, dict) or not paging.get("next"):
        return None
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, dict) else None
    return after if isinstance(after, str) and after else None


def template_object(message: TemplateMessage) -> dict[str, Any]:
    """The ``template`` object of a §8 send; components only for parts with parameters."""
    components: list[dict[str, Any]] = []
    for kind, values in (("header", message.header), ("body", message.body)):
        if values:
            components.append(
                {"type": kind, "parameters": [{"type": "text", "text": v} for v in values]}
            )
    template: dict[str, Any] = {"name": message.name, "language": {"code": message.language}}
    if components:
        template["components"] = components
    return template
