// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {FederationRounds} from "./FederationRounds.sol";
import {IFederationGovernance} from "./IFederationGovernance.sol";

/**
 * @title FederationGovernance
 * @notice Proposals decided by member vote: the only way members and round parameters
 * change after the constructor.
 * @dev A proposal snapshots the current round: its members vote, a strict majority of them
 * is the number of yes votes needed, its config's voting period sets the voting end, and
 * the latest config version is what a parameter proposal changes. Votes are counted
 * in the proposal's slot and recorded in a bitmap keyed by member index, so no transaction
 * loops over members. Executing calls the internal setters of {FederationMembership},
 * which apply every change from the round after the current one.
 */
abstract contract FederationGovernance is FederationRounds, IFederationGovernance {
    /// @dev One slot plus the encoded argument. `voteEnd` 0: no such proposal.
    struct Proposal {
        ProposalKind kind;
        bool executed;
        uint64 round;
        uint40 voteEnd;
        uint32 votesNeeded;
        uint32 yes;
        uint32 no;
        uint32 configVersion;
        bytes data;
    }

    /// @notice How long after its voting end a proposal that carried may be executed.
    uint256 public constant EXECUTION_PERIOD = 14 days;

    uint256 private constant _BALLOTS_PER_WORD = 256;

    uint256 private _proposalCount;
    mapping(uint256 proposalId => Proposal) private _proposals;
    mapping(uint256 proposalId => mapping(uint256 word => uint256)) private _ballots;

    /// @inheritdoc IFederationGovernance
    function proposeAddMember(address account) external returns (uint256) {
        _checkAddMember(account);
        return _propose(ProposalKind.AddMember, abi.encode(account));
    }

    /// @inheritdoc IFederationGovernance
    function proposeRemoveMember(address account) external returns (uint256) {
        _checkRemoveMember(account);
        return _propose(ProposalKind.RemoveMember, abi.encode(account));
    }

    /// @inheritdoc IFederationGovernance
    function proposeQuorum(uint32 quorum) external returns (uint256) {
        Config memory c = _nextConfig();
        c.quorum = quorum;
        _checkConfig(c);
        return _propose(ProposalKind.SetQuorum, abi.encode(quorum));
    }

    /// @inheritdoc IFederationGovernance
    function proposeWindows(uint32 submitWindow, uint32 voteWindow, uint32 revealWindow)
        external
        returns (uint256)
    {
        Config memory c = _nextConfig();
        (c.submitWindow, c.voteWindow, c.revealWindow) = (submitWindow, voteWindow, revealWindow);
        _checkConfig(c);
        return _propose(ProposalKind.SetWindows, abi.encode(submitWindow, voteWindow, revealWindow));
    }

    /// @inheritdoc IFederationGovernance
    function proposeRule(string calldata rule) external returns (uint256) {
        Config memory c = _nextConfig();
        c.rule = rule;
        _checkConfig(c);
        return _propose(ProposalKind.SetRule, abi.encode(rule));
    }

    /// @inheritdoc IFederationGovernance
    function proposeCommitReveal(bool enabled) external returns (uint256) {
        return _propose(ProposalKind.SetCommitReveal, abi.encode(enabled));
    }

    /// @inheritdoc IFederationGovernance
    function proposeVotingPeriod(uint32 votingPeriod) external returns (uint256) {
        Config memory c = _nextConfig();
        c.votingPeriod = votingPeriod;
        _checkConfig(c);
        return _propose(ProposalKind.SetVotingPeriod, abi.encode(votingPeriod));
    }

    /// @inheritdoc IFederationGovernance
    function proposeMaxSamples(uint64 maxSamples) external returns (uint256) {
        Config memory c = _nextConfig();
        c.maxSamples = maxSamples;
        _checkConfig(c);
        return _propose(ProposalKind.SetMaxSamples, abi.encode(maxSamples));
    }

    /// @inheritdoc IFederationGovernance
    function voteProposal(uint256 proposalId, bool support) external {
        Proposal storage p = _proposals[proposalId];
        _expectState(proposalId, p, ProposalState.Active);
        uint256 index = _member(msg.sender, p.round).index;
        uint256 word = index / _BALLOTS_PER_WORD;
        uint256 mask = 1 << (index % _BALLOTS_PER_WORD);
        uint256 ballots = _ballots[proposalId][word];
        if (ballots & mask != 0) revert ProposalAlreadyVoted(proposalId, msg.sender);
        _ballots[proposalId][word] = ballots | mask;

        (uint32 yes, uint32 no) = support ? (p.yes + 1, p.no) : (p.yes, p.no + 1);
        (p.yes, p.no) = (yes, no);
        emit ProposalVoted(proposalId, msg.sender, support, yes, no);
    }

    /// @inheritdoc IFederationGovernance
    function execute(uint256 proposalId) external {
        Proposal storage p = _proposals[proposalId];
        _expectState(proposalId, p, ProposalState.Succeeded);
        p.executed = true;

        ProposalKind kind = p.kind;
        bytes memory data = p.data;
        if (kind == ProposalKind.AddMember) {
            _addMember(abi.decode(data, (address)));
        } else if (kind == ProposalKind.RemoveMember) {
            _removeMember(abi.decode(data, (address)));
        } else {
            Config memory c = _nextConfig();
            if (kind == ProposalKind.SetQuorum) {
                c.quorum = abi.decode(data, (uint32));
            } else if (kind == ProposalKind.SetWindows) {
                (c.submitWindow, c.voteWindow, c.revealWindow) =
                    abi.decode(data, (uint32, uint32, uint32));
            } else if (kind == ProposalKind.SetRule) {
                c.rule = abi.decode(data, (string));
            } else if (kind == ProposalKind.SetCommitReveal) {
                c.commitReveal = abi.decode(data, (bool));
            } else if (kind == ProposalKind.SetVotingPeriod) {
                c.votingPeriod = abi.decode(data, (uint32));
            } else {
                c.maxSamples = abi.decode(data, (uint64));
            }
            _setConfig(c);
        }
        emit ProposalExecuted(proposalId);
    }

    /// @inheritdoc IFederationGovernance
    function proposalState(uint256 proposalId) external view returns (ProposalState) {
        return _stateOf(_proposals[proposalId]);
    }

    /// @inheritdoc IFederationGovernance
    function proposal(uint256 proposalId) external view returns (ProposalInfo memory info) {
        Proposal storage p = _proposals[proposalId];
        info.kind = p.kind;
        info.state = _stateOf(p);
        info.round = p.round;
        info.voteEnd = p.voteEnd;
        info.votesNeeded = p.votesNeeded;
        info.yes = p.yes;
        info.no = p.no;
        info.data = p.data;
        info.configVersion = p.configVersion;
        info.executeBy = p.voteEnd == 0 ? 0 : p.voteEnd + uint64(EXECUTION_PERIOD);
    }

    /// @inheritdoc IFederationGovernance
    function proposalCount() external view returns (uint256) {
        return _proposalCount;
    }

    /// @inheritdoc IFederationGovernance
    function hasVotedOn(uint256 proposalId, address account) external view returns (bool) {
        Member storage m = _record(account);
        if (m.fromRound == 0) return false; // never admitted
        uint256 index = m.index;
        uint256 mask = 1 << (index % _BALLOTS_PER_WORD);
        return _ballots[proposalId][index / _BALLOTS_PER_WORD] & mask != 0;
    }

    /// @dev Record a proposal by the caller, who must be a member of the current round: a
    /// majority of that round's members must carry it, within its config's voting period.
    function _propose(ProposalKind kind, bytes memory data) private returns (uint256 proposalId) {
        uint64 round = currentRound();
        _member(msg.sender, round);
        (uint32 roundMembers, uint32 roundVersion) = _roundSnapshot(round);
        uint32 votesNeeded = roundMembers / 2 + 1;
        uint40 voteEnd = uint40(block.timestamp) + _configAt(roundVersion).votingPeriod;
        uint32 latestVersion = configVersion();

        proposalId = ++_proposalCount;
        _proposals[proposalId] = Proposal({
            kind: kind,
            executed: false,
            round: round,
            voteEnd: voteEnd,
            votesNeeded: votesNeeded,
            yes: 0,
            no: 0,
            configVersion: latestVersion,
            data: data
        });
        emit ProposalCreated(
            proposalId, msg.sender, kind, data, round, voteEnd, votesNeeded, latestVersion
        );
    }

    /// @dev A copy of the latest config, to change one field of and pass to {_setConfig}.
    function _nextConfig() private view returns (Config memory) {
        (, Config storage c) = _latestConfig();
        return c;
    }

    function _expectState(uint256 proposalId, Proposal storage p, ProposalState expected)
        private
        view
    {
        ProposalState current = _stateOf(p);
        if (current != expected) revert UnexpectedProposalState(proposalId, current, expected);
    }

    /// @dev A majority of the eligible members voting yes also means more yes than no.
    function _stateOf(Proposal storage p) private view returns (ProposalState) {
        uint256 voteEnd = p.voteEnd;
        if (voteEnd == 0) return ProposalState.None;
        if (p.executed) return ProposalState.Executed;
        if (block.timestamp < voteEnd) return ProposalState.Active;
        if (p.yes < p.votesNeeded) return ProposalState.Defeated;
        if (_changesConfig(p.kind) && p.configVersion != configVersion()) {
            return ProposalState.Stale;
        }
        if (block.timestamp >= voteEnd + EXECUTION_PERIOD) return ProposalState.Expired;
        return ProposalState.Succeeded;
    }

    function _changesConfig(ProposalKind kind) private pure returns (bool) {
        return kind != ProposalKind.AddMember && kind != ProposalKind.RemoveMember;
    }
}
