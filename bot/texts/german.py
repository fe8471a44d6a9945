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
        "• !templates — genehmigte Vorlagen; !template <Name> [<Sprache>] <P1> | <P2> sendet "
        "eine (auch nach dem 24-Stunden-Fenster)\n"
        "• !buttons <Frage> | <Option> | <Option> — bis zu 3 Antwort-Buttons; die Antwort "
        "kommt hierher\n"
        "• !help — diese Hilfe\n"
        "Markierungen an gesendeten Antworten: ⏳ in der Warteschlange, ✓ gesendet, "
        "✓✓ zugestellt, 👁 gelesen, ❌ fehlgeschlagen. Eine Reaktion auf eine Zeile des Kunden "
        "erreicht ihn, ebenso eine Antwort mit Zitat (Matrix)."
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
    reacted_to="Kunde hat mit {emoji} reagiert auf: {quote}",
    edited_post="{text} ✏️ (bearbeitet)",
    deleted_post="🗑 Der Kunde hat diese Nachricht gelöscht",
    call_permission_accepted="📞 Anruferlaubnis: erteilt",
    call_permission_permanent="📞 Anruferlaubnis: dauerhaft erteilt",
    call_permission_declined="📞 Anruferlaubnis: abgelehnt",
    referral="📣 Kam über eine Anzeige: {ad}",
    business_echo="📱 Aus der WhatsApp-Business-App gesendet: {text}",
    buttons_usage=(
        "Aufruf: !buttons <Frage> | <Option> | <Option> [| <Option>]: eine Frage und 1 bis 3 "
        "verschiedene Optionen mit je höchstens 20 Zeichen."
    ),
    buttons_too_long=(
        "Option {index} hat {length} Zeichen; ein WhatsApp-Button fasst höchstens 20."
    ),
    reaction_not_sent=(
        "Reaktion {name} wurde nicht an den Kunden gesendet: WhatsApp nimmt nur Emojis, und "
        "zu dieser kennt Empfang keines."
    ),
    failure_window_closed=(
        "❌ Nicht zugestellt: Das 24-Stunden-Fenster ist geschlossen. Die letzte Nachricht des "
        "Kunden liegt mehr als 24 Stunden zurück, und WhatsApp erlaubt jetzt nur noch "
        "genehmigte Vorlagen: eine mit !template senden (!templates listet sie), oder warten, "
        "bis der Kunde wieder schreibt."
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
        "(mit Twilio: twilio.auth_token) erneuert ist, erreicht keine Nachricht die Kunden."
    ),
    token_valid="WhatsApp akzeptiert das Zugriffstoken wieder",
    signatures_failing=(
        "{count} Webhook-Anfragen mit fehlender oder falscher Signatur innerhalb von {window}: "
        "whatsapp.app_secret (mit Twilio: twilio.auth_token und twilio.webhook_url) prüfen – "
        "oder jemand tastet den Webhook ab."
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
    failure_file="❌ Nicht gesendet: {reason}",
    file_type_refused=(
        "«{name}» ({mime}, {size}) hat einen Typ, der nicht an Kunden geht. WhatsApp "
        "nimmt JPEG- und PNG-Bilder, MP4- und 3GPP-Videos, AAC-, AMR-, MP3-, M4A- und "
        "OGG-Audio sowie PDF-, Text- und Office-Dokumente"
    ),
    file_too_large=("«{name}» ({mime}) hat {size}; für diesen Typ sind höchstens {limit} möglich"),
    file_unreadable=(
        "«{name}» gibt sich als Bild aus ({mime}), lässt sich aber nicht als Bild lesen; "
        "seine Metadaten konnten daher nicht entfernt werden"
    ),
    file_unavailable=(
        "«{name}» konnte nicht aus dem Chat geladen werden (gelöscht oder kein Zugriff)"
    ),
    files_not_set_up="Dateien können aus diesem Chat nicht an Kunden gesendet werden.",
    media_not_shown=(
        "⚠️ Die Kundin oder der Kunde hat «{name}» gesendet ({mime}, {size}), hier nicht "
        "gezeigt: {reason}."
    ),
    media_type_refused="Dateien dieses Typs werden nicht angenommen (siehe [media] allowed_types)",
    media_too_large="die Datei ist größer als die für diesen Typ erlaubten {limit}",
    media_unreadable=(
        "die Datei gibt sich als Bild aus, lässt sich aber nicht als Bild lesen; ihre Metadaten "
        "(z. B. der Aufnahmeort) konnten daher nicht entfernt werden"
    ),
    media_unavailable=(
        "sie ließ sich nicht von WhatsApp laden (abgelaufen oder Download gescheitert); die "
        "Datei kann erneut angefragt werden"
    ),
    media_size_unknown="Größe unbekannt",
    root_window_closed=(
        "⌛ 24-Stunden-Fenster seit {closes} ({zone}) geschlossen: nur genehmigte Vorlagen "
        "erreichen den Kunden (!templates)"
    ),
    window_closed_reply=(
        "❌ Nicht gesendet: Das 24-Stunden-Fenster des Kunden ist seit {closes} geschlossen, "
        "WhatsApp nimmt jetzt nur genehmigte Vorlagen an. {suggestion}"
    ),
    window_suggest_template="Erneut ansprechen mit: {command}",
    window_suggest_wait=(
        "Über diese Nummer (Twilio) kann Empfang keine Vorlagen senden: Sobald der Kunde wieder "
        "schreibt, erreicht ihn eine Antwort."
    ),
    window_suggest_list=(
        "!templates listet die genehmigten Vorlagen; senden mit !template <Name> <Parameter>."
    ),
    templates_none=(
        "Keine genehmigten Vorlagen bekannt. Sie werden bei gesetztem whatsapp.waba_id von "
        "WhatsApp gelesen; Vorlagen zuerst im WhatsApp Manager genehmigen lassen."
    ),
    templates_stale=(
        "⚠ Die Vorlagenliste konnte gerade nicht von WhatsApp gelesen werden; dies ist die "
        "zuletzt gelesene."
    ),
    templates_header="Genehmigte Vorlagen:",
    templates_entry="• {name} ({language}, {category}), {count} Parameter:\n{preview}",
    templates_not_sendable=(
        "  (braucht einen Medien-Kopf oder Button-Parameter: aus dem Chat nicht sendbar)"
    ),
    templates_usage="Senden: !template <Name> [<Sprache>] <Parameter 1> | <Parameter 2> …",
    template_unknown="Keine genehmigte Vorlage «{name}»; nichts gesendet. !templates listet sie.",
    template_language_unknown=(
        "Vorlage «{name}» gibt es nicht in «{language}» (nur in {languages}); nichts gesendet."
    ),
    template_language_choose=(
        "Vorlage «{name}» gibt es in {languages}: die Sprache nach dem Namen angeben; nichts "
        "gesendet."
    ),
    template_parameter_count=(
        "Vorlage «{name}» ({language}) braucht {expected} Parameter, angegeben wurden "
        "{given}; nichts gesendet. Parameter mit | trennen."
    ),
    template_parameter_format=(
        "Parameter {index} enthält einen Zeilenumbruch, einen Tabulator oder mehr als vier "
        "Leerzeichen hintereinander, was WhatsApp in Vorlagen ablehnt; nichts gesendet."
    ),
    template_parameter_long=(
        "Parameter {index} ist länger, als WhatsApp erlaubt (1024 Zeichen); nichts gesendet."
    ),
    template_unsendable=(
        "Vorlage «{name}» braucht einen Medien-Kopf oder einen Button-Parameter und ist aus "
        "dem Chat nicht sendbar; nichts gesendet."
    ),
    template_objected=(
        "Der Kunde hat Nachrichten widersprochen (STOP); es wird keine Vorlage gesendet. Mit "
        "START kann er das aufheben."
    ),
    template_preview="📨 Vorlage «{name}» ({language}) von {author}:\n{text}",
    failure_template_parameters=(
        "❌ Nicht zugestellt: Laut WhatsApp passt die Zahl der Parameter nicht zur genehmigten"
        " Vorlage (132000). !templates zeigt, wie viele sie braucht."
    ),
    failure_template_missing=(
        "❌ Nicht zugestellt: WhatsApp kennt diese Vorlage in dieser Sprache nicht, oder sie "
        "ist nicht genehmigt (132001). !templates liest die Liste neu."
    ),
    failure_template_format=(
        "❌ Nicht zugestellt: Ein Vorlagen-Parameter hat ein Format, das WhatsApp ablehnt "
        "(132012): keine Zeilenumbrüche, Tabulatoren oder langen Leerzeichenfolgen, und der "
        "Typ, den die Vorlage erwartet."
    ),
    failure_template_paused=(
        "❌ Nicht zugestellt: WhatsApp hat die Vorlage wegen schlechter Bewertungen pausiert "
        "(132015). Eine andere Vorlage nehmen oder warten, bis sie wieder aktiv ist."
    ),
    failure_template_disabled=(
        "❌ Nicht zugestellt: WhatsApp hat die Vorlage deaktiviert (132016); sie kann nicht "
        "mehr gesendet werden. Eine andere Vorlage nehmen."
    ),
    failure_marketing_opt_out=(
        "❌ Nicht zugestellt: Der Kunde hat Marketing-Nachrichten abbestellt (131050). Nur "
        "Service-Vorlagen oder eine Antwort, nachdem er schreibt, erreichen ihn."
    ),
    button_send_template="Vorlage senden",
    template_modal_title="Vorlage senden",
    template_modal_submit="Senden",
    template_modal_choice="Vorlage",
    template_modal_parameter="{index}. Parameter",
    templates_more="… und {count} weitere (die Liste zeigt die ersten {limit}).",
    template_modal_empty=(
        "Keine genehmigten Vorlagen bekannt; !templates im Thread liest die Liste."
    ),
    failure_twilio_auth=(
        "❌ Nicht gesendet: Twilio hat die Zugangsdaten des Kontos abgelehnt. Bitte der "
        "Empfang-Administration Bescheid geben, dass twilio.account_sid und "
        "twilio.auth_token geprüft werden müssen; bis dahin geht keine Nachricht hinaus."
    ),
    template_not_from_this_number=(
        "Nicht gesendet: Die Nummer dieser Unterhaltung läuft über Twilio, und darüber kann "
        "Empfang keine Vorlagen senden (Twilios Content-Vorlagen werden nicht unterstützt). "
        "Sobald der Kunde wieder schreibt, erreicht ihn eine normale Antwort."
    ),
    failure_twilio_window_closed=(
        "❌ Nicht zugestellt: Das 24-Stunden-Fenster ist geschlossen. Die letzte Nachricht des "
        "Kunden liegt mehr als 24 Stunden zurück, und WhatsApp erlaubt jetzt nur noch "
        "genehmigte Vorlagen, die Empfang über Twilio nicht senden kann: warten, bis der Kunde "
        "wieder schreibt."
    ),
    root_number="Geschrieben an: {name}",
)
