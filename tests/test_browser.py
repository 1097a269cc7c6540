"""The attention explorer in a real browser: JupyterLab on a free localhost port, headless Debian
Chromium driven by Playwright, notebook 08 run with Run > Run All Cells, the viewer found in
front, a layer chosen in it and drawn. Then, at 900 px wide, the controls must fit (wrap,
nothing cut) and the viewer its room, in JupyterLab's light and dark themes (the viewer follows
the theme), with every text of the explorer measured to keep a readable contrast (WCAG ratio)
and no serious or critical axe-core violation in the explorer's output area. Screenshots are
kept in test-artifacts/browser/ at the repository root.

Skips only when no Chromium is installed (`.ci/run` installs it, so CI always runs this).
Playwright's own browser download is not used: it drives the system Chromium.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "08_attention_explorer.ipynb"
LESSON = ROOT / "notebooks" / "04_multi_head_attention.ipynb"  # the explorer's viewer, reduced
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SERVER_START_S = 60  # JupyterLab up and answering
PAGE_LOAD_S = 60  # the notebook open in JupyterLab with its kernel idle
RUN_ALL_S = 120  # every cell of the notebook run
REDRAW_S = 30  # the picture replaced after a new layer is chosen
THEME_S = 30  # the dark theme applied
MIN_CONTRAST = 4.5  # WCAG AA for normal text

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def find_chromium() -> str | None:
    """The system Chromium (CHROMIUM_PATH overrides), or None when none is installed."""
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def child_pids(parent: int) -> list[int]:
    """Processes whose parent is ``parent`` (the kernels the server started), read from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            children.append(int(stat.parent.name))
    return children


def api(base: str, token: str, path: str, method: str = "GET"):
    request = urllib.request.Request(f"{base}{path}", method=method,
                                     headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        body = response.read()
    return json.loads(body) if body else None


def copy_without_outputs(source: Path, target: Path) -> None:
    """The notebook as a learner first opens it to run: no outputs, no saved widget state."""
    notebook = json.loads(source.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    notebook.get("metadata", {}).pop("widgets", None)
    target.write_text(json.dumps(notebook), encoding="utf-8")


@pytest.fixture()
def jupyter_lab(tmp_path):
    """A JupyterLab server on a free localhost port serving a copy of notebook 08."""
    if find_chromium() is None:
        pytest.skip("no Chromium installed (apt-get install chromium); .ci/run installs it")
    work = tmp_path / "lab"
    (work / "notebooks").mkdir(parents=True)
    for notebook in (NOTEBOOK, LESSON):
        copy_without_outputs(notebook, work / "notebooks" / notebook.name)
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    write_lab_settings(tmp_path / "settings")
    log = open(tmp_path / "jupyter.log", "wb")  # noqa: SIM115 - closed in the finally below
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.open_browser=False",
         "--allow-root", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={work}",
         f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited: {(tmp_path / 'jupyter.log').read_text()[-3000:]}")
            try:
                api(base, token, "/api/status")
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer within {SERVER_START_S} s")
                time.sleep(0.5)
        yield {"url": f"{base}/lab/tree/notebooks/{NOTEBOOK.name}?token={token}", "base": base,
               "lesson_url": f"{base}/lab/tree/notebooks/{LESSON.name}?token={token}",
               "token": token, "log": tmp_path / "jupyter.log"}
    finally:
        stop_server(server, base, token)
        log.close()


def write_lab_settings(folder: Path) -> None:
    """Every cell kept in the page (no windowing), and no news fetched from the internet."""
    settings = {"notebook-extension/tracker": {"windowingMode": "none"},
                "apputils-extension/notification": {"fetchNews": "false",
                                                    "checkForUpdates": False}}
    for name, values in settings.items():
        path = folder / "@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")


def stop_server(server: subprocess.Popen, base: str, token: str) -> None:
    """Shut the kernels down, then the server; kill what does not stop in time."""
    kernels = child_pids(server.pid)
    try:
        for kernel in api(base, token, "/api/kernels") or []:
            api(base, token, f"/api/kernels/{kernel['id']}", method="DELETE")
    except OSError:
        pass
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)
    for pid in kernels:  # started by our server; gone already unless the shutdown failed
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_explorer_renders_and_redraws_in_jupyterlab(jupyter_lab):
    """Notebook 08 run in JupyterLab: the viewer is in front (no picture to open first), a
    layer chosen in it is drawn, and the explorer passes the narrow-window, theme, keyboard,
    sentence-pair, download and axe-core checks below."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), headless=True,
                                             args=CHROMIUM_ARGS)
        try:
            console_errors = []
            page = open_in_lab(browser, jupyter_lab["url"], 1400, 1000, console_errors)
            page.screenshot(path=str(ARTIFACTS / "01_notebook_open.png"))
            run_all_cells(page)

            explorer = page.locator(".attention-explorer").first
            live_map = explorer.locator(".explorer-live .viewer-map canvas").first
            live_map.wait_for(state="visible", timeout=RUN_ALL_S * 1000)
            wait_until_run_finished(page, RUN_ALL_S)
            errors = page.locator(".jp-OutputArea-output[data-mime-type*='error']")
            assert errors.count() == 0, f"a cell raised: {errors.first.inner_text()[:2000]}"
            assert page.get_by_text("Error displaying widget").count() == 0
            explorer.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "02_explorer_rendered.png"))

            layer = explorer.locator(".explorer-live .viewer-layer").first
            options = layer.locator("option").all_inner_texts()
            assert len(options) >= 2, f"the layer control offers {options}"
            before = live_map.screenshot()
            layer.select_option(index=len(options) - 1)
            assert live_map.get_attribute("aria-label").startswith(f"Layer {options[-1]}, ")
            assert live_map.screenshot() != before, "a new layer was not drawn"
            page.screenshot(path=str(ARTIFACTS / "03_after_layer_change.png"))
            check_narrow_window_and_themes(page)
        finally:
            browser.close()
    assert not [e for e in console_errors if "widget" in e.lower()], console_errors


# The status bar reads e.g. "Python 3 (ipykernel) | Idle" once a kernel is up and waiting.
KERNEL_IDLE = """() => [...document.querySelectorAll('.jp-StatusBar-Item')]
    .some(item => /\\S \\| Idle/.test(item.textContent))"""


def open_in_lab(browser, url: str, width: int, height: int, console_errors: list):
    """A new page with the notebook at ``url`` open in JupyterLab, its kernel idle; console
    errors are collected into ``console_errors``."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.goto(url, wait_until="domcontentloaded", timeout=PAGE_LOAD_S * 1000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=PAGE_LOAD_S * 1000)
    page.wait_for_function(KERNEL_IDLE, timeout=PAGE_LOAD_S * 1000, polling=500)
    return page


