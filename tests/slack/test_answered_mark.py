"""The open question's message is marked answered only when its answer was taken (`Reply.taken`), not when the
engine said "still working", refused the message or found its question already answered."""

from __future__ import annotations

from typing import Any

from bot.hiring import wording
from bot.hiring.states import State
from bot.hiring.views import Notice, Question, Reply
from bot.slack.dialogue import ANSWERED_EARLIER, SlackDialogue
from bot.slack.registry import SlackConversation, SlackRegistry

TEAM = "T1"


class RecordingClient:
    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []
        self.posts: list[dict[str, Any]] = []

    async def chat_update(self, **args: Any) -> dict[str, Any]:
        self.updates.append(args)
        return {"ok": True}

    async def chat_postMessage(self, **args: Any) -> dict[str, Any]:
        self.posts.append(args)
        return {"ok": True, "ts": f"9.{len(self.posts)}"}


def level_question(key: str = "experienceLevel") -> Question:
    return Question(field=key, key=key, label="Experience level", text="Which level?", type="enum", position="2 of 2")


async def test_the_question_is_marked_answered_only_when_the_answer_was_taken(redis, namespace):
    registry = SlackRegistry(redis, namespace, ttl_seconds=600)
    client = RecordingClient()
    dialogue = SlackDialogue(engine=None, registry=registry, client=client)  # type: ignore[arg-type]
    conversation = SlackConversation("C1:1.0", "U1", "C1", "1.0", question_ts="5.0", question_key="labelTypes",
                                     question_label="Label types", root_state=State.ASKING)
    assert await registry.add(TEAM, conversation, start_id="cmd-1")

    def question_updates() -> list[str]:
        return [u["text"] for u in client.updates if u["ts"] == "5.0"]

    # Put off: the question stays open, buttons and all.
    await dialogue.show(TEAM, conversation, Reply([Notice(wording.STILL_WORKING)], State.ASKING), "m1", "Polygon")
    refused = Reply([Notice("That isn't one of the choices.", "error")], State.ASKING)
    await dialogue.show(TEAM, conversation, refused, "m2", answer="Polygon")
    assert question_updates() == []
    assert (await registry.get(TEAM, conversation.conversation_id)).question_ts == "5.0"

    # The conversation moved past it without this message (a replay took the earlier answer): closed as such.
    moved_on = Reply([Notice(wording.ALREADY_TAKEN), level_question()], State.ASKING)
    await dialogue.show(TEAM, conversation, moved_on, "m3", answer="Polygon")
    assert question_updates() == [f"Label types: {ANSWERED_EARLIER}"]

    # Taken: the answer is shown on the question.
    now = await registry.get(TEAM, conversation.conversation_id)
    assert now.question_key == "experienceLevel"
    await dialogue.show(TEAM, now, Reply([Notice("Saved.")], State.REVIEW, taken=True), "m4", answer="Expert")
    assert [u["text"] for u in client.updates if u["ts"] == now.question_ts] == ["Experience level: Expert"]
