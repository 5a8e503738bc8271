"""A local stand-in of the Slack Web API: records every call and answers the way Slack does.

Covers what hirebot calls: auth.test, chat.postMessage (returns ts), chat.update, chat.postEphemeral, reactions.add,
conversations.open, users.info (with profile.email), views.open / views.update / views.push (modals kept by view id),
views.publish (Home tabs), apps.connections.open (-> a local websocket URL), conversations.info/list/join (channels a
test declared), and uploaded files at their `url_private_download` (the bot token as Bearer; without it, a 200 HTML
sign-in page, as Slack answers).
Installs (OAuth v2): `offer_install(team)` hands out a code that `oauth.v2.access` exchanges for that team's own bot
token (and, with `rotation` on, a refresh token and `expires_in`; `grant_type=refresh_token` exchanges it). Once a
token was issued, calls carrying no live token answer `invalid_auth` (`token_expired` for one that `expire` ended).
Every call records the bearer it carried.
Failures are scriptable: an error code for the next N calls of a method, a channel the bot cannot post in
(`not_in_channel`, `channel_not_found`), or HTTP 429 with Retry-After. A failure can also follow the call taking
effect (a post is posted, then the answer is an error or never comes). A method can also be made slow.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import sys
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

# Fields slack-sdk sends as JSON strings when a call is form-encoded.
_JSON_FIELDS = ("blocks", "attachments", "view", "metadata")


@dataclass
class RecordedCall:
    method: str
    args: dict[str, Any]
    token: str = ""  # the bearer the call carried


@dataclass
class _Failure:
    error: str
    status: int = 200
    retry_after: int | None = None
    drop: bool = False  # the call takes effect, then the connection dies before the answer
    take_effect: bool = False  # the call takes effect, then answers the error anyway


@dataclass
class UploadedFile:
    file_id: str
    name: str
    mimetype: str
    data: bytes
    token: str  # the bearer that may download it


@dataclass
class OfferedInstall:
    team_id: str
    enterprise_id: str | None
    org_wide: bool
    installer: str


@dataclass
class SlackUser:
    user_id: str
    email: str | None
    name: str = ""
    is_bot: bool = False
    is_admin: bool = False


@dataclass
class PostedMessage:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    updates: int = 0
    metadata: dict[str, Any] | None = None


class SlackApiStandIn:
    def __init__(self, *, team_id: str = "T1", bot_user_id: str = "UBOT"):
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.calls: list[RecordedCall] = []
        self.messages: dict[tuple[str, str], PostedMessage] = {}
        self.users: dict[str, SlackUser] = {}
        self.groups: dict[str, list[str]] = {}
        self.homes: dict[str, dict[str, Any]] = {}  # user id -> the Home tab published for them
        self.channels: dict[str, dict[str, Any]] = {}  # channels a test declared: id -> name, privacy, membership
        self.modals: dict[str, dict[str, Any]] = {}  # view id -> the modal as last opened, updated or pushed
        self.reactions: dict[tuple[str, str], list[str]] = {}  # (channel, ts) -> reaction names
        self.socket_url: str | None = None
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._delays: dict[str, deque[float]] = defaultdict(deque)
        self._closed_channels: dict[str, str] = {}
        self._ts = itertools.count(1)
        self.files: dict[str, UploadedFile] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""
        # Installs: codes offered, live bot tokens by team, refresh tokens, tokens `expire` ended
        self.client_id, self.client_secret = "", ""
        self.rotation = False
        self.token_lifetime_seconds = 12 * 3600
        self.bot_tokens: dict[str, str] = {}  # live bot token -> team (or org) it acts for
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> team
        self.expired: set[str] = set()
        self._offered: dict[str, OfferedInstall] = {}
        self._installs = itertools.count(1)

    # --- scripting -------------------------------------------------------------------------------------------
    def add_user(self, user_id: str, email: str | None, name: str = "", *, admin: bool = False) -> None:
        self.users[user_id] = SlackUser(user_id, email, name or user_id.lower(), is_admin=admin)

    def add_group(self, group_id: str, members: list[str]) -> None:
        self.groups[group_id] = list(members)

    def add_channel(self, channel_id: str, name: str, *, private: bool = False, member: bool = False) -> None:
        """A channel with membership: posting there without being a member answers `not_in_channel`."""
        self.channels[channel_id] = {"id": channel_id, "name": name, "is_private": private, "is_member": member,
                                     "is_archived": False}

    def fail(self, method: str, error: str, *, times: int = 1) -> None:
        """The next `times` calls of `method` answer `{"ok": false, "error": error}`."""
        self._failures[method].extend(_Failure(error) for _ in range(times))

    def rate_limit(self, method: str, *, retry_after: int = 0, times: int = 1) -> None:
        """The next `times` calls of `method` answer HTTP 429 with a Retry-After header."""
        self._failures[method].extend(_Failure("ratelimited", 429, retry_after) for _ in range(times))

    def slow(self, method: str, seconds: float, *, times: int = 1) -> None:
        """The next `times` calls of `method` are answered after `seconds` (and only then take effect)."""
        self._delays[method].extend(seconds for _ in range(times))

    def fail_after_effect(self, method: str, error: str, *, status: int = 200, times: int = 1) -> None:
        """The next `times` calls of `method` take effect (a post is posted), then answer `error` with HTTP `status`,
        as when Slack fails after doing the work."""
        self._failures[method].extend(_Failure(error, status, take_effect=True) for _ in range(times))

    def drop_connection(self, method: str, *, times: int = 1) -> None:
        """The next `times` calls of `method` take effect (a post is posted), then the connection drops unanswered."""
        self._failures[method].extend(_Failure("", drop=True) for _ in range(times))

    def upload(self, name: str, data: bytes, mimetype: str, *, token: str, size: int | None = None) -> dict[str, Any]:
        """Host a file as Slack does; returns the file object a `file_share` message event carries. `size`: what
        Slack declares (a lie, if it differs from the bytes served)."""
        file_id = f"F{next(self._ts):06d}"
        self.files[file_id] = UploadedFile(file_id, name, mimetype, data, token)
        base = self.url.removesuffix("api/")
        return {"id": file_id, "name": name, "title": name, "mimetype": mimetype,
                "filetype": name.rsplit(".", 1)[-1], "size": len(data) if size is None else size, "mode": "hosted",
                "url_private": f"{base}files-pri/{self.team_id}-{file_id}/{name}",
                "url_private_download": f"{base}files-pri/{self.team_id}-{file_id}/download/{name}"}

    def offer_install(self, team_id: str, *, enterprise_id: str | None = None, org_wide: bool = False,
                      installer: str = "UINSTALLER") -> str:
        """The code Slack sends back to the redirect URL once someone of `team_id` approved the install."""
        code = f"code-{team_id}-{next(self._installs)}"
        self._offered[code] = OfferedInstall(team_id, enterprise_id, org_wide, installer)
        return code

    def expire(self, token: str) -> None:
        """A rotating token's 12 hours are up: calls carrying it answer `token_expired`."""
        self.bot_tokens.pop(token, None)
        self.expired.add(token)

    def team_of(self, token: str) -> str | None:
        return self.bot_tokens.get(token)

    def bot_cannot_post_in(self, channel: str, error: str = "not_in_channel") -> None:
        """Every post to `channel` fails, as when the bot is not a member or it is a DM between people."""
        self._closed_channels[channel] = error

    # --- inspection ------------------------------------------------------------------------------------------
    def calls_to(self, method: str, where: Callable[[dict[str, Any]], bool] | None = None) -> list[RecordedCall]:
        return [c for c in self.calls if c.method == method and (where is None or where(c.args))]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        *,
        where: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 15.0,
    ) -> list[RecordedCall]:
        """Wait until at least `count` calls of `method` (matching `where`) were made; return them."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = self.calls_to(method, where)
            if len(found) >= count:
                return found
            if asyncio.get_running_loop().time() > deadline:
                seen = [c.method for c in self.calls]
                raise AssertionError(f"expected {count} {method} call(s), got {len(found)}; calls so far: {seen}")
            await asyncio.sleep(0.02)

    def thread(self, channel: str, thread_ts: str) -> list[PostedMessage]:
        """Messages posted in a thread, oldest first (not counting the root)."""
        return [m for m in self.messages.values() if m.channel == channel and m.thread_ts == thread_ts]

    def message(self, channel: str, ts: str) -> PostedMessage:
        return self.messages[(channel, ts)]

    def dm_channel(self, user_id: str) -> str:
        return "D" + user_id

    # --- server ----------------------------------------------------------------------------------------------
    def web_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle)
        app.router.add_post("/response/{hook}", self._handle_response_url)
        app.router.add_get("/_stand_in/messages", self._list_messages)
        app.router.add_get("/files-pri/{team}-{file_id}/download/{name}", self._download)
        return app

    async def _list_messages(self, request: web.Request) -> web.Response:
        """Every message as it reads now (for a benchmark running the stand-in in another process)."""
        return web.json_response([
            {"channel": m.channel, "ts": m.ts, "thread_ts": m.thread_ts, "text": m.text}
            for m in self.messages.values()
        ])

    async def _download(self, request: web.Request) -> web.StreamResponse:
        """A file's bytes for its bearer, recorded as a call to "files.download"; anyone else gets the sign-in page
        (Slack answers 200 with HTML, not 401)."""
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        self.calls.append(RecordedCall("files.download", {"file": request.match_info["file_id"]}, bearer))
        if failures := self._failures.get("files.download"):  # e.g. rate_limit("files.download", retry_after=30)
            failure = failures.popleft()
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else None
            return web.Response(status=failure.status, text=failure.error, headers=headers)
        found = self.files.get(request.match_info["file_id"])
        if found is None:
            return web.Response(status=404, text="file not found")
        if bearer != found.token:
            return web.Response(text="<!DOCTYPE html><html><body>Sign in to Slack</body></html>",
                                content_type="text/html")
        return web.Response(body=found.data, content_type=found.mimetype or "application/octet-stream")

    def response_url(self, hook: str = "1") -> str:
        """A slash command's response_url, answered here and recorded as calls to "response_url"."""
        return self.url.removesuffix("api/") + f"response/{hook}"

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        self.calls.append(RecordedCall("response_url", await request.json()))
        return web.Response(text="ok")

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.web_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://{host}:{bound}/api/"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackApiStandIn:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _read_args(request)
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        self.calls.append(RecordedCall(method, args, bearer or str(args.get("token", ""))))
        if method == "oauth.v2.access":
            return web.json_response(self._oauth_v2_access(request, args))
        if self.bot_tokens or self.expired:  # installs: every call needs a live token of some team
            token = bearer or str(args.get("token", ""))
            if token not in self.bot_tokens:
                return web.json_response({"ok": False, "error": "token_expired" if token in self.expired
                                          else "invalid_auth"})
        if delays := self._delays.get(method):
            await asyncio.sleep(delays.popleft())
        failures = self._failures.get(method)
        if failures:
            failure = failures.popleft()
            if failure.drop:
                self._take_effect_then_drop(request, method, args)
            if failure.take_effect:
                getattr(self, "_api_" + method.replace(".", "_"))(args)
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else None
            return web.json_response({"ok": False, "error": failure.error}, status=failure.status, headers=headers)
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        body = handler(args) if handler else {"ok": False, "error": "unknown_method"}
        return web.json_response(body)

    def _take_effect_then_drop(self, request: web.Request, method: str, args: dict[str, Any]) -> None:
        getattr(self, "_api_" + method.replace(".", "_"))(args)
        request.transport.abort()  # the client sees the connection die without a response
        raise asyncio.CancelledError

    def _oauth_v2_access(self, request: web.Request, args: dict[str, Any]) -> dict[str, Any]:
        """A code (or, with rotation, a refresh token) for a bot token, given the app's client id and secret (HTTP
        Basic, as slack-sdk sends them, or form fields)."""
        basic = request.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(basic[6:]).decode().partition(":")
        else:
            client_id, client_secret = str(args.get("client_id", "")), str(args.get("client_secret", ""))
        if (client_id, client_secret) != (self.client_id, self.client_secret):
            return {"ok": False, "error": "invalid_client_id" if client_id != self.client_id else "bad_client_secret"}
        if args.get("grant_type") == "refresh_token":
            team = self.refresh_tokens.pop(str(args.get("refresh_token", "")), None)
            if team is None:
                return {"ok": False, "error": "invalid_refresh_token"}
            for old in [t for t, owner in self.bot_tokens.items() if owner == team]:
                self.expire(old)
            offered = OfferedInstall(team, None, False, "")
        else:
            found = self._offered.pop(str(args.get("code", "")), None)
            if found is None:
                return {"ok": False, "error": "invalid_code"}
            offered = found
        owner = offered.enterprise_id if offered.org_wide and offered.enterprise_id else offered.team_id
        token = f"xoxb-{owner}-{next(self._installs)}"
        self.bot_tokens[token] = owner
        answer: dict[str, Any] = {
            "ok": True, "app_id": "A1", "token_type": "bot", "access_token": token, "scope": "chat:write,commands",
            "bot_user_id": self.bot_user_id, "authed_user": {"id": offered.installer},
            "team": None if offered.org_wide else {"id": offered.team_id, "name": f"Team {offered.team_id}"},
            "enterprise": {"id": offered.enterprise_id, "name": "Org"} if offered.enterprise_id else None,
            "is_enterprise_install": offered.org_wide,
        }
        if self.rotation:
            refresh = f"xoxe-1-{owner}-{next(self._installs)}"
            self.refresh_tokens[refresh] = owner
            answer.update(refresh_token=refresh, expires_in=self.token_lifetime_seconds)
        return answer

    # --- methods ---------------------------------------------------------------------------------------------
    def _api_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://acme.slack.com/",
            "team": "Acme",
            "user": "hirebot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": "B1",
            "is_enterprise_install": False,
        }

    def _next_ts(self) -> str:
        n = next(self._ts)
        return f"{1700000000 + n}.{n:06d}"

    def _api_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if channel in self._closed_channels:
            return {"ok": False, "error": self._closed_channels[channel]}
        if channel in self.channels and not self.channels[channel]["is_member"]:
            return {"ok": False, "error": "not_in_channel"}
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        ts = self._next_ts()
        message = PostedMessage(channel, ts, args.get("text", ""), args.get("blocks") or [], args.get("thread_ts"),
                                metadata=args.get("metadata") or None)
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": message.text, "ts": ts}}

    def _api_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        found = self.messages.get((str(args.get("channel")), str(args.get("ts"))))
        if found is None:
            return {"ok": False, "error": "message_not_found"}
        found.text = args.get("text", found.text)
        if "blocks" in args:
            found.blocks = args["blocks"] or []
        found.updates += 1
        return {"ok": True, "channel": found.channel, "ts": found.ts, "text": found.text}

    def _api_reactions_add(self, args: dict[str, Any]) -> dict[str, Any]:
        """Any message may get one: people's messages reach tests as events, never through chat.postMessage."""
        channel, ts, name = str(args.get("channel", "")), str(args.get("timestamp", "")), str(args.get("name", ""))
        if not channel or not ts or not name:
            return {"ok": False, "error": "invalid_arguments"}
        on_message = self.reactions.setdefault((channel, ts), [])
        if name in on_message:
            return {"ok": False, "error": "already_reacted"}
        on_message.append(name)
        return {"ok": True}

    def _api_conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        """The thread's root and replies, oldest first, paged by `limit`/`cursor`; metadata when asked for."""
        channel, root = str(args.get("channel", "")), str(args.get("ts", ""))
        found = [m for m in self.messages.values() if m.channel == channel and (m.ts == root or m.thread_ts == root)]
        if not found:
            return {"ok": False, "error": "thread_not_found"}
        return self._history_page(sorted(found, key=lambda m: float(m.ts)), args)

    def _api_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        """Top-level messages of a channel, newest first, paged by `limit`/`cursor`."""
        channel = str(args.get("channel", ""))
        if channel in self._closed_channels:  # Slack refuses to read where the bot cannot post
            return {"ok": False, "error": self._closed_channels[channel]}
        found = [m for m in self.messages.values() if m.channel == channel and not m.thread_ts]
        return self._history_page(sorted(found, key=lambda m: float(m.ts), reverse=True), args)

    @staticmethod
    def _history_page(found: list[PostedMessage], args: dict[str, Any]) -> dict[str, Any]:
        start, limit = int(args.get("cursor") or 0), int(args.get("limit") or 100)
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        page = []
        for message in found[start:start + limit]:
            entry: dict[str, Any] = {"type": "message", "ts": message.ts, "text": message.text}
            if message.thread_ts:
                entry["thread_ts"] = message.thread_ts
            if with_metadata and message.metadata:
                entry["metadata"] = message.metadata
            page.append(entry)
        more = start + limit < len(found)
        return {"ok": True, "messages": page, "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _api_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        if channel in self._closed_channels:
            return {"ok": False, "error": self._closed_channels[channel]}
        return {"ok": True, "message_ts": self._next_ts()}

    def _api_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = str(args.get("users", "")).split(",")
        if not users or not users[0]:
            return {"ok": False, "error": "users_list_not_supplied"}
        return {"ok": True, "channel": {"id": self.dm_channel(users[0])}}

    def _api_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        profile: dict[str, Any] = {"real_name": user.name, "display_name": user.name}
        if user.email:
            profile["email"] = user.email
        return {
            "ok": True,
            "user": {"id": user.user_id, "team_id": self.team_id, "name": user.name, "is_bot": user.is_bot,
                     "is_admin": user.is_admin, "is_owner": False, "profile": profile},
        }

    def _api_usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        group = self.groups.get(str(args.get("usergroup")))
        if group is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": group}

    def _api_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        return self._modal(dict(args.get("view") or {}), f"V{next(self._ts)}")

    _api_views_push = _api_views_open

    def _api_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = str(args.get("view_id") or "")
        if view_id not in self.modals:
            return {"ok": False, "error": "not_found"}
        return self._modal(dict(args.get("view") or {}), view_id)

    def _modal(self, view: dict[str, Any], view_id: str) -> dict[str, Any]:
        """A modal kept as Slack would show it; refused as Slack does past 100 blocks or with a long title."""
        if view.get("type") != "modal" or len((view.get("title") or {}).get("text", "")) > 24:
            return {"ok": False, "error": "invalid_arguments"}
        if len(view.get("blocks") or []) > 100 or len(view.get("private_metadata") or "") > 3000:
            return {"ok": False, "error": "invalid_arguments"}
        self.modals[view_id] = {**view, "id": view_id}
        return {"ok": True, "view": self.modals[view_id]}

    def _api_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(args.get("channel")))
        if channel is None or (channel["is_private"] and not channel["is_member"]):
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": dict(channel)}

    def _api_conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        visible = [dict(c) for c in self.channels.values() if not c["is_private"] or c["is_member"]]
        return {"ok": True, "channels": visible, "response_metadata": {"next_cursor": ""}}

    def _api_conversations_join(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(args.get("channel")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if channel["is_private"]:
            return {"ok": False, "error": "method_not_supported_for_channel_type"}
        channel["is_member"] = True
        return {"ok": True, "channel": dict(channel)}

    def _api_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        """A user's Home tab; refused as Slack does past 100 blocks or without a user."""
        view = dict(args.get("view") or {})
        user_id = str(args.get("user_id") or "")
        if not user_id or view.get("type") != "home":
            return {"ok": False, "error": "invalid_arguments"}
        if len(view.get("blocks") or []) > 100:
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": ["too many blocks"]}}
        self.homes[user_id] = view
        return {"ok": True, "view": {**view, "id": f"V{next(self._ts)}"}}

    def _api_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not self.socket_url:
            return {"ok": False, "error": "invalid_auth"}
        return {"ok": True, "url": self.socket_url}


async def _read_args(request: web.Request) -> dict[str, Any]:
    args: dict[str, Any] = dict(request.query)
    raw = await request.text()
    if raw:
        if request.content_type == "application/json":
            args.update(json.loads(raw))
        else:
            args.update(dict(parse_qsl(raw, keep_blank_values=True)))
    for name in _JSON_FIELDS:
        if isinstance(args.get(name), str) and args[name]:
            args[name] = json.loads(args[name])
    return args


class StandInThread:
    """Run a `SlackApiStandIn` on its own thread and event loop (benchmarks keep it off the measured loop)."""

    def __init__(self, stand_in: SlackApiStandIn):
        self.stand_in = stand_in
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="slack-stand-in", daemon=True)

    def __enter__(self) -> SlackApiStandIn:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.stand_in.start(), self._loop).result(timeout=10)
        return self.stand_in

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self.stand_in.stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


async def serve_forever(port: int) -> None:
    """Run the stand-in as its own process (benchmarks): `python -m tests.support.slack_api PORT`."""
    stand_in = SlackApiStandIn()
    await stand_in.start(port=port)
    print(f"Slack Web API stand-in listening on {stand_in.url}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(serve_forever(int(sys.argv[1])))
