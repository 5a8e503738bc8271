"""Who may do what for the organization: one table, checked on the server each time an action runs.

Every surface (a typed line, a button, a modal, the shell) asks `Authorizer.refusal` right before it acts, with the
facts of that moment: who is acting, for which job's requester, and whether the person is in a private channel with
the bot. Values carried in buttons and modals are only hints; what they name is looked up again by the caller.

Roles:
- requester: the person who ran `/hire` for this job (per job, known to the core);
- hiring manager: HIRING_MANAGERS (Slack user ids and/or user group ids);
- account admin: ACCOUNT_ADMINS, or by default the workspace's owners and admins;
- member: anyone else in the workspace.
The front end says who is a hiring manager or an admin (a `Directory`); the table says what each may do.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.hiring.views import Mention, Words


class Role(StrEnum):
    REQUESTER = "requester"
    HIRING_MANAGER = "hiring manager"
    ACCOUNT_ADMIN = "account admin"
    MEMBER = "member"


class Action(StrEnum):
    START = "start a hiring conversation"
    ANSWER = "answer"
    PUBLISH = "publish"
    CANCEL = "cancel"
    MESSAGE_CANDIDATE = "talk to candidates"
    REQUEST_HIRE = "request a hire"  # money: a milestone on the organization's account, co-signed in OpenTrain
    CLAIM = "set up the OpenTrain account"  # start, restart or redirect the claim ceremony
    CLOSE_JOB = "close this job"
    ROUTE_NOTIFICATIONS = "change what this channel is told about jobs"  # digests, where cards go
    # Money on a contract, each co-signed in OpenTrain (an added milestone moves none yet, but commits to one).
    ADD_MILESTONE = "add a milestone"
    FUND_MILESTONE = "fund a milestone"
    RELEASE_PAYMENT = "release a payment"
    END_CONTRACT = "end a contract"
    EDIT_JOB = "edit this job"
    INVITE_TRAINER = "invite a trainer to this job"


MAY: dict[Action, frozenset[Role]] = {
    Action.START: frozenset({Role.MEMBER}),
    Action.ANSWER: frozenset({Role.REQUESTER}),
    Action.PUBLISH: frozenset({Role.REQUESTER}),
    Action.CANCEL: frozenset({Role.REQUESTER}),
    Action.MESSAGE_CANDIDATE: frozenset({Role.REQUESTER, Role.HIRING_MANAGER}),
    Action.REQUEST_HIRE: frozenset({Role.REQUESTER, Role.HIRING_MANAGER}),
    Action.CLAIM: frozenset({Role.ACCOUNT_ADMIN}),
    Action.CLOSE_JOB: frozenset({Role.REQUESTER, Role.HIRING_MANAGER}),
    Action.ROUTE_NOTIFICATIONS: frozenset({Role.HIRING_MANAGER, Role.ACCOUNT_ADMIN}),
    Action.ADD_MILESTONE: frozenset({Role.REQUESTER, Role.HIRING_MANAGER}),
    Action.FUND_MILESTONE: frozenset({Role.REQUESTER, Role.HIRING_MANAGER}),
    Action.RELEASE_PAYMENT: frozenset({Role.REQUESTER, Role.HIRING_MANAGER}),
    Action.END_CONTRACT: frozenset({Role.REQUESTER, Role.HIRING_MANAGER}),
    Action.EDIT_JOB: frozenset({Role.REQUESTER, Role.HIRING_MANAGER}),
    Action.INVITE_TRAINER: frozenset({Role.REQUESTER, Role.HIRING_MANAGER}),
}
# ALLOW_ANYONE_TO_ANSWER widens answering only: publishing, cancelling and everything else stay as above.
ANYONE_ANSWERS = frozenset({Role.REQUESTER, Role.MEMBER})
# Actions that hand out something personal (the claim code): only in the actor's own direct messages.
PRIVATE_ONLY = frozenset({Action.CLAIM})


class Directory(Protocol):
    """Who someone is in the workspace, as the front end knows it."""

    async def is_hiring_manager(self, workspace_id: str, user_id: str) -> bool: ...

    async def is_account_admin(self, workspace_id: str, user_id: str) -> bool: ...


class Everyone:
    """A directory for a single-person front end (the shell): the one user holds every role."""

    async def is_hiring_manager(self, workspace_id: str, user_id: str) -> bool:
        return True

    async def is_account_admin(self, workspace_id: str, user_id: str) -> bool:
        return True


@dataclass(frozen=True)
class Attempt:
    """One action about to run: who acts, for whose job, and where."""

    action: Action
    workspace_id: str
    user_id: str
    requester: str | None = None  # who ran /hire for the job this is about; None when it is about no job
    private: bool = False  # the actor is in a direct message with the bot


def allowed_roles(action: Action, *, anyone_may_answer: bool = False) -> frozenset[Role]:
    if action is Action.ANSWER and anyone_may_answer:
        return ANYONE_ANSWERS
    return MAY[action]


ONLY_IN_PRIVATE: Words = ("For safety, setting up the OpenTrain account happens only in your direct messages "
                          "with me: type `/hire claim` there.",)


def refusal_words(attempt: Attempt, allowed: frozenset[Role]) -> Words:
    """What the person hears when the table says no: who may, in plain words."""
    who: list[str | Mention] = []
    if Role.REQUESTER in allowed and attempt.requester:
        who += [Mention(attempt.requester)]
    if Role.HIRING_MANAGER in allowed:
        who += [" or a hiring manager" if who else "a hiring manager"]
    if Role.ACCOUNT_ADMIN in allowed:
        who += ["an account admin of this workspace"]
    if not who:
        who = ["the person who started it"]
    return ("Only ", *who, f" can {attempt.action} here.")


class Authorizer:
    def __init__(self, directory: Directory, *, anyone_may_answer: bool = False):
        self._directory = directory
        self._anyone_may_answer = anyone_may_answer

    async def holds_any(self, roles: frozenset[Role], workspace_id: str, user_id: str,
                        requester: str | None) -> bool:
        """Whether `user_id` holds one of `roles`. The directory (Redis, maybe Slack) is asked only for a role that
        decides it: the requester answering their own question costs no lookup."""
        if Role.MEMBER in roles or (Role.REQUESTER in roles and requester is not None and user_id == requester):
            return True
        if Role.HIRING_MANAGER in roles and await self._directory.is_hiring_manager(workspace_id, user_id):
            return True
        return Role.ACCOUNT_ADMIN in roles and await self._directory.is_account_admin(workspace_id, user_id)

    async def refusal(self, attempt: Attempt) -> Words | None:
        """None when `attempt` may run now; otherwise what to tell the person."""
        allowed = allowed_roles(attempt.action, anyone_may_answer=self._anyone_may_answer)
        if not await self.holds_any(allowed, attempt.workspace_id, attempt.user_id, attempt.requester):
            return refusal_words(attempt, allowed)
        if attempt.action in PRIVATE_ONLY and not attempt.private:
            return ONLY_IN_PRIVATE
        return None
