"""A live job's "Edit" and "Invite a trainer" (buttons on Home and in `/hire list`), and their modals.

A click opens a modal at once (its trigger_id lives about 3 s) saying it is checking, then fills it in: the form, or
the refusal. Every submission asks the core again (`bot.hiring.job_changes.JobChanges`): the job must be this
workspace's and the person its requester or a hiring manager, whatever the modal's private_metadata says. A bad input
goes back next to its field (`response_action: errors`) when that check answers within PRE_ACK_SECONDS; a slower one
(the directory may ask Slack) is acked as working and checked again after. Slow work (OpenTrain) runs after the ack,
and its outcome, or a sentence when it fails, replaces the modal (`views.update`). An edit that moderation
unpublished is also said in the job's thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.hiring.authz import Action
from bot.hiring.job_changes import BadInput, EditForm, EditOutcome, TrainerCard, read_edit
from bot.hiring.jobs import JobRecord
from bot.hiring.views import Words
from bot.hiring.wording import NOT_A_PROFILE
from bot.slack.blocks.conversation import section
from bot.slack.blocks.job_changes import (
    CONFIRM_INVITE_VIEW,
    EDIT_VIEW,
    INVITE_VIEW,
    TRAINER,
    confirm_invite,
    edit_modal,
    invite_modal,
    metadata,
    read_inputs,
    said,
    working,
)
from bot.slack.blocks.jobs import EDIT_JOB, INVITE_TRAINER
from bot.slack.blocks.proposals import mrkdwn
from bot.slack.clicks import ClickOrigin, click_origin
from bot.slack.deps import SlackDeps
from bot.slack.dialogue import SLACK_CALL_ERRORS, failure_code
from bot.slack.listeners.home import publish_home

log = logging.getLogger(__name__)

EDIT_TITLE = "Edit job"
INVITE_TITLE = "Invite a trainer"
PRE_ACK_SECONDS = 2.0  # what a submission may spend deciding before its ack: Slack drops it after 3 s
CHECK_FAILED = "Something went wrong on my side; please close this and try again."
EDIT_FAILED = ("Something went wrong on my side, and your changes may not have been saved: open Edit again to see "
               "what the job says now.")
INVITE_FAILED = ("Something went wrong on my side, and the invite may not have been sent: invite the trainer again "
                 "(OpenTrain never sends one twice).")


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.action(EDIT_JOB)
    async def on_edit(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        view_id = await _open(deps, body, EDIT_TITLE)
        if view_id:
            await deps.work.run(partial(_in_modal, deps, view_id, EDIT_TITLE, CHECK_FAILED,
                                        partial(_show_edit_form, deps, click_origin(body), _job(action), view_id)))

    @app.action(INVITE_TRAINER)
    async def on_invite(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        view_id = await _open(deps, body, INVITE_TITLE)
        if view_id:
            await deps.work.run(partial(_in_modal, deps, view_id, INVITE_TITLE, CHECK_FAILED,
                                        partial(_show_invite_form, deps, click_origin(body), _job(action), view_id)))

    @app.view(EDIT_VIEW)
    async def on_edit_saved(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        origin, job_id, view_id = click_origin(body), metadata(view).get("job", ""), str(view.get("id", ""))
        inputs = read_inputs(view)
        refused = await _before_ack(_edit_refused(deps, origin, job_id, inputs))
        if isinstance(refused, dict):
            await ack(**refused)
            return
        await ack(response_action="update", view=working(EDIT_TITLE, "Saving your changes on OpenTrain…"))
        await deps.work.run(partial(_in_modal, deps, view_id, EDIT_TITLE, EDIT_FAILED,
                                    partial(_check_and_save_edit, deps, origin, job_id, inputs, view_id)))

    @app.view(INVITE_VIEW)
    async def on_trainer_given(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        origin, job_id, view_id = click_origin(body), metadata(view).get("job", ""), str(view.get("id", ""))
        given = read_inputs(view).get(TRAINER) or ""
        refused = await _before_ack(_trainer_refused(deps, origin, job_id, given))
        if isinstance(refused, dict):
            await ack(**refused)
            return
        await ack(response_action="update", view=working(INVITE_TITLE, "Looking the trainer up on OpenTrain…"))
        await deps.work.run(partial(_in_modal, deps, view_id, INVITE_TITLE, CHECK_FAILED,
                                    partial(_show_trainer, deps, origin, job_id, given, view_id)))

    @app.view(CONFIRM_INVITE_VIEW)
    async def on_invite_confirmed(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        hints = metadata(view)
        await ack(response_action="update", view=working(INVITE_TITLE, "Sending the invite…"))
        view_id = str(view.get("id", ""))
        await deps.work.run(partial(_in_modal, deps, view_id, INVITE_TITLE, INVITE_FAILED,
                                    partial(_invite, deps, click_origin(body), hints, view_id)))


async def _before_ack(check: Awaitable[dict[str, Any] | None]) -> dict[str, Any] | None:
    """A submission's refusing ack (a refusal, or errors next to inputs) when its check answers within
    PRE_ACK_SECONDS; None to go ahead, and also when the check is slower (a directory lookup may call Slack) or fails:
    then the work after the ack checks again and says the outcome in the modal."""
    try:
        return await asyncio.wait_for(check, PRE_ACK_SECONDS)
    except TimeoutError:
        log.info("a submission's check took over %.1f s: it is checked again after the ack", PRE_ACK_SECONDS)
    except Exception:
        log.exception("a submission's check failed: it is checked again after the ack")
    return None


async def _edit_refused(deps: SlackDeps, origin: ClickOrigin, job_id: str,
                        inputs: dict[str, str | None]) -> dict[str, Any] | None:
    form = await deps.changes.edit_form(origin.team_id, origin.user_id, job_id)
    if not isinstance(form, EditForm):
        return {"response_action": "update", "view": said(EDIT_TITLE, form)}
    if problems := read_edit(form, inputs).problems:
        return {"response_action": "errors", "errors": problems}
    return None


async def _trainer_refused(deps: SlackDeps, origin: ClickOrigin, job_id: str, given: str) -> dict[str, Any] | None:
    allowed = await deps.changes.job_for(Action.INVITE_TRAINER, origin.team_id, origin.user_id, job_id)
    if not isinstance(allowed, JobRecord):
        return {"response_action": "update", "view": said(INVITE_TITLE, allowed)}
    if await deps.changes.profile_slug(origin.team_id, given) is None:
        return {"response_action": "errors", "errors": {TRAINER: NOT_A_PROFILE}}
    return None


async def _in_modal(deps: SlackDeps, view_id: str, title: str, sorry: str, step: Callable[[], Awaitable[None]]) -> None:
    """Run a step whose outcome replaces the modal; if it fails, a sentence does, so no modal is left "working"."""
    try:
        await step()
    except Exception:
        log.exception("%s: a step after the ack failed", title)
        await _update(deps, view_id, said(title, (sorry,)))


async def _open(deps: SlackDeps, body: dict[str, Any], title: str) -> str | None:
    """A modal opened at once on the click's trigger, to be filled in once the job is checked; its view id."""
    try:
        opened = await deps.client.views_open(trigger_id=body.get("trigger_id", ""),
                                              view=working(title, "Checking the job…"))
    except SLACK_CALL_ERRORS as exc:
        log.warning("views.open failed: %s", failure_code(exc))
        return None
    return str((opened.get("view") or {}).get("id") or "") or None


