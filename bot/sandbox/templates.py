"""The sandbox's message templates: the catalogue Meta serves (``GET /{waba-id}/
message_templates``, cursor-paged, with statuses and categories) and template sends
checked the way Meta checks them, with Meta's codes (fact sheet §8):

* unknown name, or not in the requested language, or not approved (pending, rejected):
  132001; paused: 132015; disabled: 132016;
* a component's parameter count differs from the template's placeholders: 132000;
* a parameter that is not text where text is expected: 132012; a text parameter with a
  line break, a tab or more than four spaces in a row: 132018.

Every template send that reaches the sandbox is journalled (:attr:`SandboxTemplates.sends`),
refused or not, so a test can show that a send was refused before any request.
"""

from __future__ import annotations

import base64
import copy
import re
from typing import Any
from urllib.parse import urlencode

from bot.sandbox.errors import DriverRequestError, GraphError
from bot.sandbox.graph import invalid_param

JSON = dict[str, Any]

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 1000
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
_CRAMPED = re.compile(r"[\n\t]| {5,}")


def _template(
    name: str, language: str, category: str, status: str, body: str, **extra: Any
) -> JSON:
    components: list[JSON] = []
    if "header" in extra:
        components.append({"type": "HEADER", "format": "TEXT", "text": extra["header"]})
    components.append({"type": "BODY", "text": body})
    if "footer" in extra:
        components.append({"type": "FOOTER", "text": extra["footer"]})
    if "buttons" in extra:
        components.append({"type": "BUTTONS", "buttons": extra["buttons"]})
    return {
        "name": name,
        "language": language,
        "category": category,
        "status": status,
        "components": components,
        "parameter_format": "POSITIONAL",
    }


