"""The course site (site/build.py, `make site`): built from the saved notebooks, served on a free
localhost port and read in headless Debian Chromium with every request that leaves localhost
blocked. Every page of a notebook (and of its solutions) must render with no console error and
no failed or blocked request, its math must be typeset by the site's own MathJax, every image
must load, and the embedded attention explorer must answer a hover with no kernel. Screenshots
(900 px wide, light and dark theme) are kept in test-artifacts/site/.

The build itself is checked without a browser too: every notebook found is a page, in order,
each with its run box, and nothing in the pages loads from another host.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "site"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
WIDTH, HEIGHT = 900, 1000  # px: a narrow laptop window, as the course's other browser tests
LOAD_S = 60  # a page loaded, its math typeset
EXTERNAL_LOAD = re.compile(r"""<(?:script|link|img|iframe|source)\b[^>]*?\b(?:src|href)=["']"""
                           r"""(?:https?:)?//""", re.IGNORECASE)

sys.path.insert(0, str(ROOT / "site"))

import build as site_build  # noqa: E402  (site/build.py)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site, built once for this module (into a temporary folder)."""
    out = tmp_path_factory.mktemp("site") / "site"
    started = time.perf_counter()
    site_build.build(out)
    print(f"site build: {time.perf_counter() - started:.1f} s")
    return out


def notebook_pages(site: Path) -> list[Path]:
    """The site's page of every course notebook and solutions notebook, in course order."""
    pages = []
    for notebook in site_build.course_notebooks():
        pages.append(site / "notebooks" / f"{notebook.stem}.html")
        solution = site_build.solution_of(notebook)
        if solution:
            pages.append(site / "notebooks" / "solutions" / f"{solution.stem}.html")
    return pages


def test_every_notebook_is_a_page_in_order(site):
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "built from scratch" in home, "the README overview is not the home page"
    assert 'id="search-input"' in home or 'type="search"' in home, "no search box"
    positions = []
    for notebook in site_build.course_notebooks():
        page = site / "notebooks" / f"{notebook.stem}.html"
        assert page.exists(), f"{notebook.name} has no page"
        assert (site / "notebooks" / notebook.name).exists(), f"{notebook.name} not downloadable"
        text = page.read_text(encoding="utf-8")
        assert "Run this notebook" in text and "make lab" in text, f"{page.name}: no run box"
        if site_build.solution_of(notebook):
            assert f"{notebook.stem}_solutions.html" in text, f"{page.name}: no solutions link"
        positions.append(home.index(f"notebooks/{notebook.stem}.html"))
    assert positions == sorted(positions), "the navigation does not list the notebooks in order"


def test_nothing_loads_from_another_host(site):
    for page in site.rglob("*.html"):
        if "_static/mathjax" in page.as_posix():
            continue
        found = EXTERNAL_LOAD.search(page.read_text(encoding="utf-8", errors="replace"))
        assert found is None, f"{page.relative_to(site)} loads {found.group(0)!r} from the web"


def test_every_explorer_output_becomes_a_live_page(site):
    for notebook in site_build.course_notebooks():
        nb = json.loads(notebook.read_text(encoding="utf-8"))
        saved = sum(site_build.explorers.is_explorer_output(o) for c in nb["cells"]
                    for o in c.get("outputs", []))
        text = (site / "notebooks" / f"{notebook.stem}.html").read_text(encoding="utf-8")
        assert text.count('class="course-explorer-frame"') == saved, notebook.name
        for k in range(1, saved + 1):
            page = site / "_static" / "explorers" / f"{notebook.stem}-{k}.html"
            assert 'id="attention-viewer"' in page.read_text(encoding="utf-8"), page.name


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the test reports what failed; no log line per file
        pass


