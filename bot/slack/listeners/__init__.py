"""One module per Slack surface, each exposing `register(app, deps)`.

Every module in this package that defines `register` is registered, so a new surface (for example proposal
actions) plugs in by adding its module, without editing a central list.
"""

from __future__ import annotations

import importlib
import pkgutil

from slack_bolt.async_app import AsyncApp


def register_all(app: AsyncApp, deps) -> None:
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(app, deps)
