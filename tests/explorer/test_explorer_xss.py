"""The explorer shows what members wrote on chain as text, never as markup or script.

A member's CID and a proposed rule are free strings any member can put on chain; here they
are HTML payloads (:mod:`tests.explorer.federations`). Each page must show them literally,
run none of them (``window.__xss`` stays undefined) and hold no script but the explorer's
own files under /static/, also after a live update swaps the page's content.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page

from daofed.chain import AnvilNode

from .conftest import Explorer, run_explorer, wait_synced
from .federations import CID_PAYLOAD, LATE_CID_PAYLOAD, RULE_PAYLOAD, Hostile, build_hostile

pytestmark = [pytest.mark.slow, pytest.mark.anvil]

SCRIPTS_JS = "els => els.map(s => ({src: s.src, inline: s.textContent}))"


@pytest.fixture(scope="module")
def hostile(own_anvil: AnvilNode, tmp_path_factory: pytest.TempPathFactory) -> Hostile:
    return build_hostile(own_anvil.web3(), tmp_path_factory.mktemp("hostile") / "blobs")


@pytest.fixture(scope="module")
def explorer(
    own_anvil: AnvilNode, hostile: Hostile, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Explorer]:
    with run_explorer(
        own_anvil.url, hostile.federation, hostile.store.root, tmp_path_factory.mktemp("logs")
    ) as running:
        yield running


@pytest.mark.parametrize(
    ("path", "payloads"),
    [("/", []), ("/rounds", [CID_PAYLOAD]), ("/proposals", [RULE_PAYLOAD])],
)
def test_payloads_on_chain_are_shown_as_text_and_never_run(
    page: Page, explorer: Explorer, hostile: Hostile, path: str, payloads: list[str]
) -> None:
    page.goto(explorer.page_url(path))
    wait_synced(page, hostile.federation)
    text = page.inner_text("body")
    for payload in payloads:
        assert payload in text, f"{payload!r} is not shown literally on {path}"
    _assert_nothing_ran(page, explorer, path)


def test_cid_and_rule_payloads_sit_unchanged_in_data_attributes(
    page: Page, explorer: Explorer, hostile: Hostile
) -> None:
    page.goto(explorer.page_url("/rounds"))
    wait_synced(page, hostile.federation)
    cids = page.eval_on_selector_all("tr[data-update]", "rows => rows.map(r => r.dataset.cid)")
    assert cids == [CID_PAYLOAD]
    page.goto(explorer.page_url("/proposals"))
    wait_synced(page, hostile.federation)
    summary = page.inner_text(f'tr[data-proposal="{hostile.proposal}"] td.summary')
    assert RULE_PAYLOAD in summary
    _assert_nothing_ran(page, explorer, "/proposals")


def test_a_payload_arriving_while_the_page_is_open_is_swapped_in_as_text(
    page: Page, explorer: Explorer, hostile: Hostile
) -> None:
    page.goto(explorer.page_url("/rounds"))
    wait_synced(page, hostile.federation)
    page.evaluate("window.__loadedOnce = true")  # a reload would drop it

    hostile.submit_late_payload()

    page.wait_for_selector("tr[data-update] >> nth=1", timeout=30_000)
    assert page.evaluate("window.__loadedOnce") is True, "the page was reloaded"
    text = page.inner_text("body")
    assert LATE_CID_PAYLOAD in text
    assert CID_PAYLOAD in text
    _assert_nothing_ran(page, explorer, "/rounds after a live update")


def _assert_nothing_ran(page: Page, explorer: Explorer, where: str) -> None:
    page.wait_for_timeout(500)  # give an injected handler (img onerror) time to fire
    assert page.evaluate("typeof window.__xss") == "undefined", f"a payload ran on {where}"
    assert page.locator("img[onerror], img[src='x']").count() == 0, where
    origin = urlsplit(explorer.url)
    for script in page.eval_on_selector_all("script", SCRIPTS_JS):
        src = urlsplit(script["src"])
        assert script["src"], f"an inline script on {where}: {script['inline'][:200]!r}"
        assert (src.scheme, src.netloc) == (origin.scheme, origin.netloc), (where, script)
        assert src.path.startswith("/static/"), (where, script)
