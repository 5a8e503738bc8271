"""Messages through the client against the sandbox: a send is never repeated by the client, reading tails forward."""

from __future__ import annotations

import pytest

from bot.opentrain import errors
from bot.opentrain.models import MessagesPage
from tests.opentrain.test_jobs import open_job


async def conversation(client, sandbox):
    owner = client.with_token(await sandbox.token())
    job_id = await open_job(owner)
    [proposal] = (await sandbox.call("POST", f"jobs/{job_id}/proposals", {"count": 1}))["proposals"]
    return owner, (await owner.open_conversation(proposal["id"])).conversation_id


async def test_send_then_tail_the_candidates_replies(client, sandbox):
    owner, conversation_id = await conversation(client, sandbox)
    sent = await owner.send_message(conversation_id, "Hi! Can you start Monday?")
    assert sent.message.is_from_viewer and sent.message.content == "Hi! Can you start Monday?"
    await sandbox.call("POST", f"conversations/{conversation_id}/reply", {"content": "Yes", "attachments": 1})

    page = await owner.list_messages(conversation_id, direction="newer", limit=1)
    assert [m.content for m in page.messages] == ["Hi! Can you start Monday?"] and page.next_cursor
    rest = await owner.list_messages(conversation_id, direction="newer", cursor=page.next_cursor)
    [reply] = rest.messages
    assert not reply.is_from_viewer and reply.attachment_count == 1 and rest.next_cursor is None


@pytest.mark.parametrize("status", [429, 503])
async def test_a_refused_or_failed_send_is_not_repeated(client, sandbox, sleeps, status):
    owner, conversation_id = await conversation(client, sandbox)
    await sandbox.fault("messages", method="POST", status=status, retryAfterSeconds=1)
    with pytest.raises(errors.RateLimited if status == 429 else errors.ServerError) as raised:
        await owner.send_message(conversation_id, "hello")
    assert len(await sandbox.requests("/api/public/v1/messages")) == 1 and sleeps == []
    if status == 429:
        assert raised.value.retry_after == 1


def test_pages_read_tolerantly():
    page = MessagesPage.model_validate({"data": [{"id": "msg_1", "content": None, "attachmentCount": None}]})
    assert page.messages[0].content == "" and page.messages[0].attachment_count == 0 and page.next_cursor is None