async def _show_edit_form(deps: SlackDeps, origin: ClickOrigin, job_id: str, view_id: str) -> None:
    form = await deps.changes.edit_form(origin.team_id, origin.user_id, job_id)
    await _update(deps, view_id, edit_modal(form) if isinstance(form, EditForm) else said(EDIT_TITLE, form))


async def _check_and_save_edit(deps: SlackDeps, origin: ClickOrigin, job_id: str, inputs: dict[str, str | None],
                               view_id: str) -> None:
    """The form checked again after the ack (its check may not have finished before it), then saved."""
    form = await deps.changes.edit_form(origin.team_id, origin.user_id, job_id)
    if not isinstance(form, EditForm):
        await _update(deps, view_id, said(EDIT_TITLE, form))
        return
    reading = read_edit(form, inputs)
    if reading.problems:  # too late for errors next to the inputs
        labels = {spec.key: spec.label for spec in form.fields}
        wrong = "".join(f"\n• {labels.get(key, key)}: {problem}" for key, problem in reading.problems.items())
        await _update(deps, view_id, said(EDIT_TITLE, (f"Nothing was saved; open Edit again to fix:{wrong}",)))
        return
    await _save_edit(deps, origin, job_id, reading.changes, view_id)


async def _save_edit(deps: SlackDeps, origin: ClickOrigin, job_id: str, changes: dict[str, Any],
                     view_id: str) -> None:
    outcome = await deps.changes.edit(origin.team_id, origin.user_id, job_id, changes)
    await _update(deps, view_id, said(EDIT_TITLE, outcome.words))
    if outcome.for_thread:
        await _tell_thread(deps, outcome)
    if outcome.reopened and outcome.record:
        record = outcome.record
        await deps.dialogue.reopened(origin.team_id, record.ref.conversation_id, record.surface,
                                     str(record.fields.get("jobTitle") or ""), outcome.reopened,
                                     message_id=f"reopen:{job_id}:{view_id}")
    if outcome.applied:
        await publish_home(deps, origin.team_id, origin.user_id)  # the title or status may have changed


