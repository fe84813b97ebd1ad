// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {FederationRounds} from "./FederationRounds.sol";
import {IFederationSecureAggregation} from "./IFederationSecureAggregation.sol";

/**
 * @title FederationSecureAggregation
 * @notice Encryption keys and the setup and recovery messages of private rounds.
 * @dev Orders and records messages only; their contents are checked off-chain. A member's
 * latest setup and recovery rounds share one slot, rewritten every private round, as the
 * round logic records submissions in the member's slot.
 */
abstract contract FederationSecureAggregation is FederationRounds, IFederationSecureAggregation {
    /// @dev The latest round in which a member posted its setup and its recovery message.
    struct Posts {
        uint40 lastShares;
        uint40 lastRecovery;
    }

    mapping(address account => bytes32) private _encryptionKeys;
    mapping(address member => Posts) private _posts;

    /// @inheritdoc IFederationSecureAggregation
    function setEncryptionKey(bytes32 key) external {
        if (key == 0) revert ZeroEncryptionKey();
        _checkCurrentOrComing(msg.sender);
        _encryptionKeys[msg.sender] = key;
        emit EncryptionKeySet(msg.sender, key);
    }

    /// @inheritdoc IFederationSecureAggregation
    function postShares(uint64 round, bytes32 digest, string calldata cid) external {
        _checkBlob(digest, cid);
        (Round storage r, Member storage m) = _enter(round);
        _expectPhase(round, r, Phase.Submit);
        uint40 deadline = _setupDeadline(round);
        if (block.timestamp >= deadline) revert SetupClosed(round, deadline);
        if (m.lastSubmitted == round || m.lastCommitted == round) {
            revert AlreadySubmitted(round, msg.sender);
        }
        Posts storage p = _posts[msg.sender];
        if (p.lastShares == round) revert SharesAlreadyPosted(round, msg.sender);

        p.lastShares = uint40(round); // exact: `round` is the current round
        emit SharesPosted(round, msg.sender, digest, cid);
    }

    /// @inheritdoc IFederationSecureAggregation
    function postRecovery(uint64 round, bytes32 digest, string calldata cid) external {
        _checkBlob(digest, cid);
        (Round storage r, ) = _enter(round);
        _expectPhase(round, r, Phase.Vote);
        Posts storage p = _posts[msg.sender];
        if (p.lastRecovery == round) revert RecoveryAlreadyPosted(round, msg.sender);

        p.lastRecovery = uint40(round);
        emit RecoveryPosted(round, msg.sender, digest, cid);
    }

    /// @inheritdoc IFederationSecureAggregation
    function encryptionKey(address account) external view returns (bytes32) {
        return _encryptionKeys[account];
    }

    /// @inheritdoc IFederationSecureAggregation
    function setupDeadline(uint64 round) external view returns (uint64) {
        return _setupDeadline(round);
    }

    /// @inheritdoc IFederationSecureAggregation
    function hasPostedShares(uint64 round, address account) external view returns (bool) {
        return round != 0 && _posts[account].lastShares == round;
    }

    /// @inheritdoc IFederationSecureAggregation
    function hasPostedRecovery(uint64 round, address account) external view returns (bool) {
        return round != 0 && _posts[account].lastRecovery == round;
    }
}
