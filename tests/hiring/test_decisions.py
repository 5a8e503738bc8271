"""The conversation's decisions as pure logic: state x words -> what to show, where to move, which call to make.

No Redis, no OpenTrain: a record is built by hand and `table.take` decides. The scenario tests in
test_conversation.py drive the same table through the sandbox.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.hiring import table, wording
from bot.hiring.authz import Action
from bot.hiring.decisions import Call
from bot.hiring.record import CallArgs, Conversation, Failure, FieldSpec, Report
from bot.hiring.states import ACTIVE, Event, IllegalTransition, Op, State
from bot.hiring.views import ClaimConfirm, EmailRequest, Notice, Question, ReviewCard

LEVELS = ["EXPERT", "ENTRY_LEVEL", "INTERMEDIATE"]
LABELS = FieldSpec(field="labelTypes", label="Label types", prompt="What kinds of labels?", type="array",
                   update_keys=["labelTypes"])
LEVEL = FieldSpec(field="experienceLevel", label="Experience level", prompt="What level?", type="enum",
                  enum_values=LEVELS, update_keys=["experienceLevel"])
VOLUME = FieldSpec(field="dataVolume", label="Data volume", prompt="How much data?", type="object",
                   update_keys=["dataVolume", "dataVolumeUnit"])


def conversation(state: State, *, missing: list[FieldSpec] | None = None, **fields) -> Conversation:
    report = Report(job_id="job_1", missing=missing if missing is not None else [LABELS, LEVEL],
                    normalized={"jobTitle": "Dashcam boxes", "headcount": 10},
                    publish_ready=not (missing if missing is not None else [LABELS, LEVEL]),
                    enums={"experienceLevel": LEVELS, "dataVolumeUnit": ["IMAGES", "HOURS"]},
                    update_keys=["jobTitle", "headcount", "labelTypes", "experienceLevel"],
                    **fields.pop("report", {}))
    return Conversation(workspace_id="T1", conversation_id="C1:1.0", requester="U1", state=state, created_at=0.0,
                        updated_at=0.0, job_id="job_1", report=report, **fields)


def notices(views) -> str:
    return " | ".join(v.text for v in views if isinstance(v, Notice))


# ---- asking ----------------------------------------------------------------------------------------------------

def test_an_answer_becomes_one_patch_and_stays_asking_until_the_api_answers():
    talk = conversation(State.ASKING)
    decision = table.take(talk, "Bounding box, Polygon")
    answered = CallArgs(field="labelTypes", fields={"labelTypes": ["Bounding box", "Polygon"]})
    assert decision.call == Call(Op.PATCH, answered)
    assert decision.to is None and talk.state == State.ASKING and decision.views == []


def test_a_choice_answers_by_number_and_a_bad_answer_is_refused_with_the_question_again():
    talk = conversation(State.ASKING, missing=[LEVEL])
    assert table.take(talk, "2").call.args.fields == {"experienceLevel": "ENTRY_LEVEL"}
    talk = conversation(State.ASKING, missing=[LEVEL])
    refused = table.take(talk, "9")
    assert refused.call is None and isinstance(refused.views[-1], Question) and notices(refused.views)


def test_a_gap_with_two_keys_asks_the_second_before_any_call():
    talk = conversation(State.ASKING, missing=[VOLUME])
    decision = table.take(talk, "200")
    question = decision.views[0]
    assert decision.call is None and (question.key, question.type) == ("dataVolumeUnit", "enum")
    assert talk.partial == {"dataVolume": 200}
    assert table.take(talk, "hours").call.args.fields == {"dataVolume": 200, "dataVolumeUnit": "HOURS"}


def test_back_reopens_the_previous_answer_or_says_there_is_none():
    first = conversation(State.ASKING)
    decision = table.take(first, "back")
    assert wording.NOTHING_EARLIER in notices(decision.views) and first.reask is None
    later = conversation(State.ASKING, missing=[LEVEL], answered=["labelTypes"])
    decision = table.take(later, "BACK")
    assert later.reask == "labelTypes" and decision.views[0].key == "labelTypes" and later.state == State.ASKING


def test_edit_opens_any_known_field_and_names_the_fields_when_it_cannot():
    talk = conversation(State.REVIEW, missing=[])
    decision = table.take(talk, "edit JOBTITLE")
    assert (talk.state, talk.reask, decision.views[0].key, decision.views[0].position) == (
        State.ASKING, "jobTitle", "jobTitle", "")
    talk = conversation(State.REVIEW, missing=[])
    refused = table.take(talk, "edit salary")
    assert talk.state == State.REVIEW and "can't edit `salary`" in notices(refused.views)
    assert "headcount" in notices(refused.views)


# ---- review ----------------------------------------------------------------------------------------------------

def test_publish_waits_for_flagged_fields_then_missing_ones_then_calls():
    flagged = conversation(State.REVIEW, missing=[], report={"low_confidence": ["jobTitle"]})
    assert "confirm jobTitle" in notices(table.take(flagged, "publish").views) and flagged.state == State.REVIEW
    confirmed = table.take(flagged, "confirm all")
    assert isinstance(confirmed.views[0], ReviewCard) and not confirmed.views[0].unconfirmed

    decision = table.take(flagged, "publish")
    assert (decision.to, decision.call, flagged.state) == (State.PUBLISHING, Call(Op.PUBLISH), State.PUBLISHING)

    gaps = conversation(State.REVIEW, missing=[LEVEL])
    decision = table.take(gaps, "publish")
    assert gaps.state == State.ASKING and decision.views[0].field == "experienceLevel" and decision.call is None


def test_review_explains_itself_for_words_it_does_not_know():
    talk = conversation(State.REVIEW, missing=[])
    assert table.take(talk, "ship it").views == [Notice(wording.HELP[State.REVIEW])]
    assert "isn't flagged" in notices(table.take(talk, "confirm headcount").views)


# ---- failure, the claim, the end -------------------------------------------------------------------------------

@pytest.mark.parametrize(("failed_op", "to", "call"), [
    (Op.CREATE, State.DRAFTING, Call(Op.CREATE)),
    (Op.CLAIM_START, State.CLAIM_PENDING, Call(Op.CLAIM_START, CallArgs(email="o@example.com"))),
])
def test_retry_repeats_the_failed_call_from_its_state(failed_op, to, call):
    talk = conversation(State.FAILED, failure=Failure(reason="I couldn't reach OpenTrain.", retry=failed_op),
                        claim_email="o@example.com")
    decision = table.take(talk, "retry")
    assert (talk.state, decision.call) == (to, call)


def test_a_failure_that_retrying_cannot_fix_says_so():
    talk = conversation(State.FAILED, failure=Failure(reason="The window closed."))
    decision = table.take(talk, "retry")
    assert decision.call is None and talk.state == State.FAILED
    assert notices(decision.views).startswith("The window closed.") and "retry" not in notices(decision.views)


def test_the_claim_takes_an_email_then_an_explicit_confirm():
    talk = conversation(State.CLAIM_PENDING)
    assert isinstance(table.take(talk, "restart").views[0], EmailRequest)
    assert table.take(talk, "confirm").views == [Notice(wording.HELP[State.CLAIM_PENDING])]  # nothing to confirm
    proposed = table.take(talk, "owner@example.com")
    assert proposed.call is None and proposed.views == [ClaimConfirm("owner@example.com")]
    decision = table.take(talk, "confirm")
    assert decision.call == Call(Op.CLAIM_START, CallArgs(email="owner@example.com"))
    assert (talk.claim_email, talk.claim_to_confirm) == ("owner@example.com", None)
    assert table.take(talk, "restart").views == [ClaimConfirm("owner@example.com")]  # a restart asks again
    assert table.take(talk, "confirm").call == decision.call
    assert table.take(talk, "not an email").views == [Notice(wording.HELP[State.CLAIM_PENDING])]
    assert "nothing to cancel" in notices(table.take(talk, "cancel").views)


@pytest.mark.parametrize("state", sorted(ACTIVE - {State.PUBLISHING}))
def test_cancel_ends_an_active_conversation(state):
    talk = conversation(state)
    assert "Cancelled" in notices(table.take(talk, "Cancel").views) and talk.state == State.CANCELLED


@pytest.mark.parametrize("state", [State.PUBLISHED, State.CLAIMED, State.CANCELLED, State.EXPIRED])
def test_a_finished_conversation_takes_nothing_and_says_how_to_start_again(state):
    talk = conversation(state)
    for words in ("publish", "retry", "owner@example.com", "back", "cancel", "help"):
        decision = table.take(talk, words)
        assert decision.call is None and talk.state == state and "/hire <description>" in notices(decision.views)


# ---- the table itself ------------------------------------------------------------------------------------------

def test_every_state_has_a_row_that_ends_taking_anything():
    assert set(table.CONVERSATION) == set(State)
    for state, routes in table.CONVERSATION.items():
        assert routes[-1].accepts("whatever they type") is not None, state


WORDS = ["help", "cancel", "back", "publish", "retry", "restart", "confirm all", "confirm jobTitle", "edit headcount",
         "edit nothing", "owner@example.com", "1", "2", "200", "hours", "yes", "Bounding box", ""]
SHAPES = [[], [LABELS, LEVEL], [VOLUME], [LEVEL]]


def shaped(state: State, missing: list[FieldSpec], flagged: bool, retry: Op | None) -> Conversation:
    return conversation(state, missing=missing, report={"low_confidence": ["jobTitle"] if flagged else []},
                        failure=Failure(reason="x", retry=retry), answered=["labelTypes"] if flagged else [])


def test_every_word_in_every_state_moves_only_where_its_route_says():
    """State x words, exhaustively: take() never raises, and a call only starts in the state it runs in."""
    for state, missing, flagged, retry, text in itertools.product(State, SHAPES, (False, True), (None, *Op), WORDS):
        talk = shaped(state, missing, flagged, retry)
        decision = table.take(talk, text)
        if decision.call is not None:
            assert talk.state == table.CALLS[decision.call.op].runs_in, (state, text)


@settings(max_examples=200, deadline=None)
@given(state=st.sampled_from(list(State)), words=st.lists(st.sampled_from(WORDS) | st.text(max_size=20), max_size=6),
       missing=st.sampled_from(SHAPES), flagged=st.booleans(), retry=st.sampled_from([None, *Op]))
def test_no_sequence_of_words_leaves_the_table(state, words, missing, flagged, retry):
    talk = shaped(state, missing, flagged, retry)
    for text in words:
        decision = table.take(talk, text)
        if decision.call is not None:
            assert talk.state == table.CALLS[decision.call.op].runs_in


def test_moves_outside_the_table_are_refused_and_nothing_changes():
    talk = conversation(State.REVIEW)
    with pytest.raises(IllegalTransition):
        table.move(talk, State.CLAIMED, by=Op.PUBLISH)  # publish runs in `publishing`, not `review`
    with pytest.raises(IllegalTransition):
        table.move(talk, State.EXPIRED, by=Event.CLAIM_SETTLED)
    assert talk.state == State.REVIEW
    table.move(talk, State.EXPIRED, by=Event.IDLE)
    assert talk.state == State.EXPIRED and table.legal_moves(State.EXPIRED) == frozenset()


def test_only_the_table_writes_a_conversations_state():
    """`move` is the one writer: no other module of the app assigns `.state` on anything."""
    import ast
    from pathlib import Path

    root = Path(table.__file__).resolve().parents[1]
    writers = []
    for path in root.rglob("*.py"):
        if "sandbox" in path.parts or path == Path(table.__file__).resolve():
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            writers += [f"{path.relative_to(root)}:{node.lineno}" for target in targets
                        if isinstance(target, ast.Attribute) and target.attr == "state"]
    assert writers == []


# ---- what a message does for the organization (who may send it is authz's) ---------------------------------------

def test_a_retry_of_a_claim_start_is_a_claim_and_confirming_a_field_is_part_of_publishing():
    failed_claim = conversation(State.FAILED, failure=Failure(reason="x", retry=Op.CLAIM_START))
    assert table.action_of(failed_claim, "retry") is Action.CLAIM  # not an answer anyone may send
    failed_draft = conversation(State.FAILED, failure=Failure(reason="x", retry=Op.CREATE))
    assert table.action_of(failed_draft, "retry") is Action.ANSWER
    review = conversation(State.REVIEW, missing=[])
    assert table.action_of(review, "confirm jobTitle") is Action.PUBLISH
    assert table.action_of(review, "publish") is Action.PUBLISH and table.action_of(review, "x") is Action.ANSWER


def test_a_confirm_click_from_a_card_showing_another_email_is_not_a_yes():
    talk = conversation(State.CLAIM_PENDING)
    old_card = ClaimConfirm("first@example.com")
    table.take(talk, "first@example.com")
    table.take(talk, "second@example.com")  # typed meanwhile: the card now asks about this one
    stale = table.take(talk, f"confirm {old_card.tag}")
    assert stale.call is None and stale.views[-1] == ClaimConfirm("second@example.com") and not stale.taken
    fresh = table.take(talk, f"confirm {ClaimConfirm('second@example.com').tag}")
    assert fresh.call == Call(Op.CLAIM_START, CallArgs(email="second@example.com"))


def test_help_is_not_an_answer():
    assert not table.take(conversation(State.ASKING), "help").taken
    assert table.take(conversation(State.ASKING), "Bounding box").taken


def test_publish_sent_before_the_card_was_shown_publishes_nothing():
    from bot.hiring.engine import sent_too_early

    card = conversation(State.REVIEW, missing=[], asked_at=100.0)
    held = sent_too_early(card, "publish", sent_at=99.0)
    assert held is not None and held.call is None and not held.taken
    assert sent_too_early(card, "publish", sent_at=101.0) is None
    assert sent_too_early(card, "confirm all", sent_at=99.0) is None
