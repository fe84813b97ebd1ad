"""The committed artifact is what the sources compile to, and the solc-js wrapper acts native."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import solcx

from daofed import nodeproc
from daofed.chain import compile as compile_module
from daofed.chain import load_artifact
from daofed.chain.compile import (
    ARTIFACTS_DIR,
    SOLC_JS,
    SOLC_VERSION,
    artifact_text,
    compile_contracts,
    find_solc,
    standard_input,
)
from daofed.errors import ConfigError

CHECKOUT = nodeproc.checkout_root()
assert CHECKOUT is not None, "these tests run from a source checkout"
WRAPPER = CHECKOUT / SOLC_JS


def test_a_fresh_compile_gives_the_committed_artifact() -> None:
    fresh = compile_contracts()["Federation"]
    committed = (ARTIFACTS_DIR / "Federation.json").read_text()
    assert artifact_text(fresh) == committed, "run `python -m daofed.chain.compile` and commit"
    assert load_artifact("Federation") == fresh
    assert fresh.compiler["version"].startswith(f"{SOLC_VERSION}+commit.")


def test_the_artifact_names_where_the_runtime_code_holds_immutables() -> None:
    """The audit masks these bytes when it compares the code at an address with the artifact."""
    artifact = load_artifact("Federation")
    (ref,) = artifact.immutable_references
    assert (ref.name, ref.length) == ("_deploymentBlock", 32)
    blank = bytes.fromhex(artifact.deployed_bytecode[2:])[ref.start : ref.start + ref.length]
    assert blank == bytes(32)  # solc leaves it for the constructor to fill in


def test_the_pinned_compiler_is_found() -> None:
    assert find_solc().is_file()


def fake_solc(directory: Path, version: str) -> None:
    solc = directory / "solc"
    solc.write_text(
        "#!/bin/sh\necho 'solc, the solidity compiler commandline interface'\n"
        f"echo 'Version: {version}+commit.00000000.Linux.g++'\n"
    )
    solc.chmod(0o755)


def path_with_node(directory: Path) -> str:
    node = shutil.which("node")
    assert node is not None
    return f"{directory}:{Path(node).parent}"


def test_a_solc_on_path_of_the_pinned_version_comes_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_solc(tmp_path, str(SOLC_VERSION))
    monkeypatch.setenv("PATH", path_with_node(tmp_path))
    assert find_solc() == tmp_path / "solc"


def test_a_solc_of_another_version_is_passed_over_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_solc(tmp_path, "0.8.1")
    monkeypatch.setenv("PATH", path_with_node(tmp_path))
    assert find_solc() == WRAPPER  # the checkout's solc-js
    monkeypatch.setattr(compile_module, "checkout_root", lambda: None)  # an installed wheel
    monkeypatch.setattr(solcx, "get_installed_solc_versions", list)
    with pytest.raises(ConfigError) as caught:
        find_solc()
    message = str(caught.value)
    assert f"{tmp_path / 'solc'} is 0.8.1" in message
    assert f"python -m solcx.install v{SOLC_VERSION}" in message and "npm ci" in message


def run_wrapper(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(WRAPPER), *args], input=stdin, capture_output=True, text=True, timeout=120
    )


def test_wrapper_answers_version_like_native_solc() -> None:
    result = run_wrapper("--version")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "solc, the solidity compiler commandline interface"
    assert lines[1].startswith(f"Version: {SOLC_VERSION}+commit.")


def test_wrapper_prints_only_json_and_resolves_imports_inside_the_base_path(
    tmp_path: Path,
) -> None:
    header = "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.0;\n"
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "L.sol").write_text(header + "contract L {}\n")
    (tmp_path / "secret.sol").write_text(header + "contract Secret {}\n")
    request = standard_input({"a.sol": header + 'import "lib/L.sol";\ncontract A is L {}\n'})
    result = run_wrapper("--standard-json", "--base-path", str(tmp_path), stdin=json.dumps(request))
    output = json.loads(result.stdout)  # nothing but JSON on stdout
    assert "errors" not in output
    assert set(output["contracts"]) == {"a.sol", "lib/L.sol"}

    secret = tmp_path / "secret.sol"
    outside = json.dumps(standard_input({"a.sol": header + f'import "{secret}";'}))
    base = ("--standard-json", "--base-path", str(tmp_path / "lib"))
    errors = json.loads(run_wrapper(*base, stdin=outside).stdout)["errors"]
    assert any("not found" in e["message"].lower() for e in errors)
    allowed = json.loads(run_wrapper(*base, "--allow-paths", str(tmp_path), stdin=outside).stdout)
    assert str(secret) in allowed["contracts"]


def test_wrapper_refuses_unknown_options_the_way_py_solc_x_expects() -> None:
    result = run_wrapper("--combined-json", "abi")
    assert result.returncode != 0
    assert result.stderr.startswith("unrecognised option '--combined-json'")
