"""What a person reads when OpenTrain refuses something: one sentence per kind of refusal, written once.

Every surface (the conversation, the proposal cards' actions, anything later) explains a refusal through `refusal`,
so the same cause always reads the same way. The sentences carry no front-end markup beyond `code` backticks.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.opentrain import errors


class Explained(Exception):
    """A failure whose text is already the sentence to show (plain words, never a secret)."""


def feature_off(feature_key: str | None) -> str:
    return f"The OpenTrain feature `{feature_key or 'needed'}` is not enabled for this account."


def missing_scopes(scopes: Iterable[str]) -> str:
    named = ", ".join(f"`{scope}`" for scope in scopes) or "needed"
    return f"The OpenTrain token is missing the scope {named}."


CLAIM_NEEDED = "A human must claim the bot's OpenTrain account first."
PAYMENT_NEEDED = "OpenTrain needs a payment method or enough credit on the account first."
UNREACHABLE = "I couldn't reach OpenTrain."


def refusal(exc: Exception) -> str:
    """The sentence for `exc`: an Explained failure as it was raised, an OpenTrain error by its type."""
    if isinstance(exc, Explained):
        return str(exc)
    if isinstance(exc, errors.FeatureDisabled):
        return feature_off(exc.feature_key)
    if isinstance(exc, errors.MissingScope):
        return missing_scopes(exc.required_scopes)
    if isinstance(exc, errors.ClaimRequired):
        return CLAIM_NEEDED
    if isinstance(exc, errors.Conflict) and exc.payment_method_required:
        return PAYMENT_NEEDED
    if isinstance(exc, errors.TransportError):
        return UNREACHABLE
    if isinstance(exc, errors.OpenTrainError):
        return f"OpenTrain said: {exc.message}"
    return "Something went wrong on my side."
