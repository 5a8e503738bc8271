"""The authorization table, cell by cell: every action against every role, as `Authorizer.refusal` decides it.

The same cells are exercised over signed HTTP against the running app in tests/slack/test_authorization.py.
"""

from __future__ import annotations

import pytest

from bot.hiring.authz import MAY, Action, Attempt, Authorizer, Role, allowed_roles
from bot.hiring.views import Mention
from tests.support.directory import Listed

REQUESTER, MANAGER, ADMIN, MEMBER = "UREQ", "UMGR", "UADM", "UMEM"
PERSON_OF = {Role.REQUESTER: REQUESTER, Role.HIRING_MANAGER: MANAGER, Role.ACCOUNT_ADMIN: ADMIN, Role.MEMBER: MEMBER}

# The table: who may do what (✓), everyone else refused.
EXPECTED = {
    Action.START: {Role.REQUESTER, Role.HIRING_MANAGER, Role.ACCOUNT_ADMIN, Role.MEMBER},
    Action.ANSWER: {Role.REQUESTER},
    Action.PUBLISH: {Role.REQUESTER},
    Action.CANCEL: {Role.REQUESTER},
    Action.MESSAGE_CANDIDATE: {Role.REQUESTER, Role.HIRING_MANAGER},
    Action.REQUEST_HIRE: {Role.REQUESTER, Role.HIRING_MANAGER},
    Action.CLAIM: {Role.ACCOUNT_ADMIN},
    Action.CLOSE_JOB: {Role.REQUESTER, Role.HIRING_MANAGER},
    Action.ROUTE_NOTIFICATIONS: {Role.HIRING_MANAGER, Role.ACCOUNT_ADMIN},
    Action.ADD_MILESTONE: {Role.REQUESTER, Role.HIRING_MANAGER},
    Action.FUND_MILESTONE: {Role.REQUESTER, Role.HIRING_MANAGER},
    Action.RELEASE_PAYMENT: {Role.REQUESTER, Role.HIRING_MANAGER},
    Action.END_CONTRACT: {Role.REQUESTER, Role.HIRING_MANAGER},
    Action.EDIT_JOB: {Role.REQUESTER, Role.HIRING_MANAGER},
    Action.INVITE_TRAINER: {Role.REQUESTER, Role.HIRING_MANAGER},
}


def authorizer(*, anyone_may_answer: bool = False) -> Authorizer:
    return Authorizer(Listed(managers={MANAGER}, admins={ADMIN}), anyone_may_answer=anyone_may_answer)


@pytest.mark.parametrize(("action", "role"), [(a, r) for a in Action for r in PERSON_OF])
async def test_each_cell(action, role):
    refused = await authorizer().refusal(Attempt(action, "T1", PERSON_OF[role], requester=REQUESTER, private=True))
    assert (refused is None) == (role in EXPECTED[action]), (action, role, refused)


def test_the_table_is_the_one_in_the_module():
    assert {action: {role for role in PERSON_OF if role in MAY[action] or Role.MEMBER in MAY[action]}
            for action in Action} == EXPECTED


@pytest.mark.parametrize("role", list(PERSON_OF))
async def test_allow_anyone_to_answer_widens_answering_only(role):
    widened = authorizer(anyone_may_answer=True)
    attempt = Attempt(Action.ANSWER, "T1", PERSON_OF[role], requester=REQUESTER)
    assert await widened.refusal(attempt) is None
    for action in (Action.PUBLISH, Action.CANCEL, Action.REQUEST_HIRE, Action.CLAIM):
        refused = await widened.refusal(Attempt(action, "T1", PERSON_OF[role], requester=REQUESTER, private=True))
        assert (refused is None) == (role in EXPECTED[action]), (action, role)
    assert allowed_roles(Action.PUBLISH, anyone_may_answer=True) == MAY[Action.PUBLISH]


async def test_the_claim_happens_only_in_the_admins_own_direct_messages():
    in_channel = await authorizer().refusal(Attempt(Action.CLAIM, "T1", ADMIN, private=False))
    assert in_channel is not None and "direct messages" in "".join(map(str, in_channel))
    assert await authorizer().refusal(Attempt(Action.CLAIM, "T1", ADMIN, private=True)) is None


async def test_a_refusal_names_who_may_in_words_with_user_ids():
    refused = await authorizer().refusal(Attempt(Action.REQUEST_HIRE, "T1", MEMBER, requester=REQUESTER))
    assert refused is not None and Mention(REQUESTER) in refused and "a hiring manager" in "".join(
        part for part in refused if isinstance(part, str))
    assert not any("<@" in part for part in refused if isinstance(part, str))  # no front-end markup in the core
