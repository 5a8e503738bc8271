"""The Edit and Invite modals within Slack's limits, with OpenTrain's values as inert text."""

from __future__ import annotations

import json

from bot.hiring.job_changes import EDITABLE, EditableField, EditForm, TrainerCard
from bot.opentrain.fields import DOCUMENTED_ENUMS, DOCUMENTED_KEY_TYPES
from bot.slack.blocks.job_changes import confirm_invite, edit_modal, read_inputs
from tests.support.untrusted import outside_markup

HOSTILE = "<!here> <@U1> <https://evil.example|x> @everyone"


def form(**values) -> EditForm:
    return EditForm("job_1", f"Boxes {HOSTILE}", tuple(
        EditableField(key, label, DOCUMENTED_KEY_TYPES[key], values.get(key), tuple(DOCUMENTED_ENUMS.get(key, ())))
        for key, label in EDITABLE))


def test_the_edit_form_is_typed_and_prefilled_and_fits():
    view = edit_modal(form(jobTitle="Boxes & more", headcount=10, pricePerHour=18.5, dataVolume=50000,
                           experienceLevel="EXPERT", languages=["English", "Spanish"]))
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert set(inputs) == {key for key, _ in EDITABLE}
    assert inputs["jobTitle"]["element"]["initial_value"] == "Boxes & more"  # a value, not markup: not escaped
    assert inputs["headcount"]["element"]["initial_value"] == "10"
    assert inputs["pricePerHour"]["element"]["initial_value"] == "18.5"
    assert inputs["dataVolume"]["element"]["initial_value"] == "50000"
    assert inputs["experienceLevel"]["element"]["initial_option"]["value"] == "EXPERT"
    assert inputs["languages"]["element"]["initial_value"] == "English, Spanish"
    assert "initial_value" not in inputs["fixedPrice"]["element"]  # unknown: left empty, left as it is
    assert not inputs["jobTitle"]["optional"] and inputs["fixedPrice"]["optional"]
    assert len(view["title"]["text"]) <= 24 and len(view["blocks"]) <= 100
    shown = json.dumps(view["blocks"][0])
    assert "<!here>" not in shown and "&lt;!here&gt;" in shown and "@everyone" not in shown


def test_a_description_too_long_for_a_slack_input_is_not_offered_cut():
    view = edit_modal(form(jobDescription="x" * 3001))
    assert "jobDescription" not in {b.get("block_id") for b in view["blocks"]}
    assert "longer than Slack's form can hold" in json.dumps(view)
    assert "jobDescription" not in read_inputs({"state": {"values": {}}})


def test_the_trainer_to_confirm_is_text_and_the_modal_carries_ids_only():
    card = TrainerCard(freelancer_id="usr_1", name=f"Maria G. {HOSTILE}", title=HOSTILE, country="Spain",
                       hourly_rate_usd=18, job_success_score=98, review_count=7, average_rating=4.9,
                       identity_verified=True, profile_url="https://app.opentrain.ai/profile/maria-g")
    view = confirm_invite("job_1", card)
    shown = json.dumps(view["blocks"])
    assert "<https://app.opentrain.ai/profile/maria-g|Maria G. &lt;!here&gt;" in shown
    texts = [b["text"]["text"] if b["type"] == "section" else b["elements"][0]["text"] for b in view["blocks"]]
    assert all(outside_markup(text, users=set()) == [] for text in texts)
    assert json.loads(view["private_metadata"]) == {"job": "job_1", "trainer": "usr_1"}