def run_all_cells(page) -> None:
    """Run > Run All Cells, through the menu as a learner would."""
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()


def wait_until_run_finished(page, timeout_s: float) -> None:
    """Every code cell has an execution count and the kernel is idle again."""
    page.wait_for_function(
        f"""() => {{
            const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
            const done = prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
            return done && ({KERNEL_IDLE})();
        }}""",
        timeout=timeout_s * 1000, polling=500)


def check_narrow_window_and_themes(page) -> None:
    """900 px wide, light then dark theme: layout, text contrast, axe-core, the viewer's theme."""
    page.set_viewport_size({"width": 900, "height": 900})
    explorer = page.locator(".attention-explorer").first
    explorer.scroll_into_view_if_needed()
    page.wait_for_timeout(800)  # the layout settles; the viewer re-flows to the new width
    layout = explorer.evaluate(LAYOUT_FACTS)
    assert not layout["cut"], f"controls reach past the explorer's right edge: {layout['cut']}"
    assert layout["viewer"] <= layout["room"] + 1, f"the viewer is wider than its room: {layout}"
    explorer.screenshot(path=str(ARTIFACTS / "05_light_900px.png"))
    light = explorer.evaluate(TEXT_CONTRAST)
    assert light["checked"] > 10 and light["worst"] >= MIN_CONTRAST, light
    assert not serious_violations(page, ".attention-explorer"), serious_violations(
        page, ".attention-explorer")

    switch_to_dark_theme(page)
    explorer.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    background = explorer.locator(".attention-viewer").first.evaluate(
        "el => getComputedStyle(el).backgroundColor")
    assert background == "rgb(30, 30, 30)", f"the viewer stayed light: {background}"
    explorer.screenshot(path=str(ARTIFACTS / "06_dark_900px.png"))
    dark = explorer.evaluate(TEXT_CONTRAST)
    (ARTIFACTS / "contrast.json").write_text(
        json.dumps({"layout_900px": layout, "light": light, "dark": dark}, indent=1))
    assert dark["checked"] > 10 and dark["worst"] >= MIN_CONTRAST, dark
    assert not serious_violations(page, ".attention-explorer"), serious_violations(
        page, ".attention-explorer")
    check_pair_and_download(page, explorer)


def serious_violations(page, context: str) -> list[str]:
    """axe-core's serious and critical violations inside ``context`` (a CSS selector)."""
    from axe_playwright_python.sync_playwright import Axe

    response = Axe().run(page, context=context).response
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in response["violations"] if v["impact"] in ("serious", "critical")]


