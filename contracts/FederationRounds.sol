// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {FederationMembership} from "./FederationMembership.sol";
import {IFederation} from "./IFederation.sol";

/**
 * @title FederationRounds
 * @notice The round logic: submissions, votes, acceptance and closing of expired rounds.
 * @dev Reads members and parameters from {FederationMembership} only when a round opens
 * (snapshot) or to check the caller, so governance can change them at any time without
 * touching a running round. Exactly one round is open (outcome Pending) at a time: the
 * current one. Submit and vote each write one bitmap word and one counter.
 */
abstract contract FederationRounds is FederationMembership {
    enum Outcome {
        Pending,
        Accepted,
        Closed
    }

    /// @dev Everything but the base digest packs into one slot (40-bit timestamps last
    /// until the year 36812), so submitting reads and writes a single round slot.
    struct Round {
        bytes32 baseDigest;
        uint40 startTime; // 0: not opened
        uint40 submitDeadline;
        uint40 voteDeadline;
        uint32 configVersion;
        uint32 quorum;
        uint32 memberCount;
        uint32 submissions;
        Outcome outcome;
    }

    /// @dev The flags of member index i are in word i / 128 of its round: "submitted" at bit
    /// i % 128 and "voted" 128 bits higher, so a vote usually writes a word that the same
    /// member's submission already made nonzero (cheaper than a fresh slot).
    uint256 private constant _FLAGS_PER_WORD = 128;
    uint256 private constant _SUBMITTED = 0;
    uint256 private constant _VOTED = 128;

    uint64 private immutable _deploymentBlock;

    uint64 private _currentRound;
    string private _baseCid; // where to fetch the current round's base model
    mapping(uint64 round => Round) private _rounds;
    mapping(uint64 round => mapping(uint256 word => uint256)) private _flags;
    mapping(uint64 round => mapping(bytes32 digest => uint32)) private _tallies;

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
        if (numSamples == 0) revert ZeroSamples();
        (Round storage r, uint256 index) = _enter(round, Phase.Submit);
        if (!_raiseFlag(round, index, _SUBMITTED)) revert AlreadySubmitted(round, msg.sender);

        ++r.submissions;
        emit UpdateSubmitted(round, msg.sender, digest, cid, numSamples);
    }

    /// @inheritdoc IFederation
    function voteAggregate(uint64 round, bytes32 digest, string calldata cid) external {
        _checkBlob(digest, cid);
        (Round storage r, uint256 index) = _enter(round, Phase.Vote);
        if (!_raiseFlag(round, index, _VOTED)) revert AlreadyVoted(round, msg.sender);

        uint32 votes = ++_tallies[round][digest];
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
        info.voteDeadline = r.voteDeadline;
        info.configVersion = r.configVersion;
        info.quorum = r.quorum;
        info.memberCount = r.memberCount;
        info.submissions = r.submissions;
        info.phase = _phaseOf(r);
    }

    /// @inheritdoc IFederation
    function currentBase() external view returns (bytes32 digest, string memory cid) {
        return (_rounds[_currentRound].baseDigest, _baseCid);
    }

    /// @inheritdoc IFederation
    function tally(uint64 round, bytes32 digest) external view returns (uint32) {
        return _tallies[round][digest];
    }

    /// @inheritdoc IFederation
    function hasSubmitted(uint64 round, address account) external view returns (bool) {
        return _hasFlag(round, account, _SUBMITTED);
    }

    /// @inheritdoc IFederation
    function hasVoted(uint64 round, address account) external view returns (bool) {
        return _hasFlag(round, account, _VOTED);
    }

    /// @inheritdoc IFederation
    function ruleOf(uint64 round) external view returns (string memory) {
        return config(_rounds[round].configVersion).rule;
    }

    /// @inheritdoc IFederation
    function deploymentBlock() external view returns (uint64) {
        return _deploymentBlock;
    }

    /// @dev Open the next round on `base` (fetched from `cid`) with the latest config and members.
    function _openRound(bytes32 base, string memory cid) internal {
        uint64 round = ++_currentRound;
        (uint32 version, Config storage c) = _latestConfig();
        uint40 start = uint40(block.timestamp);
        uint40 submitDeadline = start + c.submitWindow;
        uint40 voteDeadline = submitDeadline + c.voteWindow;
        uint32 count = memberCount();

        _rounds[round] = Round({
            baseDigest: base,
            startTime: start,
            submitDeadline: submitDeadline,
            voteDeadline: voteDeadline,
            configVersion: version,
            quorum: c.quorum,
            memberCount: count,
            submissions: 0,
            outcome: Outcome.Pending
        });
        _baseCid = cid;
        emit RoundOpened(round, base, cid, submitDeadline, voteDeadline, c.quorum, count, version);
    }

    /// @dev The caller's member index and `round`, after checking the caller is a member of
    /// `round`, `round` is the current round and it is in phase `expected`.
    function _enter(uint64 round, Phase expected)
        private
        view
        returns (Round storage r, uint256 index)
    {
        index = _memberIndex(msg.sender, round);
        r = _rounds[round];
        // Only the current round is opened and pending: no need to read _currentRound here.
        if (r.startTime == 0 || r.outcome != Outcome.Pending) revert WrongRound(round, _currentRound);
        Phase current = _phaseOf(r);
        if (current != expected) revert WrongPhase(round, current, expected);
    }

    function _phaseOf(Round storage r) private view returns (Phase) {
        if (r.startTime == 0) return Phase.None;
        if (r.outcome == Outcome.Accepted) return Phase.Accepted;
        if (r.outcome == Outcome.Closed) return Phase.Closed;
        if (block.timestamp < r.submitDeadline && r.submissions < r.memberCount) return Phase.Submit;
        if (block.timestamp < r.voteDeadline) return Phase.Vote;
        return Phase.Expired;
    }

    /// @dev Set flag `offset` (_SUBMITTED or _VOTED) of member `index` in `round`; false if already set.
    function _raiseFlag(uint64 round, uint256 index, uint256 offset) private returns (bool) {
        uint256 word = index / _FLAGS_PER_WORD;
        uint256 mask = 1 << (offset + index % _FLAGS_PER_WORD);
        uint256 flags = _flags[round][word];
        if (flags & mask != 0) return false;
        _flags[round][word] = flags | mask;
        return true;
    }

    function _hasFlag(uint64 round, address account, uint256 offset) private view returns (bool) {
        (bool admitted, uint256 index) = _accountIndex(account);
        if (!admitted) return false;
        uint256 mask = 1 << (offset + index % _FLAGS_PER_WORD);
        return _flags[round][index / _FLAGS_PER_WORD] & mask != 0;
    }

    function _checkBlob(bytes32 digest, string calldata cid) private pure {
        if (digest == 0) revert ZeroDigest();
        if (bytes(cid).length == 0) revert EmptyCid();
    }
}
