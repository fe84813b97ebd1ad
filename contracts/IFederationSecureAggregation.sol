// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title IFederationSecureAggregation
 * @notice The bulletin board of private rounds (secure aggregation, Bonawitz et al.,
 * CCS 2017), so that members see only the sum of their updates, with no server.
 *
 * A round is private when its aggregation rule says so (e.g. `fedavg:secagg=3`, 3 being
 * the threshold of the secret sharing): the rule is governed like any other, and this
 * contract needs no switch of its own. Each member registers an X25519 public key for
 * encryption with {setEncryptionKey}, and may rotate it the same way. In a private round:
 *
 * 1. Setup, in the first half of the submission window ({setupDeadline}): each member
 *    uploads its setup message (its round mask key, and shares of its secrets encrypted
 *    to each member's registered key) and records its digest with {postShares}. Who
 *    posted shares is final at the setup deadline, or once every member has.
 * 2. Each member that posted shares submits its masked update as any update
 *    ({IFederation-submitUpdate}, or commit and reveal).
 * 3. Recovery, in the vote phase: each member uploads what it reveals for the sum (shares
 *    of the submitters' self-mask seeds, shares of the mask keys of those who posted shares
 *    but did not submit) and records its digest with {postRecovery}. With as many valid
 *    revealed shares as the threshold, anyone (every member, any auditor) recomputes the
 *    sum from the public messages and nothing else, then members vote for its digest.
 *
 * The contract only orders and records the messages; members and auditors check their
 * contents off-chain, as they do updates. Digests and CIDs are as for updates: the sha256
 * of the message's bytes and where to fetch them.
 */
interface IFederationSecureAggregation {
    /// @notice `account` registered (or rotated to) the X25519 public key `key` for encryption.
    event EncryptionKeySet(address indexed account, bytes32 key);
    /// @notice `member` posted its setup message of round `round`: `digest`, fetched from `cid`.
    event SharesPosted(uint64 indexed round, address indexed member, bytes32 digest, string cid);
    /// @notice `member` posted its recovery message of round `round`: `digest`, fetched from `cid`.
    event RecoveryPosted(uint64 indexed round, address indexed member, bytes32 digest, string cid);

    /// @notice An encryption key must be an X25519 public key, never zero.
    error ZeroEncryptionKey();
    /// @notice Round `round` took setup messages until `deadline`.
    error SetupClosed(uint64 round, uint64 deadline);
    /// @notice `member` has already posted its setup message of round `round`.
    error SharesAlreadyPosted(uint64 round, address member);
    /// @notice `member` has already posted its recovery message of round `round`.
    error RecoveryAlreadyPosted(uint64 round, address member);

    /**
     * @notice Register or rotate the caller's X25519 public key, to which the other members
     * encrypt the secret shares they deal to it.
     * @dev Requires: caller is a member of the current round or admitted to a coming one,
     * nonzero `key`. A rotation applies to setup messages made after it; a member keeps its
     * former private keys for the shares already dealt to them. Emits {EncryptionKeySet}.
     */
    function setEncryptionKey(bytes32 key) external;

    /**
     * @notice Record the caller's setup message of round `round`.
     * @dev Requires: caller is a member of `round`, `round` is the current round, phase
     * Submit, before {setupDeadline}, the caller has neither submitted nor committed an
     * update in `round` (its masks depend on who posted shares) nor posted shares yet,
     * nonzero `digest`, nonempty `cid`. Emits {SharesPosted}.
     */
    function postShares(uint64 round, bytes32 digest, string calldata cid) external;

    /**
     * @notice Record the caller's recovery message of round `round`.
     * @dev Requires: caller is a member of `round`, `round` is the current round, phase
     * Vote (who submitted is final), first recovery message of the caller in `round`,
     * nonzero `digest`, nonempty `cid`. Emits {RecoveryPosted}.
     */
    function postRecovery(uint64 round, bytes32 digest, string calldata cid) external;

    /// @notice The X25519 public key `account` last registered (zero: none).
    function encryptionKey(address account) external view returns (bytes32);

    /**
     * @notice When round `round` stops taking setup messages: halfway through its
     * submission window (zero if the round has not been opened).
     */
    function setupDeadline(uint64 round) external view returns (uint64);

    /**
     * @notice Whether `account` posted its setup message in round `round`.
     * @dev Exact for the current round; for earlier rounds it answers for the account's
     * latest setup message only (all are in the {SharesPosted} events).
     */
    function hasPostedShares(uint64 round, address account) external view returns (bool);

    /**
     * @notice Whether `account` posted its recovery message in round `round`.
     * @dev Exact for the current round, as {hasPostedShares}.
     */
    function hasPostedRecovery(uint64 round, address account) external view returns (bool);
}
