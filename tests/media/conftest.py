"""The Slack stack's fixtures (``tests.slack.conftest``) for the media tests too."""

from tests.slack.conftest import fast_slack, start_stack

__all__ = ["fast_slack", "start_stack"]
