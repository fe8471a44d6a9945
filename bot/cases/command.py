"""``!case`` in a thread: show the linked cases, or link an existing one.

Linking only records the id (no network call: this runs inside the relay's transaction);
later transfers of the conversation go to that case. A wrong id therefore shows up as a
failed transfer, with an alert, rather than as a slow chat command.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.cases.model import transfer_order_key
from bot.config.cases import CaseSinkSection
from bot.store import Tx
from bot.store.cases import CaseLinkRow
from bot.texts import Texts

_CASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}$")


async def case_command(
    tx: Tx,
    sinks: Mapping[str, CaseSinkSection],
    conversation_id: int,
    argument: str,
    author: str,
    texts: Texts,
) -> str:
    words = argument.split()
    if not words:
        return await _show(tx, sinks, conversation_id, texts)
    if len(words) == 2 and words[0] in sinks:
        sink, case_id = words
    elif len(words) == 1:
        sink, case_id = next(iter(sinks)), words[0]
    else:
        systems = texts.case_systems.format(names=", ".join(sinks))
        return f"{texts.case_usage} {systems}"
    case_id = case_id.removeprefix("#")
    if not _CASE_ID.match(case_id):
        return f"{texts.case_bad_id.format(case_id=case_id)} {texts.case_usage}"
    problem = sinks[sink].case_id_problem(case_id)
    if problem:
        return texts.case_refused.format(case_id=case_id, sink=sink, problem=problem)
    return await _link(tx, sinks[sink], conversation_id, case_id, author, texts)


async def _link(
    tx: Tx,
    sink: CaseSinkSection,
    conversation_id: int,
    case_id: str,
    author: str,
    texts: Texts,
) -> str:
    found = await tx.cases.link(conversation_id, sink.name)
    await tx.cases.save_link(
        CaseLinkRow(
            conversation_id=conversation_id,
            sink=sink.name,
            case_id=case_id,
            case_label=case_id,
            thread=found.thread if found else (),
            last_transfer=found.last_transfer if found else None,
            closed=found.closed if found else False,
            linked_by=author,
            updated_at=tx.clock.now(),
        )
    )
    url = sink.case_link(case_id)
    text = texts.case_linked.format(case_id=case_id, sink=sink.name) + (f" — {url}" if url else "")
    if found is not None and found.case_id and found.case_id != case_id:
        text += texts.case_was.format(previous=found.case_label or found.case_id)
    return text + texts.case_linked_end


async def _show(
    tx: Tx, sinks: Mapping[str, CaseSinkSection], conversation_id: int, texts: Texts
) -> str:
    lines = []
    for name, sink in sinks.items():
        link = await tx.cases.link(conversation_id, name)
        line = f"{name}: {_describe(sink, link, texts)}"
        pending, dead = await tx.cases.backlog(transfer_order_key(conversation_id, name))
        if pending:
            line += texts.case_pending.format(count=pending)
        if dead:
            line += texts.case_dead.format(count=dead)
        lines.append(line)
    return "📁 " + "\n".join(lines)


def _describe(sink: CaseSinkSection, link: CaseLinkRow | None, texts: Texts) -> str:
    if link is None:
        return texts.case_none
    if link.case_id is None:
        text = texts.case_without_id
    else:
        text = texts.case_one.format(label=link.case_label or link.case_id)
        url = sink.case_link(link.case_id)
        if url:
            text += f" — {url}"
    return text + (texts.case_closed if link.closed else "")