@pytest.fixture(scope="module")
def served(site):
    """The site on a free localhost port (a thread of this process, stopped at the end)."""
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("no Chromium at /usr/bin/chromium (apt-get install chromium; .ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Watched:
    """A page whose console errors, failed requests and blocked (non-local) requests are kept."""

    def __init__(self, browser, dark: bool = False):
        self.context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
        if dark:  # pydata-sphinx-theme reads the reader's choice from localStorage
            self.context.add_init_script(
                "localStorage.setItem('theme', 'dark'); localStorage.setItem('mode', 'dark');")
        self.problems: list[str] = []
        self.context.route("**/*", self._only_local)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}")
                     if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(
            f"failed request: {r.url} ({r.failure})"))
        self.page.on("response", lambda r: self.problems.append(f"HTTP {r.status}: {r.url}")
                     if r.status >= 400 else None)

    def _only_local(self, route):
        url = route.request.url
        if url.startswith(("data:", "blob:", "about:")) or urlparse(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            self.problems.append(f"blocked request to another host: {url}")
            route.abort()

    def close(self):
        self.context.close()


def open_page(watched: Watched, url: str):
    page = watched.page
    page.goto(url, wait_until="load", timeout=LOAD_S * 1000)
    # MathJax typesets after the load event; wait until it has finished (when the page has it).
    page.wait_for_function("() => !window.MathJax || (MathJax.startup && MathJax.startup.promise)",
                           timeout=LOAD_S * 1000)
    page.evaluate("() => window.MathJax ? MathJax.startup.promise.then(() => true) : true")
    return page


def test_every_notebook_page_renders_cleanly(site, served, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    watched = Watched(browser)
    failures = []
    try:
        for path in [site / "index.html", *notebook_pages(site)]:
            relative = path.relative_to(site).as_posix()
            watched.problems.clear()
            page = open_page(watched, f"{served}/{relative}")
            html_text = path.read_text(encoding="utf-8")
            if 'class="math notranslate nohighlight"' in html_text:
                typeset = page.locator("mjx-container").count()
                if typeset == 0:
                    failures.append(f"{relative}: math is not typeset")
            broken = page.evaluate("() => [...document.images].filter(i => !i.complete || "
                                   "i.naturalWidth === 0).map(i => i.src.slice(0, 80))")
            failures += [f"{relative}: image did not load: {src}" for src in broken]
            failures += [f"{relative}: {p}" for p in watched.problems]
            if path.parent.name == "notebooks" or path.name == "index.html":
                page.screenshot(path=str(ARTIFACTS / f"{path.stem}-light.png"))
    finally:
        watched.close()
    assert not failures, "\n".join(failures)


def test_math_is_typeset_where_the_notebooks_have_it(site, served, browser):
    pages = [p for p in notebook_pages(site)
             if 'class="math notranslate nohighlight"' in p.read_text(encoding="utf-8")]
    assert pages, "no page has math: the dollar-math extension is not on"
    watched = Watched(browser)
    try:
        page = open_page(watched, f"{served}/{pages[0].relative_to(site).as_posix()}")
        formula = page.locator("mjx-container").first
        formula.scroll_into_view_if_needed()
        assert formula.bounding_box()["width"] > 20, "the formula is typeset with no width"
        formula.screenshot(path=str(ARTIFACTS / "math.png"))
    finally:
        watched.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_embedded_explorer_answers_hover(site, served, browser, theme):
    pages = [p for p in notebook_pages(site) if "course-explorer-frame" in p.read_text("utf-8")]
    assert pages, "no page embeds an explorer"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    watched = Watched(browser, dark=theme == "dark")
    try:
        page = open_page(watched, f"{served}/{pages[0].relative_to(site).as_posix()}")
        if theme == "dark":
            assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        frame_element = page.locator("iframe.course-explorer-frame").first
        frame_element.scroll_into_view_if_needed()
        frame = page.frame_locator("iframe.course-explorer-frame").first
        hover = frame.locator(".viewer-map canvas").nth(1)
        hover.wait_for(state="visible", timeout=LOAD_S * 1000)
        box = hover.bounding_box()
        readout = frame.locator(".viewer-readout").first
        assert readout.inner_text().strip() == "", "the readout says something before any hover"
        hover.hover(position={"x": box["width"] / 2, "y": box["height"] / 2})
        text = readout.inner_text()
        assert text.startswith("layer "), f"hovering the explorer gave {text!r}"
        page.screenshot(path=str(ARTIFACTS / f"explorer-{theme}.png"))
        note = page.locator(".course-explorer-note").first.inner_text()
        assert "open the notebook" in note.lower(), "the page does not say the notebook is needed"
        assert not watched.problems, "\n".join(watched.problems)
    finally:
        watched.close()


def test_dark_theme_home_page(site, served, browser):
    watched = Watched(browser, dark=True)
    try:
        page = open_page(watched, f"{served}/index.html")
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        page.screenshot(path=str(ARTIFACTS / "index-dark.png"))
        assert not watched.problems, "\n".join(watched.problems)
    finally:
        watched.close()



def test_search_finds_a_notebook_page(site, served, browser):
    watched = Watched(browser)
    try:
        page = watched.page
        page.goto(f"{served}/search.html?q=softmax", wait_until="load", timeout=LOAD_S * 1000)
        results = page.locator("#search-results ul.search li a")
        results.first.wait_for(timeout=LOAD_S * 1000)
        found = [results.nth(i).get_attribute("href") for i in range(results.count())]
        assert any("03_self_attention" in href for href in found), found
        page.screenshot(path=str(ARTIFACTS / "search.png"))
        assert not watched.problems, "\n".join(watched.problems)
    finally:
        watched.close()


def test_navigation_lists_every_notebook_on_a_wide_screen(site, served, browser):
    """At 1400 px the sidebar is open: every notebook in order, and the next-page link."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(f"{served}/notebooks/03_self_attention.html", wait_until="load")
        nav = page.locator("nav.bd-docs-nav")
        assert nav.is_visible(), "the navigation sidebar is hidden at 1400 px"
        links = nav.locator("a.reference.internal")
        hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
        for notebook in site_build.course_notebooks():
            here = notebook.stem == "03_self_attention" and "#" in hrefs  # the page itself
            assert here or any(h.endswith(f"{notebook.stem}.html") for h in hrefs), notebook.name
        assert page.locator("a.right-next").get_attribute("href").endswith(".html")
        page.screenshot(path=str(ARTIFACTS / "navigation-1400.png"))
    finally:
        context.close()


def test_dark_theme_notebook_page(site, served, browser):
    watched = Watched(browser, dark=True)
    try:
        page = open_page(watched, f"{served}/notebooks/05_encoder_layer.html")
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        page.locator(".course-run").first.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "05_encoder_layer-dark.png"))
        page.locator("mjx-container").first.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "math-dark.png"))
        assert not watched.problems, "\n".join(watched.problems)
    finally:
        watched.close()


@pytest.mark.parametrize("width", [400, 900])
def test_the_menu_opens_on_a_narrow_screen_and_nothing_widens_the_page(site, served, browser,
                                                                        width):
    context = browser.new_context(viewport={"width": width, "height": 800})
    try:
        page = context.new_page()
        page.goto(f"{served}/notebooks/03_self_attention.html", wait_until="load")
        page.locator(".primary-toggle.btn").first.click()  # the menu button the theme shows
        dialog = page.locator("#pst-primary-sidebar-modal")
        dialog.wait_for(state="visible", timeout=LOAD_S * 1000)
        assert dialog.locator("a.reference.internal").count() >= 10  # every notebook
        page.screenshot(path=str(ARTIFACTS / f"menu-{width}.png"))
        page.keyboard.press("Escape")
        if width == 400:  # long inline code wraps: no page scrolls sideways
            for path in [site / "index.html", *notebook_pages(site)]:
                page.goto(f"{served}/{path.relative_to(site).as_posix()}", wait_until="load")
                wide = page.evaluate("document.documentElement.scrollWidth")
                assert wide <= width + 1, f"{path.name} is {wide} px wide at {width} px"
    finally:
        context.close()


def test_images_have_alt_text_and_the_home_page_links_the_first_notebook(site):
    import re

    for path in [site / "index.html", *notebook_pages(site)]:
        for alt in re.findall(r'<img[^>]*\balt="([^"]*)"', path.read_text(encoding="utf-8")):
            assert alt and "_images/" not in alt and not alt.endswith((".png", ".svg")), (
                f"{path.name}: an image's alt text is {alt!r}")
    home = (site / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<a class="reference internal" href="notebooks/00_welcome.html"', home)


def test_lessons_embed_their_own_viewer_and_embeds_follow_the_dark_theme(site, served, browser):
    for stem, parts in (("03_self_attention", "head"), ("04_multi_head_attention", "layer")):
        page = (site / "_static" / "explorers" / f"{stem}-1.html").read_text(encoding="utf-8")
        assert f'"parts": "{parts}"' in page, stem  # not the full 6 x 12 explorer
    watched = Watched(browser, dark=True)
    try:
        page = open_page(watched, f"{served}/notebooks/04_multi_head_attention.html")
        frame_element = page.locator("iframe.course-explorer-frame").first
        frame_element.scroll_into_view_if_needed()
        frame = page.frame_locator("iframe.course-explorer-frame").first
        viewer = frame.locator(".attention-viewer")
        viewer.wait_for(timeout=LOAD_S * 1000)
        page.wait_for_timeout(500)
        assert viewer.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(30, 30, 30)"
        assert frame.locator(".viewer-thumb").count() == 12  # one layer's heads
        page.screenshot(path=str(ARTIFACTS / "lesson-embed-dark.png"))
    finally:
        watched.close()


def test_no_serious_axe_violation_on_the_sites_pages(site, served, browser):
    from axe_playwright_python.sync_playwright import Axe

    failures = []
    for dark in (False, True):
        watched = Watched(browser, dark=dark)
        try:
            for path in [site / "index.html", *notebook_pages(site)]:
                page = open_page(watched, f"{served}/{path.relative_to(site).as_posix()}")
                response = Axe().run(page).response
                failures += [f"{path.name} ({'dark' if dark else 'light'}): {v['id']} "
                             f"({v['impact']}) at {[n['target'] for n in v['nodes']][:2]}"
                             for v in response["violations"]
                             if v["impact"] in ("serious", "critical")]
        finally:
            watched.close()
    assert not failures, "\n".join(failures)


def test_a_visitor_types_a_text_and_sees_its_attention_with_no_network(site, served, browser):
    """Notebook 08's page: the shipped MiniLM runs in the page (site/static/bert.js), and the
    explorer's viewer draws the typed text's maps; every request stays on this site (issue 20)."""
    import course_lib as cl

    text = "The bank of the river flooded after the storm."
    watched = Watched(browser)
    try:
        page = open_page(watched, f"{served}/notebooks/08_attention_explorer.html")
        requested = []
        page.on("request", lambda r: requested.append(r.url))
        page.locator(".try-bert").scroll_into_view_if_needed()
        assert not any("weights.bin" in url for url in requested), "weights loaded unasked"
        page.fill(".try-bert-text", text)
        page.click(".try-bert-run")
        status = page.locator(".try-bert-status")
        page.wait_for_function("document.querySelector('.try-bert-status').textContent"
                               ".includes('computed in')", timeout=LOAD_S * 1000)
        expected = cl.load_tokenizer("minilm").encode(text, max_length=128)
        assert status.inner_text().startswith(f"{len(expected)} tokens"), status.inner_text()
        labels = page.locator(".try-bert-view .viewer-map canvas").first
        assert labels.is_visible()
        assert any("weights.bin" in url for url in requested)
        assert not watched.problems, "\n".join(watched.problems)
    finally:
        watched.close()


def test_a_setup_cell_with_a_line_magic_still_gives_its_assignments():
    """A notebook whose setup cell starts with `%load_ext course_kit` keeps its explorer's
    arguments (its lesson widget, not the default explorer)."""
    import explorers

    setup = '%load_ext course_kit\nimport course_lib as cl\nsentence = "A cat."\n'
    spec = explorers.explorer_spec('AttentionMapsWidget(cl.load_pretrained("minilm"), '
                                   'cl.load_tokenizer("minilm"), sentence, parts="layer")',
                                   [setup], "AttentionMapsWidget")
    assert spec.problem is None and spec.kwargs == {"parts": "'layer'"}
