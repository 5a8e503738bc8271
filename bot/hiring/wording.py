"""What a person reads when OpenTrain refuses something: one sentence per kind of refusal, written once.

Every surface (the conversation, the proposal cards' actions, anything later) explains a refusal any step can meet
through `refusal`, by the error's type, so the same cause always reads the same way. A refusal only one step can
meet (moderation on publish, an answer OpenTrain rejects) is worded by that step, from the error's properties. The
sentences carry no front-end markup beyond `code` backticks.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from bot.hiring.states import State
from bot.hiring.views import ClaimInstructions
from bot.infra.secretbox import UndecryptableSecret
from bot.opentrain import errors
from bot.opentrain.fields import MAX_RAW_DESCRIPTION_CHARS


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
CREDENTIALS_UNREADABLE = ("I can't use this workspace's OpenTrain account: its stored credentials can't be decrypted "
                          "since the bot's ENCRYPTION_KEY changed. Please ask whoever runs the bot to put the previous "
                          "key back in ENCRYPTION_KEY (after the new one) and run `rotate-keys`.")


def refusal(exc: Exception) -> str:
    """The sentence for `exc`: an Explained failure as it was raised, an OpenTrain error by its type."""
    if isinstance(exc, Explained):
        return str(exc)
    if isinstance(exc, UndecryptableSecret):
        return CREDENTIALS_UNREADABLE
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


# ---- the conversation -------------------------------------------------------------------------------------------

HELP = {
    State.ASKING: "Answer the question, or type `back` (change your previous answer), `status`, `cancel`.",
    State.REVIEW: ("Type `publish` to post the job, `edit <field>` to change a field, `confirm <field>` for each "
               "flagged field, `back`, `status`, or `cancel`."),
    State.CLAIM_PENDING: ("Type the email that should own the OpenTrain account, `restart` for a new claim code, "
                          "or `status`."),
    State.FAILED: "Type `retry` to try the last step again, `status`, or `cancel`.",
}
FINISHED = "This hiring conversation is {state}. Start a new one with `/hire <description>`."
ALREADY_HERE = "There's already a hiring conversation here; type `status` to see it or `cancel` to stop it."
NO_DESCRIPTION = "Tell me about the job: `/hire <what you need>`."
NO_CONVERSATION = "There's no hiring conversation here. Start one with `/hire <description>`."
STILL_WORKING = "I'm still working on the previous message; send yours again in a moment."
ALREADY_TAKEN = "That answer was already taken; here is the next question."
PICKING_UP = "Picking up where we left off."
EXPIRED = "This hiring conversation expired after being idle. Start again with `/hire <description>`."
BUSY = "This conversation is busy; please send that again."
CHANGED_MEANWHILE = "Someone else changed this conversation meanwhile; type `status`."
NOTHING_EARLIER = "There's no earlier answer to go back to."
CLAIM_UNDER_WAY = "Claiming this workspace's OpenTrain account is already under way."
WHICH_EMAIL = "Which email should own the OpenTrain account?"
CLAIM_BY_ADMIN = ("This workspace's OpenTrain account isn't claimed yet, so nobody can talk to or hire candidates "
                  "from Slack. An account admin of this workspace must claim it first: they can type `/hire claim` "
                  "in a direct message with me.")
NO_ACCOUNT_YET = ("There's no OpenTrain account to hand over yet: the bot creates one with the first `/hire`. "
                  "Claim it after that.")
CONFIRMED_ANOTHER_EMAIL = "That Confirm was on a card for another email; here is the one waiting for your yes."
CARD_CHANGED = "The review card changed after you sent that, so I didn't publish. Check it and publish again."
ALREADY_CLAIMED = "This workspace's OpenTrain account is already claimed: there is nothing to set up."


def claim_live(claim: ClaimInstructions) -> str:
    until = time.strftime("%H:%M", time.gmtime(claim.expires_at)) if claim.expires_at else "it expires"
    return (f"A claim for {claim.email or 'another email'} is already waiting for its code (until {until} UTC). It "
            "can be restarted or sent to another email once that code expires.")
CLAIM_OFFER = ("To hire from this job, a human must claim the bot's OpenTrain account. Which email should own it? "
               "(It must not have an OpenTrain account yet.)")


def help_for(state: State) -> str:
    return HELP.get(state, FINISHED.format(state=state))


def no_longer_applies(state: State) -> str:
    return f"That no longer applies: this conversation is {state.replace('_', ' ')}."


def description_refusal(text: str) -> str | None:
    """Why OpenTrain would refuse this job description outright, before anything is posted or sent."""
    if len(text) > MAX_RAW_DESCRIPTION_CHARS:
        return (f"That description is {len(text):,} characters; OpenTrain accepts at most "
                f"{MAX_RAW_DESCRIPTION_CHARS:,}. Please shorten it and try again.")
    return None


def api_refusal(exc: errors.BadRequest) -> str:
    """The API's message plus what each validation issue says, e.g. "... (jobTitle: at most 200 characters)"."""
    issues = [issue for issue in exc.issues if isinstance(issue, dict) and issue.get("message")]
    said = "; ".join(f"{'.'.join(map(str, issue.get('path') or []))}: {issue['message']}".lstrip(": ")
                     for issue in issues)
    return f"{exc.message} ({said})" if said else exc.message


