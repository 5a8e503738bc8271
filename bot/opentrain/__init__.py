"""Typed async client of the OpenTrain public API (see docs/architecture.md, "bot.opentrain")."""

from bot.opentrain import errors
from bot.opentrain.client import OpenTrainClient
from bot.opentrain.transport import RetryPolicy

__all__ = ["OpenTrainClient", "RetryPolicy", "errors"]
