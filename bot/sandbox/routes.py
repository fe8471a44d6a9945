"""aiohttp routes: thin translation between HTTP and :class:`~bot.sandbox.core.Sandbox`.

Graph routes answer exactly like the Cloud API (Graph error envelope, status codes,
``Retry-After``); driver routes under ``/sandbox/`` answer plain JSON with ``{"error": …}``
on a bad request. No behaviour lives here, so the in-process Python API and HTTP cannot drift.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import BodyPartReader, web

from bot.sandbox.core import Sandbox
from bot.sandbox.customer_actions import business_app_sends, tap
from bot.sandbox.errors import DriverRequestError, GraphError, MediaUrlError
from bot.sandbox.graph import invalid_param
from bot.sandbox.media import ATTACHMENTS_PATH, MAX_UPLOAD_BYTES

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
GRAPH = r"/{version:v\d+\.\d+}"


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except GraphError as exc:
        return web.json_response(exc.body(), status=exc.http_status, headers=exc.headers)
    except DriverRequestError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    except MediaUrlError as exc:
        return web.Response(status=404, text=str(exc))


async def _graph_json(request: web.Request) -> Any:
    try:
        return json.loads(await request.read() or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise invalid_param("The request body is not valid JSON") from exc


async def _driver_json(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DriverRequestError("the body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise DriverRequestError("expected a JSON object")
    return body


def _number(request: web.Request, body: dict[str, Any]) -> str:
    """The customer's number from the path (handy with curl) or the body (kept out of logs)."""
    number = request.match_info.get("number", body.get("number"))
    if not isinstance(number, str):
        raise DriverRequestError('number: required, in the path or as {"number": "+49…"}')
    return number