# ---- money: what fixes a refusal -------------------------------------------------------------------------------

SCOPE_FIX = ("An account admin can fix this in OpenTrain: create a token that has it and give it to the bot as "
             "OPENTRAIN_API_TOKEN.")
FEATURE_FIX = "The account's owner can ask OpenTrain to turn it on."
PAYMENT_FIX = "Add one on OpenTrain's billing page:"


def how_to_fix(exc: Exception) -> str | None:
    """The way out of a refusal a person can act on, or None when there is nothing they can do but wait."""
    if isinstance(exc, errors.MissingScope):
        return SCOPE_FIX
    if isinstance(exc, errors.FeatureDisabled):
        return FEATURE_FIX
    if isinstance(exc, errors.Conflict) and exc.payment_method_required:
        return PAYMENT_FIX
    return None


# ---- a live job's edit and invites (contract §2.5.7, §2.5.9) ----------------------------------------------------

STATUS_WORDS = {"DRAFT": "a draft (not published)", "ARCHIVED": "closed", "CLOSED": "closed",
                "PENDING_APPROVAL": "waiting for approval", "ONGOING": "under way", "COMPLETED": "completed"}
EDIT_UNSURE = ("I couldn't reach OpenTrain, so I can't tell whether the edit went through. Check the job on your Home "
               "tab before trying again.")
NO_SUCH_TRAINER = "OpenTrain has no trainer with that profile."
REOPENED = ("OpenTrain's moderation sent this job back to draft after an edit. Here it is to review again: `edit "
            "<field>` to fix what the reasons name, then `publish`.")
NOT_A_PROFILE = ("That isn't an OpenTrain profile: paste a link like https://app.opentrain.ai/profile/maria-g, or "
                 "just its last part (maria-g).")


def job_status(status: str | None) -> str:
    return STATUS_WORDS.get((status or "").upper(), (status or "not open").lower())


def edit_refusal(exc: errors.OpenTrainError) -> str:
    """Why a live edit did not go through (moderation's refusal, which did apply it, is worded by the caller)."""
    if isinstance(exc, errors.Conflict) and exc.not_open:
        return f"That job can't be edited: it is {job_status(exc.job_status)} on OpenTrain, and only open jobs can."
    if isinstance(exc, errors.BadRequest):
        return f"OpenTrain didn't accept the edit: {api_refusal(exc)}"
    if isinstance(exc, (errors.TransportError, errors.ServerError)):
        return EDIT_UNSURE
    if isinstance(exc, errors.NotFound):
        return "OpenTrain doesn't know that job on this workspace's account."
    return f"The edit didn't go through. {refusal(exc)}"


def invite_refusal(exc: errors.OpenTrainError, trainer: str) -> str:
    if isinstance(exc, errors.Conflict):
        if exc.job_not_published:
            return "That job isn't published on OpenTrain right now, so nobody can be invited to it."
        if exc.not_a_freelancer:
            return f"{trainer} isn't a trainer on OpenTrain (it's a client account), so they can't be invited."
        if exc.freelancer_unavailable:
            return f"{trainer} isn't taking new work right now, so OpenTrain won't send the invite."
    if isinstance(exc, errors.NotFound):
        return NO_SUCH_TRAINER
    return f"The invite wasn't sent. {refusal(exc)}"
