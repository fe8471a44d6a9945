"""Der deutsche Katalog: neutral-sachlich gegenüber Mitarbeitenden (weder "du" noch "Sie",
unpersönliche Formulierungen), wie in Support-Werkzeugen deutscher Unternehmen üblich."""

from __future__ import annotations

from bot.texts.catalogue import Texts

GERMAN = Texts(
    number_withheld="Nummer unterdrückt",
    root_profile_name="Name bei WhatsApp: {name}",
    root_state_closed="Status: geschlossen",
    root_state_claimed="Status: offen, in Bearbeitung durch {agent}",
    root_state_waiting="Status: offen, noch nicht übernommen",
    root_window="WhatsApp-Fenster offen bis {closes} Uhr ({zone})",
    root_objected=(
        "🛑 Widerspruch seit {since}: keine Vorlagen, automatischen Antworten oder Hinweise "
        "von Empfang"
    ),
    root_hint=(
        "Antworten in diesem Thread gehen per WhatsApp an den Kunden; !help zeigt die Befehle."
    ),
    forwarded="↪ Weitergeleitet: {text}",
    sent_late="{text}\n⏱ gesendet {time}, verspätet angekommen",
    repaired=(
        "{text}\n⚠ beschädigt angekommen: unlesbare Zeichen stehen als �, oder eine unmögliche "
        "Zeit wurde durch die Ankunftszeit ersetzt"
    ),
    image="📷 Bild",
    video="🎬 Video",
    document="📄 Dokument",
    sticker="🏷 Sticker",
    voice_message="🎤 Sprachnachricht",
    audio_file="🎵 Audiodatei",
    contact_card="👤 Kontaktkarte: {cards}",
    no_number="keine Nummer",
    choice="🔘 Ausgewählt: {title}",
    reacted="Kunde hat mit {emoji} auf eine Nachricht reagiert",
    reaction_removed="Kunde hat eine Reaktion entfernt",
    order="🛒 Bestellung: {text}",
    edited="✏️ Kunde hat eine Nachricht bearbeitet: {text}",
    deleted="🗑 Kunde hat eine Nachricht gelöscht",
    system_notice="Systemhinweis",
    opened_chat="👋 Kunde hat den Chat geöffnet",
    unsupported="⚠️ Nicht unterstützte Nachricht; WhatsApp hat den Inhalt nicht übermittelt",
    unsupported_type=(
        "⚠️ Nicht unterstützte Nachricht ({type}); WhatsApp hat den Inhalt nicht übermittelt"
    ),
    location="📍 Standort: {label} ({where})",
    location_unnamed="📍 Standort ({where})",
    help=(
        "Antworten in diesem Thread gehen per WhatsApp an den Kunden.\n"
        '• !send <Text> — senden (nötig bei reply_mode = "explicit")\n'
        "• !note <Text> — interne Notiz, wird nie gesendet\n"
        "• !close — Unterhaltung schließen; die nächste Nachricht des Kunden eröffnet einen "
        "neuen Thread\n"
        "• !case — verknüpftes Ticket anzeigen; !case <Nummer> verknüpft ein bestehendes Ticket\n"
        "• !hold <Grund> — Aufbewahrungssperre: die Löschfristen gelten nicht; "
        "!release hebt sie auf\n"
        "• !reveal <Grund> — die vollständige Nummer, nur für die fragende Person sichtbar "
        "(wenn berechtigt; protokolliert)\n"
        "• !help — diese Hilfe\n"
        "Markierungen an gesendeten Antworten: ⏳ in der Warteschlange, ✓ gesendet, "
        "✓✓ zugestellt, 👁 gelesen, ❌ fehlgeschlagen."
    ),
    refused_reply=(
        "⛔ {author} ist nicht berechtigt, Kunden zu antworten; es wurde nichts gesendet."
    ),
    refused_claim="⛔ {author} ist nicht berechtigt, Unterhaltungen zu übernehmen.",
    refused_close="⛔ {author} ist nicht berechtigt, Unterhaltungen zu schließen.",
    unknown_command=(
        "Unbekannter Befehl {command}; es wurde nichts gesendet. !help zeigt die Befehle."
    ),
    no_case_system="Es ist kein Ticketsystem eingerichtet.",
    conversation_closed=(
        "Diese Unterhaltung ist geschlossen; es wurde nichts gesendet. Die nächste Nachricht "
        "des Kunden eröffnet einen neuen Thread."
    ),
    edit_impossible=(
        "✏️ WhatsApp-Nachrichten lassen sich nicht bearbeiten: Der Kunde sieht weiterhin die "
        "ursprüngliche Fassung. Für eine Korrektur bitte eine neue Nachricht senden."
    ),
    closed_by=(
        "🔒 Geschlossen von {agent}. Die nächste Nachricht des Kunden eröffnet einen neuen Thread."
    ),
    hold_placed=(
        "🧊 Aufbewahrungssperre gesetzt von {agent}: {reason}. Die Löschfristen gelten für "
        "diese Unterhaltung erst wieder nach !release."
    ),
    hold_needs_reason=(
        '!hold braucht einen Grund, z. B. "!hold Klage 2026-17"; es wurde nichts gesperrt.'
    ),
    hold_exists="🧊 Diese Unterhaltung ist bereits gesperrt: {reason}",
    hold_released="🔓 Aufbewahrungssperre aufgehoben von {agent}. Die Löschfristen gelten wieder.",
    hold_none="Diese Unterhaltung ist nicht gesperrt; es wurde nichts aufgehoben.",
    thread_removed_retention=(
        "🗑️ Diese Unterhaltung wurde nach der Aufbewahrungsrichtlinie entfernt; Empfang "
        "speichert sie nicht mehr."
    ),
    thread_removed_erasure=(
        "🗑️ Diese Unterhaltung wurde entfernt, weil die Daten des Kunden gelöscht wurden "
        "(Art. 17 DSGVO)."
    ),
    post_removed_retention="Nach der Aufbewahrungsrichtlinie entfernt",
    objection_noted=(
        "🛑 Der Kunde hat „{keyword}“ geschrieben und damit widersprochen (Art. 21 DSGVO): "
        "Empfang sendet ihm keine Vorlagen, automatischen Antworten oder Hinweise mehr. "
        "Antworten auf seine eigenen Anliegen sind weiter möglich. „{start}“ vom Kunden hebt "
        "den Widerspruch auf. Bestätigung gesendet: {confirmation}"
    ),
    objection_lifted=(
        "✅ Der Kunde hat „{keyword}“ geschrieben: Der Widerspruch ist aufgehoben; Empfang darf "
        "ihm wieder automatische Antworten und Vorlagen senden."
    ),
    objection_reply_note=(
        "ℹ️ Dieser Kunde hat widersprochen (Art. 21 DSGVO). Die Antwort wird gesendet, weil "
        "sie sein eigenes Anliegen beantwortet; bitte nichts Werbliches. Empfang sendet ihm "
        "keine Vorlagen, automatischen Antworten oder Hinweise."
    ),
    reveal_private=(
        "🔓 {customer}: {number}\nNur für die fragende Person sichtbar, Grund: {reason}. Die "
        "Nummer nirgends speichern, wo sie bleibt."
    ),
    reveal_announced="🔓 {agent} hat die Nummer aufgedeckt: {reason}",
    reveal_needs_reason=(
        '!reveal braucht einen Grund, z. B. "!reveal Rückruf erbeten"; es wurde nichts aufgedeckt.'
    ),
    reveal_refused=(
        "⛔ {author} ist nicht berechtigt, Nummern aufzudecken; es wurde nichts aufgedeckt."
    ),
    reveal_limit=(
        "⛔ {author} hat heute bereits {limit} Nummern aufgedeckt, mehr sind nicht erlaubt; es "
        "wurde nichts aufgedeckt."
    ),
    reveal_impossible=(
        "Dieser Chat kann keinen Text nur einer Person zeigen; es wurde nichts aufgedeckt."
    ),
    reveal_no_number=(
        "WhatsApp hat für diesen Kunden keine Nummer übermittelt (nur Benutzername); es gibt "
        "nichts aufzudecken."
    ),
    objection_confirmation=(
        "Sie erhalten von uns keine automatischen Nachrichten mehr. Wenn Sie uns schreiben, "
        "antworten wir Ihnen weiterhin. Mit {start} machen Sie das rückgängig."
    ),
    failure_window_closed=(
        "❌ Nicht zugestellt: Das 24-Stunden-Fenster ist geschlossen. Die letzte Nachricht des "
        "Kunden liegt mehr als 24 Stunden zurück, und WhatsApp erlaubt jetzt nur noch "
        "genehmigte Vorlagen. Den Kunden bitten, erneut zu schreiben, oder über einen anderen "
        "Kanal Kontakt aufnehmen."
    ),
    failure_not_on_whatsapp=(
        "❌ Nicht zugestellt: Diese Nummer kann keine WhatsApp-Nachrichten empfangen (nicht bei "
        "WhatsApp, veraltete App oder Nutzungsbedingungen nicht akzeptiert)."
    ),
    failure_token=(
        "❌ Nicht gesendet: Das WhatsApp-Zugriffstoken ist abgelaufen oder ungültig. Bitte der "
        "Empfang-Administration Bescheid geben, dass whatsapp.access_token erneuert werden "
        "muss; bis dahin geht keine Nachricht hinaus."
    ),
    failure_rate_limit=(
        "❌ Nicht gesendet: Das Sendelimit von WhatsApp wurde wiederholt erreicht. Bitte in "
        "Kürze erneut senden."
    ),
    failure_pair_rate=(
        "❌ Nicht gesendet: zu viele Nachrichten an diesen Kunden in kurzer Zeit. Bitte eine "
        "Minute warten und dann erneut senden."
    ),
    failure_code="❌ Nicht zugestellt: WhatsApp-Fehler {code}",
    failure_refused="❌ Nicht zugestellt: WhatsApp hat die Nachricht abgelehnt",
    failure_title=" ({title})",
    case_usage=(
        "Verwendung: !case — verknüpftes Ticket anzeigen; !case [<Ticketsystem>] <Ticketnummer> "
        "— ein Ticket verknüpfen."
    ),
    case_systems="Ticketsysteme: {names}.",
    case_bad_id=("„{case_id}“ ist keine Ticketnummer (nur Buchstaben, Ziffern und _ . : / -)."),
    case_refused="„{case_id}“ lässt sich in {sink} nicht verknüpfen: {problem}.",
    case_linked="🔗 Ticket {case_id} in {sink} verknüpft",
    case_was=" (vorher {previous})",
    case_linked_end=". Weitere Übertragungen dieser Unterhaltung gehen dorthin.",
    case_pending="; {count} Übertragung(en) ausstehend",
    case_dead="; {count} Übertragung(en) endgültig fehlgeschlagen",
    case_none="noch kein Ticket",
    case_without_id="übertragen (dieses Ticketsystem vergibt keine Ticketnummer)",
    case_one="Ticket {label}",
    case_closed=" (geschlossen)",
    case_transfer_failed=(
        "⚠️ Ticket-Übertragung endgültig fehlgeschlagen: {event} von {who} ließ sich nach "
        "{attempts} Versuch(en) nicht an das Ticketsystem „{sink}“ übergeben ({reason}). Sie "
        "liegt in der Dead-Letter-Queue (Auftrag {job}{where})."
    ),
    case_erased_conversation="einer gelöschten Unterhaltung",
    case_ledger_row="; Protokollzeile {row}",
    case_title="WhatsApp {requester} (Unterhaltung {conversation})",
    case_opened="Unterhaltung eröffnet",
    case_message_in="Nachricht des Kunden",
    case_message_out="Antwort an den Kunden gesendet",
    case_conversation_closed="Unterhaltung geschlossen",
    case_transcript="Verlauf der geschlossenen Unterhaltung",
    case_erased=(
        "Löschersuchen (Art. 17 DSGVO): Empfang hat die Daten dieses Kunden gelöscht. Bitte "
        "löschen Sie diesen Vorgang und den Kundendatensatz (WhatsApp-Pseudonym unten) auch "
        "in diesem System"
    ),
    case_phone="Telefon: {phone}",
    case_time="Zeit: {time}",
    case_customer="Kunde",
    case_agent="Support {author}",
    case_purged="(Inhalt nach Ablauf der Aufbewahrungsfrist gelöscht)",
    button_claim="Übernehmen",
    button_take_over="Selbst übernehmen",
    button_close="Schließen",
    button_cancel="Abbrechen",
    close_confirm_title="Unterhaltung schließen?",
    close_confirm_text="Die nächste Nachricht des Kunden eröffnet einen neuen Thread.",
    duration_minutes="{minutes} Min.",
    duration_hours="{hours} Std. {minutes} Min.",
    privacy_notice_sent="ℹ️ Datenschutzhinweis gesendet: {text}",
    out_of_hours_reply_sent="ℹ️ Abwesenheitsnachricht gesendet: {text}",
    unknown_customer="einem Kunden",
    urgent_post="🚨 {mention}Dringende Nachricht von {who} (enthält ein Dringend-Stichwort).",
    urgent_page="Dringende WhatsApp-Nachricht von {who}",
    sla_reminder="⏰ {mention}{customer} wartet seit {waited} auf eine Antwort.",
    sla_escalated="🚨 {mention}Eskaliert: {customer} wartet seit {waited} auf eine Antwort.",
    sla_page="WhatsApp-Kunde {customer} seit {waited} ohne Antwort",
    window_warning=(
        "⌛ {mention}Das 24-Stunden-Fenster von WhatsApp schließt um {closes} Uhr ({zone}), "
        "und die letzte Nachricht ist unbeantwortet. Danach erreichen den Kunden nur noch "
        "genehmigte Vorlagen."
    ),
    alert_resolved="✅ Behoben: {summary}",
    token_invalid=(
        "Das WhatsApp-Zugriffstoken ist abgelaufen oder ungültig: Bis whatsapp.access_token "
        "erneuert ist, erreicht keine Nachricht die Kunden."
    ),
    token_valid="WhatsApp akzeptiert das Zugriffstoken wieder",
    signatures_failing=(
        "{count} Webhook-Anfragen mit fehlender oder falscher Signatur innerhalb von {window}: "
        "whatsapp.app_secret prüfen – oder jemand tastet den Webhook ab."
    ),
    signatures_valid="Webhooks sind wieder korrekt signiert",
    dead_letter=(
        "Ein Auftrag {kind} ist nach {attempts} Versuchen endgültig fehlgeschlagen: {reason}"
    ),
    outage_waiting=(
        "Aufträge {kind} erreichen ihren Dienst nicht (bisher {attempts} Versuche: {reason}). "
        "Sie warten und gehen raus, sobald er wieder erreichbar ist (jobs.outage_patience)."
    ),
    outage_over="Aufträge {kind} gehen wieder durch",
    chat_unreachable=(
        "{platform} ist seit mehr als {duration} nicht erreichbar; Kundennachrichten warten in "
        "der Warteschlange."
    ),
    chat_reachable="{platform} ist wieder erreichbar",
)
