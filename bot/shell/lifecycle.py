"""After the claim, in the terminal: proposals, candidate conversations, hire requests, contracts and milestones.

The core does the work, as it does for Slack: the ledger reader (`ProposalLedger`) hands proposals to a
`ProposalSink` and money events to a `ContractSink`, `CandidateTalks` relays messages through a `TalkFront`, the
`ApprovalTracker` tells its observers when an approval ends, and `ProposalDesk` / `ContractDesk` check and make each
request. This module is the shell's side of those seams, printing plain text, plus the commands that drive them.

The shell numbers what it shows: proposals 1, 2, ... in the order they arrived (`message 1 ...`, `hire 1 ...`), and
milestones by their number on the contract (`fund 2`). Everything it must remember is in Redis (`{ns}:shell:{ws}:board`
and `{ns}:shell:{ws}:shown`, 90 days from their last write), so each card, message and change prints once.

Against the sandbox, `:propose`, `:reply`, `:approve` and `:decline` play the marketplace and the human in OpenTrain
through the sandbox's control API. Each command that changes OpenTrain then waits (bounded) until the ledger has read
what it caused, so the terminal, and a piped script, shows the consequences before the next line is read.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import httpx

from bot.hiring import wording
from bot.hiring.accounts import Accounts
from bot.hiring.approvals import ApprovalTracker, TrackedApproval
from bot.hiring.authz import Authorizer
from bot.hiring.contracts import VOLUME_UNITS, ContractAsk, ContractDesk, MilestoneTerms
from bot.hiring.jobs import LEDGER_KIND, JobRecord
from bot.hiring.proposals import Milestone as FirstMilestone
from bot.hiring.proposals import ProposalAsk, ProposalDesk
from bot.hiring.talk import CandidateTalks, Outgoing, Talk
from bot.hiring.views import Words
from bot.infra.scheduler import ScheduledItem, Scheduler
from bot.infra.storage import Redis, key
from bot.ledger.cards import ProposalCard, ProposalUpdate
from bot.ledger.money import BudgetChange, MoneyLedger
from bot.ledger.reader import ProposalLedger
from bot.opentrain import errors
from bot.opentrain.models import Contract, Message, Milestone
from bot.shell.render import indent, plain_words

# The board and the shown marks serve the numbers the person types for as long as a Slack card's buttons would.
BOARD_TTL_SECONDS = 90 * 24 * 3600
POLL_SECONDS = 1.0  # the shell's ledger cadence; a command that changes OpenTrain also rings it at once
SETTLE_SECONDS = 15.0  # how long a command waits for what it caused to show
FIRST_MILESTONE_DAYS = 14  # a hire's first milestone is due this far ahead

MILESTONE_STATUS = {"NOT_FUNDED": "not funded", "ACTIVE_FUNDED": "funded", "PAID": "paid"}
PAYMENT_TYPES = {"PAY_PER_HOUR": "pay per hour", "PAY_PER_LABEL": "pay per label", "FIXED_PRICE": "fixed price"}
RATE_UNITS = {"PAY_PER_HOUR": "/hour", "PAY_PER_LABEL": "/label"}
MILESTONE_CHANGE = {"NOT_FUNDED": "added (not funded)", "ACTIVE_FUNDED": "is funded", "PAID": "is paid"}
ENDED = {"confirmed": "approved", "declined": "declined", "expired": "expired (nobody approved it in time)"}

LIFECYCLE_HELP = """After the claim, once a proposal arrives:
  proposals                       list the proposals shown so far, numbered
  message <n> <text>              write to the candidate of proposal n (on OpenTrain)
  hire <n> <amount> [name]        request hiring candidate n, with a first milestone of <amount> USD
  milestone <amount> <description>  add a milestone to the latest contract (hours or labels on an hourly or
                                  per-label contract, USD on a fixed-price one)
  fund <m>                        request funding milestone m of the latest contract
  release <m>                     request releasing the payment of milestone m
  :propose                        (sandbox) play the marketplace: a trainer sends a proposal to your latest job
  :reply <n> <text>               (sandbox) play candidate n replying
  :grant-payments                 (sandbox) play the account owner: mint a token that may move money
                                  (payments:write, which the claim's token lacks) and give it to the bot
  :approve / :decline             (sandbox) play the human in OpenTrain: resolve the latest pending approval"""

NUMBER = r"\d[\d,]*(?:\.\d+)?"
USAGE = {"message": "message <n> <text>", "hire": "hire <n> <amount> [name]",
         "milestone": "milestone <amount> <description>", "fund": "fund <m>", "release": "release <m>",
         ":reply": ":reply <n> <text>"}

_COMMIT = """
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then return {0} end
redis.call('SET', KEYS[1], ARGV[2])
local shown = {1}
for i = 4, #ARGV, 3 do
  local number = redis.call('HGET', KEYS[2], 'p:' .. ARGV[i])
  if number then
    local before = redis.call('HGET', KEYS[2], 'n:' .. number)
    redis.call('HSET', KEYS[2], 'n:' .. number, ARGV[i + 1])
    if not before or cjson.decode(before).status ~= cjson.decode(ARGV[i + 1]).status then
      table.insert(shown, number); table.insert(shown, 'changed')
    end
  elseif ARGV[i + 2] == '1' then
    number = tostring(redis.call('HINCRBY', KEYS[2], 'count', 1))
    redis.call('HSET', KEYS[2], 'p:' .. ARGV[i], number, 'n:' .. number, ARGV[i + 1])
    table.insert(shown, number); table.insert(shown, 'new')
  end
end
redis.call('EXPIRE', KEYS[2], ARGV[3])
return shown
"""


class Signals:
    """Counts of what the background work showed, so a command can wait for what it caused."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = defaultdict(int)
        self._changed = asyncio.Condition()

    def count(self, kind: str) -> int:
        return self._counts[kind]

    async def note(self, kind: str) -> None:
        async with self._changed:
            self._counts[kind] += 1
            self._changed.notify_all()

    async def wait(self, kind: str, beyond: int, timeout: float = SETTLE_SECONDS) -> bool:
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: self._counts[kind] > beyond), timeout)
            except TimeoutError:
                return False
        return True


