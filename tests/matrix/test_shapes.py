"""The pure parts of the Matrix adapter: event shapes, error mapping, the state file."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from nio import RoomSendError
from nio.exceptions import LocalProtocolError, SendRetryError

from adapters.matrix import content, e2ee, errors, events
from adapters.matrix.members import RoomMembers
from adapters.matrix.state import STATE_FILE, StateFile
from bot.domain import DeliveryStatus
from bot.ports import ThreadRoot


def test_txn_ids_are_stable_url_safe_and_kind_specific() -> None:
    a = content.txn_id("post", "job:17/attempt ä")
    assert a == content.txn_id("post", "job:17/attempt ä")
    assert a != content.txn_id("alert", "job:17/attempt ä")
    assert a.replace(".", "").replace("empfang", "").isalnum()


def test_every_status_has_a_distinct_mark() -> None:
    marks = [content.STATUS_EMOJI[status] for status in DeliveryStatus]
    assert len(set(marks)) == len(DeliveryStatus)
    assert content.reaction("$e", DeliveryStatus.DELIVERED)["m.relates_to"]["key"] == "✓✓"


def test_root_escapes_html_and_edit_keeps_new_content_clean() -> None:
    root = content.root_content(ThreadRoot(conversation_id=1, title="<K-1>", lines=("a & b",)))
    assert root["formatted_body"] == "<b>&lt;K-1&gt;</b><br>a &amp; b"
    edit = content.edit_content("$root", root)
    assert edit["body"] == "* <K-1>\na & b"
    assert edit["m.new_content"] == root
    assert edit["m.relates_to"] == {"rel_type": "m.replace", "event_id": "$root"}


def test_root_shows_only_the_rendered_lines_in_their_language() -> None:
    """The state is in the lines ``bot.render`` wrote in ``[ui] language``; the adapter adds
    no words of its own (it used to append an English "— closed · claimed by …")."""
    closed = ThreadRoot(
        conversation_id=1,
        title="K-1",
        lines=("Status: geschlossen",),
        state="closed",
        claimed_by="Anna",
    )
    root = content.root_content(closed)
    assert root["body"] == "K-1\nStatus: geschlossen"
    assert root["formatted_body"] == "<b>K-1</b><br>Status: geschlossen"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("> <@a:x> question\n> more\n\nanswer", "answer"),
        ("> <@a:x> question\nanswer", "answer"),
        ("answer\n> quoted later stays", "answer\n> quoted later stays"),
        ("plain", "plain"),
    ],
)
def test_reply_fallback_is_stripped(body: str, expected: str) -> None:
    assert events.strip_reply_fallback(body) == expected


def _event(content_: dict[str, Any], sender: str = "@agent:x") -> dict[str, Any]:
    return {
        "type": "m.room.message",
        "event_id": "$e1",
        "sender": sender,
        "origin_server_ts": 1,
        "content": content_,
    }


def _translate(source: dict[str, Any], **kwargs: Any) -> Any:
    defaults: dict[str, Any] = {
        "own_user_id": "@bot:x",
        "bot_users": frozenset({"@hookbot:x"}),
        "author_name": "Anna",
        "author_is_member": True,
    }
    return events.to_agent_message(source, **{**defaults, **kwargs})


def test_older_element_thread_relation_counts() -> None:
    message = _translate(
        _event(
            {
                "msgtype": "m.text",
                "body": "hi",
                "m.relates_to": {"rel_type": "io.element.thread", "event_id": "$root"},
            }
        )
    )
    assert message.thread_id == "$root"


def test_edit_takes_new_content_and_given_thread() -> None:
    message = _translate(
        _event(
            {
                "msgtype": "m.text",
                "body": "* fixed",
                "m.new_content": {"msgtype": "m.notice", "body": "fixed"},
                "m.relates_to": {"rel_type": "m.replace", "event_id": "$orig"},
            }
        ),
        edit_thread="$root",
    )
    assert (message.text, message.edit_of, message.thread_id) == ("fixed", "$orig", "$root")
    assert message.author_is_bot  # the new content is a notice


def test_not_relayed_shapes() -> None:
    assert _translate(_event({"msgtype": "m.emote", "body": "waves"})) is None
    assert _translate(_event({})) is None  # redacted
    assert _translate(_event({"msgtype": "m.image", "body": "x.png"})) is None
    assert _translate({**_event({"body": "x"}), "type": "m.reaction"}) is None


def test_listed_bot_users_are_flagged() -> None:
    message = _translate(_event({"msgtype": "m.text", "body": "hi"}, sender="@hookbot:x"))
    assert message.author_is_bot and not message.author_is_self


def test_rate_limit_maps_to_retry_after() -> None:
    body = {"errcode": "M_LIMIT_EXCEEDED", "error": "slow down", "retry_after_ms": 1500}
    failure = errors.from_answer("post", 429, body)
    assert failure.retryable and failure.retry_after == 1.5
    assert failure.code == "M_LIMIT_EXCEEDED"
    # nio's error answer (E2EE) maps the same way.
    nio_failure = e2ee.from_response("post", RoomSendError("slow down", "M_LIMIT_EXCEEDED", 1500))
    assert nio_failure.retryable and nio_failure.retry_after == 1.5


def test_permanent_and_unknown_errors() -> None:
    assert not errors.from_answer("post", 403, {"errcode": "M_FORBIDDEN"}).retryable
    assert not errors.from_answer("sync", 401, {"errcode": "M_UNKNOWN_TOKEN"}).retryable
    assert not e2ee.from_response("post", RoomSendError("no", "M_FORBIDDEN")).retryable
    # No errcode and no HTTP status: an unparseable answer, worth another try.
    assert errors.from_error("post", status=None, code=None).retryable
    assert e2ee.from_response("post", RoomSendError("unknown error")).retryable
    # An error page instead of JSON: judged by its status.
    assert errors.from_answer("post", 502, None).outage


def test_exceptions_map_by_kind() -> None:
    assert errors.from_exception("post", aiohttp.ClientConnectionError()).retryable
    assert errors.from_exception("post", TimeoutError()).retryable
    assert e2ee.from_exception("post", SendRetryError("keys")).retryable
    assert not e2ee.from_exception("post", LocalProtocolError("No such room")).retryable
    assert e2ee.from_exception("post", aiohttp.ClientConnectionError()).outage


def _member(user_id: str, membership: str, name: str | None = None) -> dict[str, Any]:
    content_: dict[str, Any] = {"membership": membership}
    if name is not None:
        content_["displayname"] = name
    return {"type": "m.room.member", "state_key": user_id, "content": content_}


def test_members_names_are_disambiguated_and_only_joined_members_count() -> None:
    members = RoomMembers()
    members.update(
        [
            _member("@anna:x", "join", "Anna"),
            _member("@anna2:x", "join", "Anna"),
            _member("@bo:x", "invite", "Bo"),
            _member("@cy:x", "join"),
        ]
    )
    assert members.display_name("@anna:x") == "Anna (@anna:x)"
    assert members.display_name("@bo:x") == "Bo"
    assert members.display_name("@cy:x") == "@cy:x"
    assert members.is_joined("@anna:x") and not members.is_joined("@bo:x")
    members.update([_member("@anna2:x", "leave")])
    assert members.display_name("@anna:x") == "Anna"
    assert not members.is_joined("@anna2:x") and not members.is_joined("@nobody:x")


def test_state_file_is_private_atomic_and_forgiving(tmp_path: Path) -> None:
    store = StateFile(tmp_path / "store")
    store.update(access_token="secret-token", next_batch="s1")
    path = tmp_path / "store" / STATE_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert StateFile(tmp_path / "store").load().next_batch == "s1"
    assert "secret-token" not in repr(store.state)

    path.write_text("{not json", encoding="utf-8")
    assert StateFile(tmp_path / "store").load().next_batch == ""
