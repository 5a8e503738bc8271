"""A local Socket Mode server: Slack's side of the websocket, for tests of `hirebot socket`.

Point the Slack stand-in's `apps.connections.open` at `server.url`; the app connects, gets `hello`, and every
`send_*` call delivers an envelope and waits for the app's ack (`{"envelope_id": ...}`), as Slack does.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed


class SocketModeServer:
    def __init__(self) -> None:
        self.url = ""
        self.connected = asyncio.Event()
        self._connection: ServerConnection | None = None
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._server: Server | None = None

    async def start(self) -> str:
        self._server = await serve(self._handle, "127.0.0.1", 0)
        port = next(iter(self._server.sockets)).getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/"
        return self.url

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def __aenter__(self) -> SocketModeServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _handle(self, connection: ServerConnection) -> None:
        self._connection = connection
        await connection.send(json.dumps({"type": "hello", "num_connections": 1, "debug_info": {"host": "local"}}))
        self.connected.set()
        try:
            async for raw in connection:
                ack = json.loads(raw)
                future = self._pending.pop(str(ack.get("envelope_id")), None)
                if future is not None and not future.done():
                    future.set_result(ack)
        except ConnectionClosed:
            pass
        finally:
            if self._connection is connection:
                self.connected.clear()

    async def send(self, envelope_type: str, payload: dict[str, Any], *, timeout: float = 10.0) -> dict[str, Any]:
        """Deliver one envelope (events_api, slash_commands or interactive); return the app's ack."""
        await asyncio.wait_for(self.connected.wait(), timeout)
        assert self._connection is not None
        envelope_id = f"env-{next(self._ids)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[envelope_id] = future
        envelope = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": envelope_type != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        await self._connection.send(json.dumps(envelope))
        return await asyncio.wait_for(future, timeout)