class Board:
    """The shell's numbers and what it has printed, in Redis."""

    def __init__(self, redis: Redis, namespace: str, workspace_id: str):
        self._redis = redis
        self.workspace_id = workspace_id
        # Under the workspace's hash tag: the ledger commits a page (its cursor) and the board in one script.
        self.key = key(namespace, "ws", workspace_id, "shell", "board")
        self._shown = key(namespace, "ws", workspace_id, "shell", "shown")

    async def first_time(self, mark: str) -> bool:
        """True once per mark: the caller prints it."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(self._shown, mark)
            pipe.expire(self._shown, BOARD_TTL_SECONDS)
            added, _ = await pipe.execute()
        return bool(added)

    async def card(self, number: int) -> ProposalCard | None:
        raw = await self._redis.hget(self.key, f"n:{number}")
        return ProposalCard.from_json(str(raw)) if raw else None

    async def cards(self) -> list[tuple[int, ProposalCard]]:
        count = int(await self._redis.hget(self.key, "count") or 0)
        found = [(n, await self.card(n)) for n in range(1, count + 1)]
        return [(n, card) for n, card in found if card is not None]

    async def number_of(self, proposal_id: str | None) -> int | None:
        number = await self._redis.hget(self.key, f"p:{proposal_id}") if proposal_id else None
        return int(number) if number else None

    async def set_contract(self, contract_id: str) -> None:
        await self._redis.hset(self.key, "contract", contract_id)
        await self._redis.expire(self.key, BOARD_TTL_SECONDS)

    async def remember_milestones(self, contract: Contract) -> None:
        numbers = [(f"m:{m.id}", str(m.milestone_number)) for m in contract.milestones if m.milestone_number]
        if numbers:
            await self._redis.hset(self.key, items=[part for pair in numbers for part in pair])
            await self._redis.expire(self.key, BOARD_TTL_SECONDS)

    async def milestone_number(self, milestone_id: str | None) -> str:
        number = await self._redis.hget(self.key, f"m:{milestone_id}") if milestone_id else None
        return str(number) if number else "?"

    async def contract(self) -> str | None:
        contract_id = await self._redis.hget(self.key, "contract")
        return str(contract_id) if contract_id else None


def _money(amount: float | None) -> str:
    return f"${amount:,.2f}" if amount is not None else "(no amount)"


def proposal_card(number: int, card: ProposalCard) -> str:
    facts = [part for part in (card.title, card.country) if part]
    if card.bid_amount is not None:
        unit = card.bid_unit.lower().removeprefix("per_")
        facts.append(f"bid {_money(card.bid_amount)}" + (f"/{unit}" if unit else ""))
    if card.interview_score is not None:
        facts.append(f"interview {card.interview_score:g}")
    if card.match_score is not None:
        facts.append(f"match {card.match_score:g}")
    if card.status_label:
        facts.append(card.status_label)
    about = f" on \"{card.job_title}\"" if card.job_title else ""
    return f"Proposal {number}{about}: {card.name}\n" + indent([
        " · ".join(facts), f"Review: {card.review_url}",
        f"Type `message {number} <text>` to write to them, `hire {number} <amount> [milestone name]` to hire them."])


def milestone_line(milestone: Milestone) -> str:
    name = milestone.name or milestone.description or "(unnamed)"
    return (f"{milestone.milestone_number or '?'}. {name} — {_money(milestone.amount_usd)} — "
            f"{MILESTONE_STATUS.get(milestone.status, milestone.status.lower())}")


def contract_card(contract: Contract) -> str:
    rate = f" at {_money(contract.rate_usd)}{RATE_UNITS.get(contract.payment_type, '')}" if contract.rate_usd else ""
    who = contract.freelancer.display_name or "the trainer"
    lines = [f"{contract.title or 'Contract'}: {PAYMENT_TYPES.get(contract.payment_type, contract.payment_type)}"
             f"{rate}, {contract.status}", "Milestones:"]
    lines += [f"  {milestone_line(m)}" for m in contract.milestones] or ["  (none yet)"]
    if contract.budget is not None:
        lines.append(f"Budget: {contract.budget.state}")
    unit = VOLUME_UNITS.get(contract.payment_type, ("USD", "USD"))[1]
    lines.append(f"Type `milestone <{unit}> <description>` to add one, `fund <m>`, `release <m>`.")
    return f"Contract {contract.id} with {who}\n" + indent(lines)


class ShellCards:
    """The ledger's `ProposalSink`: the shell workspace's proposals, numbered and printed once."""

    def __init__(self, redis: Redis, board: Board, emit: Callable[[str], None], signals: Signals):
        self._board = board
        self._emit = emit
        self._signals = signals
        self._commit = redis.register_script(_COMMIT)

    def shows(self, job: JobRecord) -> bool:
        return job.workspace_id == self._board.workspace_id

    async def commit_page(self, cursor_key: str, expected_cursor: str | None, new_cursor: str,
                          updates: Sequence[ProposalUpdate]) -> bool:
        args: list[str] = []
        for update in updates:
            if self.shows(update.job):
                args += [update.card.proposal_id, update.card.to_json(), "1" if update.received else "0"]
        shown = await self._commit(keys=[cursor_key, self._board.key],
                                   args=[expected_cursor or "", new_cursor, BOARD_TTL_SECONDS, *args])
        if not shown or int(shown[0]) != 1:
            return False
        for number, what in zip(shown[1::2], shown[2::2], strict=True):
            card = await self._board.card(int(number))
            if card is None:
                continue
            if str(what) == "new":
                self._emit(proposal_card(int(number), card))
                await self._signals.note("proposal")
            else:
                self._emit(f"Proposal {int(number)} ({card.name}) is now: {card.status_label or card.status}")
        return True

    async def wake_pending(self) -> None:
        """Nothing waits in a queue: cards print as their page commits."""


class ShellTalkFront:
    """`CandidateTalks`' front end: a candidate's messages and what happened to ours, printed."""

    def __init__(self, board: Board, emit: Callable[[str], None], signals: Signals):
        self._board = board
        self._emit = emit
        self._signals = signals

    async def show(self, talk: Talk, message: Message, post_id: str, *, maybe_shown: bool) -> bool:
        if await self._board.first_time(f"message:{post_id}"):
            number = await self._board.number_of(talk.proposal_id)
            count = message.attachment_count
            attachments = f" [{count} attachment(s), in OpenTrain]" if count else ""
            self._emit(f"{talk.candidate} (proposal {number}) wrote: {message.content}{attachments}")
        await self._signals.note("candidate")
        return True

    async def delivered(self, talk: Talk, outgoing: Outgoing) -> None:
        self._emit(f"Delivered to {talk.candidate} on OpenTrain.")
        await self._signals.note(f"out:{outgoing.key}")

    async def explain(self, talk: Talk, outgoing: Outgoing, words: Words) -> None:
        self._emit("! " + plain_words(words))
        await self._signals.note(f"out:{outgoing.key}")


class ShellMoney:
    """The ledger's `ContractSink` and the tracker's observer: a contract card once, then each change once."""

    def __init__(self, board: Board, emit: Callable[[str], None], signals: Signals):
        self._board = board
        self._emit = emit
        self._signals = signals
        self.pending: list[TrackedApproval] = []  # requested in this session, oldest first

    def shows(self, job: JobRecord) -> bool:
        return job.workspace_id == self._board.workspace_id

    async def contract_created(self, workspace_id: str, job: JobRecord, contract: Contract) -> None:
        await self.contract_changed(workspace_id, job, contract)

    async def contract_changed(self, workspace_id: str, job: JobRecord, contract: Contract) -> None:
        await self._board.remember_milestones(contract)
        if await self._board.first_time(f"contract:{contract.id}"):
            await self._board.set_contract(contract.id)
            for milestone in contract.milestones:
                await self._board.first_time(f"milestone:{milestone.id}:{milestone.status}")
            self._emit(contract_card(contract))
            return
        for milestone in contract.milestones:
            if await self._board.first_time(f"milestone:{milestone.id}:{milestone.status}"):
                name = milestone.name or milestone.description or "(unnamed)"
                change = MILESTONE_CHANGE.get(milestone.status, f"is {milestone.status.lower()}")
                self._emit(f"Contract {contract.id}: milestone {milestone.milestone_number or '?'} \"{name}\" "
                           f"({_money(milestone.amount_usd)}) {change}")

    async def budget_changed(self, workspace_id: str, job: JobRecord, contract: Contract,
                             change: BudgetChange) -> None:
        await self.contract_changed(workspace_id, job, contract)
        if await self._board.first_time(f"budget:{change.event_id}"):
            used = f" ({change.consumed_fraction:.0%} used)" if change.consumed_fraction is not None else ""
            self._emit(f"Contract {contract.id}: budget {change.previous or '?'} -> {change.state}{used}")

    async def approval_changed(self, approval: TrackedApproval) -> None:
        if approval.pending:  # the request's own words show its link
            self.pending = [a for a in self.pending if a.approval_id != approval.approval_id] + [approval]
            return
        self.pending = [a for a in self.pending if a.approval_id != approval.approval_id]
        self._emit(f"{await self._what(approval)} {ENDED.get(approval.status, approval.status)} in OpenTrain.")
        await self._signals.note("approval")

    async def _what(self, approval: TrackedApproval) -> str:
        if approval.type == "proposal_hire":
            number = await self._board.number_of(approval.proposal_id)
            card = await self._board.card(number) if number else None
            return f"The hire of {card.name if card else 'the candidate'} (proposal {number or '?'}) was"
        if approval.type in ("milestone_fund", "milestone_approve"):
            what = "Funding" if approval.type == "milestone_fund" else "The payment release"
            return f"{what} of milestone {await self._board.milestone_number(approval.milestone_id)} was"
        return "Ending the contract was"


class Lifecycle:
    """The commands after the claim; `None` from `handle` means the line is not one of them."""

    def __init__(self, *, board: Board, ledger: ProposalLedger, talks: CandidateTalks, proposals: ProposalDesk,
                 contracts: ContractDesk, accounts: Accounts, scheduler: Scheduler, money: ShellMoney,
                 signals: Signals, user_id: str, emit: Callable[[str], None], sandbox_url: str | None):
        self._board = board
        self._ledger = ledger
        self._talks = talks
        self._proposals = proposals
        self._contracts = contracts
        self._accounts = accounts
        self._scheduler = scheduler
        self._money = money
        self._signals = signals
        self._user = user_id
        self._emit = emit
        self._sandbox_url = sandbox_url
        self.latest_job: str | None = None  # the job `:propose` sends proposals to

    @property
    def _ws(self) -> str:
        return self._board.workspace_id

    async def handle(self, text: str) -> bool:
        """Act on `text` if it is a lifecycle command; False when it is not one (it goes to the conversation)."""
        patterns: list[tuple[str, Callable[..., object]]] = [
            (r"proposals", self._list),
            (r"message (\d+) (.+)", self._message),
            (rf"hire (\d+) \$?({NUMBER})(?: (.+))?", self._hire),
            (rf"milestone \$?({NUMBER}) (.+)", self._add_milestone),
            (r"fund (\d+)", self._fund),
            (r"release (\d+)", self._release),
            (r":propose", self._propose),
            (r":reply (\d+) (.+)", self._reply),
            (r":(approve|decline)", self._resolve),
            (r":grant-payments", self._grant_payments),
        ]
        for pattern, action in patterns:
            if match := re.fullmatch(pattern, text, flags=re.DOTALL):
                try:
                    await action(*match.groups())  # type: ignore[misc]
                except errors.OpenTrainError as exc:
                    self._emit(f"! {wording.refusal(exc)}")
                return True
        # A command word alone or before a number is a command typed wrong; before other words, an answer.
        if (wrong := re.fullmatch(r"(\S+)(?: \d.*)?", text, flags=re.DOTALL)) and wrong.group(1) in USAGE:
            self._emit(f"! Type `{USAGE[wrong.group(1)]}` (`help` lists every command).")
            return True
        return False

    # ---- proposals and candidates

    async def _list(self) -> None:
        cards = await self._board.cards()
        if not cards:
            self._emit("No proposals yet." + (" (sandbox: `:propose` plays one arriving)" if self._sandbox_url else ""))
        for number, card in cards:
            self._emit(f"{number}. {card.name} — {card.title or 'no title'} — {card.status_label or card.status}")

    async def _card(self, number: str) -> ProposalCard | None:
        card = await self._board.card(int(number))
        if card is None:
            self._emit(f"! There is no proposal {number}; `proposals` lists them.")
        return card

    async def _talk(self, card: ProposalCard) -> Talk | None:
        """The conversation with the candidate, opened (and tied to the proposal) the first time."""
        place = f"proposal:{card.proposal_id}"
        if (talk := await self._talks.at(self._ws, place)) is not None:
            return talk
        conversation_id, refused = await self._talks.open(
            ProposalAsk(self._ws, self._user, card.proposal_id, card.job_id))
        if conversation_id is None:
            self._emit("! " + plain_words(refused or ()))
            return None
        await self._talks.tie(Talk(self._ws, conversation_id, card.proposal_id, card.job_id, card.name,
                                   {"proposal": card.proposal_id}), place)
        return await self._talks.at(self._ws, place)

    async def _message(self, number: str, text: str) -> None:
        if (card := await self._card(number)) is None or (talk := await self._talk(card)) is None:
            return
        outgoing = Outgoing(uuid.uuid4().hex, self._user, text.strip(), time.time())
        refusal = await self._talks.accept(talk, outgoing)
        if refusal is not None:
            self._emit("! " + plain_words(refusal.words))
        elif not await self._signals.wait(f"out:{outgoing.key}", 0):
            self._emit("(still sending; you'll see when it's delivered)")

    async def _hire(self, number: str, amount: str, name: str | None) -> None:
        if (card := await self._card(number)) is None:
            return
        first = FirstMilestone(name or "First milestone", float(amount.replace(",", "")),
                               (datetime.now(UTC).date() + timedelta(days=FIRST_MILESTONE_DAYS)).isoformat())
        words = await self._proposals.request_hire(ProposalAsk(self._ws, self._user, card.proposal_id, card.job_id),
                                                   first, card.name, {"proposal": card.proposal_id})
        self._emit(plain_words(words))

    # ---- contracts and milestones

    async def _contract_ask(self, milestone_number: str | None = None) -> ContractAsk | None:
        contract_id = await self._board.contract()
        if contract_id is None:
            self._emit("! There is no contract yet: `hire <n> <amount>`, then approve it in OpenTrain.")
            return None
        if milestone_number is None:
            return ContractAsk(self._ws, self._user, contract_id)
        contract = await (await self._accounts.client_for(self._ws)).get_contract(contract_id)
        milestone = next((m for m in contract.milestones if str(m.milestone_number) == milestone_number), None)
        if milestone is None:
            self._emit(f"! Contract {contract_id} has no milestone {milestone_number}.")
            return None
        return ContractAsk(self._ws, self._user, contract_id, milestone.id)

    async def _add_milestone(self, quantity: str, description: str) -> None:
        if (ask := await self._contract_ask()) is None:
            return
        contract = await (await self._accounts.client_for(self._ws)).get_contract(ask.contract_id)
        number = float(quantity.replace(",", ""))
        by_volume = contract.payment_type in VOLUME_UNITS
        terms = MilestoneTerms(description.strip(), name=description.strip(),
                               amount_usd=None if by_volume else number, volume=number if by_volume else None)
        self._emit(plain_words(await self._contracts.add_milestone(ask, terms)))
        await self._settle()

    async def _fund(self, milestone: str) -> None:
        if (ask := await self._contract_ask(milestone)) is not None:
            self._emit(plain_words(await self._contracts.fund(ask, {})))
            await self._settle()

    async def _release(self, milestone: str) -> None:
        if (ask := await self._contract_ask(milestone)) is not None:
            self._emit(plain_words(await self._contracts.release(ask, {})))
            await self._settle()

    # ---- the sandbox plays the marketplace and the human in OpenTrain

    async def _play(self, path: str, body: dict) -> dict | None:
        if self._sandbox_url is None:
            self._emit("! Only the sandbox can be played from here; on a real OpenTrain this happens in the app.")
            return None
        async with httpx.AsyncClient(timeout=10) as http:
            answer = await http.post(f"{self._sandbox_url}/_sandbox/{path}", json=body)
        if not answer.is_success:
            self._emit(f"! The sandbox refused: {answer.json().get('error')}")
            return None
        return dict(answer.json())

    async def _propose(self) -> None:
        if self.latest_job is None:
            self._emit("! Publish a job first: proposals arrive on your latest published job.")
            return
        if await self._play(f"jobs/{self.latest_job}/proposals", {"count": 1}) is not None:
            self._emit(f"(sandbox) a trainer sent a proposal to job {self.latest_job}")
            await self._settle()

    async def _reply(self, number: str, text: str) -> None:
        if (card := await self._card(number)) is None:
            return
        talk = await self._talks.at(self._ws, f"proposal:{card.proposal_id}")
        if talk is None:
            self._emit(f"! Write to {card.name} first (`message {number} <text>`): OpenTrain wants the employer to "
                       "open the conversation.")
            return
        seen = self._signals.count("candidate")
        if await self._play(f"conversations/{talk.conversation_id}/reply", {"content": text}) is not None:
            self._emit(f"(sandbox) {card.name} replied")
            await self._settle()
            await self._signals.wait("candidate", seen)

    async def _resolve(self, decision: str) -> None:
        if not self._money.pending:
            self._emit("! There is no pending approval to resolve.")
            return
        approval = self._money.pending[-1]
        if await self._play(f"approvals/{approval.approval_id}/resolve",
                            {"decision": "confirm" if decision == "approve" else "decline"}) is not None:
            self._emit(f"(sandbox) the account owner {decision}d {approval.approval_id} in OpenTrain")
            await self._settle()

    async def _grant_payments(self) -> None:
        if self._sandbox_url is None:
            self._emit("! Outside the sandbox, give the bot a token with payments:write as OPENTRAIN_API_TOKEN.")
            return
        owner = (await self._accounts.me(self._ws, refresh=True)).email
        if not owner:
            self._emit("! Claim the account first: only its owner can mint a token in OpenTrain.")
            return
        minted = await self._play("accounts/tokens", {"email": owner})
        if minted is not None:
            await self._accounts.replace_token(self._ws, str(minted["token"]), list(minted["scopes"]))
            self._emit(f"(sandbox) {owner} minted a token with payments:write in OpenTrain and gave it to the bot "
                       "(what OPENTRAIN_API_TOKEN does outside the sandbox)")

    async def _settle(self) -> None:
        """Ring the ledger and wait (bounded) for a read to its end that began after now."""
        now = time.time()
        await self._scheduler.schedule(LEDGER_KIND, self._ws)
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline:
            read_at = await self._ledger.read_to_end_at(self._ws)
            if read_at is not None and read_at >= now:
                return
            await asyncio.sleep(0.05)


def build_lifecycle(redis: Redis, namespace: str, workspace_id: str, *, accounts: Accounts, authorizer: Authorizer,
                    scheduler: Scheduler, tracker: ApprovalTracker, user_id: str, emit: Callable[[str], None],
                    sandbox_url: str | None) -> Lifecycle:
    """The shell's sinks, front and observer plugged into the core, their background work registered on
    `scheduler` (run by the shell's own loop)."""
    board, signals = Board(redis, namespace, workspace_id), Signals()
    money = ShellMoney(board, emit, signals)
    tracker.add_observer(money)
    tracker.register(scheduler)
    proposals = ProposalDesk(redis, namespace, accounts, authorizer, tracker=tracker)
    talks = CandidateTalks(redis, namespace, accounts, proposals, scheduler)
    talks.register(ShellTalkFront(board, emit, signals))
    ledger = ProposalLedger(redis, namespace, accounts, ShellCards(redis, board, emit, signals),
                            poll_seconds=POLL_SECONDS, money=MoneyLedger(redis, namespace, tracker, money),
                            conversations=talks.ring)

    async def read_once_claimed(item: ScheduledItem) -> float:
        # Nothing can be done with a proposal before the claim, and a read racing the claim's token swap is refused.
        if not await accounts.is_claimed(item.item_id):
            return time.time() + POLL_SECONDS
        return await ledger.read(item.item_id)

    scheduler.register(LEDGER_KIND, read_once_claimed)
    return Lifecycle(board=board, ledger=ledger, talks=talks, proposals=proposals,
                     contracts=ContractDesk(redis, namespace, accounts, authorizer, tracker), accounts=accounts,
                     scheduler=scheduler, money=money, signals=signals, user_id=user_id, emit=emit,
                     sandbox_url=sandbox_url)

