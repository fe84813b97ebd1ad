"""Compile ``contracts/`` into the artifact the package ships (a development tool).

Run ``python -m daofed.chain.compile`` after changing a contract, and commit the result;
``--check`` only tells whether the committed artifact is up to date. It runs from a source
checkout (it reads ``contracts/``). The compiler is the pinned solc: ``solc`` on PATH if
it is that version, else a native one py-solc-x installed, else the checkout's npm
``solc`` package (``npm ci``) behind ``tools/solc/solc.js``. All give the same bytecode,
since the metadata hash in it names the version, not the build.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import solcx
from packaging.version import Version
from solcx.exceptions import SolcError
from solcx.wrapper import get_solc_version

from daofed.chain.artifacts import Artifact, ImmutableReference
from daofed.errors import ChainError, ConfigError, DaofedError
from daofed.nodeproc import checkout_root

SOLC_VERSION = Version("0.8.37")
EVM_VERSION = "cancun"
OPTIMIZER_RUNS = 200
VIA_IR = True  # the IR pipeline saves ~2k gas per submit and vote: both stay under 60k

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
SOLC_JS = Path("tools", "solc", "solc.js")
"""The solc-js wrapper that acts as a native solc, relative to the checkout."""
DEPLOYABLE = ("Federation",)


def find_solc() -> Path:
    """Find solc :data:`SOLC_VERSION`: on PATH, else py-solc-x's, else the checkout's solc-js."""
    candidates: list[Path] = []
    on_path = shutil.which("solc")
    if on_path is not None:
        candidates.append(Path(on_path))
    if SOLC_VERSION in solcx.get_installed_solc_versions():
        candidates.append(Path(solcx.install.get_executable(SOLC_VERSION)))
    root = checkout_root()
    if root is not None and shutil.which("node") and (root / "node_modules" / "solc").is_dir():
        candidates.append(root / SOLC_JS)
    wrong = []
    for solc in candidates:
        found = _version(solc)
        if found == SOLC_VERSION:
            return solc
        wrong.append(f"{solc} is {found or 'not a solc'}")
    raise ConfigError(
        f"solc {SOLC_VERSION} not found on PATH, among py-solc-x's or in a checkout's "
        f"node_modules{' (' + '; '.join(wrong) + ')' if wrong else ''}: put solc {SOLC_VERSION} "
        f"on PATH, or install it with `python -m solcx.install v{SOLC_VERSION}`, or run "
        "`npm ci` in a daofed checkout (solc-js)"
    )


def _version(solc: Path) -> Version | None:
    """Ask ``solc --version``; None if it does not answer like solc."""
    try:
        return get_solc_version(solc)
    except (SolcError, OSError, ValueError):
        return None


def contracts_dir() -> Path:
    """Locate the checkout's ``contracts/`` (an installed package has none: ConfigError)."""
    root = checkout_root()
    if root is None:
        raise ConfigError(
            "compiling the contracts needs a source checkout of daofed (an installed package "
            "ships only the compiled artifacts): run `python -m daofed.chain.compile` in one"
        )
    return root / "contracts"


def read_sources(directory: Path | None = None) -> dict[str, str]:
    """Read the sources (default: :func:`contracts_dir`): ``contracts/X.sol`` -> text, by name."""
    directory = directory or contracts_dir()
    files = sorted(directory.glob("*.sol"))
    if not files:
        raise ConfigError(f"no Solidity sources in {directory}")
    return {f"contracts/{path.name}": path.read_text(encoding="utf-8") for path in files}


def source_hash(sources: dict[str, str]) -> str:
    """Hash names and texts of the sources (sha256), to tell which sources an artifact is from."""
    digest = hashlib.sha256()
    for name in sorted(sources):
        for part in (name, sources[name]):
            data = part.encode()
            digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def standard_input(sources: dict[str, str], *, via_ir: bool = VIA_IR) -> dict[str, Any]:
    """Build the Standard JSON input: optimizer on, EVM version pinned."""
    return {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": {
            "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
            "viaIR": via_ir,
            "evmVersion": EVM_VERSION,
            "outputSelection": {
                "*": {
                    "": ["ast"],  # to name the immutables solc refers to by AST id
                    "*": [
                        "abi",
                        "evm.bytecode.object",
                        "evm.deployedBytecode.object",
                        "evm.deployedBytecode.immutableReferences",
                    ],
                }
            },
        },
    }


