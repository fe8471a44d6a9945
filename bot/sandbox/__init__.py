"""The WhatsApp sandbox: a faithful stand-in for Meta's Cloud API (``empfang sandbox``).

Admins try Empfang with it before they have a Meta account, the demo runs on it, and the test
suite uses it as the WhatsApp side of the bot's production code path. It speaks the
Cloud API's documented wire format (README, "The WhatsApp sandbox"): the Graph endpoints the
bot calls, signed webhooks it delivers, and a driver API under ``/sandbox/`` that plays the
customer's phone.

Modules: ``payloads`` (webhook builders, signing), ``graph`` (send validation, Graph errors),
``limits``, ``media``, ``delivery`` (webhooks to the bot), ``phone`` (customers, windows,
receipts), ``driver`` (driver requests → messages), ``core`` (behaviour), ``routes``
(aiohttp), ``server`` (lifecycle), ``client`` (driver API over HTTP), ``cli``.
"""

from bot.sandbox.client import SandboxClient
from bot.sandbox.core import Sandbox
from bot.sandbox.errors import (
    DriverRequestError,
    GraphError,
    SandboxClientError,
    SandboxError,
    SandboxUnavailable,
)
from bot.sandbox.payloads import BusinessNumber
from bot.sandbox.server import SandboxServer

__all__ = [
    "BusinessNumber",
    "DriverRequestError",
    "GraphError",
    "Sandbox",
    "SandboxClient",
    "SandboxClientError",
    "SandboxError",
    "SandboxServer",
    "SandboxUnavailable",
]
