"""The 90-minute workshop's slide deck (teaching/slides/, built by teaching/make_slides.py): up to
date with its source, self-contained (no network), every image a course diagram with a text
alternative, and it moves by keyboard in Chromium (issue 23)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "teaching"))

import make_slides  # noqa: E402

DECKS = sorted((ROOT / "teaching" / "slides").glob("*.md"))
CHROMIUM = "/usr/bin/chromium"


def test_there_is_a_deck_for_the_workshop():
    assert [d.stem for d in DECKS] == ["workshop"]


@pytest.mark.parametrize("source", DECKS, ids=lambda p: p.stem)
def test_the_committed_page_is_built_from_its_source(source, tmp_path):
    committed = source.with_suffix(".html").read_text(encoding="utf-8")
    copy = tmp_path / source.name
    copy.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    assert make_slides.build(copy).read_text(encoding="utf-8") == committed, (
        "rebuild it: python teaching/make_slides.py")


@pytest.mark.parametrize("source", DECKS, ids=lambda p: p.stem)
def test_the_page_loads_nothing_from_the_network(source):
    page = source.with_suffix(".html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page
    images = re.findall(r'<img src="data:image/svg\+xml;base64,[^"]+" alt="([^"]*)">', page)
    assert len(images) == page.count("<img") > 0
    assert all(alt and not alt.endswith(".svg") for alt in images), images


def test_an_unknown_diagram_is_named(tmp_path):
    source = tmp_path / "deck.md"
    source.write_text("# Deck\n\n![](no_such_diagram.svg)\n")
    with pytest.raises(FileNotFoundError, match="no_such_diagram.svg"):
        make_slides.build(source)


@pytest.mark.browser
def test_the_deck_moves_by_keyboard_in_chromium():
    if not Path(CHROMIUM).exists():
        pytest.skip("no Chromium at /usr/bin/chromium (apt-get install chromium; .ci/run does)")
    from playwright.sync_api import sync_playwright

    page_path = DECKS[0].with_suffix(".html")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 900, "height": 700})
            errors, requests = [], []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_path.as_uri())
            total = page.locator("section").count()
            assert page.locator("nav").inner_text() == f"1 / {total}"
            page.keyboard.press("ArrowRight")
            page.keyboard.press("ArrowRight")
            assert page.locator("nav").inner_text() == f"3 / {total}"
            assert page.locator("section.current h2").inner_text() == "Text → token IDs → vectors"
            page.keyboard.press("ArrowLeft")
            assert page.locator("nav").inner_text() == f"2 / {total}"
            widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
            assert all(w > 0 for w in widths), widths
            assert errors == []
            assert all(u.startswith(("file:", "data:")) for u in requests), requests
        finally:
            browser.close()
