"""``check-config --online`` for WhatsApp (sandbox) and Slack (fake), and the CLI composing them.

The sandbox answers ``GET /{phone_number_id}`` and ``/{waba_id}/subscribed_apps`` in Meta's
wire format, error bodies included, so the check runs its production HTTP path here. The
Matrix check runs against a real Synapse in ``tests/matrix/test_online.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from pathlib import Path

import httpx
import pytest

from adapters.slack.online import check_online as check_slack
from adapters.whatsapp.online import check_online
from bot.cli import main
from bot.config import SlackSection, WhatsAppSection
from bot.sandbox import SandboxServer
from bot.sandbox.core import DEFAULT_WABA_ID
from tests.conftest import SECRETS
from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, CHANNEL, FakeSlack


def _section(sandbox: SandboxServer, **changes: object) -> WhatsAppSection:
    values: dict[str, object] = {
        **SECRETS,
        "provider": "cloud",
        "api_base": sandbox.graph_url,
        "waba_id": DEFAULT_WABA_ID,
        **changes,
    }
    return WhatsAppSection.model_validate(values)


async def test_the_sandbox_answers_the_account_nodes_in_metas_wire_format(
    sandbox: SandboxServer,
) -> None:
    number_url = f"{sandbox.graph_url}/{SECRETS['phone_number_id']}"
    good = {"Authorization": f"Bearer {SECRETS['access_token']}"}
    async with httpx.AsyncClient() as client:
        answer = await client.get(number_url, headers=good)
        assert answer.status_code == 200
        assert answer.json() == {
            "verified_name": "Empfang Sandbox",
            "code_verification_status": "VERIFIED",
            "display_phone_number": "+1 555-555-0100",
            "quality_rating": "GREEN",
            "platform_type": "CLOUD_API",
            "throughput": {"level": "STANDARD"},
            "id": SECRETS["phone_number_id"],
        }
        wrong = await client.get(number_url, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        error = wrong.json()["error"]
        assert (error["type"], error["code"], error["error_subcode"]) == (
            "OAuthException",
            190,
            463,
        )

        unknown = await client.get(f"{sandbox.graph_url}/123", headers=good)
        assert unknown.status_code == 400
        error = unknown.json()["error"]
        assert (error["type"], error["code"], error["error_subcode"]) == (
            "GraphMethodException",
            100,
            33,
        )
        apps = await client.get(
            f"{sandbox.graph_url}/{DEFAULT_WABA_ID}/subscribed_apps", headers=good
        )
        assert apps.json() == {
            "data": [
                {
                    "whatsapp_business_api_data": {
                        "id": "130000000000001",
                        "link": "https://www.facebook.com/games/?app_id=130000000000001",
                        "name": "Empfang Sandbox",
                    }
                }
            ]
        }


async def test_a_working_account_has_no_problems_and_says_what_it_found(
    sandbox: SandboxServer,
) -> None:
    report = await check_online(_section(sandbox), sandbox.settings.sandbox)
    assert report.problems == [] and report.warnings == []
    number, apps = report.facts
    # The business's own number is masked like every number Empfang prints.
    assert number == "whatsapp.phone_number_id: +1 ••• •••••00 (Empfang Sandbox), quality GREEN"
    assert apps.startswith("whatsapp.waba_id: webhooks go to Empfang Sandbox;")


async def test_a_wrong_token_is_reported_on_the_token_key(sandbox: SandboxServer) -> None:
    report = await check_online(_section(sandbox, access_token="expired"), sandbox.settings.sandbox)
    (line,) = report.problems
    assert line.startswith("whatsapp.access_token: rejected by Meta (WhatsApp API error 190: ")
    assert "Error validating access token" in line


@pytest.mark.parametrize("number_id", ["106540352242999", "not-a-number"])
async def test_an_unknown_number_id_is_reported_on_its_key(
    sandbox: SandboxServer, number_id: str
) -> None:
    report = await check_online(
        _section(sandbox, phone_number_id=number_id), sandbox.settings.sandbox
    )
    (line,) = report.problems
    assert line.startswith(
        f"whatsapp.phone_number_id: unknown to this access token (WhatsApp API error 100: "
        f"Unsupported get request. Object with ID '{number_id}' does not exist"
    )


async def test_an_account_without_subscribed_app_gets_no_webhooks(
    sandbox: SandboxServer,
) -> None:
    headers = {"Authorization": f"Bearer {SECRETS['access_token']}"}
    url = f"{sandbox.graph_url}/{DEFAULT_WABA_ID}/subscribed_apps"
    async with httpx.AsyncClient(headers=headers) as client:
        assert (await client.delete(url)).json() == {"success": True}
        assert (await client.get(url)).json() == {"data": []}
        report = await check_online(_section(sandbox), sandbox.settings.sandbox)
        (line,) = report.problems
        assert line.startswith("whatsapp.waba_id: no app is subscribed to this account's webhooks")
        assert (await client.post(url)).json() == {"success": True}
    report = await check_online(_section(sandbox), sandbox.settings.sandbox)
    assert report.problems == []


async def test_an_unknown_waba_id_and_a_missing_one(sandbox: SandboxServer) -> None:
    report = await check_online(
        _section(sandbox, waba_id="999999999999999"), sandbox.settings.sandbox
    )
    (line,) = report.problems
    assert line.startswith("whatsapp.waba_id: unknown to this access token (WhatsApp API error 100")

    report = await check_online(_section(sandbox, waba_id=""), sandbox.settings.sandbox)
    assert report.problems == []
    assert report.warnings == [
        "whatsapp.waba_id: skipped: set whatsapp.waba_id to check that an app receives the "
        "account's webhooks"
    ]


async def test_an_unreachable_api_is_reported_on_api_base(sandbox: SandboxServer) -> None:
    base = sandbox.graph_url
    await sandbox.stop()
    report = await check_online(_section(sandbox, api_base=base), sandbox.settings.sandbox)
    (line,) = report.problems
    assert line.startswith(f"whatsapp.api_base: cannot reach {base}/")


# -- Slack ---------------------------------------------------------------------------------


def _slack(fake: FakeSlack, **changes: str) -> SlackSection:
    values = {"bot_token": BOT_TOKEN, "app_token": APP_TOKEN, "channel_id": CHANNEL}
    return SlackSection.model_validate({**values, "api_base": fake.api_base, **changes})


async def test_slack_findings_by_key() -> None:
    async with FakeSlack(private=True) as fake:
        report = await check_slack(_slack(fake))
        assert report.problems == []
        assert report.facts == ["slack.bot_token: valid for @empfang in Empfang Test"]

        report = await check_slack(_slack(fake, bot_token="xoxb-revoked"))
        assert report.problems == ["slack.bot_token: Slack auth.test failed: invalid_auth"]

        report = await check_slack(_slack(fake, app_token="xapp-1-wrong"))
        assert report.problems == [
            "slack.app_token: Slack apps.connections.open failed: invalid_auth"
        ]

    async with FakeSlack(bot_in_channel=False) as fake:
        report = await check_slack(_slack(fake))
        assert report.problems[0] == (
            "slack.channel_id: the bot is not a member of #support; invite it there with "
            "/invite @Empfang"
        )

    async with FakeSlack(bot_in_channel=False, private=True) as fake:
        # Slack hides a private channel from a bot outside it: an unknown channel.
        report = await check_slack(_slack(fake))
        assert report.problems == [
            "slack.channel_id: Slack conversations.info failed: channel_not_found"
        ]

    async with FakeSlack(private=True) as fake:
        # Alerts carry no customer content: a public alerts channel is the team's choice.
        fake.add_channel("C0ALERTS01", "alerts")
        report = await check_slack(_slack(fake), alerts_channel="C0ALERTS01")
        assert report.problems == [
            "alerts.room: the bot is not a member of #alerts; invite it there with /invite @Empfang"
        ]
        report = await check_slack(_slack(fake), alerts_channel="C0NOSUCH01")
        assert report.problems == [
            "alerts.room: Slack conversations.info failed: channel_not_found"
        ]

    async with FakeSlack(scopes={"chat:write", "groups:read"}, private=True) as fake:
        report = await check_slack(_slack(fake))
        assert report.problems == [
            "slack.bot_token: missing scopes reactions:write, users:read, files:write,"
            " files:read, groups:history; add them from slack/manifest.yml and reinstall the app"
        ]


async def test_slack_a_public_or_externally_shared_channel_is_refused() -> None:
    async with FakeSlack(private=False) as fake:
        report = await check_slack(_slack(fake))
        assert report.problems == [
            "slack.channel_id: #support is a public channel: everyone in the workspace can "
            "read customer conversations; use a private channel"
        ]
    async with FakeSlack(private=True) as fake:
        report = await check_slack(_slack(fake))
        assert report.problems == []

        fake.channels[CHANNEL].ext_shared = True
        report = await check_slack(_slack(fake))
        assert report.problems == [
            "slack.channel_id: #support is shared with another organisation (Slack Connect): "
            "customer conversations would be copied to its workspace; use a channel of this "
            "workspace alone"
        ]


# -- the CLI: both platforms in one run, exit codes ----------------------------------------


def _config(
    path: Path,
    sandbox: SandboxServer,
    fake: FakeSlack,
    *,
    slack_token: str = BOT_TOKEN,
    **whatsapp: str,
) -> Path:
    values = {**SECRETS, "api_base": sandbox.graph_url, **whatsapp}
    lines = "\n".join(f'{key} = "{value}"' for key, value in values.items())
    path.write_text(
        f"""