def switch_to_dark_theme(page) -> None:
    """Settings > Theme > JupyterLab Dark, through the menu, then wait until it is applied."""
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="Settings").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Theme").first.hover()
    page.locator(".lm-Menu-item[data-command='apputils:change-theme']",
                 has_text="JupyterLab Dark").first.click()
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'",
                           timeout=THEME_S * 1000)
    page.wait_for_timeout(1000)  # the theme's CSS applied everywhere


def check_pair_and_download(page, explorer) -> None:
    """A sentence B reaches the viewer, as does the A->B filter; token focus draws; the map
    answers the keyboard; the PNG button writes a file, which the browser downloads."""
    box = explorer.locator(".explorer-text-b textarea")
    box.fill("It was tired.")
    explorer.locator("button", has_text="Show").first.click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.explorer-live .viewer-qk-token option')]"
        ".some(o => o.textContent.endsWith(' tired'))", timeout=REDRAW_S * 1000)
    explorer.locator(".widget-toggle-button", has_text="A→B").first.click()
    # The filter reaches the viewer from the kernel, which may redraw it (a new, empty readout)
    # a while after the click: until then, read the cell again (at most REDRAW_S), each time by
    # keyboard from the top left cell (PageUp, Home), then one row down.
    readout = explorer.locator(".explorer-live .viewer-readout").first
    deadline = time.monotonic() + REDRAW_S
    while True:
        cursor = explorer.locator(".explorer-live .viewer-cursor").first
        cursor.focus()
        for key in ("PageUp", "Home", "ArrowDown"):
            cursor.press(key)
        text = readout.inner_text()
        if "hidden by the filter" in text or time.monotonic() > deadline:
            break
        page.wait_for_timeout(250)
    assert re.fullmatch(r"layer \d+, head \d+: '.+' \(2\) \u2192 '.+' \(1\): "
                        r"(hidden by the filter|[01]\.\d{4})", text), text
    assert "hidden by the filter" in text  # A->B: the column of [CLS] (in A) is hidden
    explorer.locator(".explorer-live .viewer-mode").first.select_option("token")
    page.wait_for_timeout(800)
    explorer.screenshot(path=str(ARTIFACTS / "07_dark_pair_token_focus.png"))
    with page.expect_download(timeout=REDRAW_S * 1000) as download_info:
        explorer.locator(".explorer-save-png").first.click()  # written, and downloaded
    download = download_info.value
    assert download.suggested_filename == "attention.png"
    saved = ARTIFACTS / "downloaded_attention.png"
    download.save_as(str(saved))
    assert saved.read_bytes().startswith(b"\x89PNG"), "the download is not a PNG"
    check_live_view(page, explorer)


def check_live_view(page, explorer) -> None:
    """The viewer answers a hover in the browser, at the cursor, and stays readable."""
    explorer.locator(".explorer-live .viewer-mode").first.select_option("heatmap")
    live_map = explorer.locator(".explorer-live .viewer-map canvas").nth(1)
    live_map.scroll_into_view_if_needed()
    geometry = explorer.locator(".explorer-live .viewer-map").first.evaluate(
        "el => ({cell: +el.dataset.cell, left: +el.dataset.left, top: +el.dataset.top})")
    cell = geometry["cell"]
    live_map.hover(position={"x": geometry["left"] + 2 * cell + cell / 2,
                             "y": geometry["top"] + 3 * cell + cell / 2})
    readout = explorer.locator(".explorer-live .viewer-readout").first
    text = readout.inner_text()
    assert re.fullmatch(r"layer \d+, head \d+: '.+' \(4\) \u2192 '.+' \(3\): "
                        r"(hidden by the filter|[01]\.\d{4})", text), text
    tip = explorer.locator(".explorer-live .viewer-tip").first
    assert tip.is_visible() and tip.inner_text() == text
    tip_box, map_box = tip.bounding_box(), live_map.bounding_box()
    pointer = (map_box["x"] + geometry["left"] + 2.5 * cell,
               map_box["y"] + geometry["top"] + 3.5 * cell)
    assert abs(tip_box["x"] - pointer[0]) < 60 and abs(tip_box["y"] - pointer[1]) < 60, (
        tip_box, pointer)  # at the cursor, not a line far above it
    explorer.locator(".explorer-live").first.screenshot(path=str(ARTIFACTS / "09_live_view.png"))
    contrast = explorer.locator(".explorer-live").first.evaluate(TEXT_CONTRAST)
    assert contrast["worst"] >= MIN_CONTRAST, contrast
    check_long_text(page, explorer)


