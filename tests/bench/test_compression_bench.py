"""The compression benchmark: quick run, its own correctness checks, and its tables."""

from __future__ import annotations

import io

from rich.console import Console

from bench.compression import (
    CompressionConfig,
    check_compression,
    compression_table,
    markdown_table,
    measure_compression,
    sizes_table,
)


def test_quick_run_measures_every_encoding_with_and_without_dp() -> None:
    messages: list[str] = []
    result = measure_compression(CompressionConfig.quick(), progress=messages.append)
    check_compression(result)
    config = result.config
    assert len(messages) == len(result.cases) == 3 * (1 + len(config.sigmas))
    cases = {(c.compression, c.sigma): c for c in result.cases}
    assert set(cases) == {
        (encoding, sigma)
        for encoding in ("none", "fp16", "int8")
        for sigma in (None, *config.sigmas)
    }
    plain = cases["none", None]
    assert plain.update_bytes == plain.float32_bytes and plain.saved == 0.0
    assert cases["int8", None].update_bytes < cases["fp16", None].update_bytes
    assert cases["none", config.sigmas[0]].epsilon is not None
    # without noise, compression barely moves the model: accuracies within a few samples
    for encoding in ("fp16", "int8"):
        assert abs(cases[encoding, None].final_accuracy - plain.final_accuracy) < 0.05
    assert [s.model for s in result.sizes] == ["digits", "100k", "5M"]
    assert result.sizes[-1].saved("int8") > 0.74

    out = io.StringIO()
    console = Console(file=out, width=200)
    console.print(compression_table(result))
    console.print(sizes_table(result))
    text = out.getvalue()
    assert "Update encodings" in text and "int8 saves" in text
    markdown = markdown_table(result)
    assert markdown.count("\n| int8 |") == 1 + len(config.sigmas)
    assert "| 5M |" in markdown
