// The Federation contract on Hardhat's in-process network: the round lifecycle, governance
// (every kind of proposal the contract's ProposalKind enum has) and commit-reveal, seen from
// Solidity's side (ethers v6 + chai matchers). The Python tests in tests/chain cover every
// rejection on the embedded chain and anvil; these keep the contract honest for Solidity
// tooling and check Hardhat builds the shipped bytecode.
"use strict";

const { expect } = require("chai");
const { ethers } = require("hardhat");
const { loadFixture, time } = require("@nomicfoundation/hardhat-network-helpers");
const { anyValue } = require("@nomicfoundation/hardhat-chai-matchers/withArgs");
const shipped = require("../../src/daofed/chain/artifacts/Federation.json");

const Phase = { None: 0, Submit: 1, Vote: 2, Accepted: 3, Expired: 4, Closed: 5, Reveal: 6 };
const State = {
  None: 0,
  Active: 1,
  Defeated: 2,
  Succeeded: 3,
  Executed: 4,
  Expired: 5,
  Stale: 6,
};
const EXECUTION_PERIOD = 14 * 24 * 3600;

const SUBMIT_WINDOW = 600;
const VOTE_WINDOW = 600;
const REVEAL_WINDOW = 300;
const VOTING_PERIOD = 60;
const QUORUM = 3;

/** A blob reference: sha256 digest of `name` and a CIDv0-long locator. */
function blob(name) {
  const digest = ethers.sha256(ethers.toUtf8Bytes(name));
  return { digest, cid: "Qm" + digest.slice(2, 46) };
}

function config(overrides = {}) {
  return {
    quorum: QUORUM,
    submitWindow: SUBMIT_WINDOW,
    voteWindow: VOTE_WINDOW,
    revealWindow: REVEAL_WINDOW,
    votingPeriod: VOTING_PERIOD,
    commitReveal: false,
    rule: "fedavg",
    maxSamples: 1_000_000,
    ...overrides,
  };
}

async function deploy(overrides = {}) {
  const [deployer, m1, m2, m3, m4, outsider] = await ethers.getSigners();
  const members = [m1, m2, m3, m4];
  const genesis = blob("genesis");
  const Federation = await ethers.getContractFactory("Federation", deployer);
  const federation = await Federation.deploy(
    members.map((m) => m.address),
    config(overrides),
    genesis.digest,
    genesis.cid,
  );
  return { federation, members, outsider, genesis };
}

const deployPlain = () => deploy();
const deployHidden = () => deploy({ commitReveal: true });

/** The members of the contract's ProposalKind enum, in order, read from the compiler's AST. */
async function proposalKinds() {
  const source = "contracts/IFederationGovernance.sol";
  const build = await artifacts.getBuildInfo(`${source}:IFederationGovernance`);
  const found = [];
  const visit = (node) => {
    if (node?.nodeType === "EnumDefinition" && node.name === "ProposalKind") {
      found.push(...node.members.map((member) => member.name));
    }
    for (const child of node?.nodes ?? []) visit(child);
  };
  visit(build.output.sources[source].ast);
  return found;
}

/** Each kind: its propose function, arguments and ABI types, and what its execution changes. */
const KINDS = {
  AddMember: {
    propose: "proposeAddMember",
    args: ({ outsider }) => [outsider.address],
    types: ["address"],
    applied: async (federation, { outsider }) =>
      expect([
        await federation.isMember(outsider.address, 1),
        await federation.isMember(outsider.address, 2),
      ]).to.deep.equal([false, true]),
  },
  RemoveMember: {
    propose: "proposeRemoveMember",
    args: ({ members }) => [members[3].address],
    types: ["address"],
    applied: async (federation, { members }) =>
      expect([
        await federation.isMember(members[3].address, 1),
        await federation.isMember(members[3].address, 2),
      ]).to.deep.equal([true, false]),
  },
  SetQuorum: {
    propose: "proposeQuorum",
    args: () => [2],
    types: ["uint32"],
    applied: (config) => expect(config.quorum).to.equal(2n),
  },
  SetWindows: {
    propose: "proposeWindows",
    args: () => [60, 120, 30],
    types: ["uint32", "uint32", "uint32"],
    applied: (config) =>
      expect([config.submitWindow, config.voteWindow, config.revealWindow]).to.deep.equal([
        60n, 120n, 30n,
      ]),
  },
  SetRule: {
    propose: "proposeRule",
    args: () => ["median"],
    types: ["string"],
    applied: (config) => expect(config.rule).to.equal("median"),
  },
  SetCommitReveal: {
    propose: "proposeCommitReveal",
    args: () => [true],
    types: ["bool"],
    applied: (config) => expect(config.commitReveal).to.equal(true),
  },
  SetVotingPeriod: {
    propose: "proposeVotingPeriod",
    args: () => [120],
    types: ["uint32"],
    applied: (config) => expect(config.votingPeriod).to.equal(120n),
  },
  SetMaxSamples: {
    propose: "proposeMaxSamples",
    args: () => [500],
    types: ["uint64"],
    applied: (config) => expect(config.maxSamples).to.equal(500n),
  },
};
const MEMBER_KINDS = ["AddMember", "RemoveMember"];

