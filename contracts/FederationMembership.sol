// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IFederation} from "./IFederation.sol";

/**
 * @title FederationMembership
 * @notice The governed state of a federation: who is a member, and the versioned round
 * parameters. Every change takes effect from the round after the current one, so a round
 * runs to its end with the members and parameters it was opened with.
 * @dev Offers internal setters only: the constructor and a governance module decide who
 * may call them. Each account gets a fixed index on first admission; the round logic keys
 * its per-round bitmaps by that index, so no transaction loops over members.
 *
 * Invariant kept by every setter: 1 <= quorum <= member count of the coming rounds.
 */
abstract contract FederationMembership is IFederation {
    /// @dev Member of the rounds in [fromRound, untilRound). fromRound == 0: never admitted.
    struct Member {
        uint32 index;
        uint64 fromRound;
        uint64 untilRound;
    }

    uint64 private constant _FOREVER = type(uint64).max;

    mapping(address account => Member) private _members;
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

    /// @dev The index of `account` if it is a member of `round`; reverts with {NotMember} otherwise.
    function _memberIndex(address account, uint64 round) internal view returns (uint256) {
        Member storage m = _members[account];
        if (m.fromRound == 0 || round < m.fromRound || round >= m.untilRound) {
            revert NotMember(account, round);
        }
        return m.index;
    }

    /// @dev The index of `account` if it was ever admitted (`admitted` false otherwise).
    function _accountIndex(address account) internal view returns (bool admitted, uint256 index) {
        Member storage m = _members[account];
        return (m.fromRound != 0, m.index);
    }

    /// @dev The config rounds opened now use.
    function _latestConfig() internal view returns (uint32 version, Config storage c) {
        version = _configVersion;
        c = _configs[version];
    }

    /// @dev Admit `account` from the next round on. Re-admitting a member whose removal is
    /// still pending cancels the removal; an account keeps its index for life.
    function _addMember(address account) internal {
        if (account == address(0)) revert InvalidMember(account);
        Member storage m = _members[account];
        if (m.fromRound != 0 && m.untilRound == _FOREVER) revert MemberExists(account);

        uint64 next = currentRound() + 1;
        if (m.fromRound == 0) {
            m.index = uint32(_accounts.length);
            _accounts.push(account);
        }
        if (m.fromRound == 0 || m.untilRound < next) m.fromRound = next; // else: cancel the removal
        m.untilRound = _FOREVER;
        ++_memberCount;
        emit MemberAdded(account, next);
    }

    /// @dev Remove `account` from the next round on. It stays a member of the current round.
    function _removeMember(address account) internal {
        Member storage m = _members[account];
        uint64 next = currentRound() + 1;
        if (m.fromRound == 0 || m.untilRound != _FOREVER) revert NotMember(account, next);
        uint32 quorum = _configs[_configVersion].quorum;
        if (quorum > _memberCount - 1) revert InvalidQuorum(quorum, _memberCount - 1);

        m.untilRound = next;
        --_memberCount;
        emit MemberRemoved(account, next);
    }

    /// @dev Make a new config version the one of the rounds opened from the next round on.
    function _setConfig(uint32 quorum, uint32 submitWindow, uint32 voteWindow, string memory rule)
        internal
    {
        if (quorum == 0 || quorum > _memberCount) revert InvalidQuorum(quorum, _memberCount);
        if (submitWindow == 0 || voteWindow == 0) revert InvalidWindows(submitWindow, voteWindow);
        if (bytes(rule).length == 0) revert EmptyRule();

        uint32 version = ++_configVersion;
        _configs[version] = Config(quorum, submitWindow, voteWindow, rule);
        emit ConfigChanged(version, quorum, submitWindow, voteWindow, rule, currentRound() + 1);
    }
}
