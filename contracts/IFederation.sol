// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title IFederation
 * @notice Rounds of federated learning run by a set of members, with no owner.
 *
 * In round `r` every member trains on its private data from the base model of `r` and
 * commits to its update with {submitUpdate} (the sha256 digest of the update's bytes, and
 * the CID or locator where to fetch them). When every member has submitted, or the
 * submission window is over, members aggregate the updates off-chain with the round's rule
 * and vote for the digest of the aggregate with {voteAggregate}. The first digest to reach
 * the round's quorum is the accepted model and the base of round `r + 1`, which opens in
 * the same transaction. A round whose vote window ends without quorum is expired: anyone
 * can {closeRound} it, which opens the next round on the same base.
 *
 * With commit-reveal on (a governed switch, snapshotted per round) members first
 * {commitUpdate} to a hash that hides their update, then {revealUpdate} it once the
 * submission phase is over, so nobody can copy or adapt to another member's update before
 * committing to their own. A revealed update is a submitted update (same event); an
 * update committed but never revealed is simply left out of the round.
 *
 * Members and parameters (quorum, windows, aggregation rule, commit-reveal, voting period)
 * are governed state, changed by member vote (see IFederationGovernance): a change takes
 * effect from the round after the current one, and every round keeps the values it was
 * opened with. Events carry every digest, CID, sample count and voter: they are the audit
 * log. Storage holds only what the contract itself reads.
 */
interface IFederation {
    /**
     * @notice Where a round stands. Derived from timestamps and counters by {phase}, never
     * stored, so it cannot disagree with them.
     * @dev `None`: not opened yet. `Submit`: before the submission deadline and not every
     * member has submitted (with commit-reveal: committed). `Reveal` (commit-reveal only):
     * commitments are over, not every committer has revealed and the reveal deadline has not
     * passed. `Vote`: submissions (and reveals) are over and the vote deadline has not
     * passed. `Accepted`: an aggregate reached quorum. `Expired`: the vote deadline passed
     * without quorum and nobody has closed the round yet. `Closed`: closed by {closeRound}.
     * `Reveal` comes last so the values of the other phases stay what they were.
     */
    enum Phase {
        None,
        Submit,
        Vote,
        Accepted,
        Expired,
        Closed,
        Reveal
    }

    /// @notice One version of the governed round parameters.
    struct Config {
        uint32 quorum; // votes for one (digest, CID) that accept a model
        uint32 submitWindow; // seconds from a round's opening to its submission deadline
        uint32 voteWindow; // seconds from the submission (or reveal) deadline to the vote deadline
        uint32 revealWindow; // seconds from the submission deadline to the reveal deadline
        uint32 votingPeriod; // seconds a governance proposal is open for votes
        bool commitReveal; // members commit to hidden updates, then reveal them
        string rule; // aggregation rule spec, e.g. "fedavg" or "trimmed-mean:beta=0.2"
        uint64 maxSamples; // the most samples one update may claim (its FedAvg weight)
    }

    /// @notice Everything a member or auditor needs to know about one round, see {roundInfo}.
    struct RoundInfo {
        bytes32 baseDigest; // the model the round trains from
        bytes32 acceptedDigest; // the aggregate accepted in this round, or zero
        uint64 startTime;
        uint64 submitDeadline; // with commit-reveal: the commitment deadline
        uint64 revealDeadline; // equals submitDeadline without commit-reveal
        uint64 voteDeadline;
        uint32 configVersion; // the Config the round was opened with
        uint32 quorum;
        uint32 memberCount; // members of this round
        uint32 commits; // commitments (commit-reveal only)
        uint32 submissions; // updates submitted, or revealed with commit-reveal
        bool commitReveal;
        Phase phase;
        uint64 maxSamples; // the most samples one update of this round may claim
    }