async function submitAll(federation, members, round) {
  for (const [i, member] of members.entries()) {
    const u = blob(`u${round}-${i}`);
    await federation.connect(member).submitUpdate(round, u.digest, u.cid, 10 + i);
  }
}

describe("Federation", function () {
  let Kind; // name -> number, as the contract's ProposalKind enum has them

  before(async function () {
    Kind = Object.fromEntries((await proposalKinds()).map((name, i) => [name, i]));
  });

  it("is the bytecode the Python package ships", async function () {
    const artifact = await artifacts.readArtifact("Federation");
    expect(artifact.deployedBytecode).to.equal(shipped.deployedBytecode);
    expect(artifact.bytecode).to.equal(shipped.bytecode);
  });

  describe("deployment", function () {
    it("opens round 1 on the genesis model with a snapshot of the config", async function () {
      const { federation, members, genesis } = await loadFixture(deployPlain);
      expect(await federation.currentRound()).to.equal(1n);
      expect(await federation.phase(1)).to.equal(Phase.Submit);
      const info = await federation.roundInfo(1);
      expect(info.baseDigest).to.equal(genesis.digest);
      expect(info.quorum).to.equal(QUORUM);
      expect(info.memberCount).to.equal(4);
      expect(info.submitDeadline - info.startTime).to.equal(BigInt(SUBMIT_WINDOW));
      expect(info.revealDeadline).to.equal(info.submitDeadline);
      expect(info.commitReveal).to.equal(false);
      expect(await federation.members(1)).to.deep.equal(members.map((m) => m.address));
      expect(await federation.currentBase()).to.deep.equal([genesis.digest, genesis.cid]);
    });

    it("rejects a quorum the members cannot reach", async function () {
      const [deployer, m1] = await ethers.getSigners();
      const Federation = await ethers.getContractFactory("Federation", deployer);
      const g = blob("genesis");
      await expect(Federation.deploy([m1.address], config({ quorum: 2 }), g.digest, g.cid))
        .to.be.revertedWithCustomError(Federation, "InvalidQuorum")
        .withArgs(2, 1);
    });
  });

  describe("a round", function () {
    it("accepts the first aggregate at quorum, opening the next round on it", async function () {
      const { federation, members } = await loadFixture(deployPlain);
      await submitAll(federation, members.slice(0, 3), 1);
      expect(await federation.phase(1)).to.equal(Phase.Submit);
      await submitAll(federation, members.slice(3), 1); // the last member: votes open early
      expect(await federation.phase(1)).to.equal(Phase.Vote);

      const agg = blob("aggregate");
      const other = blob("a minority view");
      await federation.connect(members[0]).voteAggregate(1, agg.digest, agg.cid);
      await federation.connect(members[1]).voteAggregate(1, other.digest, other.cid);
      await federation.connect(members[2]).voteAggregate(1, agg.digest, agg.cid);
      await expect(federation.connect(members[3]).voteAggregate(1, agg.digest, agg.cid))
        .to.emit(federation, "AggregateVoted")
        .withArgs(1, members[3].address, agg.digest, agg.cid, 3)
        .and.to.emit(federation, "ModelAccepted")
        .withArgs(1, agg.digest, agg.cid, 3)
        .and.to.emit(federation, "RoundOpened");

      expect(await federation.phase(1)).to.equal(Phase.Accepted);
      expect((await federation.roundInfo(1)).acceptedDigest).to.equal(agg.digest);
      expect(await federation.currentRound()).to.equal(2n);
      expect((await federation.roundInfo(2)).baseDigest).to.equal(agg.digest);
    });

    it("names every rejection with its values", async function () {
      const { federation, members, outsider } = await loadFixture(deployPlain);
      const u = blob("u");
      await expect(federation.connect(outsider).submitUpdate(1, u.digest, u.cid, 1))
        .to.be.revertedWithCustomError(federation, "NotMember")
        .withArgs(outsider.address, 1);
      await federation.connect(members[0]).submitUpdate(1, u.digest, u.cid, 1);
      await expect(federation.connect(members[0]).submitUpdate(1, u.digest, u.cid, 1))
        .to.be.revertedWithCustomError(federation, "AlreadySubmitted")
        .withArgs(1, members[0].address);
      await expect(federation.connect(members[1]).voteAggregate(1, u.digest, u.cid))
        .to.be.revertedWithCustomError(federation, "WrongPhase")
        .withArgs(1, Phase.Submit, Phase.Vote);
      await expect(federation.connect(members[1]).submitUpdate(2, u.digest, u.cid, 1))
        .to.be.revertedWithCustomError(federation, "WrongRound")
        .withArgs(2, 1);
      await expect(
        federation.connect(members[1]).submitUpdate(1, ethers.ZeroHash, u.cid, 1),
      ).to.be.revertedWithCustomError(federation, "ZeroDigest");
    });

    it("expires without quorum, and anyone closes it onto the same base", async function () {
      const { federation, members, outsider, genesis } = await loadFixture(deployPlain);
      await submitAll(federation, members, 1); // votes open early, but deadlines are fixed
      await time.increaseTo((await federation.roundInfo(1)).voteDeadline);
      expect(await federation.phase(1)).to.equal(Phase.Expired);
      await expect(federation.connect(outsider).closeRound(1))
        .to.emit(federation, "RoundClosed")
        .withArgs(1);
      expect(await federation.phase(1)).to.equal(Phase.Closed);
      expect((await federation.roundInfo(2)).baseDigest).to.equal(genesis.digest);
    });
  });

  describe("governance", function () {
    it("adds a member by vote, from the next round on", async function () {
      const { federation, members, outsider } = await loadFixture(deployPlain);
      const data = ethers.AbiCoder.defaultAbiCoder().encode(["address"], [outsider.address]);
      const voteEnd = (await time.latest()) + 1 + VOTING_PERIOD;
      await expect(federation.connect(members[0]).proposeAddMember(outsider.address))
        .to.emit(federation, "ProposalCreated")
        .withArgs(1, members[0].address, Kind.AddMember, data, 1, voteEnd, 3, 1);
      expect(await federation.proposalState(1)).to.equal(State.Active);

      for (const member of members.slice(0, 2)) {
        await federation.connect(member).voteProposal(1, true);
      }
      await expect(federation.connect(members[2]).voteProposal(1, true))
        .to.emit(federation, "ProposalVoted")
        .withArgs(1, members[2].address, true, 3, 0);
      await expect(federation.connect(members[2]).voteProposal(1, false))
        .to.be.revertedWithCustomError(federation, "ProposalAlreadyVoted")
        .withArgs(1, members[2].address);
      await expect(federation.execute(1))
        .to.be.revertedWithCustomError(federation, "UnexpectedProposalState")
        .withArgs(1, State.Active, State.Succeeded);

      await time.increaseTo(voteEnd);
      expect(await federation.proposalState(1)).to.equal(State.Succeeded);
      await expect(federation.connect(outsider).execute(1))
        .to.emit(federation, "MemberAdded")
        .withArgs(outsider.address, 2)
        .and.to.emit(federation, "ProposalExecuted")
        .withArgs(1);
      expect(await federation.proposalState(1)).to.equal(State.Executed);
      expect(await federation.isMember(outsider.address, 1)).to.equal(false);
      expect(await federation.isMember(outsider.address, 2)).to.equal(true);
      const proposal = await federation.proposal(1);
      expect([proposal.yes, proposal.no, proposal.votesNeeded]).to.deep.equal([3n, 0n, 3n]);
    });

    it("never executes a proposal without a majority of the members", async function () {
      const { federation, members } = await loadFixture(deployPlain);
      await federation.connect(members[0]).proposeRule("median");
      await federation.connect(members[0]).voteProposal(1, true);
      await federation.connect(members[1]).voteProposal(1, true);
      await time.increase(VOTING_PERIOD);
      expect(await federation.proposalState(1)).to.equal(State.Defeated);
      await expect(federation.execute(1))
        .to.be.revertedWithCustomError(federation, "UnexpectedProposalState")
        .withArgs(1, State.Defeated, State.Succeeded);
      expect((await federation.config(await federation.configVersion())).rule).to.equal("fedavg");
    });

    it("lets a carried proposal expire, and a newer config make an older one stale", async function () {
      const { federation, members } = await loadFixture(deployPlain);
      await federation.connect(members[0]).proposeQuorum(2);
      await federation.connect(members[0]).proposeQuorum(4);
      for (const id of [1, 2]) {
        for (const member of members.slice(0, 3)) {
          await federation.connect(member).voteProposal(id, true);
        }
      }
      await time.increase(VOTING_PERIOD);
      await federation.execute(2);
      expect(await federation.proposalState(1)).to.equal(State.Stale);
      await expect(federation.execute(1))
        .to.be.revertedWithCustomError(federation, "UnexpectedProposalState")
        .withArgs(1, State.Stale, State.Succeeded);

      await federation.connect(members[0]).proposeRule("median");
      for (const member of members.slice(0, 3)) {
        await federation.connect(member).voteProposal(3, true);
      }
      const { executeBy } = await federation.proposal(3);
      await time.increaseTo(executeBy);
      expect(executeBy - (await federation.proposal(3)).voteEnd).to.equal(BigInt(EXECUTION_PERIOD));
      await expect(federation.execute(3))
        .to.be.revertedWithCustomError(federation, "UnexpectedProposalState")
        .withArgs(3, State.Expired, State.Succeeded);
    });

    it("covers every kind of the contract's ProposalKind enum", async function () {
      expect(Object.keys(KINDS)).to.deep.equal(Object.keys(Kind));
    });

    for (const [name, kind] of Object.entries(KINDS)) {
      it(`proposes, encodes and executes ${name}, applied from the next round`, async function () {
        const context = await loadFixture(deployPlain);
        const { federation, members } = context;
        const args = kind.args(context);
        const data = ethers.AbiCoder.defaultAbiCoder().encode(kind.types, args);
        await expect(federation.connect(members[0])[kind.propose](...args))
          .to.emit(federation, "ProposalCreated")
          .withArgs(1, members[0].address, Kind[name], data, 1, anyValue, 3, 1);
        const proposal = await federation.proposal(1);
        expect([proposal.kind, proposal.data]).to.deep.equal([BigInt(Kind[name]), data]);
        for (const member of members.slice(0, 3)) {
          await federation.connect(member).voteProposal(1, true);
        }
        await time.increase(VOTING_PERIOD);
        await expect(federation.execute(1)).to.emit(federation, "ProposalExecuted").withArgs(1);
        if (MEMBER_KINDS.includes(name)) {
          expect(await federation.configVersion()).to.equal(1n);
          await kind.applied(federation, context);
        } else {
          expect(await federation.configVersion()).to.equal(2n);
          await kind.applied(await federation.config(2), context);
          expect((await federation.roundInfo(1)).configVersion).to.equal(1n);
        }
      });
    }

    it("lets only members of the current round propose", async function () {
      const { federation, outsider } = await loadFixture(deployPlain);
      await expect(federation.connect(outsider).proposeQuorum(2))
        .to.be.revertedWithCustomError(federation, "NotMember")
        .withArgs(outsider.address, 1);
    });
  });

  describe("node addresses", function () {
    const NODE = "/ip4/10.0.0.1/tcp/4001/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo";

    it("lets a member publish, replace and withdraw its node's multiaddrs", async function () {
      const { federation, members } = await loadFixture(deployPlain);
      const [m1] = members;
      await expect(federation.connect(m1).setNodeAddresses(NODE))
        .to.emit(federation, "NodeAddressesSet")
        .withArgs(m1.address, NODE);
      expect(await federation.nodeAddresses(m1.address)).to.equal(NODE);
      const two = `${NODE} /ip6/::1/tcp/4001/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo`;
      await federation.connect(m1).setNodeAddresses(two);
      expect(await federation.nodeAddresses(m1.address)).to.equal(two);
      await expect(federation.connect(m1).setNodeAddresses(""))
        .to.emit(federation, "NodeAddressesSet")
        .withArgs(m1.address, "");
      expect(await federation.nodeAddresses(m1.address)).to.equal("");
    });

    it("refuses outsiders and lists longer than the bound", async function () {
      const { federation, members, outsider } = await loadFixture(deployPlain);
      await expect(federation.connect(outsider).setNodeAddresses(NODE))
        .to.be.revertedWithCustomError(federation, "NotMember")
        .withArgs(outsider.address, 1);
      const bound = await federation.MAX_NODE_ADDRESSES_LENGTH();
      await federation.connect(members[0]).setNodeAddresses("x".repeat(Number(bound)));
      await expect(federation.connect(members[0]).setNodeAddresses("x".repeat(Number(bound) + 1)))
        .to.be.revertedWithCustomError(federation, "NodeAddressesTooLong")
        .withArgs(bound + 1n);
    });
  });

  describe("secure aggregation", function () {
    const KEY = ethers.id("an X25519 public key");

    it("registers and rotates members' encryption keys, refusing outsiders and zero", async function () {
      const { federation, members, outsider } = await loadFixture(deployPlain);
      const [m1] = members;
      await expect(federation.connect(m1).setEncryptionKey(KEY))
        .to.emit(federation, "EncryptionKeySet")
        .withArgs(m1.address, KEY);
      const rotated = ethers.id("its next key");
      await expect(federation.connect(m1).setEncryptionKey(rotated))
        .to.emit(federation, "EncryptionKeySet")
        .withArgs(m1.address, rotated);
      expect(await federation.encryptionKey(m1.address)).to.equal(rotated);
      expect(await federation.encryptionKey(members[1].address)).to.equal(ethers.ZeroHash);
      await expect(federation.connect(outsider).setEncryptionKey(KEY))
        .to.be.revertedWithCustomError(federation, "NotMember")
        .withArgs(outsider.address, 1);
      await expect(federation.connect(m1).setEncryptionKey(ethers.ZeroHash))
        .to.be.revertedWithCustomError(federation, "ZeroEncryptionKey");
    });

    it("takes setup messages in the first half of the submission window, before the update", async function () {
      const { federation, members, outsider } = await loadFixture(deployPlain);
      const [m1, m2, m3] = members;
      const shares = blob("setup");
      const start = (await federation.roundInfo(1)).startTime;
      const deadline = await federation.setupDeadline(1);
      expect(deadline).to.equal(start + BigInt(SUBMIT_WINDOW / 2));
      expect(await federation.setupDeadline(2)).to.equal(0n);

      await expect(federation.connect(m1).postShares(1, shares.digest, shares.cid))
        .to.emit(federation, "SharesPosted")
        .withArgs(1, m1.address, shares.digest, shares.cid);
      expect(await federation.hasPostedShares(1, m1.address)).to.equal(true);
      expect(await federation.hasPostedShares(1, m2.address)).to.equal(false);
      await expect(federation.connect(m1).postShares(1, shares.digest, shares.cid))
        .to.be.revertedWithCustomError(federation, "SharesAlreadyPosted")
        .withArgs(1, m1.address);
      await expect(federation.connect(outsider).postShares(1, shares.digest, shares.cid))
        .to.be.revertedWithCustomError(federation, "NotMember")
        .withArgs(outsider.address, 1);
      await expect(federation.connect(m2).postShares(2, shares.digest, shares.cid))
        .to.be.revertedWithCustomError(federation, "WrongRound")
        .withArgs(2, 1);
      await expect(federation.connect(m2).postShares(1, ethers.ZeroHash, shares.cid))
        .to.be.revertedWithCustomError(federation, "ZeroDigest");
      await expect(federation.connect(m2).postShares(1, shares.digest, ""))
        .to.be.revertedWithCustomError(federation, "EmptyCid");

      const update = blob("masked update");
      await federation.connect(m2).submitUpdate(1, update.digest, update.cid, 5);
      await expect(federation.connect(m2).postShares(1, shares.digest, shares.cid))
        .to.be.revertedWithCustomError(federation, "AlreadySubmitted")
        .withArgs(1, m2.address);

      await time.increaseTo(deadline);
      await expect(federation.connect(m3).postShares(1, shares.digest, shares.cid))
        .to.be.revertedWithCustomError(federation, "SetupClosed")
        .withArgs(1, deadline);
    });

    it("takes one recovery message per member in the vote phase only", async function () {
      const { federation, members } = await loadFixture(deployPlain);
      const [m1, m2] = members;
      const recovery = blob("recovery");
      await expect(federation.connect(m1).postRecovery(1, recovery.digest, recovery.cid))
        .to.be.revertedWithCustomError(federation, "WrongPhase")
        .withArgs(1, Phase.Submit, Phase.Vote);
      for (const member of members) {
        const update = blob(`masked ${member.address}`);
        await federation.connect(member).submitUpdate(1, update.digest, update.cid, 5);
      }
      expect(await federation.phase(1)).to.equal(Phase.Vote);
      await expect(federation.connect(m1).postRecovery(1, recovery.digest, recovery.cid))
        .to.emit(federation, "RecoveryPosted")
        .withArgs(1, m1.address, recovery.digest, recovery.cid);
      expect(await federation.hasPostedRecovery(1, m1.address)).to.equal(true);
      expect(await federation.hasPostedRecovery(1, m2.address)).to.equal(false);
      await expect(federation.connect(m1).postRecovery(1, recovery.digest, recovery.cid))
        .to.be.revertedWithCustomError(federation, "RecoveryAlreadyPosted")
        .withArgs(1, m1.address);
      const shares = blob("late setup");
      await expect(federation.connect(m2).postShares(1, shares.digest, shares.cid))
        .to.be.revertedWithCustomError(federation, "WrongPhase")
        .withArgs(1, Phase.Vote, Phase.Submit);
    });
  });

  describe("commit-reveal", function () {
    it("hides updates until every member committed, then reveals them", async function () {
      const { federation, members } = await loadFixture(deployHidden);
      const salt = ethers.id("salt");
      const updates = members.map((_, i) => blob(`hidden ${i}`));
      const u0 = blob("plain");
      await expect(federation.connect(members[0]).submitUpdate(1, u0.digest, u0.cid, 1))
        .to.be.revertedWithCustomError(federation, "CommitRevealRequired")
        .withArgs(1);

      for (const [i, member] of members.entries()) {
        const digest = updates[i].digest;
        const cid = updates[i].cid;
        const commitment = await federation.updateCommitment(
          1, member.address, digest, cid, 5, salt,
        );
        const encoded = ethers.AbiCoder.defaultAbiCoder().encode(
          ["uint64", "address", "bytes32", "string", "uint64", "bytes32"],
          [1, member.address, digest, cid, 5, salt],
        );
        expect(commitment).to.equal(ethers.keccak256(encoded));
        await expect(federation.connect(member).commitUpdate(1, commitment))
          .to.emit(federation, "UpdateCommitted")
          .withArgs(1, member.address, commitment);
      }
      expect(await federation.phase(1)).to.equal(Phase.Reveal);

      await expect(
        federation.connect(members[1]).revealUpdate(1, updates[0].digest, updates[0].cid, 5, salt),
      ).to.be.revertedWithCustomError(federation, "CommitmentMismatch");
      // the sample count (FedAvg weight) is bound too: it cannot be changed at the reveal
      const { digest: d0, cid: c0 } = updates[0];
      const committed = await federation.updateCommitment(1, members[0].address, d0, c0, 5, salt);
      const inflated = await federation.updateCommitment(
        1, members[0].address, d0, c0, 5000, salt,
      );
      await expect(federation.connect(members[0]).revealUpdate(1, d0, c0, 5000, salt))
        .to.be.revertedWithCustomError(federation, "CommitmentMismatch")
        .withArgs(1, members[0].address, committed, inflated);
      for (const [i, member] of members.entries()) {
        const { digest, cid } = updates[i];
        await expect(federation.connect(member).revealUpdate(1, digest, cid, 5, salt))
          .to.emit(federation, "UpdateSubmitted")
          .withArgs(1, member.address, digest, cid, 5);
      }
      expect(await federation.phase(1)).to.equal(Phase.Vote);
    });
  });
});
