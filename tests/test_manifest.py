"""manifest.yml tied to the code: every event, shortcut and command a listener takes is subscribed or declared, every
Web API method the code calls has its scope, and no scope is asked for that nothing uses.

The code is read, not run: listener decorators and `<client>.<method>(` calls in `bot/`. A new Web API call fails
here until its method is in `SCOPES_FOR` (with the scope it needs, per api.slack.com/methods) and the manifest has
that scope; an unused scope fails until it is dropped or a use is named in `SCOPE_USES`.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = yaml.safe_load((ROOT / "manifest.yml").read_text())
BOT = ROOT / "bot"

# Web API method (as the Python client names it) -> the bot scopes it needs, any one of which will do.
SCOPES_FOR: dict[str, set[str]] = {
    "chat_postMessage": {"chat:write"},
    "chat_update": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "conversations_history": {"channels:history", "groups:history", "im:history"},
    "conversations_replies": {"channels:history", "groups:history", "im:history"},
    "conversations_open": {"im:write"},
    "conversations_info": {"channels:read", "groups:read"},
    "conversations_list": {"channels:read", "groups:read"},
    "conversations_join": {"channels:join"},
    "users_info": {"users:read"},
    "usergroups_users_list": {"usergroups:read"},
    "reactions_add": {"reactions:write"},
    "views_open": set(),
    "views_update": set(),
    "views_push": set(),
    "views_publish": set(),
    "auth_test": set(),
    "apps_connections_open": set(),  # an app-level token's, not the bot's
}
# Scopes needed by something other than a Web API call.
SCOPE_USES = {
    "commands": "the /hire slash command",
    "channels:history": "message.channels events (replies in threads)",
    "groups:history": "message.groups events",
    "im:history": "message.im events (the DM with the bot)",
    "users:read.email": "users.info returns the profile email only with it (the claim's suggested owner)",
    "groups:read": "conversations.list/info see private channels the bot is in",
    "files:read": "downloading a shared file (url_private_download with the bot token)",
}
CALL = re.compile(r"\b(?:client|_client|_slack|slack)\.((?:chat|conversations|users|usergroups|views|reactions|"
                  r"files|auth|apps)_[A-Za-z_]+)\(")
EVENT = re.compile(r"@app\.event\(\"([a-z_]+)\"\)")
SHORTCUT = re.compile(r"@app\.shortcut\(([A-Z_]+|\"[a-z_]+\")\)")
COMMAND = re.compile(r"@app\.command\(\"(/[a-z]+)\"\)")


def sources() -> str:
    return "\n".join(path.read_text() for path in BOT.rglob("*.py"))


def constant(name: str) -> str:
    """The value of a module-level string constant defined somewhere in bot/."""
    found = re.search(rf"^{name} = \"([^\"]+)\"", sources(), re.MULTILINE)
    assert found, f"no constant {name} in bot/"
    return found.group(1)


def test_every_web_api_method_called_has_its_scope_and_every_scope_a_use():
    called = set(CALL.findall(sources()))
    unknown = called - SCOPES_FOR.keys()
    assert not unknown, f"add these Web API methods to SCOPES_FOR with their scopes: {sorted(unknown)}"
    granted = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    missing = {method: scopes for method in called if (scopes := SCOPES_FOR[method]) and not scopes & granted}
    assert not missing, f"the manifest lacks a scope for: {missing}"
    used = set().union(*(SCOPES_FOR[method] for method in called)) | SCOPE_USES.keys()
    assert granted <= used, f"scopes nothing uses: {sorted(granted - used)}"


def test_every_listener_is_subscribed_and_every_subscription_has_a_listener():
    code = sources()
    events = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    listened = set(EVENT.findall(code))
    message_events = {e for e in events if e.startswith("message.")}
    assert ("message" in listened) == bool(message_events)
    assert listened - {"message"} == events - message_events

    declared = {s["callback_id"] for s in MANIFEST["features"].get("shortcuts", [])}
    registered = {constant(name) if not name.startswith('"') else name.strip('"') for name in SHORTCUT.findall(code)
                  if name != "ANY"}
    assert registered == declared

    assert set(COMMAND.findall(code)) == {c["command"] for c in MANIFEST["features"]["slash_commands"]}
    assert MANIFEST["settings"]["interactivity"]["is_enabled"]  # buttons, menus, modals
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] == ("app_home_opened" in listened)