async def _show_invite_form(deps: SlackDeps, origin: ClickOrigin, job_id: str, view_id: str) -> None:
    allowed = await deps.changes.job_for(Action.INVITE_TRAINER, origin.team_id, origin.user_id, job_id)
    await _update(deps, view_id, invite_modal(job_id) if isinstance(allowed, JobRecord)
                  else said(INVITE_TITLE, allowed))


async def _show_trainer(deps: SlackDeps, origin: ClickOrigin, job_id: str, given: str, view_id: str) -> None:
    found = await deps.changes.trainer(origin.team_id, origin.user_id, job_id, given)
    if isinstance(found, TrainerCard):
        view = confirm_invite(job_id, found)
    elif isinstance(found, BadInput):
        view = invite_modal(job_id, problem=found.sentence)
    else:
        view = said(INVITE_TITLE, found)
    await _update(deps, view_id, view)


async def _invite(deps: SlackDeps, origin: ClickOrigin, hints: dict[str, str], view_id: str) -> None:
    words = await deps.changes.invite(origin.team_id, origin.user_id, hints.get("job", ""), hints.get("trainer", ""))
    await _update(deps, view_id, said(INVITE_TITLE, words))


async def _tell_thread(deps: SlackDeps, outcome: EditOutcome) -> None:
    surface = outcome.record.surface if outcome.record else {}
    channel, thread_ts = surface.get("channel"), surface.get("thread_ts")
    if not channel or not thread_ts:
        return  # published from a front end without a thread
    await _post(deps, str(channel), str(thread_ts), outcome.for_thread)


async def _post(deps: SlackDeps, channel: str, thread_ts: str, words: Words) -> None:
    text = mrkdwn(words)
    try:
        await deps.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text, blocks=[section(text)])
    except SLACK_CALL_ERRORS as exc:
        log.warning("cannot tell the job's thread about the edit: %s", failure_code(exc))


async def _update(deps: SlackDeps, view_id: str, view: dict[str, Any]) -> None:
    try:
        await deps.client.views_update(view_id=view_id, view=view)
    except SLACK_CALL_ERRORS as exc:  # the person closed the modal meanwhile
        log.warning("views.update failed: %s", failure_code(exc))


def _job(action: dict[str, Any]) -> str:
    return str(action.get("value", ""))
