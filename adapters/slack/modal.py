"""The root card's **Send template** form: a Slack modal with a template select and one
input per parameter of the chosen template.

The button press carries a ``trigger_id`` that Slack honours for 3 seconds: the press is
acknowledged and ``views.open`` called at once. Choosing a template (``dispatch_action``)
re-renders the form with that template's text and parameter inputs (``views.update``,
guarded by the view's ``hash``); the submission becomes a
:class:`~bot.ports.TemplateRequest` for the relay, which checks and sends it like a typed
``!template`` and answers in the thread. The view id is the request id, so a submission
delivered twice sends once.

The form remembers the root's channel and thread in ``private_metadata``: a view
submission names no channel, and a thread ``ts`` is unique only within its channel.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import errors
from adapters.slack.blocks import SEND_TEMPLATE, escape
from adapters.slack.chat_ids import ChatIds
from adapters.slack.events import Directory, MemberLookup
from bot.errors import PlatformError
from bot.ids import ThreadId
from bot.ports import AgentEventHandler, TemplateChoices, TemplateRequest
from bot.templates.model import MAX_PARAMETER, MessageTemplate
from bot.texts import Texts

log = logging.getLogger("empfang.slack")

CALLBACK_ID = "empfang_template"
CHOICE_BLOCK = "template"
CHOICE_ACTION = "template_choice"
PARAMETER_ACTION = "value"
MAX_OPTIONS = 100
"""A static select holds at most 100 options."""
MAX_PREVIEW = 3000


def _plain(text: str, limit: int = 75) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:limit], "emoji": True}


def _value(template: MessageTemplate) -> str:
    return f"{template.name}|{template.language}"


def _option(template: MessageTemplate) -> dict[str, Any]:
    return {"text": _plain(f"{template.name} ({template.language})"), "value": _value(template)}


@dataclass(frozen=True)
class Origin:
    """The root card the form was opened from."""

    channel_id: str
    thread_id: ThreadId


def form(
    templates: list[MessageTemplate],
    texts: Texts,
    origin: Origin,
    chosen: MessageTemplate | None = None,
) -> dict[str, Any]:
    """The modal view: the select, and once a template is chosen its text and inputs."""
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": _plain(texts.template_modal_title, 24),
        "close": _plain(texts.button_cancel, 24),
        "private_metadata": json.dumps({"channel": origin.channel_id, "thread": origin.thread_id}),
    }
    if not templates:
        view["blocks"] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": texts.template_modal_empty}}
        ]
        return view
    select: dict[str, Any] = {
        "type": "static_select",
        "action_id": CHOICE_ACTION,
        "options": [_option(t) for t in templates[:MAX_OPTIONS]],
    }
    if chosen is not None:
        select["initial_option"] = _option(chosen)
    blocks: list[dict[str, Any]] = [
        {
            "type": "input",
            "block_id": CHOICE_BLOCK,
            "dispatch_action": True,
            "label": _plain(texts.template_modal_choice, 2000),
            "element": select,
        }
    ]
    if chosen is not None:
        preview = escape(chosen.render())[:MAX_PREVIEW]
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": preview}})
        for index in range(1, chosen.parameter_count + 1):
            blocks.append(
                {
                    "type": "input",
                    "block_id": f"parameter-{index}",
                    "label": _plain(texts.template_modal_parameter.format(index=index), 2000),
                    "element": {
                        "type": "plain_text_input",
                        "action_id": PARAMETER_ACTION,
                        "max_length": MAX_PARAMETER,
                    },
                }
            )
    view["blocks"] = blocks
    view["submit"] = _plain(texts.template_modal_submit, 24)
    return view


def _chosen_value(state: dict[str, Any]) -> str | None:
    choice = (state.get("values") or {}).get(CHOICE_BLOCK) or {}
    selected = (choice.get(CHOICE_ACTION) or {}).get("selected_option") or {}
    value = selected.get("value")
    return value if isinstance(value, str) else None


def _origin(view: dict[str, Any]) -> Origin | None:
    try:
        found = json.loads(str(view.get("private_metadata") or ""))
        channel, thread = found.get("channel"), found.get("thread")
    except (ValueError, AttributeError):
        return None
    if not isinstance(channel, str) or not isinstance(thread, str) or not channel or not thread:
        return None
    return Origin(channel, ThreadId(thread))


def parameters(view: dict[str, Any]) -> tuple[str, ...]:
    """The parameter inputs' values in order (an empty input counts as empty)."""
    values = (view.get("state") or {}).get("values") or {}
    found = []
    index = 1
    while f"parameter-{index}" in values:
        entry = values[f"parameter-{index}"].get(PARAMETER_ACTION) or {}
        found.append(str(entry.get("value") or "").strip())
        index += 1
    return tuple(found)


