"""CLI fixtures: the audit scenario on the session's anvil, reached through its URL like any
chain."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from daofed.chain import AnvilNode, Federation
from daofed.chain.deployment import Deployment
from daofed.session import abi_version
from tests.anvil import lasting
from tests.audit.governed import Governed
from tests.audit.scenario import Scenario, build_scenario


@dataclass(frozen=True)
class CliFederation:
    """The scenario federation on anvil, plus the URL and a deployment file naming it."""

    scenario: Scenario
    url: str
    deployment: Path

    @property
    def address(self) -> str:
        return self.scenario.federation.address

    def target(self) -> list[str]:
        """Options naming the federation without a deployment file."""
        return ["--rpc-url", self.url, "--contract", self.address]


@pytest.fixture(scope="session")
def cli_federation(anvil: AnvilNode, tmp_path_factory: pytest.TempPathFactory) -> CliFederation:
    directory = tmp_path_factory.mktemp("cli-audit")
    scenario = build_scenario(lasting(anvil), directory / "blobs")
    deployment = directory / "daofed.toml"
    save_deployment(deployment, scenario.federation, anvil.url, scenario.store_dir)
    return CliFederation(scenario, anvil.url, deployment)


def save_deployment(path: Path, federation: Federation, rpc_url: str, store_dir: Path) -> Path:
    """Write the deployment file a member of ``federation`` would have, as `deploy` does."""
    Deployment(
        chain_id=federation.w3.eth.chain_id,
        rpc_url=rpc_url,
        contract=federation.address,
        deploy_block=federation.deploy_block,
        abi_version=abi_version(),
        store=f"local:{store_dir}",
    ).save(path)
    return path


@dataclass(frozen=True)
class CliGoverned:
    """The governed federation on anvil (proposals switch the rule, admit a member), plus its
    URL."""

    governed: Governed
    url: str

    def target(self) -> list[str]:
        """Options naming the federation and its store without a deployment file."""
        return [
            "--rpc-url",
            self.url,
            "--contract",
            self.governed.federation.address,
            "--store",
            f"local:{self.governed.store.root}",
        ]


@pytest.fixture(scope="session")
def cli_governed(anvil: AnvilNode, governed: Governed) -> CliGoverned:
    return CliGoverned(governed, anvil.url)
