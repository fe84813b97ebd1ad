"""A member's install (no extras) runs every member command; the rest name their extra."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from daofed.errors import ConfigError
from daofed.extras import require

# the top-level modules of the extras' packages; a member's install has none of them
ADDRESS = "0x" + "1" * 40
EXTRA_MODULES = ("eth", "eth_tester", "sklearn", "matplotlib", "opacus", "starlette", "solcx")


def run_without_extras(*argv: str) -> subprocess.CompletedProcess[str]:
    """Run ``daofed ARGV`` in a fresh interpreter where no extra's module can be imported."""
    script = textwrap.dedent(f"""
        import sys
        for name in {EXTRA_MODULES!r}:
            sys.modules[name] = None  # import of a None entry raises ModuleNotFoundError
        from daofed.cli import main
        sys.argv = ["daofed", *{argv!r}]
        main()
    """)
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )


def test_the_cli_and_member_commands_load_without_extras() -> None:
    done = run_without_extras("agent", "run", "--help")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("argv", "extra"),
    [
        (("demo", "--members", "3", "--rounds", "1"), "demo"),
        (("explorer", "--rpc-url", "http://127.0.0.1:9", "--contract", ADDRESS), "explorer"),
    ],
)
def test_a_command_whose_extra_is_missing_names_it_in_one_line(
    argv: tuple[str, ...], extra: str
) -> None:
    done = run_without_extras(*argv)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"pip install 'daofed[{extra}]'" in lines[0]


def test_require_names_the_extra_of_a_missing_package() -> None:
    with pytest.raises(ConfigError, match=r"pip install 'daofed\[plot\]'"):
        require("no_such_package_for_daofed.sub", "plot", "drawing")


def test_require_does_not_hide_an_import_error_inside_an_installed_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "broken_extra"
    package.mkdir()
    (package / "__init__.py").write_text("import no_such_dependency_of_it\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="no_such_dependency_of_it"):
        require("broken_extra", "plot", "drawing")