DEFAULT_CATALOGUE: tuple[JSON, ...] = (
    _template(
        "hello_world",
        "en_US",
        "UTILITY",
        "APPROVED",
        "Welcome and congratulations!! This message demonstrates your ability to send a "
        "WhatsApp message notification from the Cloud API, hosted by Meta. Thank you for "
        "taking the time to test with us.",
        header="Hello World",
        footer="WhatsApp Business Platform sample message",
    ),
    _template(
        "order_update",
        "en_US",
        "UTILITY",
        "APPROVED",
        "Hello {{1}}, your order {{2}} has shipped.",
        footer="Reply STOP to opt out",
    ),
    _template(
        "order_update",
        "de",
        "UTILITY",
        "APPROVED",
        "Hallo {{1}}, Ihre Bestellung {{2}} ist unterwegs.",
        footer="Antworten Sie STOP zum Abmelden",
    ),
    _template(
        "follow_up",
        "de",
        "UTILITY",
        "APPROVED",
        "Guten Tag, wir haben noch eine Frage zu Ihrer Anfrage. Bitte antworten Sie auf diese "
        "Nachricht.",
        header="Rückfrage",
        buttons=[{"type": "QUICK_REPLY", "text": "Gerne"}],
    ),
    _template("weekly_deals", "de", "MARKETING", "APPROVED", "Diese Woche: {{1}}"),
    _template("spring_sale", "de", "MARKETING", "PAUSED", "Frühlingsangebot: {{1}} Rabatt!"),
    _template("old_notice", "en_US", "UTILITY", "DISABLED", "This notice is outdated."),
    _template("new_offer", "en_US", "MARKETING", "PENDING", "A new offer for {{1}}."),
    _template("rejected_promo", "en_US", "MARKETING", "REJECTED", "Win {{1}} now!!!"),
)
"""What a new sandbox account has: Meta's ``hello_world`` sample (every new account has
it), approved utility templates in two languages, and one of each status Meta refuses a
send for."""


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return int(text.removeprefix("offset:"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid_param("Param after is not a valid cursor") from exc


def _error(code: int, title: str, details: str) -> GraphError:
    return GraphError(400, code, f"(#{code}) {title}", details=details)


class SandboxTemplates:
    """The account's templates and the journal of template sends."""

    def __init__(self) -> None:
        self.catalogue: list[JSON] = copy.deepcopy(list(DEFAULT_CATALOGUE))
        self.sends: list[JSON] = []
        """Every template send's request body, in order, refused ones included."""
        self.reads = 0
        """How many catalogue pages were served."""

    def reset(self) -> None:
        self.catalogue = copy.deepcopy(list(DEFAULT_CATALOGUE))
        self.sends.clear()
        self.reads = 0

    def view(self) -> JSON:
        """The catalogue and every template send received (driver API)."""
        return {"templates": copy.deepcopy(self.catalogue), "sends": copy.deepcopy(self.sends)}

    def add(self, entry: JSON) -> None:
        """Add (or replace, by name and language) a catalogue entry in Meta's shape."""
        _check_entry(entry)
        key = (entry.get("name"), entry.get("language"))
        self.catalogue = [t for t in self.catalogue if (t["name"], t["language"]) != key]
        self.catalogue.append(copy.deepcopy(entry))

    def page(self, query: dict[str, str], next_url: str) -> JSON:
        """One page of ``GET /{waba-id}/message_templates`` (``limit``, ``after``,
        ``status``, ``fields``); ``paging.next`` when more follow, repeating the query as
        Graph does."""
        try:
            limit = int(query.get("limit", DEFAULT_PAGE_SIZE))
        except ValueError as exc:
            raise invalid_param("Param limit must be an integer") from exc
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        start = _offset(query["after"]) if query.get("after") else 0
        wanted = query.get("status")
        entries = [t for t in self.catalogue if not wanted or t["status"] == wanted.upper()]
        fields = [f for f in query.get("fields", "").split(",") if f]
        chunk = entries[start : start + limit]
        self.reads += 1
        data = []
        for index, entry in enumerate(chunk, start=start):
            item = {"id": str(1_400_000_000_000 + index)}
            item.update(
                {k: copy.deepcopy(v) for k, v in entry.items() if not fields or k in fields}
            )
            data.append(item)
        body: JSON = {"data": data}
        if chunk:
            body["paging"] = {
                "cursors": {"before": _cursor(start), "after": _cursor(start + len(chunk))}
            }
            if start + len(chunk) < len(entries):
                following = {**query, "limit": str(limit), "after": _cursor(start + len(chunk))}
                body["paging"]["next"] = f"{next_url}?{urlencode(following)}"
        return body

    def check_send(self, body: JSON) -> str:
        """Journal a template send's whole body, then refuse it as Meta would; returns the
        template's category."""
        self.sends.append(copy.deepcopy(body))
        template = body["template"]
        name = str(template.get("name"))
        language = str((template.get("language") or {}).get("code"))
        entry = next(
            (t for t in self.catalogue if t["name"] == name and t["language"] == language), None
        )
        if entry is None or entry["status"] not in ("APPROVED", "PAUSED", "DISABLED"):
            raise _error(
                132001,
                "Template name does not exist in the translation",
                f"template name ({name}) does not exist in {language}",
            )
        if entry["status"] == "PAUSED":
            raise _error(132015, "Template is Paused", f"template {name} is paused")
        if entry["status"] == "DISABLED":
            raise _error(132016, "Template is disabled", f"template {name} is disabled")
        _check_parameters(entry, template.get("components") or [])
        return str(entry["category"])


STATUSES = ("APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED")
CATEGORIES = ("UTILITY", "MARKETING", "AUTHENTICATION")


def _check_entry(entry: Any) -> None:
    """A catalogue entry a driver adds must look like Meta's, or the bot would read junk."""
    if not isinstance(entry, dict):
        raise DriverRequestError("a template must be a JSON object")
    for key in ("name", "language"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise DriverRequestError(f"template {key}: required, a string")
    if entry.get("status") not in STATUSES:
        raise DriverRequestError(f"template status: one of {', '.join(STATUSES)}")
    if entry.get("category") not in CATEGORIES:
        raise DriverRequestError(f"template category: one of {', '.join(CATEGORIES)}")
    components = entry.get("components")
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise DriverRequestError("template components: a list of objects, as Meta lists them")


def _expected(entry: JSON) -> dict[str, int]:
    """Placeholders per component type (``header``, ``body``)."""
    counts: dict[str, int] = {}
    for component in entry["components"]:
        kind = str(component.get("type", "")).lower()
        if kind in ("header", "body") and component.get("format", "TEXT") == "TEXT":
            counts[kind] = len(set(_PLACEHOLDER.findall(str(component.get("text", "")))))
    return counts


def _check_parameters(entry: JSON, components: Any) -> None:
    if not isinstance(components, list):
        raise invalid_param("Param template['components'] must be a list")
    given: dict[str, list[Any]] = {}
    for component in components:
        if not isinstance(component, dict):
            raise invalid_param("Param template['components'] must hold objects")
        kind = str(component.get("type", "")).lower()
        parameters = component.get("parameters") or []
        if not isinstance(parameters, list):
            raise invalid_param(
                f"Param template['components']['{kind}']['parameters'] must be a list"
            )
        given[kind] = parameters
    for kind, expected in _expected(entry).items():
        count = len(given.get(kind, []))
        if count != expected:
            raise _error(
                132000,
                "Number of parameters does not match the expected number of params",
                f"{kind}: number of localizable_params ({count}) does not match the expected "
                f"number of params ({expected})",
            )
        for parameter in given.get(kind, []):
            text = parameter.get("text") if isinstance(parameter, dict) else None
            if (
                not isinstance(parameter, dict)
                or parameter.get("type") != "text"
                or not isinstance(text, str)
                or not text
            ):
                raise _error(
                    132012,
                    "Parameter format does not match format in the created template",
                    f"{kind}: parameters must be non-empty text",
                )
            if _CRAMPED.search(text):
                raise _error(
                    132018,
                    "There was an issue with the parameters in your template",
                    "Param text cannot have new-line/tab characters or more than 4 "
                    "consecutive spaces",
                )
