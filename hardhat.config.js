// Hardhat 2 for the Solidity tests in tests/contracts/ and a local node (`npx hardhat node`).
//
// Offline: Hardhat normally downloads solc; here the compile subtask that finds a compiler
// returns the npm `solc` package (solc-js, pinned in package.json) instead. The version and
// settings are the ones of src/daofed/chain/compile.py, so Hardhat builds the very bytecode
// the Python package ships (tests/contracts/Federation.test.js checks that).
"use strict";

require("@nomicfoundation/hardhat-ethers");
require("@nomicfoundation/hardhat-chai-matchers");

const { subtask } = require("hardhat/config");
const { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } = require("hardhat/builtin-tasks/task-names");
const solc = require("solc");

const SOLC_VERSION = "0.8.37"; // compile.py: SOLC_VERSION
const SOLC_SETTINGS = {
  optimizer: { enabled: true, runs: 200 }, // compile.py: OPTIMIZER_RUNS
  viaIR: true, // compile.py: VIA_IR
  evmVersion: "cancun", // compile.py: EVM_VERSION
};

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async ({ solcVersion }, _hre, runSuper) => {
  const bundled = solc.version(); // e.g. "0.8.37+commit.xxxxxxxx.Emscripten.clang"
  if (solcVersion !== SOLC_VERSION || !bundled.startsWith(`${SOLC_VERSION}+`)) {
    throw new Error(
      `Hardhat asked for solc ${solcVersion}, node_modules/solc is ${bundled}: ` +
        `daofed pins ${SOLC_VERSION}; run \`npm ci\``,
    );
  }
  return {
    compilerPath: require.resolve("solc/soljson.js"),
    isSolcJs: true,
    version: solcVersion,
    longVersion: bundled.replace(/\.Emscripten\.clang$/, ""),
  };
});

/** @type import('hardhat/config').HardhatUserConfig */
module.exports = {
  solidity: { version: SOLC_VERSION, settings: SOLC_SETTINGS },
  paths: { sources: "./contracts", tests: "./tests/contracts" },
  networks: {
    hardhat: {
      // the windows of the tests are minutes: let the chain's clock move only when told
      allowUnlimitedContractSize: false,
    },
  },
  mocha: { timeout: 60_000 },
};
