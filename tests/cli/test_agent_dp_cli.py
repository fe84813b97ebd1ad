"""``daofed agent run --dp-clip C --dp-noise SIGMA``: a private member logs its epsilon."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from daofed.chain import AnvilNode, Federation, dev_account
from daofed.cli import app
from daofed.learning import load_digits, save_member_file
from daofed.learning.privacy import PrivacySettings, epsilon
from daofed.protocol import genesis_blob
from daofed.storage import LocalStore
from tests.federations import DIGITS

from .conftest import save_deployment

runner = CliRunner()
MEMBER = 9  # a dev key no other CLI test uses as a member


@pytest.fixture
def solo(anvil: AnvilNode, tmp_path: Path) -> Path:
    """A one-member federation (quorum 1) on anvil, its deployment file and the member's data."""
    w3 = anvil.web3()
    store = LocalStore(tmp_path / "blobs")
    federation = Federation.deploy(
        w3,
        dev_account(0),
        members=[dev_account(MEMBER).address],
        quorum=1,
        submit_window=600,
        vote_window=600,
        rule="fedavg:compress=int8",
        genesis=store.put(genesis_blob(DIGITS, 0)),
    )
    save_deployment(tmp_path / "daofed.toml", federation, anvil.url, store.root)
    digits = load_digits()
    save_member_file(tmp_path / "member.npz", digits.subset(np.arange(300)))
    return tmp_path


def _run(solo: Path, *extra: str) -> list[dict[str, object]]:
    result = runner.invoke(
        app,
        [
            "agent", "run", "--deployment", str(solo / "daofed.toml"),
            "--data", str(solo / "member.npz"), "--dev", str(MEMBER),
            "--epochs", "1", "--poll", "0.1", "--quiet", *extra,
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_a_private_member_logs_epsilon_per_round(solo: Path) -> None:
    events = _run(solo, "--rounds", "2", "--dp-clip", "1.0", "--dp-noise", "1.5")
    submitted = [e for e in events if e["step"] == "submitted"]
    assert [e["round"] for e in submitted] == [1, 2]
    settings = PrivacySettings(clip=1.0, noise=1.5)
    for event in submitted:
        detail = event["detail"]
        assert isinstance(detail, dict)
        assert detail["dp_epsilon"] == pytest.approx(epsilon(settings, int(str(event["round"]))))
        assert detail["dp_delta"] == 1e-5
    assert submitted[0]["detail"]["dp_epsilon"] < submitted[1]["detail"]["dp_epsilon"]  # type: ignore[index]
    assert events[-1]["step"] == "done"


def test_dp_needs_both_clip_and_noise(solo: Path) -> None:
    result = runner.invoke(
        app,
        ["agent", "run", "--deployment", str(solo / "daofed.toml"),
         "--data", str(solo / "member.npz"), "--dev", str(MEMBER), "--dp-clip", "1.0"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "both --dp-clip and --dp-noise" in result.output
