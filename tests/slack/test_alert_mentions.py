"""On-call mentions in Slack alerts stay live; everything else is escaped."""

from adapters.slack.blocks import escape_keeping_mentions


def test_mentions_survive_and_markup_is_escaped() -> None:
    text = "⏰ <!subteam^S0123ABC> K-7F3A2Q waited <10 min> & <@U012AB3CD> <!channel>"
    assert escape_keeping_mentions(text) == (
        "⏰ <!subteam^S0123ABC> K-7F3A2Q waited &lt;10 min&gt; &amp; <@U012AB3CD> &lt;!channel&gt;"
    )