class TemplateForm:
    """Opens, updates and receives the form; registered on the bolt app by the platform."""

    def __init__(
        self,
        client: AsyncWebClient,
        choices: TemplateChoices,
        texts: Texts,
        *,
        channels: Collection[str],
        ids: ChatIds,
        directory: Directory,
        is_member: MemberLookup,
        handler: Callable[[], AgentEventHandler | None],
    ) -> None:
        self._client = client
        self._choices = choices
        self._texts = texts
        self._channels = frozenset(channels)
        self._ids = ids
        self._directory = directory
        self._is_member = is_member
        self._handler = handler

    def register(self, app: Any) -> None:
        """Listen for the button, the select and the submission on bolt's ``AsyncApp``."""
        app.action(SEND_TEMPLATE)(self.open)
        app.action(CHOICE_ACTION)(self.choose)
        app.view(CALLBACK_ID)(self.submit)

    async def open(self, ack: Callable[[], Awaitable[Any]], body: dict[str, Any]) -> None:
        """The button: acknowledge, then ``views.open`` within the trigger's 3 seconds."""
        await ack()
        container = body.get("container") or {}
        channel, thread = container.get("channel_id"), container.get("message_ts")
        trigger = body.get("trigger_id")
        if channel not in self._channels or not thread or not trigger:
            return
        origin = Origin(str(channel), ThreadId(str(thread)))
        view = form(await self._choices.sendable(), self._texts, origin)
        await self._call("views.open", self._client.views_open(trigger_id=trigger, view=view))

    async def choose(self, ack: Callable[[], Awaitable[Any]], body: dict[str, Any]) -> None:
        """A template was chosen: show its text and one input per parameter."""
        await ack()
        view = body.get("view") or {}
        origin = _origin(view)
        chosen_value = _chosen_value(view.get("state") or {})
        if origin is None or chosen_value is None:
            return
        templates = await self._choices.sendable()
        chosen = next((t for t in templates if _value(t) == chosen_value), None)
        updated = form(templates, self._texts, origin, chosen)
        call = self._client.views_update(
            view_id=view.get("id"), hash=view.get("hash"), view=updated
        )
        await self._call("views.update", call)

    async def submit(
        self, ack: Callable[[], Awaitable[Any]], body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        """The submission, for the relay; the form closes, answers come in the thread."""
        on_event = self._handler()
        if on_event is None:
            raise PlatformError("Slack view submission before start")  # no ack: not closed
        origin = _origin(view)
        chosen = _chosen_value(view.get("state") or {})
        user = str((body.get("user") or {}).get("id") or "")
        if origin is not None and origin.channel_id in self._channels and chosen and user:
            name, _, language = chosen.partition("|")
            await on_event(
                TemplateRequest(
                    room_id=origin.channel_id,
                    request_id=f"view:{view.get('id')}",
                    thread_id=ThreadId(self._ids.of(origin.channel_id, origin.thread_id)),
                    name=name,
                    language=language,
                    parameters=parameters(view),
                    author_id=user,
                    author_name=await self._directory.name(user),
                    author_is_member=await self._is_member(origin.channel_id, user),
                )
            )
        await ack()

    async def _call(self, method: str, call: Awaitable[Any]) -> None:
        """A form that cannot be shown is logged, never retried: its trigger is spent."""
        try:
            with errors.translated(method):
                await call
        except PlatformError as error:
            log.warning("slack: %s failed (%s)", method, error.code or type(error).__name__)
