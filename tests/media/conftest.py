"""The Slack stack's fixtures (``tests.slack.conftest``) and the Matrix team's
(``tests.matrix.conftest``) for the media tests too."""

from tests.matrix.conftest import start_platform, team
from tests.slack.conftest import fast_slack, start_stack

__all__ = ["fast_slack", "start_platform", "start_stack", "team"]
