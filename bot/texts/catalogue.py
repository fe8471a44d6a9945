"""The shape of a text catalogue: one typed attribute per text the bot writes.

Each language builds one frozen :class:`Texts` with every field given, so a text missing in a
language, or a key that code uses but no catalogue has, is a type error, not a runtime
surprise. Values are ``str.format`` templates with named placeholders; the placeholders of a
key must be the same in every language (``tests/unit/test_texts.py``).

Agents are addressed neutrally (no "du", no "Sie": impersonal phrasing), customers with "Sie".
Admin-configured texts (first-contact notice, out-of-hours reply) are not here: they are sent
as configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Language = Literal["de", "en"]
"""``[ui] language``."""


@dataclass(frozen=True, kw_only=True)
class Texts:
    # -- the thread root (bot.render) ---------------------------------------------------------
    number_withheld: str
    root_profile_name: str
    root_state_closed: str
    root_state_claimed: str
    root_state_waiting: str
    root_window: str
    """``{closes}`` is ``dd.mm. HH:MM`` in ``{zone}``."""
    root_hint: str
    root_objected: str
    """The customer objected (``bot.objection``) at ``{since}`` (``dd.mm. HH:MM``)."""

    # -- customer messages in the thread (bot.render) -----------------------------------------
    forwarded: str
    sent_late: str
    repaired: str
    """The message arrived damaged (``InboundMessage.repaired``) and was stored repaired."""
    """A line posted after later ones (webhook redelivered late): ``{time}`` it was written."""
    image: str
    video: str
    document: str
    sticker: str
    voice_message: str
    audio_file: str
    contact_card: str
    no_number: str
    choice: str
    reacted: str
    reaction_removed: str
    order: str
    edited: str
    deleted: str
    system_notice: str
    opened_chat: str
    unsupported: str
    unsupported_type: str
    location: str
    location_unnamed: str

    # -- agent commands and notices (bot.relay) -----------------------------------------------
    help: str
    refused_reply: str
    refused_claim: str
    refused_close: str
    unknown_command: str
    no_case_system: str
    conversation_closed: str
    edit_impossible: str
    closed_by: str
    hold_placed: str
    """``!hold <reason>`` (``bot.legal_hold``); ``{reason}`` is shown with numbers masked."""
    hold_needs_reason: str
    hold_exists: str
    hold_released: str
    hold_none: str
    thread_removed_retention: str
    """What a thread shows once the retention purge removed it (``bot.chat_removal``)."""
    thread_removed_erasure: str
    """What a thread shows once the customer's data was erased (``empfang privacy erase``)."""
    post_removed_retention: str
    """Why a single post is gone: its body was due (Matrix shows it as the redaction's reason)."""
    objection_noted: str
    """The customer wrote a stop keyword (``bot.objection``); ``{start}`` lifts it."""
    objection_lifted: str
    objection_reply_note: str
    """An agent's first reply after the objection: what still may be sent, and why."""
    objection_confirmation: str
    reveal_private: str
    """Only the agent who asked sees it (``bot.reveal``): ``{number}`` is the full number."""
    reveal_announced: str
    """Everyone in the thread; ``{reason}`` is shown with numbers masked."""
    reveal_needs_reason: str
    reveal_refused: str
    reveal_limit: str
    reveal_impossible: str
    reveal_no_number: str
    """To the customer, when ``privacy.stop_confirmation`` is empty (addressed with "Sie")."""

    # -- mirroring (bot.mirror): reactions, replies, edits, deletes, buttons -------------------
    reacted_to: str
    """A reaction the chat cannot show on the post itself; ``{quote}`` starts the post."""
    edited_post: str
    deleted_post: str
    call_permission_accepted: str
    call_permission_permanent: str
    call_permission_declined: str
    referral: str
    """The ad a customer came from: ``{ad}`` is its headline and link, numbers masked."""
    business_echo: str
    """A message the business sent from the WhatsApp Business app on the same number."""
    buttons_usage: str
    buttons_too_long: str
    reaction_not_sent: str
    """An agent's reaction that cannot reach WhatsApp (``{name}``: as the chat calls it)."""

    # -- failed sends (bot.explain) -----------------------------------------------------------
    failure_window_closed: str
    failure_not_on_whatsapp: str
    failure_token: str
    failure_rate_limit: str
    failure_pair_rate: str
    failure_code: str
    failure_refused: str
    failure_title: str
    """Appended to ``failure_code`` / ``failure_refused`` when WhatsApp gave a title."""

    # -- !case (bot.cases.command) ------------------------------------------------------------
    case_usage: str
    case_systems: str
    case_bad_id: str
    case_refused: str
    case_linked: str
    case_was: str
    case_linked_end: str
    case_pending: str
    case_dead: str
    case_none: str
    case_without_id: str
    case_one: str
    case_closed: str
    case_transfer_failed: str
    case_erased_conversation: str
    """Stands for ``{who}`` in ``case_transfer_failed`` (German: dative)."""
    case_ledger_row: str

    # -- what case systems' readers see (bot.cases.document, bot.cases.content) --------------
    case_title: str
    case_opened: str
    case_message_in: str
    case_message_out: str
    case_conversation_closed: str
    case_transcript: str
    case_erased: str
    """An ``erased`` event (``empfang privacy erase``): the helpdesk is asked to erase its copy."""
    case_phone: str
    case_time: str
    case_customer: str
    case_agent: str
    case_purged: str

    # -- Slack buttons (adapters.slack.blocks) ------------------------------------------------
    button_claim: str
    button_take_over: str
    button_close: str
    button_cancel: str
    close_confirm_title: str
    close_confirm_text: str

    # -- on-call (bot.alerts) -----------------------------------------------------------------
    duration_minutes: str
    duration_hours: str
    privacy_notice_sent: str
    out_of_hours_reply_sent: str
    unknown_customer: str
    """Stands for ``{who}`` in ``urgent_post`` / ``urgent_page`` (German: dative)."""
    urgent_post: str
    urgent_page: str
    sla_reminder: str
    sla_escalated: str
    sla_page: str
    window_warning: str
    """``{closes}`` is ``HH:MM`` in ``{zone}``."""
    alert_resolved: str
    token_invalid: str
    token_valid: str
    signatures_failing: str
    signatures_valid: str
    dead_letter: str
    outage_waiting: str
    outage_over: str
    chat_unreachable: str
    chat_reachable: str

    # -- agents' files (bot.media.outbound) ---------------------------------------------------
    failure_file: str
    """A file that did not go; ``{reason}`` is one of the ``file_*`` texts below or
    WhatsApp's own words."""
    file_type_refused: str
    file_too_large: str
    file_unreadable: str
    file_unavailable: str
    files_not_set_up: str

    # -- customers' files (bot.media.inbound) -------------------------------------------------
    media_not_shown: str
    """A customer's file that is not shown in the thread: ``{name}`` (masked), ``{mime}``,
    ``{size}``; ``{reason}`` is one of the ``media_*`` texts below."""
    media_type_refused: str
    media_too_large: str
    """``{limit}``: the most this type may have (``[media] max_bytes``)."""
    media_unreadable: str
    media_unavailable: str
    media_size_unknown: str

    # -- templates and the 24-hour window (bot.templates) -------------------------------------
    root_window_closed: str
    """The 24-hour window closed at ``{closes}`` (``dd.mm. HH:MM``) in ``{zone}``."""
    window_closed_reply: str
    """A free-form reply refused: the window closed at ``{closes}``; ``{suggestion}`` is one
    of the two ``window_suggest_*`` texts."""
    window_suggest_template: str
    """``{command}`` is the configured re-engagement template as a ``!template`` line."""
    window_suggest_list: str
    window_suggest_wait: str
    """Instead of a template, where the conversation's number cannot send one (Twilio)."""
    templates_none: str
    templates_stale: str
    templates_header: str
    templates_entry: str
    """``{name}``, ``{language}``, ``{category}``, ``{count}`` parameters, ``{preview}``."""
    templates_not_sendable: str
    templates_usage: str
    template_unknown: str
    template_language_unknown: str
    """``{languages}``: the languages the template exists in."""
    template_language_choose: str
    template_parameter_count: str
    """``{expected}`` parameters wanted, ``{given}`` given."""
    template_parameter_format: str
    """``{index}``: which parameter (1-based)."""
    template_parameter_long: str
    template_unsendable: str
    template_objected: str
    template_preview: str
    """The template as the customer will read it (masked), by ``{author}``."""
    failure_template_parameters: str
    failure_template_missing: str
    failure_template_format: str
    failure_template_paused: str
    failure_template_disabled: str
    failure_marketing_opt_out: str
    button_send_template: str
    template_modal_title: str
    """Slack: at most 24 characters."""
    template_modal_submit: str
    template_modal_choice: str
    template_modal_parameter: str
    """``{index}``: the parameter's number."""
    template_modal_empty: str
    templates_more: str
    """The listing is cut after ``{limit}`` templates; ``{count}`` more are not shown."""
    failure_twilio_auth: str
    """Twilio refused the account's credentials (20003): ``twilio.auth_token`` to renew."""
    template_not_from_this_number: str
    """``!template`` in the thread of a number templates cannot leave from (Twilio)."""
    failure_twilio_window_closed: str
    """The 24-hour window closed on a Twilio number (63016): unlike Meta's, no template can
    re-open it from Empfang (Twilio's Content templates are not sent)."""
    root_number: str
    """The root's line naming the business number the customer wrote to, ``{name}``
    (its ``[[numbers]] name``), when several are configured."""
