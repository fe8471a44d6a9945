"""The Slack stack's fixtures (``tests.slack.conftest``), for several business numbers."""

from tests.slack.conftest import fast_slack, start_stack

__all__ = ["fast_slack", "start_stack"]
