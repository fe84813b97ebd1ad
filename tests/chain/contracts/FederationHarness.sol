// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Federation} from "contracts/Federation.sol";

/// @dev Tests only: exposes the internal setters a governance module will call after a
/// member vote, so the membership/config rules can be tested before governance exists.
contract FederationHarness is Federation {
    constructor(
        address[] memory initialMembers,
        uint32 quorum,
        uint32 submitWindow,
        uint32 voteWindow,
        string memory rule,
        bytes32 genesisDigest,
        string memory genesisCid
    ) Federation(initialMembers, quorum, submitWindow, voteWindow, rule, genesisDigest, genesisCid) {}

    function addMember(address account) external {
        _addMember(account);
    }

    function removeMember(address account) external {
        _removeMember(account);
    }

    function setConfig(uint32 quorum, uint32 submitWindow, uint32 voteWindow, string calldata rule)
        external
    {
        _setConfig(quorum, submitWindow, voteWindow, rule);
    }
}
