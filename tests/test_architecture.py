"""Imports run one way: a package imports only itself and the layers below it (docs/architecture.md).

Every `import` in bot/ counts, those inside functions too. The checker is tested on a made-up tree first, so a
broken checker cannot pass the real one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import bot

# Bottom up. Packages in one layer are peers: neither imports the other.
LAYERS: list[set[str]] = [
    {"bot.infra"},  # settings, logs, Redis, secrets, the leased scheduler
    {"bot.opentrain", "bot.sandbox"},  # the OpenTrain client, and the simulator that stands in for OpenTrain
    {"bot.hiring"},  # the core: conversations, accounts, the claim, jobs
    {"bot.ledger"},  # OpenTrain's /updates ledger and the webhook doorbell that rings it
    {"bot.slack", "bot.shell"},  # front ends, each with its own background work
    {"bot"},  # the composition root and the command line (modules directly under bot/)
]
BELOW_FRONT_ENDS = {"bot.infra", "bot.opentrain", "bot.sandbox", "bot.hiring", "bot.ledger"}
FRONT_END_LIBRARIES = {"slack_sdk", "slack_bolt", "bot.slack", "bot.shell"}


def package_of(module: str, packages: set[str]) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 and ".".join(parts[:2]) in packages else parts[0]


def imports_of(source: str, module: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = module.split(".")[: -node.level]
                found.add(".".join([*base, node.module] if node.module else base))
            elif node.module:
                found.add(node.module)
    return found


def violations(modules: dict[str, str], packages: set[str], layers: list[set[str]]) -> list[str]:
    """`modules`: dotted name -> source. Returns one line per import that breaks the layering."""
    layer_of = {package: n for n, layer in enumerate(layers) for package in layer}
    problems = []
    for module, source in sorted(modules.items()):
        own = package_of(module, packages)
        for imported in sorted(imports_of(source, module)):
            root = imported.split(".")[0]
            if own in BELOW_FRONT_ENDS and (root in FRONT_END_LIBRARIES
                                            or package_of(imported, packages) in FRONT_END_LIBRARIES):
                problems.append(f"{module} (below the front ends) imports {imported} (a front end)")
                continue
            if root != "bot":
                continue
            target = package_of(imported, packages)
            if target == own:
                continue
            if own == "bot.opentrain" and target == "bot.sandbox":
                problems.append(f"{module} (the client) imports {imported} (the sandbox)")
            elif target == "bot.sandbox" and own != "bot":
                problems.append(f"{module} imports {imported}: only the composition root starts the sandbox")
            elif target not in layer_of or own not in layer_of:
                problems.append(f"{module} imports {imported}: a package with no layer in LAYERS")
            elif layer_of[target] >= layer_of[own]:
                problems.append(f"{module} ({own}) imports {imported} ({target}): not a layer below")
    return problems


def bot_modules() -> tuple[dict[str, str], set[str]]:
    root = Path(bot.__file__).resolve().parent
    packages = {f"bot.{path.name}" for path in root.iterdir() if path.is_dir() and any(path.glob("*.py"))}
    modules = {}
    for path in root.rglob("*.py"):
        dotted = ".".join(("bot", *path.relative_to(root).with_suffix("").parts)).removesuffix(".__init__")
        modules[dotted] = path.read_text()
    return modules, packages


def test_the_checker_catches_each_kind_of_wrong_import():
    packages = {"bot.infra", "bot.opentrain", "bot.sandbox", "bot.hiring", "bot.ledger", "bot.slack", "bot.shell"}
    made_up = {
        "bot.infra.storage": "import redis",
        "bot.infra.logs": "import slack_bolt",  # infrastructure on a front end's library
        "bot.opentrain.client": "from bot.sandbox.world import World",  # the client on the simulator
        "bot.hiring.engine": "from bot.infra import storage\nfrom slack_sdk import WebClient",  # core on Slack
        "bot.hiring.claim": "def later():\n    from bot.shell.render import render",  # core on the terminal
        "bot.ledger.reader": "from bot.hiring.jobs import lookup_job\nfrom ..slack.outbox import Outbox",
        "bot.slack.app": "from bot.shell.main import Shell",  # one front end on another
        "bot.shell.main": "from bot.sandbox.server import start_sandbox",  # only the root chooses the sandbox
        "bot.infra.scheduler": "from bot.hiring import jobs",  # upward
        "bot.app": "from bot.slack.app import build_app\nfrom bot.hiring.engine import HiringEngine",  # fine
        "bot.workers.runner": "from bot.infra.storage import key",  # a package nobody placed
    }
    found = violations(made_up, packages | {"bot.workers"}, LAYERS)
    assert len(found) == 9, found
    assert any("only the composition root starts the sandbox" in line for line in found)
    assert any("(the client) imports bot.sandbox" in line for line in found)
    assert sum("(below the front ends) imports" in line for line in found) == 4  # slack_sdk/bolt, shell, ..slack
    assert any(line.startswith("bot.slack.app") for line in found)
    assert any(line.startswith("bot.infra.scheduler") for line in found)
    assert any("no layer" in line for line in found)


def test_imports_run_one_way_in_bot():
    modules, packages = bot_modules()
    assert packages <= set().union(*LAYERS), f"place every package in LAYERS: {sorted(packages)}"
    assert violations(modules, packages, LAYERS) == []
