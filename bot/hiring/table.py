"""The conversation's table: for each state, the words it accepts and the handler each goes to.

In the spirit of python-telegram-bot's `ConversationHandler(states={STATE: [handlers]})`, the table is both the
dispatch and the list of legal moves. A route names the states its handler may move to; an OpenTrain call names the
state it runs in and the states its outcomes lead to; an event (idle expiry, the claim settling) names where it
applies. `move` is the only function that writes a conversation's state, and it refuses any move none of these
allows, before anything is saved.

Adding a state: add it to `State`, give it a row here (every row ends with a route that takes any text), and let
the routes or calls that lead into it name it in their moves.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.hiring import decisions as d
from bot.hiring.authz import Action
from bot.hiring.decisions import Decision
from bot.hiring.record import Conversation
from bot.hiring.states import ACTIVE, Event, IllegalTransition, Op, State

Matcher = Callable[[str], str | None]  # the words -> the handler's argument, or None when the route doesn't apply
Handler = Callable[[Conversation, str], Decision]

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def word(expected: str) -> Matcher:
    return lambda text: text if text.lower() == expected else None


def word_or_then(expected: str) -> Matcher:
    """`confirm` -> "", `confirm a@b.co` -> "a@b.co"."""
    return lambda text: "" if text.lower() == expected else word_then(expected)(text)


def word_then(expected: str) -> Matcher:
    """`edit jobTitle` -> "jobTitle"."""
    prefix = expected + " "
    return lambda text: text[len(prefix):].strip() if text.lower().startswith(prefix) else None


def email(text: str) -> str | None:
    return text if EMAIL.match(text) else None


def anything(text: str) -> str | None:
    return text


@dataclass(frozen=True)
class Route:
    says: str  # what the person types, as help would show it
    accepts: Matcher
    decide: Handler
    moves: frozenset[State] = frozenset()  # where `decide` may move the conversation; empty: it stays
    action: Action = Action.ANSWER  # what it does for the organization: who may, is authz.MAY's
    acts_as: Callable[[Conversation], Action] | None = None  # when what it does depends on the record (retry)


@dataclass(frozen=True)
class CallMoves:
    runs_in: State  # the state a step leaves the conversation in while this call is pending
    outcomes: frozenset[State]


@dataclass(frozen=True)
class EventMoves:
    applies_in: frozenset[State]
    outcomes: frozenset[State]


HELP = Route("help", word("help"), d.show_help)
CANCEL = Route("cancel", word("cancel"), d.cancel, frozenset({State.CANCELLED}), Action.CANCEL)
NOTHING_TO_CANCEL = Route("cancel", word("cancel"), d.nothing_to_cancel)
BACK = Route("back", word("back"), d.go_back, frozenset({State.ASKING, State.REVIEW}))
EDIT = Route("edit <field>", word_then("edit"), d.edit, frozenset({State.ASKING}))
OVER = Route("<anything>", anything, d.finished)
FINISHED = (HELP, NOTHING_TO_CANCEL, OVER)

CONVERSATION: dict[State, tuple[Route, ...]] = {
    State.DRAFTING: (HELP, CANCEL, OVER),
    State.ASKING: (
        HELP, CANCEL, BACK, EDIT,
        Route("<answer>", anything, d.answer, frozenset({State.ASKING, State.REVIEW})),
    ),
    State.REVIEW: (
        HELP, CANCEL,
        Route("publish", word("publish"), d.publish, frozenset({State.PUBLISHING, State.ASKING}), Action.PUBLISH),
        BACK, EDIT,
        Route("confirm <field>", word_then("confirm"), d.confirm, action=Action.PUBLISH),  # the gate to publishing
        Route("<anything>", anything, d.review_help),
    ),
    State.PUBLISHING: FINISHED,
    State.FAILED: (
        HELP, CANCEL,
        Route("retry", word("retry"), d.retry,
              frozenset({State.DRAFTING, State.ASKING, State.REVIEW, State.PUBLISHING, State.CLAIM_PENDING}),
              acts_as=d.what_retry_does),
        Route("<anything>", anything, d.failure_notice),
    ),
    State.CLAIM_PENDING: (
        HELP, NOTHING_TO_CANCEL,
        Route("restart", word("restart"), d.restart_claim, action=Action.CLAIM),
        Route("confirm", word_or_then("confirm"), d.confirm_claim, action=Action.CLAIM),
        Route("<email>", email, d.claim_email, action=Action.CLAIM),
        Route("<anything>", anything, d.claim_help),
    ),
    State.PUBLISHED: FINISHED,
    State.CLAIMED: FINISHED,
    State.CANCELLED: FINISHED,
    State.EXPIRED: FINISHED,
}

CALLS: dict[Op, CallMoves] = {
    Op.CREATE: CallMoves(State.DRAFTING, frozenset({State.ASKING, State.REVIEW, State.FAILED})),
    Op.PATCH: CallMoves(State.ASKING, frozenset({State.ASKING, State.REVIEW})),
    Op.PUBLISH: CallMoves(State.PUBLISHING,
                          frozenset({State.PUBLISHED, State.CLAIM_PENDING, State.REVIEW, State.ASKING})),
    Op.CLAIM_START: CallMoves(State.CLAIM_PENDING, frozenset({State.CLAIMED, State.FAILED})),
}

EVENTS: dict[Event, EventMoves] = {
    Event.IDLE: EventMoves(ACTIVE, frozenset({State.EXPIRED})),
    Event.CLAIM_SETTLED: EventMoves(frozenset({State.CLAIM_PENDING}), frozenset({State.CLAIMED, State.FAILED})),
    # Back to the review card, to fix and publish again the usual way; not while a claim is waiting for its code.
    Event.REOPENED: EventMoves(frozenset({State.PUBLISHED, State.CLAIMED}), frozenset({State.REVIEW})),
}

START = State.DRAFTING  # a new conversation's state: its first step creates the draft
START_CLAIM = State.CLAIM_PENDING  # `/hire claim`: an account admin sets up the OpenTrain account, no job involved


def allowed(state: State, by: Route | Op | Event) -> frozenset[State]:
    """Where `by` may move a conversation that is in `state`."""
    if isinstance(by, Route):
        return by.moves if by in CONVERSATION[state] else frozenset()
    if isinstance(by, Op):
        return CALLS[by].outcomes if CALLS[by].runs_in == state else frozenset()
    return EVENTS[by].outcomes if state in EVENTS[by].applies_in else frozenset()


def legal_moves(state: State) -> frozenset[State]:
    """Every state `state` can lead to, by any route, call or event."""
    moves = {target for route in CONVERSATION[state] for target in route.moves}
    moves |= {target for op in Op for target in allowed(state, op)}
    moves |= {target for event in Event for target in allowed(state, event)}
    return frozenset(moves)


def move(conversation: Conversation, to: State, *, by: Route | Op | Event) -> None:
    """The one writer of `conversation.state`."""
    if to not in allowed(conversation.state, by):
        raise IllegalTransition(f"can't go from {conversation.state} to {to} by {_name(by)}")
    conversation.state = to


def action_of(conversation: Conversation, text: str) -> Action:
    """What `text` would do for the organization in this conversation now: who may send it is authz's to say."""
    chosen = route(conversation.state, text)[0]
    return chosen.acts_as(conversation) if chosen.acts_as else chosen.action


def route(state: State, text: str) -> tuple[Route, str]:
    """The first route of `state` that accepts `text`, and the argument it passes to its handler."""
    for candidate in CONVERSATION[state]:
        argument = candidate.accepts(text)
        if argument is not None:
            return candidate, argument
    raise LookupError(f"no route of {state} takes that")  # every row ends with one that takes anything


def take(conversation: Conversation, text: str) -> Decision:
    """Dispatch one message by the table and apply the move its handler decided."""
    chosen, argument = route(conversation.state, text)
    decision = chosen.decide(conversation, argument)
    if decision.to is not None:
        move(conversation, decision.to, by=chosen)
    return decision


def _name(by: Route | Op | Event) -> str:
    return f"`{by.says}`" if isinstance(by, Route) else str(by)