class GraphRoutes:
    """What the bot calls: messages, media, and the nodes ``check-config --online`` reads."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def _authorize(self, request: web.Request) -> None:
        self.sandbox.authorize(
            request.headers.get("Authorization"), request.query.get("access_token")
        )

    async def messages(self, request: web.Request) -> web.Response:
        self._authorize(request)
        body = await _graph_json(request)
        answer = self.sandbox.send(request.match_info["phone_number_id"], body)
        return web.json_response(answer)

    async def upload(self, request: web.Request) -> web.Response:
        self._authorize(request)
        if not request.content_type.startswith("multipart/"):
            raise invalid_param(
                "Upload media as multipart/form-data with file, type, messaging_product"
            )
        fields: dict[str, str] = {}
        file: tuple[bytes, str | None] | None = None
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):  # nested multipart: not Meta's format
                continue
            if part.name == "file":
                file = (bytes(await part.read()), part.filename)
            elif part.name:
                fields[part.name] = await part.text()
        answer = self.sandbox.upload(request.match_info["phone_number_id"], fields, file)
        return web.json_response(answer)

    async def graph_object(self, request: web.Request) -> web.Response:
        self._authorize(request)
        answer = self.sandbox.graph_object(
            request.match_info["object_id"], request.query.get("phone_number_id")
        )
        return web.json_response(answer)

    async def subscribed_apps(self, request: web.Request) -> web.Response:
        self._authorize(request)
        waba_id = request.match_info["waba_id"]
        if request.method == "POST":
            return web.json_response(self.sandbox.subscribe_app(waba_id))
        if request.method == "DELETE":
            return web.json_response(self.sandbox.unsubscribe_app(waba_id))
        return web.json_response(self.sandbox.list_subscribed_apps(waba_id))

    async def message_templates(self, request: web.Request) -> web.Response:
        self._authorize(request)
        query = dict(request.query)
        query.pop("access_token", None)
        answer = self.sandbox.message_templates(request.match_info["waba_id"], query)
        return web.json_response(answer)

    async def delete_media(self, request: web.Request) -> web.Response:
        self._authorize(request)
        return web.json_response(self.sandbox.delete_media(request.match_info["media_id"]))

    async def download(self, request: web.Request) -> web.Response:
        query = request.query
        try:
            item = self.sandbox.download(
                query.get("mid", ""),
                query.get("ext", ""),
                query.get("hash", ""),
                request.headers.get("Authorization"),
            )
        except GraphError:
            # The media host is a CDN, not Graph: it just refuses.
            return web.Response(status=401, text="Unauthorized: a Bearer token is required")
        return web.Response(body=item.content, content_type=item.mime_type.split(";")[0])


class DriverRoutes:
    """The customer's phone and the test controls, under ``/sandbox/``."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def info(self, request: web.Request) -> web.Response:
        return web.json_response(self.sandbox.info())

    async def messages(self, request: web.Request) -> web.Response:
        wamid = self.sandbox.send_message(await _driver_json(request))
        return web.json_response({"id": wamid})

    async def tap(self, request: web.Request) -> web.Response:
        """The customer taps a reply button by its title (``customer_actions.tap``)."""
        body = await _driver_json(request)
        title = body.get("title")
        if not isinstance(title, str):
            raise DriverRequestError("title: required, the button's title")
        return web.json_response({"id": tap(self.sandbox, _number(request, body), title)})

    async def business_app(self, request: web.Request) -> web.Response:
        """The business answers from the WhatsApp Business app (an ``smb_message_echoes``)
        on its first number, or on ``business`` (a ``phone_number_id``)."""
        body = await _driver_json(request)
        text = body.get("text")
        if not isinstance(text, str) or not text:
            raise DriverRequestError("text: required, the message text")
        number = _number(request, body)
        wamid = business_app_sends(self.sandbox, number, text, body.get("business"))
        return web.json_response({"id": wamid})

    async def media(self, request: web.Request) -> web.Response:
        """A file onto the customer's phone: the raw bytes as the body, ``Content-Type``
        their type, ``?filename=`` their name."""
        answer = self.sandbox.put_on_phone(
            await request.read(), request.content_type, request.query.get("filename")
        )
        return web.json_response(answer)

    async def webhooks(self, request: web.Request) -> web.Response:
        self.sandbox.post_webhook(await _driver_json(request))
        return web.json_response({"queued": True})

    async def inbox(self, request: web.Request) -> web.Response:
        """The customer's chat with the first business number, or with ``business`` (a
        ``phone_number_id``, in the query or the body)."""
        body = await _driver_json(request)
        business = request.query.get("business", body.get("business"))
        return web.json_response(self.sandbox.inbox(_number(request, body), business))

    async def read(self, request: web.Request) -> web.Response:
        number = _number(request, await _driver_json(request))
        return web.json_response({"read": self.sandbox.read(number)})

    async def unreachable(self, request: web.Request) -> web.Response:
        body = await _driver_json(request)
        flag = body.get("unreachable", True)
        if not isinstance(flag, bool):
            raise DriverRequestError("unreachable: must be true or false")
        self.sandbox.set_unreachable(_number(request, body), flag)
        return web.json_response({"unreachable": flag})

    async def marketing(self, request: web.Request) -> web.Response:
        body = await _driver_json(request)
        stopped = body.get("stopped", True)
        if not isinstance(stopped, bool):
            raise DriverRequestError("stopped: must be true or false")
        self.sandbox.set_marketing_stopped(_number(request, body), stopped)
        return web.json_response({"marketing_stopped": stopped})

    async def get_clock(self, request: web.Request) -> web.Response:
        return web.json_response({"now": self.sandbox.clock.now()})

    async def clock(self, request: web.Request) -> web.Response:
        seconds = (await _driver_json(request)).get("advance_seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise DriverRequestError("advance_seconds: required, a number of seconds")
        return web.json_response({"now": self.sandbox.advance_clock(float(seconds))})

    async def get_outage(self, request: web.Request) -> web.Response:
        return web.json_response(self.sandbox.faults.view())

    async def outage(self, request: web.Request) -> web.Response:
        body = await _driver_json(request)
        statuses = body.get("statuses", [500])
        if not isinstance(statuses, list) or not all(type(s) is int for s in statuses):
            raise DriverRequestError("statuses: a list of HTTP statuses, e.g. [500, 429]")
        seconds = body.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise DriverRequestError("seconds: required, a number of seconds (0 ends an outage)")
        return web.json_response(self.sandbox.start_outage(statuses, float(seconds)))

    async def deliveries(self, request: web.Request) -> web.Response:
        return web.json_response({"deliveries": self.sandbox.deliveries()})

    async def get_config(self, request: web.Request) -> web.Response:
        return web.json_response(self.sandbox.options.view())

    async def config(self, request: web.Request) -> web.Response:
        return web.json_response(self.sandbox.configure(**await _driver_json(request)))

    async def verify(self, request: web.Request) -> web.Response:
        body = await _driver_json(request)
        token, challenge = body.get("verify_token"), body.get("challenge")
        if not isinstance(token, str | None) or not isinstance(challenge, str | None):
            raise DriverRequestError("verify_token and challenge must be strings")
        result = await self.sandbox.verify_webhook(verify_token=token, challenge=challenge)
        return web.json_response(result)

    async def idle(self, request: web.Request) -> web.Response:
        timeout = (await _driver_json(request)).get("timeout", 30.0)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            raise DriverRequestError("timeout: must be a number of seconds")
        idle = await self.sandbox.idle(float(timeout))
        return web.json_response({"idle": idle, "pending": self.sandbox.background.pending})

    async def get_templates(self, request: web.Request) -> web.Response:
        return web.json_response(self.sandbox.templates.view())

    async def templates(self, request: web.Request) -> web.Response:
        """Add or replace a template (Meta's catalogue shape), e.g. pause one."""
        self.sandbox.templates.add(await _driver_json(request))
        return web.json_response(self.sandbox.templates.view())

    async def reset(self, request: web.Request) -> web.Response:
        await self.sandbox.reset()
        return web.json_response({"reset": True})


def build_app(sandbox: Sandbox) -> web.Application:
    app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024, middlewares=[_errors])
    graph, driver = GraphRoutes(sandbox), DriverRoutes(sandbox)
    add = app.router
    add.add_post(GRAPH + "/{phone_number_id}/messages", graph.messages)
    add.add_post(GRAPH + "/{phone_number_id}/media", graph.upload)
    # Any id, not only digits: Meta answers an id it does not know with code 100, not a 404.
    add.add_get(GRAPH + "/{object_id}", graph.graph_object)
    add.add_delete(GRAPH + r"/{media_id:\d+}", graph.delete_media)
    for method in ("GET", "POST", "DELETE"):
        add.add_route(method, GRAPH + "/{waba_id}/subscribed_apps", graph.subscribed_apps)
    add.add_get(GRAPH + "/{waba_id}/message_templates", graph.message_templates)
    add.add_get(ATTACHMENTS_PATH, graph.download)
    sandbox.twilio.add_routes(app)  # the Twilio side: /2010-04-01/Accounts/{sid}/…
    add.add_get("/sandbox", driver.info)
    add.add_post("/sandbox/messages", driver.messages)
    add.add_post("/sandbox/media", driver.media)
    add.add_post("/sandbox/webhooks", driver.webhooks)
    add.add_post("/sandbox/tap", driver.tap)
    add.add_post("/sandbox/business-app", driver.business_app)
    # Each number route also exists without the number in the path, taking {"number": …} in
    # the body: URLs end up in access and client logs, bodies do not.
    add.add_get("/sandbox/inbox/{number}", driver.inbox)
    add.add_post("/sandbox/inbox", driver.inbox)
    add.add_post("/sandbox/read/{number}", driver.read)
    add.add_post("/sandbox/read", driver.read)
    add.add_post("/sandbox/unreachable/{number}", driver.unreachable)
    add.add_post("/sandbox/unreachable", driver.unreachable)
    add.add_get("/sandbox/clock", driver.get_clock)
    add.add_post("/sandbox/clock", driver.clock)
    add.add_get("/sandbox/deliveries", driver.deliveries)
    add.add_get("/sandbox/outage", driver.get_outage)
    add.add_post("/sandbox/outage", driver.outage)
    add.add_get("/sandbox/config", driver.get_config)
    add.add_post("/sandbox/config", driver.config)
    add.add_post("/sandbox/verify", driver.verify)
    add.add_post("/sandbox/idle", driver.idle)
    add.add_post("/sandbox/marketing", driver.marketing)
    add.add_get("/sandbox/templates", driver.get_templates)
    add.add_post("/sandbox/templates", driver.templates)
    add.add_post("/sandbox/reset", driver.reset)
    return app
