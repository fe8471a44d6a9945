"""The English catalogue: the bot's texts as they were before ``[ui] language`` existed."""

from __future__ import annotations

from bot.texts.catalogue import Texts

ENGLISH = Texts(
    number_withheld="number withheld",
    root_profile_name="Name on WhatsApp: {name}",
    root_state_closed="State: closed",
    root_state_claimed="State: open, handled by {agent}",
    root_state_waiting="State: open, waiting for an agent",
    root_window="WhatsApp window open until {closes} ({zone})",
    root_objected=(
        "🛑 Objected on {since}: no templates, automatic replies or notices from Empfang"
    ),
    root_hint="Reply in this thread to answer on WhatsApp; !help lists commands.",
    forwarded="↪ Forwarded: {text}",
    sent_late="{text}\n⏱ sent {time}, arrived late",
    repaired=(
        "{text}\n⚠ arrived damaged: unreadable characters are shown as �, or an impossible "
        "time was replaced by the arrival time"
    ),
    image="📷 Image",
    video="🎬 Video",
    document="📄 Document",
    sticker="🏷 Sticker",
    voice_message="🎤 Voice message",
    audio_file="🎵 Audio file",
    contact_card="👤 Contact card: {cards}",
    no_number="no number",
    choice="🔘 Chose: {title}",
    reacted="Customer reacted {emoji} to a message",
    reaction_removed="Customer removed a reaction",
    order="🛒 Order: {text}",
    edited="✏️ Customer edited a message: {text}",
    deleted="🗑 Customer deleted a message",
    system_notice="System notice",
    opened_chat="👋 Customer opened the chat",
    unsupported="⚠️ Unsupported message; WhatsApp did not pass on its content",
    unsupported_type="⚠️ Unsupported message ({type}); WhatsApp did not pass on its content",
    location="📍 Location: {label} ({where})",
    location_unnamed="📍 Location ({where})",
    help=(
        "Reply in this thread and your message goes to the customer on WhatsApp.\n"
        '• !send <text> — send (required when reply_mode is "explicit")\n'
        "• !note <text> — internal note, never sent\n"
        "• !close — close the conversation; the customer's next message opens a new thread\n"
        "• !case — show the linked case; !case <id> links an existing case\n"
        "• !hold <reason> — legal hold: retention keeps this conversation; !release ends it\n"
        "• !reveal <reason> — the full number, shown to you alone (if you may; audited)\n"
        "• !templates — approved templates; !template <name> [<language>] <p1> | <p2> sends "
        "one (also after the 24-hour window)\n"
        "• !buttons <question> | <option> | <option> — up to 3 reply buttons; the tap comes "
        "back here\n"
        "• !help — this help\n"
        "Ticks on your message: ⏳ queued, ✓ sent, ✓✓ delivered, 👁 read, ❌ failed. "
        "A reaction on a customer's line reaches them; so does a quote reply (Matrix)."
    ),
    refused_reply="⛔ {author} is not allowed to answer customers; nothing was sent.",
    refused_claim="⛔ {author} may not claim conversations.",
    refused_close="⛔ {author} may not close conversations.",
    unknown_command="Unknown command {command}; nothing was sent. !help lists commands.",
    no_case_system="No case system is configured.",
    conversation_closed=(
        "This conversation is closed; nothing was sent. The customer's next message "
        "opens a new thread."
    ),
    edit_impossible=(
        "✏️ WhatsApp messages can't be edited: the customer still sees the original. "
        "Send a new message to correct it."
    ),
    closed_by="🔒 Closed by {agent}. The customer's next message opens a new thread.",
    hold_placed=(
        "🧊 Legal hold placed by {agent}: {reason}. Retention will not remove this "
        "conversation until !release."
    ),
    hold_needs_reason='!hold needs a reason, e.g. "!hold lawsuit 2026-17"; nothing was held.',
    hold_exists="🧊 This conversation is already on legal hold: {reason}",
    hold_released="🔓 Legal hold released by {agent}. Retention applies again.",
    hold_none="This conversation is not on legal hold; nothing was released.",
    thread_removed_retention=(
        "🗑️ This conversation was removed under the retention policy; Empfang no longer holds it."
    ),
    thread_removed_erasure=(
        "🗑️ This conversation was removed because the customer's data was erased (Art. 17 GDPR)."
    ),
    post_removed_retention="Removed under the retention policy",
    objection_noted=(
        "🛑 The customer wrote “{keyword}” and so objected (Art. 21 GDPR): Empfang sends them "
        "no templates, automatic replies or notices any more. Answers to their own questions "
        "can still be sent. “{start}” from the customer lifts it. Confirmation sent: "
        "{confirmation}"
    ),
    objection_lifted=(
        "✅ The customer wrote “{keyword}”: the objection is lifted; Empfang may send them "
        "automatic replies and templates again."
    ),
    objection_reply_note=(
        "ℹ️ This customer has objected (Art. 21 GDPR). Your reply is sent because it answers "
        "their own inquiry; nothing promotional, please. Empfang sends them no templates, "
        "automatic replies or notices."
    ),
    reveal_private=(
        "🔓 {customer}: {number}\nShown to you alone, because of: {reason}. Do not copy it "
        "anywhere it would stay."
    ),
    reveal_announced="🔓 {agent} revealed the number: {reason}",
    reveal_needs_reason=(
        '!reveal needs a reason, e.g. "!reveal callback requested"; nothing was revealed.'
    ),
    reveal_refused="⛔ {author} may not reveal numbers; nothing was revealed.",
    reveal_limit=(
        "⛔ {author} has revealed {limit} numbers today, the most allowed; nothing was revealed."
    ),
    reveal_impossible=("This chat cannot show a text to one person alone; nothing was revealed."),
    reveal_no_number=(
        "WhatsApp gave no number for this customer (user name only); nothing to reveal."
    ),
    objection_confirmation=(
        "You will receive no more automatic messages from us. When you write to us, we will "
        "still answer. Write {start} to undo this."
    ),
    reacted_to="Customer reacted {emoji} to: {quote}",
    edited_post="{text} ✏️ (edited)",
    deleted_post="🗑 The customer deleted this message",
    call_permission_accepted="📞 Call permission: accepted",
    call_permission_permanent="📞 Call permission: accepted (permanently)",
    call_permission_declined="📞 Call permission: declined",
    referral="📣 Came from an ad: {ad}",
    business_echo="📱 Sent from the WhatsApp Business app: {text}",
    buttons_usage=(
        "Usage: !buttons <question> | <option> | <option> [| <option>]: a question and 1 to 3 "
        "different options, each at most 20 characters."
    ),
    buttons_too_long=(
        "Option {index} has {length} characters; a WhatsApp button takes at most 20."
    ),
    reaction_not_sent=(
        "Reaction {name} was not sent to the customer: WhatsApp takes emoji only, and this "
        "one has no emoji Empfang knows."
    ),
    failure_window_closed=(
        "❌ Not delivered: the 24-hour window is closed. The customer's last message was more "
        "than 24 hours ago, and WhatsApp now only allows approved template messages: send one "
        "with !template (!templates lists them), or wait for the customer to write again."
    ),
    failure_not_on_whatsapp=(
        "❌ Not delivered: this customer's number cannot receive WhatsApp messages (not on "
        "WhatsApp, an outdated app, or WhatsApp's terms not accepted)."
    ),
    failure_token=(
        "❌ Not sent: the WhatsApp access token has expired or is invalid. Please tell your "
        "Empfang admin to renew whatsapp.access_token; messages will not go out until then."
    ),
    failure_rate_limit=(
        "❌ Not sent: WhatsApp's rate limit was hit repeatedly. Please send again shortly."
    ),
    failure_pair_rate=(
        "❌ Not sent: too many messages to this customer in a short time. Wait a minute, "
        "then send again."
    ),
    failure_code="❌ Not delivered: WhatsApp error {code}",
    failure_refused="❌ Not delivered: WhatsApp refused the message",
    failure_title=" ({title})",
    case_usage=(
        "Usage: !case — show the linked case; !case [<case system>] <case id> — link a case."
    ),
    case_systems="Case systems: {names}.",
    case_bad_id="“{case_id}” is not a case id (letters, digits and _ . : / - only).",
    case_refused="“{case_id}” cannot be linked in {sink}: {problem}.",
    case_linked="🔗 Linked case {case_id} in {sink}",
    case_was=" (was {previous})",
    case_linked_end=". Further transfers of this conversation go there.",
    case_pending="; {count} transfer(s) pending",
    case_dead="; {count} transfer(s) failed for good (dead-lettered)",
    case_none="no case yet",
    case_without_id="transferred (this case system gives no case id)",
    case_one="case {label}",
    case_closed=" (closed)",
    case_transfer_failed=(
        "⚠️ Case transfer failed for good: {event} of {who} could not be delivered to case "
        "system “{sink}” after {attempts} attempt(s) ({reason}). It is in the dead-letter "
        "queue (job {job}{where})."
    ),
    case_erased_conversation="an erased conversation",
    case_ledger_row="; ledger row {row}",
    case_title="WhatsApp {requester} (conversation {conversation})",
    case_opened="Conversation opened",
    case_message_in="Message from the customer",
    case_message_out="Reply sent to the customer",
    case_conversation_closed="Conversation closed",
    case_transcript="Transcript of the closed conversation",
    case_erased=(
        "Erasure request (Art. 17 GDPR): Empfang has erased this customer's data. Please "
        "erase this case and the customer record (WhatsApp pseudonym below) in this system too"
    ),
    case_phone="Phone: {phone}",
    case_time="Time: {time}",
    case_customer="Customer",
    case_agent="Agent {author}",
    case_purged="(content deleted after the retention period)",
    button_claim="Claim",
    button_take_over="Take over",
    button_close="Close",
    button_cancel="Cancel",
    close_confirm_title="Close this conversation?",
    close_confirm_text="The customer's next message opens a new thread.",
    duration_minutes="{minutes} min",
    duration_hours="{hours} h {minutes} min",
    privacy_notice_sent="ℹ️ Privacy notice sent: {text}",
    out_of_hours_reply_sent="ℹ️ Out-of-hours reply sent: {text}",
    unknown_customer="a customer",
    urgent_post="🚨 {mention}Urgent message from {who} (matched an urgent keyword).",
    urgent_page="Urgent WhatsApp message from {who}",
    sla_reminder="⏰ {mention}{customer} has waited {waited} for an answer.",
    sla_escalated="🚨 {mention}Escalated: {customer} has waited {waited}.",
    sla_page="WhatsApp customer {customer} unanswered for {waited}",
    window_warning=(
        "⌛ {mention}The 24-hour WhatsApp window closes at {closes} ({zone}) and the last "
        "message is unanswered. After that only approved templates can reach the customer."
    ),
    alert_resolved="✅ Resolved: {summary}",
    token_invalid=(
        "The WhatsApp access token has expired or is invalid: nothing reaches customers "
        "until whatsapp.access_token (with Twilio: twilio.auth_token) is renewed."
    ),
    token_valid="WhatsApp accepts the access token again",
    signatures_failing=(
        "{count} webhook requests with a missing or wrong signature within {window}: check "
        "whatsapp.app_secret (with Twilio: twilio.auth_token and twilio.webhook_url), or "
        "someone is probing the webhook."
    ),
    signatures_valid="webhooks are correctly signed again",
    dead_letter="A {kind} job failed permanently after {attempts} attempts: {reason}",
    outage_waiting=(
        "{kind} jobs cannot reach their service ({attempts} attempts so far: {reason}). "
        "They wait and go out once it is back (jobs.outage_patience)."
    ),
    outage_over="{kind} jobs go through again",
    chat_unreachable=(
        "{platform} has been unreachable for more than {duration}; customer messages are queued."
    ),
    chat_reachable="{platform} is reachable again",
    failure_file="❌ Not sent: {reason}",
    file_type_refused=(
        "«{name}» ({mime}, {size}) has a type that is not sent to customers. WhatsApp "
        "takes JPEG and PNG pictures, MP4 and 3GPP videos, AAC, AMR, MP3, M4A and OGG audio, "
        "and PDF, text and Office documents"
    ),
    file_too_large="«{name}» ({mime}) has {size}; at most {limit} can be sent for this type",
    file_unreadable=(
        "«{name}» says it is a picture ({mime}) but cannot be read as one, so its metadata "
        "could not be removed"
    ),
    file_unavailable="«{name}» could not be fetched from the chat (deleted, or no access)",
    files_not_set_up="Files cannot be sent to customers from this chat.",
    media_not_shown="⚠️ The customer sent «{name}» ({mime}, {size}), not shown here: {reason}.",
    media_type_refused="this type of file is not accepted (see [media] allowed_types)",
    media_too_large="it is larger than the {limit} allowed for this type",
    media_unreadable=(
        "it says it is a picture but cannot be read as one, so its metadata (e.g. location) "
        "could not be removed"
    ),
    media_unavailable=(
        "it could not be fetched from WhatsApp (expired or failing download); the customer "
        "can be asked to send it again"
    ),
    media_size_unknown="size unknown",
    root_window_closed=(
        "⌛ 24-hour window closed {closes} ({zone}): only approved templates reach the "
        "customer (!templates)"
    ),
    window_closed_reply=(
        "❌ Not sent: the customer's 24-hour window closed {closes}, and WhatsApp now accepts "
        "only approved templates. {suggestion}"
    ),
    window_suggest_template="Re-engage with: {command}",
    window_suggest_wait=(
        "Empfang cannot send templates through this number (Twilio): once the customer "
        "writes again, a reply reaches them."
    ),
    window_suggest_list=(
        "!templates lists the approved templates; send one with !template <name> <parameters>."
    ),
    templates_none=(
        "No approved templates are known. They are read from WhatsApp with whatsapp.waba_id "
        "set; approve templates in WhatsApp Manager first."
    ),
    templates_stale=(
        "⚠ The template list could not be read from WhatsApp just now; this is the last one read."
    ),
    templates_header="Approved templates:",
    templates_entry="• {name} ({language}, {category}), {count} parameters:\n{preview}",
    templates_not_sendable=(
        "  (needs a media header or button parameter: cannot be sent from the chat)"
    ),
    templates_usage="Send one: !template <name> [<language>] <parameter 1> | <parameter 2> …",
    template_unknown="No approved template «{name}»; nothing was sent. !templates lists them.",
    template_language_unknown=(
        "Template «{name}» has no language «{language}» (it has {languages}); nothing was sent."
    ),
    template_language_choose=(
        "Template «{name}» exists in {languages}: name the language after the name; nothing "
        "was sent."
    ),
    template_parameter_count=(
        "Template «{name}» ({language}) takes {expected} parameters, {given} were given; "
        "nothing was sent. Separate parameters with |."
    ),
    template_parameter_format=(
        "Parameter {index} contains a line break, a tab or more than four spaces in a row, "
        "which WhatsApp refuses in templates; nothing was sent."
    ),
    template_parameter_long=(
        "Parameter {index} is longer than WhatsApp allows (1024 characters); nothing was sent."
    ),
    template_unsendable=(
        "Template «{name}» needs a media header or a button parameter and cannot be sent from"
        " the chat; nothing was sent."
    ),
    template_objected=(
        "The customer objected to messages (STOP); no template is sent. They can lift it by "
        "writing START."
    ),
    template_preview="📨 Template «{name}» ({language}) by {author}:\n{text}",
    failure_template_parameters=(
        "❌ Not delivered: WhatsApp says the number of template parameters does not match the "
        "approved template (132000). !templates shows how many it takes."
    ),
    failure_template_missing=(
        "❌ Not delivered: WhatsApp does not know this template in this language, or it is not"
        " approved (132001). !templates reads the list again."
    ),
    failure_template_format=(
        "❌ Not delivered: a template parameter has a format WhatsApp refuses (132012): no "
        "line breaks, tabs or long runs of spaces, and the type the template expects."
    ),
    failure_template_paused=(
        "❌ Not delivered: the template is paused by WhatsApp because of low quality ratings "
        "(132015). Use another template, or wait until it is active again."
    ),
    failure_template_disabled=(
        "❌ Not delivered: the template is disabled by WhatsApp (132016) and cannot be sent "
        "any more. Use another template."
    ),
    failure_marketing_opt_out=(
        "❌ Not delivered: the customer stopped marketing messages (131050). Only utility "
        "templates or a reply after the customer writes reach them."
    ),
    button_send_template="Send template",
    template_modal_title="Send template",
    template_modal_submit="Send",
    template_modal_choice="Template",
    template_modal_parameter="Parameter {index}",
    templates_more="… and {count} more (the list shows the first {limit}).",
    template_modal_empty=(
        "No approved templates are known; !templates in the thread reads the list."
    ),
    failure_twilio_auth=(
        "❌ Not sent: Twilio refused the account's credentials. Please tell your Empfang "
        "admin to check twilio.account_sid and twilio.auth_token; messages will not go out "
        "until then."
    ),
    template_not_from_this_number=(
        "Not sent: this conversation's number is on Twilio, and Empfang cannot send templates "
        "through Twilio (its Content templates are not supported). Once the customer writes "
        "again, a plain reply reaches them."
    ),
    failure_twilio_window_closed=(
        "❌ Not delivered: the 24-hour window is closed. The customer's last message was more "
        "than 24 hours ago, and WhatsApp now only allows approved templates, which Empfang "
        "cannot send through Twilio: wait for the customer to write again."
    ),
    root_number="Written to: {name}",
)