    /**
     * @notice Round `round` opened on the model `baseDigest` (fetch it from `baseCid`), with
     * the parameters snapshotted from config `configVersion`. Without commit-reveal
     * `revealDeadline` equals `submitDeadline`.
     */
    event RoundOpened(
        uint64 indexed round,
        bytes32 baseDigest,
        string baseCid,
        uint64 submitDeadline,
        uint64 revealDeadline,
        uint64 voteDeadline,
        uint32 quorum,
        uint32 memberCount,
        uint32 configVersion,
        bool commitReveal
    );

    /// @notice `member` committed to a hidden update of round `round`, see {updateCommitment}.
    event UpdateCommitted(uint64 indexed round, address indexed member, bytes32 commitment);

    /// @notice `member` submitted (or revealed) its update of round `round`, trained on `numSamples` samples.
    event UpdateSubmitted(
        uint64 indexed round, address indexed member, bytes32 digest, string cid, uint64 numSamples
    );

    /**
     * @notice `member` voted for the aggregate `digest` fetched from `cid`; that pair now has
     * `tally` votes (votes for the same digest with another CID count apart).
     */
    event AggregateVoted(
        uint64 indexed round, address indexed member, bytes32 indexed digest, string cid, uint32 tally
    );

    /**
     * @notice The aggregate `digest`, fetched from `cid`, reached quorum with `votes` votes: it
     * is the base of the next round. `cid` is one a quorum of members each voted for.
     */
    event ModelAccepted(uint64 indexed round, bytes32 digest, string cid, uint32 votes);

    /// @notice The expired round `round` was closed without an accepted model.
    event RoundClosed(uint64 indexed round);

    /// @notice `account` is a member from round `fromRound` on.
    event MemberAdded(address indexed account, uint64 fromRound);

    /// @notice `account` is no longer a member from round `fromRound` on.
    event MemberRemoved(address indexed account, uint64 fromRound);

    /**
     * @notice `account` published where its IPFS node listens: `addresses` is a space-separated
     * list of libp2p multiaddrs, each ending in `/p2p/<peer id>` (empty: withdrawn).
     */
    event NodeAddressesSet(address indexed account, string addresses);

    /// @notice Config `version` holds these parameters; rounds opened from `fromRound` on use it.
    event ConfigChanged(
        uint32 indexed version,
        uint32 quorum,
        uint32 submitWindow,
        uint32 voteWindow,
        uint32 revealWindow,
        uint32 votingPeriod,
        bool commitReveal,
        string rule,
        uint64 maxSamples,
        uint64 fromRound
    );

    /// @notice `account` is not a member of round `round`.
    error NotMember(address account, uint64 round);

    /// @notice `account` is already a member of the coming rounds.
    error MemberExists(address account);

    /// @notice `account` cannot be a member (the zero address).
    error InvalidMember(address account);

    /// @notice The call names round `given`, but only the current round `current` accepts it.
    error WrongRound(uint64 given, uint64 current);

    /// @notice Round `round` is in phase `current`; the call needs phase `expected`.
    error WrongPhase(uint64 round, Phase current, Phase expected);

    /// @notice `member` has already submitted its update for round `round`.
    error AlreadySubmitted(uint64 round, address member);

    /// @notice `member` has already voted in round `round`.
    error AlreadyVoted(uint64 round, address member);

    /// @notice Node addresses may take at most 1,024 bytes; these take `length`.
    error NodeAddressesTooLong(uint256 length);

    /// @notice A digest must be the sha256 of some bytes, never zero.
    error ZeroDigest();

    /// @notice A CID (where to fetch the bytes) must not be empty.
    error EmptyCid();

    /// @notice An update must claim between 1 and the round's `maxSamples` samples.
    error InvalidSampleCount(uint64 numSamples, uint64 maxSamples);

    /// @notice `quorum` must be between 1 and the `memberCount` members of the coming rounds.
    error InvalidQuorum(uint32 quorum, uint32 memberCount);

    /// @notice Every round window must last between one second and 30 days.
    error InvalidWindows(uint32 submitWindow, uint32 voteWindow, uint32 revealWindow);

    /// @notice Proposals must be open for votes between one second and 30 days.
    error InvalidVotingPeriod(uint32 votingPeriod);

