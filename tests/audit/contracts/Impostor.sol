// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title Impostor
 * @notice A test fixture that is not the Federation: it emits whatever logs it is given,
 * which the tests encode as well-formed Federation events from the shipped ABI, and it
 * answers {deploymentBlock} so daofed opens it like a federation. It models an attack on
 * the audit: a round "accepted" by one vote of a non-member, in events that decode cleanly.
 */
contract Impostor {
    /// @notice The block this contract was deployed in, as the Federation reports its own.
    uint64 public immutable deploymentBlock;

    /// @notice Emit the logs `topics[i]`/`data[i]` at deployment (a federation's genesis events).
    constructor(bytes32[][] memory topics, bytes[] memory data) {
        deploymentBlock = uint64(block.number);
        emitLogs(topics, data);
    }

    /// @notice Emit one log per entry: its topics (the first is the event's signature hash) and data.
    function emitLogs(bytes32[][] memory topics, bytes[] memory data) public {
        for (uint256 i; i < topics.length; ++i) {
            _emit(topics[i], data[i]);
        }
    }

    function _emit(bytes32[] memory topics, bytes memory data) private {
        assembly ("memory-safe") {
            let t := add(topics, 32)
            let p := add(data, 32)
            let n := mload(data)
            switch mload(topics)
            case 1 { log1(p, n, mload(t)) }
            case 2 { log2(p, n, mload(t), mload(add(t, 32))) }
            case 3 { log3(p, n, mload(t), mload(add(t, 32)), mload(add(t, 64))) }
            case 4 { log4(p, n, mload(t), mload(add(t, 32)), mload(add(t, 64)), mload(add(t, 96))) }
            default { revert(0, 0) }
        }
    }
}