def check_long_text(page, explorer) -> None:
    """A 512-token text: the live view's two messages (the chosen head, then its whole layer)
    reach the viewer through JupyterLab; token focus, which needs every head, is then drawn."""
    explorer.locator(".explorer-text-b textarea").fill("")
    explorer.locator(".explorer-text-a textarea").fill("word " * 600)
    explorer.locator("button", has_text="Show").first.click()
    page.wait_for_function(
        "() => document.querySelectorAll('.explorer-live .viewer-token').length === 512",
        timeout=REDRAW_S * 1000)
    explorer.locator(".explorer-live .viewer-mode").first.select_option("token")
    page.wait_for_function(  # the whole layer is here: every head's links are listed
        "() => document.querySelectorAll('.explorer-live .viewer-focus-list-from li').length"
        " === 5", timeout=REDRAW_S * 1000)


# Controls whose right edge passes the explorer's, and the picture's shown / natural width.
LAYOUT_FACTS = """root => {
    const right = root.getBoundingClientRect().right + 1;
    const cut = [...root.querySelectorAll('input, select, button, textarea')]
        .filter(el => el.getClientRects().length && el.getBoundingClientRect().right > right
                && !el.closest('.viewer-scroll, .viewer-tokens, .viewer-grid-box'))
        .map(el => el.outerHTML.slice(0, 80));
    const viewer = root.querySelector('.attention-viewer');
    return {cut, viewer: viewer.getBoundingClientRect().width,
            room: root.getBoundingClientRect().width};
}"""

# The lowest WCAG contrast ratio between a text and the background behind it, over every
# visible text node of the explorer (the backgrounds found by walking up the page).
TEXT_CONTRAST = """root => {
    const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => [r, g, b].map(v => {
        v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
        .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
    const background = el => {
        for (; el; el = el.parentElement) {
            const c = rgb(getComputedStyle(el).backgroundColor);
            if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) return c.slice(0, 3);
        }
        return [255, 255, 255];
    };
    let worst = 99, where = '', checked = 0;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const el = node.parentElement;
        if (!node.textContent.trim() || !el.getClientRects().length) continue;
        if (getComputedStyle(el).visibility === 'hidden') continue;
        const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(background(el))];
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        checked += 1;
        if (ratio < worst) { worst = ratio; where = node.textContent.trim().slice(0, 60); }
    }
    return {worst, where, checked};
}"""


