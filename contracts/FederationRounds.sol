// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {FederationMembership} from "./FederationMembership.sol";
import {IFederation} from "./IFederation.sol";

/**
 * @title FederationRounds
 * @notice The round logic: submissions (plain, or committed then revealed), votes,
 * acceptance and closing of expired rounds.
 * @dev Reads members and parameters from {FederationMembership} only when a round opens
 * (snapshot) or to check the caller, so governance can change them at any time without
 * touching a running round. Exactly one round is open (outcome Pending) at a time: the
 * current one. Submit, commit, reveal and vote each read the caller's member slot and the
 * round's state slot, and write both; commit also writes the commitment, vote the tally.
 */
abstract contract FederationRounds is FederationMembership {
    enum Outcome {
        Pending,
        Accepted,
        Closed
    }

    /**
     * @dev Everything but the base digest that submit, commit, reveal and vote read packs
     * into the second slot (40-bit timestamps last until the year 36812); the third holds
     * what views and governance read, and the sample cap submit and reveal check.
     * Commit-reveal is on exactly when the reveal deadline lies after the submission
     * deadline (a reveal window lasts at least a second).
     */
    struct Round {
        bytes32 baseDigest;
        uint40 submitDeadline;
        uint40 revealDeadline; // == submitDeadline without commit-reveal
        uint40 voteDeadline; // 0: not opened
        uint32 quorum;
        uint32 memberCount;
        uint32 commits;
        uint32 submissions; // with commit-reveal: reveals
        Outcome outcome;
        uint40 startTime;
        uint32 configVersion;
        uint64 maxSamples;
    }

    uint64 private immutable _deploymentBlock;

    uint40 private _currentRound; // checked: round numbers fit 40 bits, see {Member}
    string private _baseCid; // where to fetch the current round's base model
    mapping(uint64 round => Round) private _rounds;
    /// @dev Votes per (digest, CID) pair, keyed by {_ballotKey}.
    mapping(uint64 round => mapping(bytes32 ballot => uint32)) private _tallies;
    /// @dev A member's latest commitment; the round it belongs to is its `lastCommitted`.
    /// One slot per member, rewritten every round (cheaper than a fresh slot per round).
    mapping(address member => bytes32) private _commitments;

    constructor() {
        _deploymentBlock = uint64(block.number);
    }

    /// @inheritdoc FederationMembership
    function currentRound() public view override returns (uint64) {
        return _currentRound;
    }

    /// @inheritdoc IFederation
    function submitUpdate(uint64 round, bytes32 digest, string calldata cid, uint64 numSamples)
        external
    {
        _checkBlob(digest, cid);
        (Round storage r, Member storage m) = _enter(round);
        if (_commitReveal(r)) revert CommitRevealRequired(round);
        _checkSamples(r, numSamples);
        _expectPhase(round, r, Phase.Submit);
        if (m.lastSubmitted == round) revert AlreadySubmitted(round, msg.sender);

        m.lastSubmitted = uint40(round); // exact: `round` is the current round
        unchecked {
            ++r.submissions; // < memberCount in phase Submit
        }
        emit UpdateSubmitted(round, msg.sender, digest, cid, numSamples);
    }

    /// @inheritdoc IFederation
    function commitUpdate(uint64 round, bytes32 commitment) external {
        if (commitment == 0) revert ZeroCommitment();
        (Round storage r, Member storage m) = _enter(round);
        if (!_commitReveal(r)) revert CommitRevealDisabled(round);
        _expectPhase(round, r, Phase.Submit);
        if (m.lastCommitted == round) revert AlreadyCommitted(round, msg.sender);

        m.lastCommitted = uint40(round);
        _commitments[msg.sender] = commitment;
        unchecked {
            ++r.commits; // < memberCount in phase Submit
        }
        emit UpdateCommitted(round, msg.sender, commitment);
    }

    /// @inheritdoc IFederation
    function revealUpdate(
        uint64 round,
        bytes32 digest,
        string calldata cid,
        uint64 numSamples,
        bytes32 salt
    ) external {
        _checkBlob(digest, cid);
        (Round storage r, Member storage m) = _enter(round);
        if (!_commitReveal(r)) revert CommitRevealDisabled(round);
        _checkSamples(r, numSamples);
        _expectPhase(round, r, Phase.Reveal);
        if (m.lastCommitted != round) revert NotCommitted(round, msg.sender);
        if (m.lastSubmitted == round) revert AlreadySubmitted(round, msg.sender);
        bytes32 committed = _commitments[msg.sender];
        bytes32 revealed = updateCommitment(round, msg.sender, digest, cid, numSamples, salt);
        if (revealed != committed) revert CommitmentMismatch(round, msg.sender, committed, revealed);

        m.lastSubmitted = uint40(round);
        unchecked {
            ++r.submissions; // < commits in phase Reveal
        }
        emit UpdateSubmitted(round, msg.sender, digest, cid, numSamples);
    }

    /// @inheritdoc IFederation
    function voteAggregate(uint64 round, bytes32 digest, string calldata cid) external {
        _checkBlob(digest, cid);
        (Round storage r, Member storage m) = _enter(round);
        _expectPhase(round, r, Phase.Vote);
        if (m.lastVoted == round) revert AlreadyVoted(round, msg.sender);

        m.lastVoted = uint40(round);
        uint32 votes;
        unchecked {
            votes = ++_tallies[round][_ballotKey(digest, cid)]; // at most one vote per member
        }
        emit AggregateVoted(round, msg.sender, digest, cid, votes);
        if (votes == r.quorum) {
            r.outcome = Outcome.Accepted;
            emit ModelAccepted(round, digest, cid, votes);
            _openRound(digest, cid);
        }
    }

    /// @inheritdoc IFederation
    function closeRound(uint64 round) external {
        Round storage r = _rounds[round];
        Phase current = _phaseOf(r);
        if (current != Phase.Expired) revert WrongPhase(round, current, Phase.Expired);

        r.outcome = Outcome.Closed;
        emit RoundClosed(round);
        _openRound(r.baseDigest, _baseCid);
    }

    /// @inheritdoc IFederation
    function phase(uint64 round) public view returns (Phase) {
        return _phaseOf(_rounds[round]);
    }

    /// @inheritdoc IFederation
    function roundInfo(uint64 round) external view returns (RoundInfo memory info) {
        Round storage r = _rounds[round];
        info.baseDigest = r.baseDigest;
        // Acceptance opens the next round on the accepted digest: no need to store it twice.
        if (r.outcome == Outcome.Accepted) info.acceptedDigest = _rounds[round + 1].baseDigest;
        info.startTime = r.startTime;
        info.submitDeadline = r.submitDeadline;
        info.revealDeadline = r.revealDeadline;
        info.voteDeadline = r.voteDeadline;
        info.configVersion = r.configVersion;
        info.quorum = r.quorum;
        info.memberCount = r.memberCount;
        info.commits = r.commits;
        info.submissions = r.submissions;
        info.commitReveal = _commitReveal(r);
        info.phase = _phaseOf(r);
        info.maxSamples = r.maxSamples;
    }

    /// @inheritdoc IFederation
    function currentBase() external view returns (bytes32 digest, string memory cid) {
        return (_rounds[_currentRound].baseDigest, _baseCid);
    }

    /// @inheritdoc IFederation
    function tally(uint64 round, bytes32 digest, string calldata cid)
        external
        view
        returns (uint32)
    {
        return _tallies[round][_ballotKey(digest, cid)];
    }

    /// @inheritdoc IFederation
    function commitmentOf(uint64 round, address account) external view returns (bytes32) {
        if (round == 0 || _record(account).lastCommitted != round) return 0;
        return _commitments[account];
    }

    /// @inheritdoc IFederation
    function updateCommitment(
        uint64 round,
        address member,
        bytes32 digest,
        string calldata cid,
        uint64 numSamples,
        bytes32 salt
    ) public pure returns (bytes32) {
        return keccak256(abi.encode(round, member, digest, cid, numSamples, salt));
    }

    /// @inheritdoc IFederation
    function hasSubmitted(uint64 round, address account) external view returns (bool) {
        return round != 0 && _record(account).lastSubmitted == round;
    }

    /// @inheritdoc IFederation
    function hasVoted(uint64 round, address account) external view returns (bool) {
        return round != 0 && _record(account).lastVoted == round;
    }

    /// @inheritdoc IFederation
    function ruleOf(uint64 round) external view returns (string memory) {
        return config(_rounds[round].configVersion).rule;
    }

    /// @inheritdoc IFederation
    function deploymentBlock() external view returns (uint64) {
        return _deploymentBlock;
    }

    /// @dev How many members round `round` was opened with, and its config version.
    function _roundSnapshot(uint64 round) internal view returns (uint32 count, uint32 version) {
        Round storage r = _rounds[round];
        return (r.memberCount, r.configVersion);
    }

    /// @dev Halfway through round `round`'s submission window (0: not opened).
    function _setupDeadline(uint64 round) internal view returns (uint40) {
        Round storage r = _rounds[round];
        if (r.voteDeadline == 0) return 0;
        return r.startTime + (r.submitDeadline - r.startTime) / 2;
    }

    /// @dev Open the next round on `base` (fetched from `cid`) with the latest config and members.
    function _openRound(bytes32 base, string memory cid) internal {
        uint40 round = ++_currentRound;
        (uint32 version, Config storage c) = _latestConfig();
        bool commitReveal = c.commitReveal;
        uint40 start = uint40(block.timestamp);
        uint40 submitDeadline = start + c.submitWindow;
        uint40 revealDeadline = commitReveal ? submitDeadline + c.revealWindow : submitDeadline;
        uint40 voteDeadline = revealDeadline + c.voteWindow;
        uint32 quorum = c.quorum;
        uint32 count = memberCount();

        _rounds[round] = Round({
            baseDigest: base,
            submitDeadline: submitDeadline,
            revealDeadline: revealDeadline,
            voteDeadline: voteDeadline,
            quorum: quorum,
            memberCount: count,
            commits: 0,
            submissions: 0,
            outcome: Outcome.Pending,
            startTime: start,
            configVersion: version,
            maxSamples: c.maxSamples
        });
        _baseCid = cid;
        emit RoundOpened(
            round,
            base,
            cid,
            submitDeadline,
            revealDeadline,
            voteDeadline,
            quorum,
            count,
            version,
            commitReveal
        );
    }

    /// @dev The round `round` and the caller's member record, after checking the caller is a
    /// member of `round` and `round` is the current round.
    function _enter(uint64 round) internal view returns (Round storage r, Member storage m) {
        m = _member(msg.sender, round);
        r = _rounds[round];
        // Only the current round is opened and pending: no need to read _currentRound here.
        if (r.voteDeadline == 0 || r.outcome != Outcome.Pending) {
            revert WrongRound(round, _currentRound);
        }
    }

    function _expectPhase(uint64 round, Round storage r, Phase expected) internal view {
        Phase current = _phaseOf(r);
        if (current != expected) revert WrongPhase(round, current, expected);
    }

    function _phaseOf(Round storage r) private view returns (Phase) {
        if (r.voteDeadline == 0) return Phase.None;
        Outcome outcome = r.outcome;
        if (outcome == Outcome.Accepted) return Phase.Accepted;
        if (outcome == Outcome.Closed) return Phase.Closed;
        bool commitReveal = _commitReveal(r);
        uint32 entered = commitReveal ? r.commits : r.submissions;
        if (block.timestamp < r.submitDeadline && entered < r.memberCount) return Phase.Submit;
        if (commitReveal && block.timestamp < r.revealDeadline && r.submissions < r.commits) {
            return Phase.Reveal;
        }
        if (block.timestamp < r.voteDeadline) return Phase.Vote;
        return Phase.Expired;
    }

    function _commitReveal(Round storage r) private view returns (bool) {
        return r.revealDeadline != r.submitDeadline;
    }

    function _checkSamples(Round storage r, uint64 numSamples) private view {
        uint64 maxSamples = r.maxSamples;
        if (numSamples == 0 || numSamples > maxSamples) {
            revert InvalidSampleCount(numSamples, maxSamples);
        }
    }

    /// @dev One key per (digest, CID) pair; unambiguous because the digest has a fixed length.
    function _ballotKey(bytes32 digest, string calldata cid) private pure returns (bytes32) {
        return keccak256(abi.encodePacked(digest, cid));
    }

    function _checkBlob(bytes32 digest, string calldata cid) internal pure {
        if (digest == 0) revert ZeroDigest();
        if (bytes(cid).length == 0) revert EmptyCid();
    }
}
