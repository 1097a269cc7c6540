"""The explorer's saved page by keyboard and screen reader, in headless Debian Chromium: Tab
reaches the map, arrow keys move a cell cursor whose tokens and weight are read out (aria-live),
small maps and token chips are buttons, every canvas has a role and a label, the strongest links
come as a table; axe-core (vendored in axe-playwright-python) finds no serious or critical
violation, in the light and the dark theme, at 400 and 1400 px. Screenshots go to
test-artifacts/accessibility/ (not in git). The site's pages and the explorer's output area in
JupyterLab are checked with the same rules in tests/test_site.py and tests/test_browser.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "accessibility"
CHROMIUM = "/usr/bin/chromium"
SERIOUS = ("serious", "critical")


def serious_violations(page, context=None) -> list[str]:
    """axe-core's serious and critical violations on ``page`` (in ``context``), one line each."""
    from axe_playwright_python.sync_playwright import Axe

    response = Axe().run(page, context=context).response
    return [f"{v['id']} ({v['impact']}): {v['help']} at "
            f"{[n['target'] for n in v['nodes']][:3]}"
            for v in response["violations"] if v["impact"] in SERIOUS]


@pytest.fixture(scope="module")
def page_file(tmp_path_factory) -> Path:
    import course_lib as cl
    from course_kit.explorer import AttentionExplorer

    explorer = AttentionExplorer(cl.load_pretrained("minilm"), cl.load_tokenizer("minilm"),
                                 text="The cat sat on the mat.", text_pair="It was tired.")
    explorer.set_view(layer=1, head=2)
    return explorer.save_html(tmp_path_factory.mktemp("a11y") / "explorer.html")


@pytest.fixture(scope="module")
def chromium():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


def open_page(chromium, page_file: Path, width: int, scheme: str):
    page = chromium.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(page_file.as_uri())
    page.wait_for_selector(".viewer-map canvas")
    return page, errors


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [400, 1400])
def test_saved_page_has_no_serious_axe_violation(chromium, page_file, width, scheme):
    page, errors = open_page(chromium, page_file, width, scheme)
    try:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"page-{scheme}-{width}.png"))
        assert not serious_violations(page), serious_violations(page)
        page.select_option(".viewer-mode", "token")  # the token chips, and their lists
        assert not serious_violations(page)
        page.select_option(".viewer-mode", "lines")
        assert not serious_violations(page)
        background = page.evaluate(
            "getComputedStyle(document.querySelector('.attention-viewer')).backgroundColor")
        assert (background == "rgb(30, 30, 30)") == (scheme == "dark"), background
        assert errors == []
    finally:
        page.close()


def test_the_map_works_by_keyboard_and_is_read_out(chromium, page_file):
    page, errors = open_page(chromium, page_file, 1400, "light")
    try:
        readout = page.locator(".viewer-readout")
        assert readout.get_attribute("aria-live") == "polite"
        cursor = page.locator(".viewer-cursor")
        for _ in range(40):  # Tab, as a keyboard user does, until the map has the focus
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.classList.contains('viewer-cursor')"):
                break
        else:
            pytest.fail("Tab never reached the map")
        assert cursor.get_attribute("role") == "application" and cursor.get_attribute("aria-label")
        first = readout.text_content()
        assert first.startswith("layer 2, head 3: '[CLS]' (1) → '[CLS]' (1): "), first
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowDown")
        text = readout.text_content()
        assert re.match(r"layer 2, head 3: 'the' \(2\) → 'the' \(2\): [01]\.\d\d$", text), text
        tip = page.locator(".viewer-tip")
        assert tip.is_visible() and tip.text_content() == text  # shown beside the cell too
        page.keyboard.press("End")
        assert "→ '[SEP]' (" in readout.text_content()
        page.keyboard.press("Escape")
        assert readout.text_content() == "" and not tip.is_visible()
        # the small maps are buttons; Tab reaches the chosen one, arrows choose another
        thumbs = page.locator("button.viewer-thumb")
        assert thumbs.count() == 6 * 12
        chosen = page.locator("button.viewer-thumb[aria-pressed='true']")
        assert chosen.get_attribute("aria-label") == "Layer 2, head 3"
        chosen.focus()
        page.keyboard.press("ArrowRight")
        assert page.locator(".viewer-head").input_value() == "3"  # head 4, from 0
        assert page.evaluate("document.activeElement.getAttribute('aria-label')") == \
            "Layer 2, head 4"
        # every canvas shown has a role and a label; the strongest links come as a table
        unlabelled = page.evaluate("""() => [...document.querySelectorAll('canvas')]
            .filter((c) => c.offsetParent && !(c.getAttribute('role')
                                                 && c.getAttribute('aria-label')))
            .map((c) => c.className)""")
        assert unlabelled == []
        rows = page.locator(".viewer-table tbody tr")
        assert rows.count() == 10
        # token chips are buttons, pressed when pinned
        page.select_option(".viewer-mode", "token")
        chip = page.locator("button.viewer-token").nth(3)
        chip.focus()
        page.keyboard.press("Enter")
        assert chip.get_attribute("aria-pressed") == "true"
        assert errors == []
    finally:
        page.close()


def test_head_colours_meet_4_5_to_1_in_both_themes():
    from course_kit.explorer.interactive import viewer_script

    script = viewer_script()

    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    def contrast(a: str, b: str) -> float:
        high, low = sorted((luminance(a), luminance(b)), reverse=True)
        return (high + 0.05) / (low + 0.05)

    for theme in ("light", "dark"):
        block = re.search(theme + r": \{(.*?)\},\n", script, re.S).group(1)
        paper = re.search(r'paper: "(#\w{6})"', block).group(1)
        ink = re.search(r'ink: "(#\w{6})"', block).group(1)
        heads = re.findall(r'"(#\w{6})"', re.search(r"heads: \[(.*?)\]", block, re.S).group(1))
        assert len(heads) == len(set(heads)) >= 7
        assert contrast(ink, paper) >= 4.5
        for colour in heads:
            assert contrast(colour, paper) >= 4.5, f"{theme}: {colour} on {paper}"