[server]
host = "127.0.0.1"
[store]
path = "{path.with_suffix(".sqlite3")}"
[whatsapp]
provider = "sandbox"
{lines}
[chat]
platform = "slack"
[slack]
bot_token = "{slack_token}"
app_token = "{APP_TOKEN}"
channel_id = "{CHANNEL}"
api_base = "{fake.api_base}"
[privacy]
pseudonym_key = "test-pseudonym-key-0123456789"
""",
        encoding="utf-8",
    )
    return path


async def _run(config: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()

    def run() -> int:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return main(["check-config", "--config", str(config), "--online"])

    code = await asyncio.to_thread(run)
    return code, out.getvalue(), err.getvalue()


async def test_cli_checks_whatsapp_and_the_chat_platform(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    async with FakeSlack(private=True) as fake:
        code, out, err = await _run(
            _config(tmp_path / "ok.toml", sandbox, fake, waba_id=DEFAULT_WABA_ID)
        )
        assert (code, err) == (0, "")
        assert out.splitlines() == [
            "ok: whatsapp.phone_number_id: +1 ••• •••••00 (Empfang Sandbox), quality GREEN",
            "ok: whatsapp.waba_id: webhooks go to Empfang Sandbox; the App Dashboard must have "
            "the messages field subscribed",
            "ok: slack.bot_token: valid for @empfang in Empfang Test",
            "config OK",
        ]

        # A warning is printed but does not fail the check.
        code, out, err = await _run(_config(tmp_path / "nowaba.toml", sandbox, fake))
        assert code == 0 and out.endswith("config OK\n")
        assert err.startswith("warning: whatsapp.waba_id: skipped: set whatsapp.waba_id")

        # Problems of both platforms in one run, each by key; exit 2 as documented.
        bad = _config(
            tmp_path / "bad.toml", sandbox, fake, slack_token="xoxb-revoked", access_token="x"
        )
        code, out, err = await _run(bad)
        assert (code, out) == (2, "")
        assert err.splitlines() == [
            "whatsapp.access_token: rejected by Meta (WhatsApp API error 190: Error validating "
            "access token: Session has expired or the access token is invalid.)",
            "slack.bot_token: Slack auth.test failed: invalid_auth",
        ]