    /// @notice The aggregation rule spec must be 1 to 256 bytes long; this one has `length`.
    error InvalidRuleLength(uint256 length);

    /// @notice The cap on an update's sample count must be between 1 and 2^53 - 1.
    error InvalidMaxSamples(uint64 maxSamples);

    /// @notice Round `round` runs with commit-reveal: use {commitUpdate} and {revealUpdate}.
    error CommitRevealRequired(uint64 round);

    /// @notice Round `round` runs without commit-reveal: use {submitUpdate}.
    error CommitRevealDisabled(uint64 round);

    /// @notice A commitment must be a hash, never zero.
    error ZeroCommitment();

    /// @notice `member` has already committed to an update in round `round`.
    error AlreadyCommitted(uint64 round, address member);

    /// @notice `member` made no commitment in round `round`, so it has nothing to reveal.
    error NotCommitted(uint64 round, address member);

    /// @notice What `member` revealed in round `round` hashes to `revealed`, not to its `committed` hash.
    error CommitmentMismatch(uint64 round, address member, bytes32 committed, bytes32 revealed);

    /**
     * @notice Commit to the update the caller trained in round `round`.
     * @dev Requires: caller is a member of `round`, `round` is the current round and runs
     * without commit-reveal, phase Submit, first submission of the caller in this round,
     * nonzero `digest`, nonempty `cid`, 1 <= `numSamples` <= the round's `maxSamples`. Emits
     * {UpdateSubmitted}.
     * @param digest sha256 of the update's canonical bytes.
     * @param cid where to fetch those bytes (IPFS CID, or the hex digest for a local store).
     * @param numSamples how many samples the update was trained on (weights FedAvg).
     */
    function submitUpdate(uint64 round, bytes32 digest, string calldata cid, uint64 numSamples) external;

    /**
     * @notice Commit to the update the caller trained in round `round` without showing it.
     * @dev Requires: caller is a member of `round`, `round` is the current round and runs
     * with commit-reveal, phase Submit, first commitment of the caller in this round,
     * nonzero `commitment`. Emits {UpdateCommitted}.
     * @param commitment {updateCommitment} of the round, the caller, the update's digest and
     * CID, its sample count and a secret random salt. Binding the caller and the round means a
     * copied commitment can never be revealed by anyone else; binding the sample count means
     * the FedAvg weight is fixed before anyone's update is revealed; binding the CID means
     * the reveal cannot point elsewhere. The update's bytes need not be uploaded before the
     * reveal (and should not be: a shared store would show them early).
     */
    function commitUpdate(uint64 round, bytes32 commitment) external;

    /**
     * @notice Reveal the update the caller committed to in round `round`.
     * @dev Requires: caller is a member of `round`, `round` is the current round and runs
     * with commit-reveal, phase Reveal, the caller committed and has not revealed yet,
     * {updateCommitment}(round, caller, digest, cid, numSamples, salt) equals the commitment,
     * nonzero `digest`, nonempty `cid`, 1 <= `numSamples` <= the round's `maxSamples`. Emits
     * {UpdateSubmitted}, like {submitUpdate}.
     * @param salt the salt the commitment was made with.
     */
    function revealUpdate(
        uint64 round,
        bytes32 digest,
        string calldata cid,
        uint64 numSamples,
        bytes32 salt
    ) external;

    /**
     * @notice Vote for the aggregate the caller computed for round `round`.
     * @dev Requires: caller is a member of `round`, `round` is the current round, phase
     * Vote, first vote of the caller in this round, nonzero `digest`, nonempty `cid`. Emits
     * {AggregateVoted}; when the pair (`digest`, `cid`) reaches the round's quorum also
     * {ModelAccepted} and {RoundOpened} for the next round, based on `digest` at `cid`.
     * Votes count per pair so that the next round's CID is one a quorum agreed on, never
     * the word of the one member whose vote completed the quorum: members derive the CID
     * from the bytes (see the blob stores), so honest voters agree on it.
     */
    function voteAggregate(uint64 round, bytes32 digest, string calldata cid) external;

