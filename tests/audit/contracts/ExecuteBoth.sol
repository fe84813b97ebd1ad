// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

interface IExecute {
    function execute(uint256 proposalId) external;
}

/**
 * @title ExecuteBoth
 * @notice A test fixture anyone could deploy: it executes two succeeded proposals of a
 * federation in one transaction, so their change events share a transaction hash.
 */
contract ExecuteBoth {
    /// @notice Execute proposal `first`, then proposal `second`, of the federation at `federation`.
    function executeBoth(IExecute federation, uint256 first, uint256 second) external {
        federation.execute(first);
        federation.execute(second);
    }
}
