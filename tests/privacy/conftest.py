"""Fixtures the privacy tests share with the case-system tests: the webhook receiver
written from README "Case systems" alone, the fake Zammad and a loopback SMTP server."""

from tests.cases.conftest import receiver, smtp, zammad

__all__ = ["receiver", "smtp", "zammad"]
