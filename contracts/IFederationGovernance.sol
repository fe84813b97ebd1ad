// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title IFederationGovernance
 * @notice The members govern their federation: who is a member and every round parameter
 * change only by a proposal the members vote for. Nobody holds a privileged role.
 *
 * A member of the current round proposes one change (see {ProposalKind}). The proposal
 * snapshots who may vote (the members of that round) and how many yes votes it needs: a
 * strict majority of those members, whoever turns up. Governance is thus decided by the
 * members, not by attendance, and never by the round quorum: a federation whose quorum is
 * every member can still lower it, or remove a member whose key is lost, with the votes of
 * a majority. The proposal is open for votes for the voting period of that round's config;
 * each eligible member votes once, yes or no. When the voting period is over the proposal
 * has succeeded if it got the votes needed; anyone may then {execute} it, once, within
 * {EXECUTION_PERIOD} after its voting end (as in Compound's timelock grace period). After
 * that it has expired and never executes. A proposal that did not get the votes is
 * defeated and never executes. An executed change takes effect from the round after the
 * current one.
 *
 * A parameter proposal (any kind but AddMember and RemoveMember) is voted against the
 * config version of its time and changes one field of it. Once another config version
 * takes over, the proposal is stale and never executes, so an old decision cannot undo a
 * newer one: propose again against the new config.
 *
 * Arguments are checked when proposing and again when executing: a proposal that became
 * impossible in between (say, two removals that together would leave fewer members than
 * the quorum) reverts on execution and stays executable until its execution period ends.
 */
interface IFederationGovernance {
    /**
     * @notice What a proposal changes; its `data` is the ABI encoding of the argument(s):
     * `AddMember`/`RemoveMember`: (address account); `SetQuorum`: (uint32 quorum);
     * `SetWindows`: (uint32 submitWindow, uint32 voteWindow, uint32 revealWindow);
     * `SetRule`: (string rule); `SetCommitReveal`: (bool enabled);
     * `SetVotingPeriod`: (uint32 votingPeriod); `SetMaxSamples`: (uint64 maxSamples).
     */
    enum ProposalKind {
        AddMember,
        RemoveMember,
        SetQuorum,
        SetWindows,
        SetRule,
        SetCommitReveal,
        SetVotingPeriod,
        SetMaxSamples
    }

    /**
     * @notice Where a proposal stands. Derived by {proposalState} from its votes, voting end
     * and execution, never stored, so it cannot disagree with them.
     * @dev `None`: no such proposal. `Active`: open for votes. `Defeated`: voting is over
     * without yes votes from a majority of the members. `Succeeded`: voting is over, the
     * proposal carried and may be executed by anyone until its `executeBy`. `Executed`:
     * done. `Expired`: carried but not executed before `executeBy`. `Stale`: a parameter
     * proposal that carried (or may still) while another config version took over since it
     * was proposed. The last two come last so the values of the others stay what they were.
     */
    enum ProposalState {
        None,
        Active,
        Defeated,
        Succeeded,
        Executed,
        Expired,
        Stale
    }

    /// @notice Everything about one proposal, see {proposal}; the proposer is in {ProposalCreated}.
    struct ProposalInfo {
        ProposalKind kind;
        ProposalState state;
        uint64 round; // the members of this round may vote
        uint64 voteEnd; // votes are accepted before this time
        uint32 votesNeeded; // yes votes it needs: a strict majority of the members of `round`
        uint32 yes;
        uint32 no;
        bytes data; // the ABI-encoded argument, see {ProposalKind}
        uint32 configVersion; // the config version it was voted against
        uint64 executeBy; // it can be executed before this time: voteEnd + EXECUTION_PERIOD
    }

    /**
     * @notice `proposer` proposed the change `kind` with argument `data` (see
     * {ProposalKind}); members of round `round` vote on it until `voteEnd`, and it needs
     * `votesNeeded` yes votes. It was made while config `configVersion` was the latest.
     */
    event ProposalCreated(
        uint256 indexed proposalId,
        address indexed proposer,
        ProposalKind kind,
        bytes data,
        uint64 round,
        uint64 voteEnd,
        uint32 votesNeeded,
        uint32 configVersion
    );

    /// @notice `voter` voted yes (`support`) or no on proposal `proposalId`, which now has these counts.
    event ProposalVoted(
        uint256 indexed proposalId, address indexed voter, bool support, uint32 yes, uint32 no
    );

    /// @notice Proposal `proposalId` was executed; its change is in the events emitted with this one.
    event ProposalExecuted(uint256 indexed proposalId);

    /// @notice Proposal `proposalId` is `current`; the call needs it `expected`.
    error UnexpectedProposalState(
        uint256 proposalId, ProposalState current, ProposalState expected
    );

    /// @notice `voter` has already voted on proposal `proposalId`.
    error ProposalAlreadyVoted(uint256 proposalId, address voter);

    /**
     * @notice Propose to admit `account` from the round after the one the proposal executes in.
     * @dev Requires: caller is a member of the current round; `account` is not zero and not
     * a member of the coming rounds. Emits {ProposalCreated}.
     * @return proposalId the new proposal's id (ids count up from 1).
     */
    function proposeAddMember(address account) external returns (uint256 proposalId);

    /**
     * @notice Propose to remove `account` from the round after the one the proposal executes in.
     * @dev Requires: caller is a member of the current round; `account` is a member of the
     * coming rounds. Executing it also requires the quorum to stay reachable without it: to
     * remove a member of a federation whose quorum is every member (say, one whose key is
     * lost), propose a lower quorum alongside and execute that first. Emits
     * {ProposalCreated}.
     */
    function proposeRemoveMember(address account) external returns (uint256 proposalId);

    /**
     * @notice Propose a new quorum: the votes for one aggregate that accept it.
     * @dev Requires: caller is a member of the current round; 1 <= `quorum` <= members of
     * the coming rounds. Emits {ProposalCreated}.
     */
    function proposeQuorum(uint32 quorum) external returns (uint256 proposalId);

    /**
     * @notice Propose new round windows, in seconds.
     * @dev Requires: caller is a member of the current round; every window from 1 second to
     * 30 days (the reveal window counts only in rounds with commit-reveal). Emits
     * {ProposalCreated}.
     */
    function proposeWindows(uint32 submitWindow, uint32 voteWindow, uint32 revealWindow)
        external
        returns (uint256 proposalId);

    /**
     * @notice Propose a new aggregation rule spec, e.g. "median" or "multi-krum:f=1,m=3".
     * @dev Requires: caller is a member of the current round; `rule` is 1 to 256 bytes. The
     * contract does not parse it: members check it off-chain before voting yes (daofed's
     * client refuses to propose a spec it cannot parse). Emits {ProposalCreated}.
     */
    function proposeRule(string calldata rule) external returns (uint256 proposalId);

    /**
     * @notice Propose to switch commit-reveal of updates on or off.
     * @dev Requires: caller is a member of the current round. Emits {ProposalCreated}.
     */
    function proposeCommitReveal(bool enabled) external returns (uint256 proposalId);

    /**
     * @notice Propose how long later proposals are open for votes, in seconds.
     * @dev Requires: caller is a member of the current round; `votingPeriod` from 1 second
     * to 30 days. Emits {ProposalCreated}.
     */
    function proposeVotingPeriod(uint32 votingPeriod) external returns (uint256 proposalId);

    /**
     * @notice Propose the most samples one update may claim (its weight in FedAvg).
     * @dev Requires: caller is a member of the current round; 1 <= `maxSamples` <= 2^53 - 1.
     * Emits {ProposalCreated}.
     */
    function proposeMaxSamples(uint64 maxSamples) external returns (uint256 proposalId);

    /**
     * @notice Vote yes (`support`) or no on proposal `proposalId`.
     * @dev Requires: the proposal is Active, the caller is a member of its round and has not
     * voted on it. Emits {ProposalVoted}. Membership of the proposal's round is checked like
     * {IFederation-isMember}: an account removed and re-admitted since that round counts by
     * its latest membership only, so it may be refused; nobody outside the round is let in.
     */
    function voteProposal(uint256 proposalId, bool support) external;

    /**
     * @notice Carry out the change of the succeeded proposal `proposalId`; anyone may call it.
     * @dev Requires: the proposal is Succeeded (so its voting period is over, it is neither
     * stale nor past its `executeBy`) and the change is still valid (same checks as when
     * proposing). Emits the change's event
     * ({MemberAdded}, {MemberRemoved} or {ConfigChanged}) and {ProposalExecuted}.
     */
    function execute(uint256 proposalId) external;

    /// @notice Where proposal `proposalId` stands now.
    function proposalState(uint256 proposalId) external view returns (ProposalState);

    /// @notice Everything about proposal `proposalId` (all zero and state None if it does not exist).
    function proposal(uint256 proposalId) external view returns (ProposalInfo memory);

    /// @notice How many proposals were made: ids run from 1 to this number.
    function proposalCount() external view returns (uint256);

    /// @notice Whether `account` has voted on proposal `proposalId`.
    function hasVotedOn(uint256 proposalId, address account) external view returns (bool);
}
