// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {FederationRounds} from "./FederationRounds.sol";

/**
 * @title Federation
 * @notice A federated-learning federation: the initial members, parameters and genesis
 * model are fixed here; nobody holds a privileged role afterwards.
 * @dev Composes the modules: {FederationMembership} (governed state) and
 * {FederationRounds} (round logic). A governance module changing members and parameters
 * by member vote plugs in beside them, calling the internal setters of the membership.
 */
contract Federation is FederationRounds {
    /**
     * @param initialMembers members from round 1 on (nonzero, no duplicates).
     * @param quorum votes for one aggregate that accept it (1..number of members).
     * @param submitWindow seconds a round accepts submissions.
     * @param voteWindow seconds after the submission deadline a round accepts votes.
     * @param rule aggregation rule spec, e.g. "fedavg".
     * @param genesisDigest sha256 of the initial model's bytes: the base of round 1.
     * @param genesisCid where to fetch the initial model.
     */
    constructor(
        address[] memory initialMembers,
        uint32 quorum,
        uint32 submitWindow,
        uint32 voteWindow,
        string memory rule,
        bytes32 genesisDigest,
        string memory genesisCid
    ) {
        if (genesisDigest == 0) revert ZeroDigest();
        if (bytes(genesisCid).length == 0) revert EmptyCid();
        for (uint256 i; i < initialMembers.length; ++i) {
            _addMember(initialMembers[i]);
        }
        _setConfig(quorum, submitWindow, voteWindow, rule);
        _openRound(genesisDigest, genesisCid);
    }
}
