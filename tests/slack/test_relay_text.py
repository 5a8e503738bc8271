"""A candidate's message as Slack text: inert whatever it says; attachments as a count and a trusted link."""

from __future__ import annotations

from bot.opentrain.models import Message
from bot.slack.relay import candidate_said


def test_candidate_text_cannot_ping_or_fake_a_link():
    message = Message(id="msg_1", content="<!channel> @here <@U1> <https://evil.example|Pay here> & co",
                      attachment_count=0)
    text = candidate_said("Maria <!here> G.", message, "https://app.opentrain.ai/messages?conversationId=c1")
    assert "<!" not in text and "<@" not in text and "<https://evil" not in text
    assert text.startswith("*Maria &lt;!here&gt; G.*: &lt;!channel&gt; @\u2060here") and "&amp; co" in text
    assert "attachment" not in text


def test_attachments_are_a_count_with_a_link_only_when_trusted():
    message = Message(id="msg_1", content="see files", attachment_count=3)
    assert "3 attachments: <https://app.opentrain.ai/messages?conversationId=c1|open in OpenTrain>" in \
        candidate_said("Maria G.", message, "https://app.opentrain.ai/messages?conversationId=c1")
    assert "3 attachments: open in OpenTrain" in candidate_said("Maria G.", message, "javascript:alert(1)")