def test_lesson_view_in_jupyterlab(jupyter_lab):
    """Notebook 04's widget (the explorer's viewer, reduced to one layer) run in JupyterLab:
    clicking a small map enlarges that head, hovering the enlarged map gives the weight, and
    at 900 px, light and dark, it fits and keeps its text readable."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), headless=True,
                                             args=CHROMIUM_ARGS)
        try:
            console_errors = []
            page = open_in_lab(browser, jupyter_lab["lesson_url"], 900, 900, console_errors)
            run_all_cells(page)
            widget = page.locator(".attention-maps-widget").first
            grid = widget.locator(".viewer-grid")
            try:
                wait_until_run_finished(page, RUN_ALL_S)
                grid.wait_for(state="visible", timeout=REDRAW_S * 1000)
            except Exception:
                page.screenshot(path=str(ARTIFACTS / "14_lesson_failed.png"))
                (ARTIFACTS / "14_lesson_failed.txt").write_text(
                    "\n".join(console_errors) + "\n" + page.locator(".jp-Notebook").inner_text())
                raise
            errors = page.locator(".jp-OutputArea-output[data-mime-type*='error']")
            assert errors.count() == 0, f"a cell raised: {errors.first.inner_text()[:2000]}"
            grid.scroll_into_view_if_needed()
            assert widget.locator(".viewer-layer").input_value() == "1"  # layer 2, from 0
            widget.locator("button.viewer-thumb[data-head='2']").click()
            assert widget.locator(".viewer-head").input_value() == "2"  # head 3 enlarged
            geometry = widget.locator(".viewer-map").first.evaluate(
                "el => ({cell: +el.dataset.cell, left: +el.dataset.left, top: +el.dataset.top})")
            hover = widget.locator(".viewer-map canvas").nth(1)
            hover.scroll_into_view_if_needed()
            cell = geometry["cell"]
            hover.hover(position={"x": geometry["left"] + 1 * cell + cell / 2,
                                  "y": geometry["top"] + 2 * cell + cell / 2})
            assert re.fullmatch(r"layer 2, head 3: 'cat' \(3\) \u2192 'the' \(2\): [01]\.\d{4}",
                                widget.locator(".viewer-readout").inner_text())
            widget.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "14_lesson_light_900px.png"))
            widget.locator(".viewer-mode").select_option("qk")  # vectors asked of the kernel
            qk = widget.locator("canvas.viewer-qk-canvas")
            page.wait_for_function(
                "() => document.querySelector('.attention-maps-widget canvas.viewer-qk-canvas')"
                "?.dataset.top", timeout=REDRAW_S * 1000)
            spots = qk.evaluate("c => ({...c.dataset})")
            qk.hover(position={"x": float(spots["weights"]) + 10,
                               "y": float(spots["top"]) + 1 * float(spots["row"]) + 5})
            assert re.fullmatch(r"layer 2, head 3: softmax '\[CLS\]' \(1\) \u2192 'the' \(2\): "
                                r"[01]\.\d{4}", widget.locator(".viewer-readout").inner_text())
            page.screenshot(path=str(ARTIFACTS / "14b_lesson_query_key.png"))
            widget.locator(".viewer-mode").select_option("heatmap")
            light = widget.evaluate(TEXT_CONTRAST)
            switch_to_dark_theme(page)
            widget.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "15_lesson_dark_900px.png"))
            dark = widget.evaluate(TEXT_CONTRAST)
            for measured in (light, dark):
                assert measured["checked"] >= 8 and measured["worst"] >= MIN_CONTRAST, measured
        finally:
            browser.close()
    assert not [e for e in console_errors if "widget" in e.lower()], console_errors


def test_exported_page_is_interactive_offline(tmp_path):
    """The HTML page, opened as a file with every network request blocked: hovering a cell
    names the link the right way round with its weight, clicking a thumbnail picks that head,
    and the console stays clean."""
    import numpy as np
    from playwright.sync_api import sync_playwright

    from course_kit.explorer import head_pattern_scores, maps_from_weights
    from course_kit.explorer.export import write_static_html

    if find_chromium() is None:
        pytest.skip("no Chromium installed (apt-get install chromium); .ci/run installs it")
    targets = [0, 4, 5, 3, 1, 2, 6]  # 'a' (2) looks at 'c' (5), 'b' (3) at 'd' (6), ...
    one = np.zeros((7, 7), dtype=np.float32)
    one[np.arange(7), targets] = 1.0
    weights = np.stack([np.stack([one, np.full((7, 7), 1 / 7, dtype=np.float32)])] * 2)
    maps = maps_from_weights(weights, ["[CLS]", "a", "b", "[SEP]", "c", "d", "[SEP]"],
                             [0, 0, 0, 0, 1, 1, 1])
    page_path = write_static_html(tmp_path / "page.html", maps,
                                  head_pattern_scores(maps.weights, maps.tokens))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), headless=True,
                                             args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            problems, blocked = [], []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))

            def only_local(route):
                if route.request.url.startswith(("file:", "data:")):
                    route.continue_()
                else:
                    blocked.append(route.request.url)
                    route.abort()

            page.route("**/*", only_local)
            page.goto(page_path.as_uri())
            hover = page.locator(".viewer-map canvas").nth(1)
            hover.wait_for(state="visible", timeout=REDRAW_S * 1000)
            drawn = page.locator(".viewer-map canvas").first
            before = hover.screenshot()
            geometry = page.evaluate(VIEWER_GEOMETRY)
            cell, left, top = geometry["cell"], geometry["left"], geometry["top"]
            hover.hover(position={"x": left + 4 * cell + cell / 2, "y": top + 1 * cell + cell / 2})
            readout = page.locator(".viewer-readout")
            # a page carries 8-bit weights (the colour scale's steps): two decimals
            assert readout.inner_text() == "layer 1, head 1: 'a' (2) \u2192 'c' (5): 1.00"
            assert hover.screenshot() != before, "hovering did not change the picture"
            map_before = drawn.screenshot()
            page.locator("button.viewer-thumb[data-layer='1'][data-head='1']").click()
            assert page.locator(".viewer-head").input_value() == "1"  # head 2, from 0
            assert page.locator(".viewer-layer").input_value() == "1"
            assert drawn.screenshot() != map_before, "clicking a thumbnail did not redraw"
            hover.hover(position={"x": left + 0 * cell + 2, "y": top + 1 * cell + 2})
            assert readout.inner_text().endswith(": 0.14")  # uniform head: 1/7
            page.screenshot(path=str(ARTIFACTS / "08_exported_page.png"))
            page.locator(".viewer-layer").select_option("0")
            page.locator(".viewer-head").select_option("0")
            page.locator(".viewer-mode").select_option("lines")
            lines = page.locator("canvas.viewer-lines")
            assert lines.is_visible() and not drawn.is_visible()
            rows = lines.evaluate("c => ({top: +c.dataset.top, row: +c.dataset.rowHeight})")
            lines.hover(position={"x": 20, "y": rows["top"] + 1 * rows["row"] + rows["row"] / 2})
            assert readout.inner_text() == ("layer 1, head 1: 'a' (2) looks most at 'c' (5): "
                                            "1.00")
            page.screenshot(path=str(ARTIFACTS / "08b_exported_page_lines.png"))
        finally:
            browser.close()
    assert not problems, problems
    assert not blocked, f"the page asked the network for {blocked}"


# Where the viewer drew its map (cell size, margins) and its grid, as it records them.
VIEWER_GEOMETRY = """() => {
    const map = document.querySelector('.viewer-map').dataset;
    const grid = document.querySelector('.viewer-grid').dataset;
    return {cell: +map.cell, left: +map.left, top: +map.top, grid_left: +grid.left,
            grid_top: +grid.top, pitch: +grid.pitch};
}"""


def open_offline(browser, page_path: Path, problems: list, blocked: list, **context):
    """A new page showing ``page_path`` as a file, every network request blocked, errors kept."""
    page = browser.new_page(viewport={"width": 900, "height": 900}, **context)
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    def only_local(route):
        if route.request.url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(page_path.as_uri())
    page.locator(".viewer-map canvas").first.wait_for(state="attached", timeout=REDRAW_S * 1000)
    return page


def viewer_page(path: Path, maps, parts: str, layer: int = 0, head: int = 0,
                query_keys=None, **options) -> Path:
    """A bare page with the viewer on ``maps`` (as the live view and exports mount it).
    ``options``: for ``viewer_parts`` (max_values, head_only)."""
    import base64

    from course_kit.explorer.interactive import (
        query_key_parts,
        script_safe_json,
        viewer_parts,
        viewer_script,
    )

    info, weights, thumbs = viewer_parts(maps, layer, head, parts=parts, **options)
    info.update(weights=base64.b64encode(weights).decode(),
                thumbs=base64.b64encode(thumbs).decode())
    if query_keys is not None:
        fields, values = query_key_parts(layer, *query_keys)
        info.update(fields, qk=base64.b64encode(values).decode())
    data = script_safe_json(info)
    path.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
                    f"<div id='v'></div><script>{viewer_script()}</script><script>"
                    f"AttentionViewer.mount(document.getElementById('v'), {data});</script>"
                    "</body></html>", encoding="utf-8")
    return path


def test_viewer_draws_a_first_head_then_its_whole_layer(tmp_path):
    """Issue 22: a long text's first message carries one head of its layer (and every layer's
    thumbnails): the viewer draws that map with exact weights, says the other heads of the
    layer are loading (map, table, token focus), and draws them all once the layer comes."""
    import base64

    import numpy as np
    from playwright.sync_api import sync_playwright

    from course_kit.explorer import maps_from_weights
    from course_kit.explorer.interactive import viewer_parts

    if find_chromium() is None:
        pytest.skip("no Chromium installed (apt-get install chromium); .ci/run installs it")
    seq = 40
    weights = np.zeros((2, 3, seq, seq), dtype=np.float32)
    for head in range(3):  # head h: row r looks at (r + h + 1) mod seq, with 0.7; the rest evenly
        weights[:, head] = 0.3 / seq
        weights[:, head, np.arange(seq), (np.arange(seq) + head + 1) % seq] += 0.7
    maps = maps_from_weights(weights, [f"w{i}" for i in range(seq)])
    small = {"max_values": 3 * seq * seq}  # one layer at a time, as for a long text
    path = viewer_page(tmp_path / "first.html", maps, "all", layer=1, head=2, head_only=True,
                       **small)
    info, layer_maps, _ = viewer_parts(maps, 1, 2, **small)
    whole = json.dumps({**info, "weights": base64.b64encode(layer_maps).decode()})
    problems, blocked = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), headless=True,
                                             args=CHROMIUM_ARGS)
        try:
            page = open_offline(browser, path, problems, blocked)
            geometry = page.evaluate(VIEWER_GEOMETRY)
            cell, left, top = geometry["cell"], geometry["left"], geometry["top"]
            page.locator(".viewer-map canvas").nth(1).hover(
                position={"x": left + 8 * cell + cell / 2, "y": top + 5 * cell + cell / 2})
            expected = f"{0.7 + 0.3 / seq:.4f}"  # 16 bits: exact to 1.5e-5
            assert page.locator(".viewer-readout").inner_text() == (
                f"layer 2, head 3: 'w5' (6) \u2192 'w8' (9): {expected}")
            assert page.locator(".viewer-table tbody tr").count() == 10
            page.locator(".viewer-head").select_option("0")  # not here yet
            assert page.locator(".viewer-table tbody tr").count() == 0
            page.locator(".viewer-mode").select_option("token")
            assert page.locator(".viewer-focus-list-from li").count() == 0
            page.evaluate("""(whole) => {  // the rest of the layer, as the live view mounts it
                const root = document.getElementById('v');
                const state = root.attentionViewer.state;
                root.replaceChildren();
                const data = Object.assign(JSON.parse(whole), { thumbs: '', layer: state.layer,
                                                                 head: state.head });
                AttentionViewer.mount(root, data, { state: state });
            }""", whole)
            assert page.locator(".viewer-focus-list-from li").count() == 5
            page.locator(".viewer-mode").select_option("heatmap")
            assert page.locator(".viewer-head").input_value() == "0"
            assert page.locator(".viewer-table tbody tr").count() == 10
        finally:
            browser.close()
    assert not problems, problems
    assert not blocked, f"the page asked the network for {blocked}"


def test_viewer_token_focus_lines_zoom_and_downloads(tmp_path):
    """On hand-made maps: token focus lists point from the looking token to the token looked
    at, with places from 1; several heads' lines overlay; the query/key view gives the softmax
    Python computes; the lessons' layer view enlarges a clicked map; at 512 tokens a hover
    names the exact cell, also zoomed; the PNG and HTML buttons fire real downloads, and the
    downloaded page works offline."""
    import numpy as np
    from playwright.sync_api import sync_playwright

    from course_kit.explorer import maps_from_weights, query_key_view

    if find_chromium() is None:
        pytest.skip("no Chromium installed (apt-get install chromium); .ci/run installs it")
    keys = np.zeros((2, 7, 2), dtype=np.float32)  # (heads, seq, d): key j of head 1 is [j, 0]
    keys[0, :, 0] = np.arange(7)
    queries = np.ones((2, 7, 2), dtype=np.float32)
    queries[0, 1] = [2.0, 0.0]  # the query of 'a' (2) in head 1
    expected = query_key_view(queries[0], keys[0], token=1)
    targets = [0, 4, 5, 3, 1, 2, 6]  # 'a' (2) looks at 'c' (5), 'b' (3) at 'd' (6), ...
    one = np.zeros((7, 7), dtype=np.float32)
    one[np.arange(7), targets] = 1.0
    uniform = np.full((7, 7), 1 / 7, dtype=np.float32)
    maps = maps_from_weights(np.stack([np.stack([one, uniform])] * 2),
                             ["[CLS]", "a", "b", "[SEP]", "c", "d", "[SEP]"],
                             [0, 0, 0, 0, 1, 1, 1])
    seq = 512
    long_map = np.zeros((seq, seq), dtype=np.float32)
    long_map[np.arange(seq), (np.arange(seq) * 7) % seq] = 1.0  # row r looks at 7r mod 512
    long_maps = maps_from_weights(long_map[None, None], [f"w{i}" for i in range(seq)])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems, blocked = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), headless=True,
                                             args=CHROMIUM_ARGS)
        try:
            page = open_offline(browser, viewer_page(tmp_path / "all.html", maps, "all",
                                                     query_keys=(queries, keys)),
                                problems, blocked, accept_downloads=True)
            readout = page.locator(".viewer-readout")
            page.locator(".viewer-mode").select_option("token")
            page.locator(".viewer-token[data-position='1']").hover()  # 'a' (2)
            looks = page.locator(".viewer-focus-list-from li").all_inner_texts()
            looked = page.locator(".viewer-focus-list-to li").all_inner_texts()
            mean = f"{(1 + 1 / 7) / 2:.4f}"  # head 1 puts 1 on 'c', head 2 spreads 1/7
            assert looks[0] == f"'a' (2) \u2192 'c' (5): {mean}", looks
            assert looked[0] == f"'c' (5) \u2192 'a' (2): {mean}", looked  # row 5 puts 1 on 2
            focus = page.locator("canvas.viewer-focus-from")
            focus.hover(position={"x": 56 + 4 * 24 + 12, "y": 20 + 7})  # head 1, column 'c'
            assert readout.inner_text() == "layer 1, head 1: 'a' (2) \u2192 'c' (5): 1.0000"
            page.screenshot(path=str(ARTIFACTS / "10_token_focus.png"), full_page=True)

            page.locator(".viewer-mode").select_option("lines")
            page.locator(".viewer-toggle[data-head='1']").check()  # head 2 over head 1
            lines = page.locator("canvas.viewer-lines")
            rows = lines.evaluate("c => ({top: +c.dataset.top, row: +c.dataset.rowHeight,"
                                  " right: +c.dataset.right})")
            lines.hover(position={"x": rows["right"] + 10, "y": rows["top"] + 4 * rows["row"] + 9})
            assert readout.inner_text().split("\n") == [
                "layer 1, head 1: 'c' (5) is looked at most by 'a' (2): 1.0000",
                "layer 1, head 2: 'c' (5) is looked at most by '[CLS]' (1): 0.1429"]
            page.screenshot(path=str(ARTIFACTS / "11_lines_two_heads.png"), full_page=True)

            page.locator(".viewer-mode").select_option("qk")
            page.locator(".viewer-qk-token").select_option("1")  # 'a' (2) looks
            qk = page.locator("canvas.viewer-qk-canvas")
            spots = qk.evaluate("c => ({...c.dataset})")
            y = float(spots["top"]) + 5 * float(spots["row"]) + 5  # the row of 'd' (6)
            qk.hover(position={"x": float(spots["weights"]) + 10, "y": y})
            assert readout.inner_text() == (
                f"layer 1, head 1: softmax 'a' (2) \u2192 'd' (6): {expected.weights[5]:.4f}")
            qk.hover(position={"x": float(spots["scores"]) + 10, "y": y})
            assert readout.inner_text().endswith(f": {expected.scores[5]:.4f}")  # 2 * 5 / sqrt 2
            qk.hover(position={"x": float(spots["products"]) + 1, "y": y})
            assert readout.inner_text() == ("layer 1, head 1: query of 'a' (2) \u00d7 key of "
                                            "'d' (6), feature 1: 10.0000")
            page.screenshot(path=str(ARTIFACTS / "11b_query_key.png"), full_page=True)

            with page.expect_download(timeout=REDRAW_S * 1000) as png_download:
                page.locator(".viewer-save-png").click()
            png = tmp_path / png_download.value.suggested_filename
            png_download.value.save_as(str(png))
            assert png.name == "attention-layer1-head1.png"
            assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
            with page.expect_download(timeout=REDRAW_S * 1000) as html_download:
                page.locator(".viewer-save-html").click()
            saved = tmp_path / "downloaded" / html_download.value.suggested_filename
            html_download.value.save_as(str(saved))
            assert saved.name == "attention-layer1-head1.html"
            again = open_offline(browser, saved, problems, blocked)
            assert again.locator(".viewer-mode").input_value() == "qk"  # opens as it was saved
            again.locator(".viewer-mode").select_option("heatmap")
            geometry = again.evaluate(VIEWER_GEOMETRY)
            cell, left, top = geometry["cell"], geometry["left"], geometry["top"]
            again.locator(".viewer-map canvas").nth(1).hover(
                position={"x": left + 5 * cell + cell / 2, "y": top + 2 * cell + cell / 2})
            assert again.locator(".viewer-readout").inner_text() == (
                "layer 1, head 1: 'b' (3) \u2192 'd' (6): 1.00")  # saved 8-bit

            lesson = open_offline(browser, viewer_page(tmp_path / "layer.html", maps, "layer"),
                                  problems, blocked)
            before = lesson.locator(".viewer-map canvas").first.screenshot()
            lesson.locator("button.viewer-thumb[data-head='1']").click()
            assert lesson.locator(".viewer-head").input_value() == "1"  # head 2 enlarged
            assert lesson.locator(".viewer-map canvas").first.screenshot() != before
            lesson.screenshot(path=str(ARTIFACTS / "12_lesson_layer_view.png"), full_page=True)

            long = open_offline(browser, viewer_page(tmp_path / "long.html", long_maps, "head"),
                                problems, blocked)
            for zoom in ("1", "4"):
                long.locator(".viewer-zoom").select_option(zoom)
                geometry = long.evaluate(VIEWER_GEOMETRY)
                cell, left, top = geometry["cell"], geometry["left"], geometry["top"]
                canvas = long.locator(".viewer-map canvas").nth(1)
                row = 40  # looks at 280
                long.locator(".viewer-scroll").evaluate(
                    "(s, x) => { s.scrollLeft = x; s.scrollTop = 0; }",
                    max(0, left + 280 * cell - 400))
                canvas.hover(position={"x": left + 280 * cell + cell / 2,
                                       "y": top + row * cell + cell / 2})
                assert long.locator(".viewer-readout").inner_text() == (
                    "layer 1, head 1: 'w40' (41) \u2192 'w280' (281): 1.0000"), zoom
            long.screenshot(path=str(ARTIFACTS / "13_512_tokens_zoom4.png"))
        finally:
            browser.close()
    assert not problems, problems
    assert not blocked, f"the pages asked the network for {blocked}"