def compile_contracts(
    directory: Path | None = None, solc: Path | None = None
) -> dict[str, Artifact]:
    """Compile every source in ``directory`` (default: :func:`contracts_dir`).

    Returns the artifacts of the deployable contracts by name.
    """
    return compile_sources(read_sources(directory), DEPLOYABLE, solc=solc)


def compile_sources(
    sources: dict[str, str],
    names: Sequence[str],
    *,
    solc: Path | None = None,
    via_ir: bool = VIA_IR,
) -> dict[str, Artifact]:
    """Compile ``sources`` (unit name -> text); artifacts of the contracts ``names``.

    Imports resolve between the given units by name, then from the checkout's root.
    """
    solc = solc or find_solc()
    try:
        output = solcx.compile_standard(
            standard_input(sources, via_ir=via_ir), solc_binary=solc, base_path=checkout_root()
        )
    except SolcError as error:
        raise ChainError(f"compiling {', '.join(sources)} failed:\n{error}") from None
    warnings = [e["formattedMessage"] for e in output.get("errors", [])]
    if warnings:
        print("\n".join(warnings), file=sys.stderr)
    compiler = {
        "version": str(get_solc_version(solc, with_commit_hash=True)),
        "evmVersion": EVM_VERSION,
        "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
        "viaIR": via_ir,
    }
    by_name = {name: c for unit in output["contracts"].values() for name, c in unit.items()}
    declared = _declaration_names([source["ast"] for source in output["sources"].values()])
    return {
        name: Artifact(
            contract_name=name,
            abi=by_name[name]["abi"],
            bytecode="0x" + by_name[name]["evm"]["bytecode"]["object"],
            deployed_bytecode="0x" + by_name[name]["evm"]["deployedBytecode"]["object"],
            immutable_references=_immutable_references(
                by_name[name]["evm"]["deployedBytecode"]["immutableReferences"], declared
            ),
            compiler=compiler,
            source_hash=source_hash(sources),
        )
        for name in names
    }


def _immutable_references(
    references: dict[str, list[dict[str, int]]], declared: dict[int, str]
) -> tuple[ImmutableReference, ...]:
    """Name solc's ``immutableReferences`` (AST id -> byte ranges), ordered by offset."""
    return tuple(
        sorted(
            (
                ImmutableReference(declared[int(ast_id)], ref["start"], ref["length"])
                for ast_id, refs in references.items()
                for ref in refs
            ),
            key=lambda ref: ref.start,
        )
    )


def _declaration_names(nodes: Any) -> dict[int, str]:
    """Map the AST id of every variable declaration under ``nodes`` to its name."""
    names: dict[int, str] = {}
    if isinstance(nodes, dict):
        if nodes.get("nodeType") == "VariableDeclaration":
            names[nodes["id"]] = nodes["name"]
        for child in nodes.values():
            names.update(_declaration_names(child))
    elif isinstance(nodes, list):
        for child in nodes:
            names.update(_declaration_names(child))
    return names


def artifact_text(artifact: Artifact) -> str:
    """Render an artifact as its file text (stable key order, so diffs stay readable)."""
    return json.dumps(artifact.to_json(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) ``src/daofed/chain/artifacts/*.json``."""
    parser = argparse.ArgumentParser(prog="python -m daofed.chain.compile", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if an artifact is stale")
    args = parser.parse_args(argv)
    try:
        artifacts = compile_contracts()
    except DaofedError as error:
        print(error, file=sys.stderr)
        return 2
    stale = []
    for name, artifact in artifacts.items():
        path = ARTIFACTS_DIR / f"{name}.json"
        text = artifact_text(artifact)
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    for path in stale:
        print(f"{path} is stale: run `python -m daofed.chain.compile`", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
