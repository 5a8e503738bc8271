"""`python -m bot shell` on a pipe, after the claim: a proposal, a conversation with the candidate, the hire, the
contract, and a milestone funded and released, each co-signed by the human the shell plays on the sandbox."""

from __future__ import annotations

import re

from tests.shell.test_shell import SCRIPT, run_shell

STORY = SCRIPT + """\
hire 1 lots
:propose
message 1 Hello! Could you start on Monday?
:reply 1 Yes, Monday works for me.
hire 1 360 Week 1
:approve
:grant-payments
milestone 20 Week 2
fund 2
:approve
release 2
:approve
"""


def steps_in_order(out: str, patterns: list[str]) -> None:
    """Each pattern matches exactly once, and after the one before it."""
    position = 0
    for pattern in patterns:
        found = list(re.finditer(pattern, out, flags=re.MULTILINE))
        assert len(found) == 1, f"{pattern!r} matched {len(found)} times in:\n{out}"
        assert found[0].start() >= position, f"{pattern!r} is out of order in:\n{out}"
        position = found[0].end()


def test_piped_story_from_proposal_to_paid_milestone(redis_url, namespace, tmp_path):
    result = run_shell(STORY, redis_url, namespace, tmp_path)
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "message <n> <text>" in out and ":approve" in out  # help lists the lifecycle commands
    assert "you> hire 1 lots\n! Type `hire <n> <amount> [name]`" in out  # a command typed wrong says how
    name = re.search(r"^Proposal 1 on \"[^\"]+\": (.+)$", out, flags=re.MULTILINE)
    assert name is not None, out
    who = re.escape(name.group(1))
    steps_in_order(out, [
        r"\[DM\] Your OpenTrain account is claimed",
        r"^Proposal 1 on ",                                                    # the proposal is shown
        rf"^Delivered to {who} on OpenTrain\.$",                               # the message reached the candidate
        rf"^{who} \(proposal 1\) wrote: Yes, Monday works for me\.$",          # their reply is shown
        rf"^Hire request for {who} recorded .*review and approve \(https://app\.opentrain\.ai/approvals/apr_\w+\)",
        rf"^The hire of {who} \(proposal 1\) was approved in OpenTrain\.$",    # hired
        rf"^Contract ctr_\w+ with {who}\n  .*pay per hour.*\n  Milestones:\n    1\. Week 1 — \$360\.00 — funded",
        r"^Contract ctr_\w+: milestone 2 \"Week 2\" \(\$[\d,.]+\) added \(not funded\)$",
        r"^Funding of \"Week 2\" requested\. .*review and approve \(https://app\.opentrain\.ai/approvals/apr_\w+\)",
        r"^Contract ctr_\w+: milestone 2 \"Week 2\" \(\$[\d,.]+\) is funded$",  # funded
        r"^Funding of milestone 2 was approved in OpenTrain\.$",
        r"^Payment release of \"Week 2\" requested\. .*https://app\.opentrain\.ai/approvals/apr_\w+",
        r"^Contract ctr_\w+: milestone 2 \"Week 2\" \(\$[\d,.]+\) is paid$",    # released
        r"^The payment release of milestone 2 was approved in OpenTrain\.$",
    ])
    assert not re.search(r"^! ", out.split("you> :propose", 1)[1], flags=re.MULTILINE)  # nothing was refused
    assert "ot_pat_" not in out + result.stderr and "ot_clm_" not in out + result.stderr
