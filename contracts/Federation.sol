// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {FederationGovernance} from "./FederationGovernance.sol";
import {FederationSecureAggregation} from "./FederationSecureAggregation.sol";

/**
 * @title Federation
 * @notice A federated-learning federation: the initial members, parameters and genesis
 * model are fixed here; afterwards only proposals the members vote for change them, and
 * nobody holds a privileged role.
 * @dev Composes the modules: {FederationMembership} (governed state), {FederationRounds}
 * (round logic, optionally with commit-reveal), {FederationSecureAggregation} (keys and
 * messages of private rounds) and {FederationGovernance} (proposals that call the internal
 * setters of the membership).
 */
contract Federation is FederationGovernance, FederationSecureAggregation {
    /**
     * @param initialMembers members from round 1 on (nonzero, no duplicates).
     * @param initialConfig the parameters of round 1 on: quorum (1..number of members),
     * windows and voting period (each 1 second to 30 days), commit-reveal switch,
     * aggregation rule spec (e.g. "fedavg", 1 to 256 bytes), cap on an update's sample count
     * (1 to 2^53 - 1).
     * @param genesisDigest sha256 of the initial model's bytes: the base of round 1.
     * @param genesisCid where to fetch the initial model.
     */
    constructor(
        address[] memory initialMembers,
        Config memory initialConfig,
        bytes32 genesisDigest,
        string memory genesisCid
    ) {
        if (genesisDigest == 0) revert ZeroDigest();
        if (bytes(genesisCid).length == 0) revert EmptyCid();
        for (uint256 i; i < initialMembers.length; ++i) {
            _addMember(initialMembers[i]);
        }
        _setConfig(initialConfig);
        _openRound(genesisDigest, genesisCid);
    }
}
