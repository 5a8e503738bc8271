"""What one message means in each state: pure functions from (conversation, words) to a `Decision`.

A decision says what to show, which state to move to and, at most, one OpenTrain call to make next. It never moves
the state itself (`table.take` does, checking the move against the table) and never does I/O, so every decision can
be tested without Redis or OpenTrain. Handlers may update the record's own bookkeeping (the answers so far, the
field asked again, the confirmed flags); the step machinery saves it only if the whole step succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.hiring import wording
from bot.hiring.answers import Accepted, parse_answer
from bot.hiring.authz import Action
from bot.hiring.questions import editable, next_question, review_card, spec_of
from bot.hiring.record import CallArgs, Conversation
from bot.hiring.states import Op, State
from bot.hiring.views import ClaimConfirm, EmailRequest, Notice, View


@dataclass(frozen=True)
class Call:
    op: Op
    args: CallArgs = field(default_factory=CallArgs)


@dataclass
class Decision:
    """What one message (or one call's outcome) does."""

    views: list[View] = field(default_factory=list)
    to: State | None = None  # the state to move to; None stays
    call: Call | None = None  # the OpenTrain call to make once this is saved
    save: bool = True  # False: nothing to record (not even that the message was seen)
    taken: bool = True  # False: the message is seen (recorded, deduped) but not applied to the conversation


def ask_next(conversation: Conversation) -> Decision:
    """After any change the report is the truth: ask its next gap, or show the review card."""
    question = next_question(conversation)
    if question is None:
        return Decision([review_card(conversation)], to=State.REVIEW)
    return Decision([question], to=State.ASKING)


def card_changed(conversation: Conversation) -> Decision:
    """`publish` sent before the review card it would publish was shown: show that card, publish nothing."""
    return Decision([Notice(wording.CARD_CHANGED), review_card(conversation)], taken=False)


def already_taken(conversation: Conversation) -> Decision:
    """An answer sent before the open question was asked: its own question was answered meanwhile (a replay of the
    same answer, say). It is never applied to this one."""
    question = next_question(conversation)
    return Decision([Notice(wording.ALREADY_TAKEN), *([question] if question else [])], taken=False)


# ---- words every state knows

def show_help(conversation: Conversation, _: str) -> Decision:
    return Decision([Notice(wording.help_for(conversation.state))], taken=False)


def cancel(conversation: Conversation, _: str) -> Decision:
    said = "Cancelled." if conversation.job_url else "Cancelled. Nothing was published."
    return Decision([Notice(said)], to=State.CANCELLED)


def nothing_to_cancel(conversation: Conversation, _: str) -> Decision:
    return Decision([Notice("There's nothing to cancel: " + wording.FINISHED.format(state=conversation.state))])


def finished(conversation: Conversation, _: str) -> Decision:
    return Decision([Notice(wording.FINISHED.format(state=conversation.state))])


# ---- asking and review

def answer(conversation: Conversation, text: str) -> Decision:
    question = next_question(conversation)
    if question is None:
        return Decision([review_card(conversation)], to=State.REVIEW)
    values = [value for value, _ in question.choices]
    if question.choices and text.isdigit() and 1 <= int(text) <= len(values):
        text = values[int(text) - 1]
    outcome = parse_answer(question.type, text, enum_values=values or None, field=question.key)
    if not isinstance(outcome, Accepted):
        return Decision([Notice(outcome.reason, "error"), question])
    conversation.partial = {**conversation.partial, question.key: outcome.value}
    if any(key not in conversation.partial for key in spec_of(conversation, question.field).update_keys):
        return ask_next(conversation)  # the same gap's next key
    return Decision(call=Call(Op.PATCH, CallArgs(field=question.field, fields=dict(conversation.partial))))


def go_back(conversation: Conversation, _: str) -> Decision:
    answered = conversation.answered
    at = answered.index(conversation.reask) if conversation.reask in answered else len(answered)
    if at == 0:
        step = ask_next(conversation)
        return Decision([Notice(wording.NOTHING_EARLIER), *step.views], to=step.to)
    conversation.reask, conversation.partial = answered[at - 1], {}
    return ask_next(conversation)


def edit(conversation: Conversation, name: str) -> Decision:
    fields = editable(conversation)
    match = next((key for key in fields if key.lower() == name.lower()), None)
    if match is None:
        return Decision([Notice(f"I can't edit `{name}`. Fields: " + ", ".join(sorted(fields)), "error")])
    conversation.reask, conversation.partial = match, {}
    return ask_next(conversation)


def confirm(conversation: Conversation, name: str) -> Decision:
    flagged = conversation.report.low_confidence
    targets = flagged if name.lower() == "all" else [key for key in flagged if key.lower() == name.lower()]
    if not targets:
        return Decision([Notice(f"`{name}` isn't flagged for confirmation.", "error")])
    conversation.confirmed = sorted({*conversation.confirmed, *targets})
    return Decision([review_card(conversation)])


def publish(conversation: Conversation, _: str) -> Decision:
    unconfirmed = review_card(conversation).unconfirmed
    if unconfirmed:
        return Decision([Notice("Please confirm or correct first: " + ", ".join(
            f"`{key}` (`confirm {key}` or `edit {key}`)" for key in unconfirmed), "error")])
    if not conversation.report.publish_ready and conversation.report.missing:
        return ask_next(conversation)
    return Decision(to=State.PUBLISHING, call=Call(Op.PUBLISH))


def review_help(conversation: Conversation, _: str) -> Decision:
    return Decision([Notice(wording.HELP[State.REVIEW])], taken=False)


# ---- a failed step

def retry(conversation: Conversation, text: str) -> Decision:
    op = conversation.failure.retry if conversation.failure else None
    if op is None:
        return failure_notice(conversation, text)
    if op is Op.PATCH:
        return ask_next(conversation)  # the answer was not taken: ask again
    args = CallArgs(email=conversation.claim_email) if op is Op.CLAIM_START else CallArgs()
    return Decision(to=RETRY_FROM[op], call=Call(op, args))


def what_retry_does(conversation: Conversation) -> Action:
    """A retry repeats the failed step, so it needs whatever that step needs (a claim start: an account admin)."""
    failure = conversation.failure
    return Action.CLAIM if failure and failure.retry is Op.CLAIM_START else Action.ANSWER


RETRY_FROM = {Op.CREATE: State.DRAFTING, Op.PUBLISH: State.PUBLISHING, Op.CLAIM_START: State.CLAIM_PENDING}


def failure_notice(conversation: Conversation, _: str) -> Decision:
    failure = conversation.failure
    reason = (failure.reason if failure else None) or "The last step failed."
    more = wording.HELP[State.FAILED] if failure and failure.retry else wording.FINISHED.format(state="over")
    return Decision([Notice(f"{reason} {more}")])


# ---- the claim

def restart_claim(conversation: Conversation, _: str) -> Decision:
    if not conversation.claim_email:
        return Decision([EmailRequest(wording.WHICH_EMAIL)])
    conversation.claim_to_confirm = conversation.claim_email
    return Decision([ClaimConfirm(conversation.claim_email)])


def claim_email(conversation: Conversation, email: str) -> Decision:
    """An email is only a proposal: handing the account to someone needs an explicit `confirm`."""
    conversation.claim_to_confirm = email
    return Decision([ClaimConfirm(email)])


def confirm_claim(conversation: Conversation, confirmed: str) -> Decision:
    """`confirm`, `confirm <email>`, or `confirm #tag` from the card's button: a click on a card that showed another
    email than the one now waiting is not a yes to this one."""
    email = conversation.claim_to_confirm
    if email is None:
        return claim_help(conversation, confirmed)
    if confirmed and confirmed.lower() not in (email.lower(), ClaimConfirm(email).tag):
        return Decision([Notice(wording.CONFIRMED_ANOTHER_EMAIL), ClaimConfirm(email)], taken=False)
    conversation.claim_email, conversation.claim_to_confirm = email, None
    return Decision(call=Call(Op.CLAIM_START, CallArgs(email=email)))


def claim_help(conversation: Conversation, _: str) -> Decision:
    return Decision([Notice(wording.HELP[State.CLAIM_PENDING])], taken=False)
