"""A request body that stops arriving is answered 408 and its connection closed.

Uvicorn times out idle connections between requests, not a body in flight: a client that
declares ``Content-Length: 1000000`` and sends ten bytes holds its request (an upload's
temp file, a worker waiting in ``receive``) for as long as it keeps the socket open. This
ASGI middleware bounds the wait for each piece of the body by ``body_read_seconds`` (the
setting is read per request, as nginx's ``client_body_timeout`` bounds the time between two
reads). On expiry it answers 408 in the one error shape with ``Connection: close`` (so the
server drops the socket), then raises ``BodyReadTimeout`` inside the app, which unwinds the
handler (its ``finally`` removes the upload's temp file); whatever the app sends afterwards
is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yaosu.kernel.errors import BodyReadTimeout, YaosuError
from yaosu.kernel.i18n import LOCALE_COOKIE, negotiate
from yaosu.kernel.settings import Settings


class BodyTimeoutMiddleware:
    """``answer`` makes the 408 from the error and the reader's language: the application
    passes its one error shape (the kernel knows no web layer)."""

    def __init__(
        self, app: ASGIApp, settings: Settings, answer: Callable[[YaosuError, str], Response]
    ) -> None:
        self.app = app
        self.settings = settings
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.settings.body_read_seconds
        seconds = int(limit) if float(limit).is_integer() else limit  # as the message shows it
        state: dict[str, Any] = {"body_done": False, "timed_out": False, "started": False}

        async def timed_receive() -> Message:
            if state["timed_out"]:
                raise BodyReadTimeout(seconds=seconds)
            if state["body_done"]:
                return await receive()  # e.g. a streaming response waiting for a disconnect
            message: Message | None = None
            with anyio.move_on_after(limit):
                message = await receive()
            if message is None:
                state["timed_out"] = True
                await _answer_408(
                    scope, send, state, seconds, self.settings.default_locale, self.answer
                )
                raise BodyReadTimeout(seconds=seconds)
            if message["type"] != "http.request" or not message.get("more_body", False):
                state["body_done"] = True
            return message

        async def guarded_send(message: Message) -> None:
            if state["timed_out"]:
                return  # the 408 has been sent; the app's own answer to the error is dropped
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, timed_receive, guarded_send)
        except BodyReadTimeout:
            if not state["timed_out"]:
                raise


async def _answer_408(
    scope: Scope,
    send: Send,
    state: dict[str, Any],
    seconds: float,
    default_locale: str,
    answer: Callable[[YaosuError, str], Response],
) -> None:
    if state["started"]:
        return  # an answer is already on its way; the server closes the socket after it

    request = Request(scope)
    lang = negotiate(
        request.query_params.get("lang"),
        request.cookies.get(LOCALE_COOKIE),
        request.headers.get("accept-language"),
        default_locale,
    )
    response = answer(BodyReadTimeout(seconds=seconds), lang)
    response.headers["Connection"] = "close"
    state["started"] = True

    async def nothing() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, nothing, send)
