// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IFederation} from "./IFederation.sol";

/**
 * @title FederationMembership
 * @notice The governed state of a federation: who is a member, and the versioned round
 * parameters. Every change takes effect from the round after the current one, so a round
 * runs to its end with the members and parameters it was opened with.
 * @dev Offers internal setters only: the constructor and a governance module decide who
 * may call them. Each account gets a fixed index on first admission (governance keys its
 * ballot bitmaps by it) and one slot holding its membership and its latest activity, so
 * no transaction loops over members.
 *
 * Invariants kept by every setter: 1 <= quorum <= member count of the coming rounds; every
 * window and the voting period last 1 second to {MAX_PERIOD}; the rule spec is 1 to
 * {MAX_RULE_LENGTH} bytes; 1 <= maxSamples <= {MAX_SAMPLES_LIMIT}. The bounds keep a
 * proposal from holding a round or a vote open for decades, or giving one update all the
 * FedAvg weight beyond what the federation chose.
 */
abstract contract FederationMembership is IFederation {
    /**
     * @dev One account, in one slot. Member of the rounds in [fromRound, untilRound);
     * fromRound == 0: never admitted. `last*` are the latest round in which it committed,
     * submitted (or revealed) and voted: the round logic must read this slot anyway to
     * check membership, so recording activity here costs a warm write instead of a fresh
     * slot per round. Round numbers fit 40 bits: the round counter is a checked uint40.
     */
    struct Member {
        uint32 index;
        uint40 fromRound;
        uint40 untilRound;
        uint40 lastCommitted;
        uint40 lastSubmitted;
        uint40 lastVoted;
    }

    uint40 private constant _FOREVER = type(uint40).max;

    /// @notice The longest a round window or a proposal's voting period may last.
    uint32 public constant MAX_PERIOD = 30 days;

    /// @notice The longest aggregation rule spec, in bytes (real specs are a few dozen).
    uint256 public constant MAX_RULE_LENGTH = 256;

    /// @notice The highest cap on an update's sample count: 2^53 - 1, so every sample count
    /// and their sum over a round stay exact in the float64 arithmetic of the aggregation.
    uint64 public constant MAX_SAMPLES_LIMIT = 2 ** 53 - 1;

    /// @notice The longest node address list a member may publish, in bytes (a TCP
    /// multiaddr with its peer id takes about 80).
    uint256 public constant MAX_NODE_ADDRESSES_LENGTH = 1024;

    mapping(address account => Member) private _members;
    mapping(address account => string) private _nodeAddresses;
    address[] private _accounts; // by index, append-only
    uint32 private _memberCount; // members of the coming rounds

    mapping(uint32 version => Config) private _configs;
    uint32 private _configVersion;

    /// @inheritdoc IFederation
    function currentRound() public view virtual returns (uint64);

    /// @inheritdoc IFederation
    function isMember(address account, uint64 round) public view returns (bool) {
        Member storage m = _members[account];
        return m.fromRound != 0 && m.fromRound <= round && round < m.untilRound;
    }

    /// @inheritdoc IFederation
    function members(uint64 round) external view returns (address[] memory result) {
        result = new address[](_accounts.length);
        uint256 n;
        for (uint256 i; i < _accounts.length; ++i) {
            if (isMember(_accounts[i], round)) result[n++] = _accounts[i];
        }
        assembly ("memory-safe") {
            mstore(result, n) // shrink to the members found
        }
    }

    /// @inheritdoc IFederation
    function setNodeAddresses(string calldata addresses) external {
        _checkCurrentOrComing(msg.sender);
        if (bytes(addresses).length > MAX_NODE_ADDRESSES_LENGTH) {
            revert NodeAddressesTooLong(bytes(addresses).length);
        }
        _nodeAddresses[msg.sender] = addresses;
        emit NodeAddressesSet(msg.sender, addresses);
    }

    /// @inheritdoc IFederation
    function nodeAddresses(address account) external view returns (string memory) {
        return _nodeAddresses[account];
    }

    /// @inheritdoc IFederation
    function memberCount() public view returns (uint32) {
        return _memberCount;
    }

    /// @inheritdoc IFederation
    function configVersion() public view returns (uint32) {
        return _configVersion;
    }

    /// @inheritdoc IFederation
    function config(uint32 version) public view returns (Config memory) {
        return _configs[version];
    }

    /// @dev The record of `account` if it is a member of `round`; reverts with {NotMember} otherwise.
    function _member(address account, uint64 round) internal view returns (Member storage m) {
        m = _members[account];
        if (m.fromRound == 0 || round < m.fromRound || round >= m.untilRound) {
            revert NotMember(account, round);
        }
    }

    /// @dev Revert unless `account` is a member of the current round or admitted to a coming one.
    function _checkCurrentOrComing(address account) internal view {
        Member storage m = _members[account];
        uint64 round = currentRound();
        if (m.fromRound == 0 || m.untilRound <= round) revert NotMember(account, round);
    }

    /// @dev The record of `account`, member or not (all zero if never admitted).
    function _record(address account) internal view returns (Member storage) {
        return _members[account];
    }

    /// @dev Config `version`, in storage (read a field without copying the rule).
    function _configAt(uint32 version) internal view returns (Config storage) {
        return _configs[version];
    }

    /// @dev The config rounds opened now use.
    function _latestConfig() internal view returns (uint32 version, Config storage c) {
        version = _configVersion;
        c = _configs[version];
    }

    /// @dev Revert unless {_addMember} would admit `account`.
    function _checkAddMember(address account) internal view {
        if (account == address(0)) revert InvalidMember(account);
        Member storage m = _members[account];
        if (m.fromRound != 0 && m.untilRound == _FOREVER) revert MemberExists(account);
    }

    /// @dev Revert unless `account` is a member of the coming rounds. A proposal to remove it
    /// needs no more: the quorum may be lowered by another proposal before it executes.
    function _checkRemoveMember(address account) internal view {
        Member storage m = _members[account];
        if (m.fromRound == 0 || m.untilRound != _FOREVER) {
            revert NotMember(account, _nextRound());
        }
    }

    /// @dev Revert unless `c` is a valid config for the coming rounds' members.
    function _checkConfig(Config memory c) internal view {
        if (c.quorum == 0 || c.quorum > _memberCount) revert InvalidQuorum(c.quorum, _memberCount);
        if (
            !_validPeriod(c.submitWindow) || !_validPeriod(c.voteWindow)
                || !_validPeriod(c.revealWindow)
        ) {
            revert InvalidWindows(c.submitWindow, c.voteWindow, c.revealWindow);
        }
        if (!_validPeriod(c.votingPeriod)) revert InvalidVotingPeriod(c.votingPeriod);
        uint256 ruleLength = bytes(c.rule).length;
        if (ruleLength == 0 || ruleLength > MAX_RULE_LENGTH) revert InvalidRuleLength(ruleLength);
        if (c.maxSamples == 0 || c.maxSamples > MAX_SAMPLES_LIMIT) {
            revert InvalidMaxSamples(c.maxSamples);
        }
    }

    /// @dev Admit `account` from the next round on. Re-admitting a member whose removal is
    /// still pending cancels the removal; an account keeps its index for life.
    function _addMember(address account) internal {
        _checkAddMember(account);
        Member storage m = _members[account];
        uint40 next = _nextRound();
        if (m.fromRound == 0) {
            m.index = uint32(_accounts.length);
            _accounts.push(account);
        }
        if (m.fromRound == 0 || m.untilRound < next) m.fromRound = next; // else: cancel the removal
        m.untilRound = _FOREVER;
        ++_memberCount;
        emit MemberAdded(account, next);
    }

    /// @dev Remove `account` from the next round on, if the quorum stays reachable without it.
    /// It stays a member of the current round.
    function _removeMember(address account) internal {
        _checkRemoveMember(account);
        uint32 quorum = _configs[_configVersion].quorum;
        if (quorum > _memberCount - 1) revert InvalidQuorum(quorum, _memberCount - 1);
        uint40 next = _nextRound();
        _members[account].untilRound = next;
        --_memberCount;
        emit MemberRemoved(account, next);
    }

    /// @dev Make `c` a new config version, the one of the rounds opened from the next round on.
    function _setConfig(Config memory c) internal {
        _checkConfig(c);
        uint32 version = ++_configVersion;
        _configs[version] = c;
        emit ConfigChanged(
            version,
            c.quorum,
            c.submitWindow,
            c.voteWindow,
            c.revealWindow,
            c.votingPeriod,
            c.commitReveal,
            c.rule,
            c.maxSamples,
            _nextRound()
        );
    }

    function _validPeriod(uint32 seconds_) private pure returns (bool) {
        return seconds_ != 0 && seconds_ <= MAX_PERIOD;
    }

    /// @dev The round after the current one: where every change takes effect.
    function _nextRound() private view returns (uint40) {
        return uint40(currentRound()) + 1; // exact: rounds are counted in a uint40
    }
}
