"""Revert data becomes a named error with arguments and a message that says what to do."""

from __future__ import annotations

from eth_abi.abi import encode
from eth_utils.abi import function_signature_to_4byte_selector
from web3.exceptions import ContractCustomError

from daofed.chain import Phase, load_artifact
from daofed.chain.revert import RevertDecoder, revert_data

DECODER = RevertDecoder(load_artifact().abi)


def data(signature: str, types: list[str], values: list[object]) -> bytes:
    return function_signature_to_4byte_selector(signature) + encode(types, values)


def test_custom_error_arguments_are_decoded_by_name() -> None:
    revert = DECODER.decode(
        data("WrongPhase(uint64,uint8,uint8)", ["uint64", "uint8", "uint8"], [7, 2, 1])
    )
    assert revert.error == "WrongPhase"
    assert revert.args_by_name == {"round": 7, "current": Phase.VOTE, "expected": Phase.SUBMIT}
    assert str(revert) == (
        "round 7 is in its vote phase, not submit: submissions are over for this round"
    )


def test_every_custom_error_of_the_contract_has_a_message() -> None:
    names = {e["name"] for e in load_artifact().abi if e["type"] == "error"}
    for name in names:
        entry = next(e for e in load_artifact().abi if e.get("name") == name)
        types = [i["type"] for i in entry["inputs"]]
        values = [{"address": "0x" + "11" * 20, "bytes32": b"\x01" * 32}.get(t, 1) for t in types]
        revert = DECODER.decode(data(f"{name}({','.join(types)})", types, values))
        assert revert.error == name
        assert ": " in str(revert)  # what failed: what to do


def test_builtin_errors_and_unknown_data() -> None:
    assert DECODER.decode(data("Error(string)", ["string"], ["nope"])).args_by_name == {
        "reason": "nope"
    }
    panic = DECODER.decode(data("Panic(uint256)", ["uint256"], [0x11]))
    assert (panic.error, panic.args_by_name) == ("Panic", {"code": 0x11})
    unknown = DECODER.decode(b"\xde\xad\xbe\xef")
    assert unknown.error == "Unknown"
    assert "0xdeadbeef" in str(unknown)


def test_revert_data_is_found_in_a_raised_chain() -> None:
    try:
        try:
            raise ContractCustomError("0x12345678", data="0x12345678")
        except ContractCustomError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert revert_data(outer) == bytes.fromhex("12345678")
    assert revert_data(ValueError("no revert here")) is None


def test_revert_data_nested_in_an_error_object_is_found() -> None:
    """Hardhat's node puts the data in an object: {"message": ..., "data": "0x..."}."""
    error = ContractCustomError(
        "execution reverted", data={"message": "reverted with custom error", "data": "0xabcdef12"}
    )
    assert revert_data(error) == bytes.fromhex("abcdef12")
    assert revert_data(ContractCustomError("no data", data={"message": "x"})) is None
