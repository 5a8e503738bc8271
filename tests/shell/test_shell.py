"""`python -m bot shell` as a real process on scripted input: from /hire to a published job and a claimed account."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """\
help
/hire We need 10 annotators for 50,000 dashcam images, $18/hour, English
Bounding box, Polygon
wizard
3
confirm all
publish
owner@example.com
confirm
:confirm-claim
"""


def run_shell(script: str, redis_url: str, namespace: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENTRAIN_", "SLACK_"))}
    env.update(REDIS_URL=redis_url, REDIS_NAMESPACE=namespace, DATA_DIR=str(data_dir), LOG_LEVEL="WARNING")
    return subprocess.run([sys.executable, "-m", "bot", "shell"], input=script, capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=90, check=False)  # the tests read the return code


def test_scripted_shell_publishes_and_claims(redis_url, namespace, tmp_path):
    result = run_shell(SCRIPT, redis_url, namespace, tmp_path)
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "OpenTrain sandbox" in out and ":confirm-claim" in out  # help lists the shell commands
    assert "you> /hire We need 10 annotators" in out  # piped input is echoed, so the output reads as a transcript
    assert "Question [1 of 2] Label types" in out
    assert "Question [2 of 2] Experience level" in out and "3. Intermediate" in out
    assert "! That isn't one of the choices" in out  # "wizard" was refused with a reason
    assert "Experience level [experienceLevel]: Intermediate" in out
    assert "low confidence" in out and "(confirmed)" in out
    assert "Review draft job_" in out
    assert "Published!" in out and "https://app.opentrain.ai/jobs/" in out
    assert "Which email should own it?" in out
    assert "Hand this workspace's OpenTrain account to owner@example.com?" in out  # an explicit yes first
    assert "[DM] Claim your OpenTrain account" in out and "enter the code" in out
    assert "confirmed code" in out
    assert out.rstrip().endswith("[DM] Your OpenTrain account is claimed. You can now hire from your jobs.")
    assert "ot_pat_" not in out + result.stderr and "ot_clm_" not in out + result.stderr
