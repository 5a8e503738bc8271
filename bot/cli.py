"""`hirebot` / `python -m bot`: one entry point, a subcommand per way of running the bot."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from bot.infra.logs import configure_logging
from bot.infra.settings import (
    Settings,
    SettingsError,
    load_settings,
    require_for,
    warn_if_encryption_key_is_per_machine,
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hirebot", description="Hire on OpenTrain without leaving Slack.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    sandbox = commands.add_parser("sandbox", help="run the local OpenTrain simulator")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8700)

    commands.add_parser("shell", help="the hiring conversation in the terminal (default: against the sandbox)")
    commands.add_parser("serve", help="the Slack app over HTTP on $PORT (POST /slack/events)")
    commands.add_parser("socket", help="the Slack app over Socket Mode ($SLACK_APP_TOKEN)")
    commands.add_parser("worker", help="background work only: claim polling and proposal notifications")
    commands.add_parser("rotate-keys", help="re-encrypt every stored secret under the newest ENCRYPTION_KEY")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return
    try:
        settings = load_settings()
        require_for(args.command, settings)  # before anything starts: no embedded Redis left behind
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(_log_level(args.command, settings.log_level), log_format=settings.log_format)
    if args.command != "sandbox":  # the simulator stores nothing encrypted
        warn_if_encryption_key_is_per_machine(settings)
    try:
        asyncio.run(_run(args, settings))
    except KeyboardInterrupt:
        pass


def _log_level(command: str, configured: str) -> str:
    # The shell's screen is the conversation: only warnings interleave with it unless LOG_LEVEL asks for more.
    if command == "shell" and "LOG_LEVEL" not in os.environ:
        return "WARNING"
    return configured


async def _run(args: argparse.Namespace, settings: Settings) -> None:
    if args.command == "sandbox":
        from bot.sandbox.server import serve_forever

        await serve_forever(host=args.host, port=args.port)
        return
    from bot import app  # the composition root; `sandbox` runs without it

    commands = {"shell": app.run_shell, "serve": app.run_http, "socket": app.run_socket, "worker": app.run_worker,
                "rotate-keys": app.run_rotate_keys}
    await commands[args.command](settings)