    /**
     * @notice Close the expired round `round` and open the next one on the same base.
     * @dev Anyone may call it, so a round never stays stuck. Requires phase Expired. Emits
     * {RoundClosed} and {RoundOpened}.
     */
    function closeRound(uint64 round) external;

    /// @notice The open round (the last one opened); rounds start at 1 and only grow.
    function currentRound() external view returns (uint64);

    /// @notice The phase of round `round` now.
    function phase(uint64 round) external view returns (Phase);

    /// @notice The snapshot and state of round `round` (all zero and phase None if not opened).
    function roundInfo(uint64 round) external view returns (RoundInfo memory);

    /// @notice The base model of the current round: its digest and where to fetch it.
    function currentBase() external view returns (bytes32 digest, string memory cid);

    /// @notice Votes the aggregate `digest` at `cid` has in round `round`.
    function tally(uint64 round, bytes32 digest, string calldata cid) external view returns (uint32);

    /**
     * @notice The commitment `account` made in round `round`, or zero.
     * @dev Exact for the current round; for earlier rounds it answers for the account's
     * latest commitment only (all commitments are in the {UpdateCommitted} events).
     */
    function commitmentOf(uint64 round, address account) external view returns (bytes32);

    /**
     * @notice The commitment to the update `digest` at `cid` of `member` in round `round`,
     * trained on `numSamples` samples:
     * keccak256(abi.encode(round, member, digest, cid, numSamples, salt)).
     */
    function updateCommitment(
        uint64 round,
        address member,
        bytes32 digest,
        string calldata cid,
        uint64 numSamples,
        bytes32 salt
    ) external pure returns (bytes32);

    /**
     * @notice Whether `account` has submitted (or revealed) an update in round `round`.
     * @dev Exact for the current round; for earlier rounds it answers for the account's
     * latest submission only (all submissions are in the {UpdateSubmitted} events).
     */
    function hasSubmitted(uint64 round, address account) external view returns (bool);

    /**
     * @notice Whether `account` has voted in round `round`.
     * @dev Exact for the current round; for earlier rounds it answers for the account's
     * latest vote only (all votes are in the {AggregateVoted} events).
     */
    function hasVoted(uint64 round, address account) external view returns (bool);

    /**
     * @notice Whether `account` is a member of round `round`.
     * @dev Exact for the current and coming rounds. Membership in earlier rounds is in the
     * {MemberAdded} and {MemberRemoved} events; an account removed and added again answers
     * here for its latest membership only.
     */
    function isMember(address account, uint64 round) external view returns (bool);

    /// @notice The members of round `round`, in order of first admission. For off-chain use: loops.
    function members(uint64 round) external view returns (address[] memory);

    /**
     * @notice Publish where the caller's IPFS node listens, so the other members' nodes and
     * auditors can connect to it and exchange blobs with no central server.
     * @dev Requires: caller is a member of the current round or admitted to a coming one, and
     * `addresses` takes at most {MAX_NODE_ADDRESSES_LENGTH} bytes. Not validated further: a
     * member's own bad entry only makes its own blobs harder to reach. Emits {NodeAddressesSet}.
     * @param addresses the node's libp2p multiaddrs, space-separated, each with its
     * `/p2p/<peer id>`; empty to withdraw.
     */
    function setNodeAddresses(string calldata addresses) external;

    /// @notice Where `account`'s IPFS node listens, as it last published (empty: never).
    function nodeAddresses(address account) external view returns (string memory);

    /// @notice How many members the rounds opened from now on will have.
    function memberCount() external view returns (uint32);

    /// @notice The latest config version: the one the next opened round will use.
    function configVersion() external view returns (uint32);

    /// @notice The parameters of config `version`.
    function config(uint32 version) external view returns (Config memory);

    /// @notice The aggregation rule of round `round`.
    function ruleOf(uint64 round) external view returns (string memory);

    /// @notice The block this contract was deployed in: where event queries start.
    function deploymentBlock() external view returns (uint64);
}
