"""Governance through the Federation contract: propose, vote on and execute changes.

Members of the current round propose a change (a member to add or remove, a quorum,
windows, an aggregation rule, commit-reveal on or off, a voting period); members of that
round vote yes or no until the voting end; then anyone executes a proposal that carried.
The change applies from the round after the one it is executed in.
"""

from __future__ import annotations

from eth_account.signers.local import LocalAccount

from daofed.chain.abi import from_struct
from daofed.chain.checks import UINT32_MAX, check_address, check_uint
from daofed.chain.client import ContractClient
from daofed.chain.events import ProposalCreated, ProposalExecuted, ProposalVoted
from daofed.chain.proposals import KINDS, decode_value
from daofed.chain.values import (
    FederationConfig,
    ProposalInfo,
    ProposalKind,
    ProposalState,
    ProposalValue,
    TxResult,
)
from daofed.errors import ChainError, ConfigError


class FederationGovernance(ContractClient):
    """The governance part of a Federation: proposals, votes on them, execution."""

    # -- proposing ---------------------------------------------------------------------

    def propose(
        self, account: LocalAccount, kind: ProposalKind, value: ProposalValue
    ) -> ProposalCreated:
        """Propose the change ``kind`` with argument ``value``; return the creation event.

        ``value`` by kind: an address (ADD_MEMBER, REMOVE_MEMBER), an int (SET_QUORUM,
        SET_VOTING_PERIOD in seconds, SET_MAX_SAMPLES), a :class:`Windows` (SET_WINDOWS), a
        rule spec (SET_RULE, checked to parse) or a bool (SET_COMMIT_REVEAL); it is checked
        (:data:`~daofed.chain.proposals.KINDS`) before anything is sent. The new proposal's
        id is in ``proposal_id``.
        """
        spec = KINDS[ProposalKind(kind)]
        call = self.contract.functions[spec.function](*spec.arguments(value))
        receipt = self._transact(account, call, f"proposing to {spec.name}")
        return self._event_in(receipt, ProposalCreated)

    # -- voting and executing ----------------------------------------------------------

    def vote_proposal(self, account: LocalAccount, proposal_id: int, support: bool) -> TxResult:
        """Vote yes (``support``) or no on proposal ``proposal_id``."""
        if not isinstance(support, bool):
            raise ConfigError(f"support must be True (yes) or False (no), got {support!r}")
        call = self.contract.functions.voteProposal(_proposal_id(proposal_id), support)
        return self._send(account, call, f"voting on proposal {proposal_id}")

    def execute_proposal(self, account: LocalAccount, proposal_id: int) -> TxResult:
        """Execute the proposal ``proposal_id`` that carried (anyone may)."""
        call = self.contract.functions.execute(_proposal_id(proposal_id))
        return self._send(account, call, f"executing proposal {proposal_id}")

    # -- views -------------------------------------------------------------------------

    def proposal(self, proposal_id: int) -> ProposalInfo:
        """Return proposal ``proposal_id`` as it stands now; ChainError if there is none."""
        info = self._view("proposal", _proposal_id(proposal_id))
        state = ProposalState(info.state)
        if state is ProposalState.NONE:
            raise ChainError(
                f"there is no proposal {proposal_id}: "
                f"proposals run from 1 to {self.proposal_count()}"
            )
        kind = ProposalKind(info.kind)
        return from_struct(
            ProposalInfo,
            info,
            proposal_id=proposal_id,
            kind=kind,
            value=decode_value(kind, info.data),
            state=state,
        )

    def proposal_state(self, proposal_id: int) -> ProposalState:
        """Return where proposal ``proposal_id`` stands now (NONE: no such proposal)."""
        return ProposalState(self._view("proposalState", _proposal_id(proposal_id)))

    def proposal_count(self) -> int:
        """Count the proposals made: ids run from 1 to this number."""
        return int(self._view("proposalCount"))

    def has_voted_on(self, proposal_id: int, address: str) -> bool:
        """Tell whether ``address`` voted on proposal ``proposal_id``."""
        return bool(self._view("hasVotedOn", _proposal_id(proposal_id), check_address(address)))

    def config(self, version: int | None = None) -> FederationConfig:
        """Return the governed parameters of config ``version`` (default: the latest)."""
        version = int(self._view("configVersion")) if version is None else version
        config = self._view("config", check_uint("config version", version, UINT32_MAX))
        return from_struct(FederationConfig, config, version=version)

    # -- events ------------------------------------------------------------------------

    def proposals(self) -> list[ProposalCreated]:
        """Return every proposal made, oldest first, with its proposer and decoded argument."""
        return self.events(ProposalCreated)

    def proposal_votes(self, proposal_id: int | None = None) -> list[ProposalVoted]:
        """Return the votes on proposal ``proposal_id`` (default: on every proposal), in order."""
        if proposal_id is None:
            return self.events(ProposalVoted)
        return self.events(ProposalVoted, proposalId=_proposal_id(proposal_id))

    def executed_proposals(self) -> list[ProposalExecuted]:
        """Return every proposal execution, oldest first."""
        return self.events(ProposalExecuted)


def _proposal_id(proposal_id: int) -> int:
    return check_uint("a proposal id", proposal_id, 2**256 - 1)
