"""Build the course site: static HTML of every notebook with its saved outputs (no kernel).

    python site/build.py                 # writes build/site/ (open build/site/index.html)
    python site/build.py --out DIR       # elsewhere

Steps: copy the README (home page) and every notebook found (notebooks/*.ipynb and their
solutions, sorted, so new notebooks join by themselves) into a source folder; on each page add
where to get the notebook and how to run it; put each attention explorer back as its live,
kernel-free export (site/explorers.py) and note other widgets; then run Sphinx (myst-nb,
sphinx-book-theme, offline MathJax: all from wheels, no network). Prints the time taken.
"""

from __future__ import annotations

import argparse
import copy
import html
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "site"
NOTEBOOKS = ROOT / "notebooks"
SOLUTIONS = NOTEBOOKS / "solutions"
TEACHING = ROOT / "teaching"
DEFAULT_OUT = ROOT / "build" / "site"
EXPLORER_FOLDER = "explorers"  # under _static/ of the site
BROWSER_MODEL = "models/minilm"  # under _static/: MiniLM for bert.js, float16
TRY_IT_NOTEBOOK = "08_attention_explorer"  # its first explorer gets "type your own text"
# Downloads: the .ipynb files, copied as they are beside their pages (html_extra_path).
FILES = "files"
WIDGET_REPR = re.compile(r"^([A-Z]\w*)\((children|value|layout|description|options)=")
# The two README commands that install and open the course (README "Quick start").
RUN_LOCALLY = "make lab"

sys.path.insert(0, str(SITE))
sys.path.insert(0, str(ROOT))

import browser_model  # noqa: E402  (site/browser_model.py)
import explorers  # noqa: E402  (site/explorers.py)


def course_notebooks() -> list[Path]:
    """Every course notebook (not the solutions), sorted by name: the site's page order."""
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def solution_of(notebook: Path) -> Path | None:
    """notebooks/solutions/<name>_solutions.ipynb, when there is one."""
    path = SOLUTIONS / f"{notebook.stem}_solutions.ipynb"
    return path if path.exists() else None


def text_of(value) -> str:
    return "".join(value) if isinstance(value, list) else value


def widget_class(output: dict) -> str | None:
    """The class name when this output is the saved text form of a widget, else None."""
    data = output.get("data", {})
    if output.get("output_type") != "execute_result" or set(data) - {"text/plain"}:
        return None
    match = WIDGET_REPR.match(text_of(data.get("text/plain", "")))
    return match.group(1) if match else None


def html_output(markup: str) -> dict:
    """An output cell that shows ``markup`` as HTML (myst-nb renders text/html as it is)."""
    return {"output_type": "display_data", "metadata": {}, "data": {"text/html": markup}}


def explorer_frame(src: str, shown: str) -> str:
    """The live explorer, embedded, and what the reader needs to know about it."""
    return (
        '<div class="course-explorer">'
        '<p class="course-explorer-note"><b>Live explorer, no kernel needed:</b> hover a cell for '
        "its weight, click a small map to enlarge it. It shows the text of the notebook; to "
        "explore another text, sentence pair, model or the other views, open the notebook "
        f"(see <em>Run this notebook</em> above). Shown: {html.escape(shown)}.</p>"
        f'<iframe class="course-explorer-frame" src="{src}" title="attention explorer" '
        'loading="lazy"></iframe>'
        f'<p><a href="{src}" target="_blank">Open the explorer on a page of its own</a></p></div>')


def try_it_box(depth: str, static: Path) -> str:
    """A box where a visitor types a text and sees MiniLM's attention, computed in the page by
    bert.js and drawn by the explorer's viewer (try-bert.js); the weights load on request."""
    manifest = json.loads((static / BROWSER_MODEL / "manifest.json").read_text(encoding="utf-8"))
    return (f'<div class="course-try-it"><p><b>Your own text, with no kernel:</b> the shipped '
            f"MiniLM runs in this page (a JavaScript copy of course_lib's tokenizer and forward "
            f"pass), and the explorer shows every head of every layer.</p>"
            f'<div class="try-bert" data-model="{depth}_static/{BROWSER_MODEL}/" '
            f'data-bytes="{manifest["bytes"]}"><p>This needs JavaScript.</p></div></div>')


def widget_note(name: str) -> str:
    return ('<div class="course-widget-note admonition note"><p class="admonition-title">'
            f"Interactive widget ({html.escape(name)})</p><p>In the notebook an interactive "
            "widget stands here; it needs a running Python kernel, so this page cannot show it "
            "live (the cells around it show what it draws). Open the notebook to use it (see "
            "<em>Run this notebook</em> above).</p></div>")


def run_box(notebook: Path, depth: str, repository: str) -> str:
    """Where to get this notebook and its solutions, and the three ways to run it."""
    name = notebook.name
    links = [f'<a href="{depth}notebooks/{name}" download>{name}</a>']
    solution = solution_of(notebook)
    if solution:
        page = f"{depth}notebooks/solutions/{solution.stem}.html"
        links.append(f'<a href="{page}">worked solutions</a> '
                     f'(<a href="{depth}notebooks/solutions/{solution.name}" '
                     "download>.ipynb</a>)")
    if repository:
        owner_repo = repository.rstrip("/").removeprefix("https://github.com/")
        binder = (f'<a href="https://mybinder.org/v2/gh/{owner_repo}/HEAD?labpath=notebooks/'
                  f'{name}">open on Binder</a> (it builds from the <code>binder/</code> folder)')
    else:
        binder = ("mybinder.org builds the course from the repository's <code>binder/</code> "
                  f"folder; open <code>notebooks/{name}</code> there")
    return (
        '<div class="course-run admonition tip"><p class="admonition-title">Run this notebook'
        f"</p><p>Notebook: {' · '.join(links)}. The pages show the outputs saved when the course "
        "was last run; to run, change and check your own code:</p><ul>"
        "<li><b>On your machine</b> (Python 3.11, offline once installed): in the course "
        f"folder run <code>{RUN_LOCALLY}</code> (installs, then opens JupyterLab) and open "
        f"<code>notebooks/{name}</code>; <code>make test</code> runs every check.</li>"
        "<li><b>On a JupyterHub</b> set up by your teacher: follow the link you were given "
        f"(nbgitpuller), then open <code>notebooks/{name}</code>.</li>"
        f"<li><b>On Binder</b>: {binder}.</li></ul></div>")


def prepare(nb: dict, notebook: Path, depth: str, repository: str, static: Path,
            log: list[str]) -> dict:
    """A copy of the notebook for the site: run box after the title, explorers made live."""
    nb = copy.deepcopy(nb)
    cells = nb["cells"]
    title_at = next((i for i, c in enumerate(cells) if c["cell_type"] == "markdown"), -1)
    cells.insert(title_at + 1, {"cell_type": "markdown", "metadata": {}, "id": "course-run",
                                "source": run_box(notebook, depth, repository)})
    count = 0
    for at, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            if (widget := explorers.widget_of_output(output)) is not None:
                count += 1
                earlier = [text_of(c["source"]) for c in cells[:at] if c["cell_type"] == "code"]
                spec = explorers.explorer_spec(text_of(cell["source"]), earlier, widget)
                page = f"{notebook.stem}-{count}.html"
                shown = explorers.write_explorer_page(spec, static / EXPLORER_FOLDER / page)
                log.append(f"  explorer {notebook.stem} #{count}: {shown}")
                outputs.append(html_output(explorer_frame(
                    f"{depth}_static/{EXPLORER_FOLDER}/{page}", shown)))
                if notebook.stem == TRY_IT_NOTEBOOK and count == 1 and depth == "../":
                    outputs.append(html_output(try_it_box(depth, static)))
            elif (name := widget_class(output)) is not None:
                outputs.append(html_output(widget_note(name)))
            else:
                outputs.append(output)
        cell["outputs"] = outputs
        if any(IMAGE_TYPES & set(o.get("data", {})) for o in outputs):
            earlier = next((text_of(c["source"]) for c in reversed(cells[:at])
                            if c["cell_type"] == "markdown"), "")
            alt = figure_caption(text_of(cell["source"]), earlier)
            cell.setdefault("metadata", {}).setdefault("mystnb", {})["image"] = {"alt": alt}
    return nb


IMAGE_TYPES = {"image/png", "image/svg+xml", "image/jpeg"}
TITLE = re.compile(r"""(?:set_title|suptitle|title)\s*[(=]\s*f?["']([^"'{}]{4,})["']""")


def figure_caption(source: str, markdown_before: str) -> str:
    """Alt text for a cell's figures: its plot title, else the cell's first comment, else the
    last sentence of the text before it (never the image's file name)."""
    titles = TITLE.findall(source)
    if titles:
        return "Figure: " + "; ".join(dict.fromkeys(titles))
    comment = next((line.strip("# ").strip() for line in source.splitlines()
                    if line.startswith("#") and not line.startswith("# NBVAL")
                    and len(line.strip("# ")) > 3), "")
    if comment:
        return "Figure: " + comment
    sentences = re.split(r"(?<=[.:!?])\s+", " ".join(markdown_before.split()))
    last = next((s for s in reversed(sentences) if len(s) > 3 and not s.startswith("#")), "")
    return ("Figure: " + re.sub(r"[*`_]", "", last).rstrip(":"))[:250] if last else "Figure"


def home_page(pages: list[str], solutions: list[str], teaching: list[str]) -> str:
    """README as the home page, then the table of contents (the site's navigation)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for page in pages:  # `notebooks/NN_x.ipynb` in the README becomes a link to its page
        readme = readme.replace(f"`{page}.ipynb`", f"[`{page}.ipynb`]({page}.ipynb)")
    parts = [readme, "\n\n```{toctree}\n:caption: Notebooks\n:maxdepth: 1\n:hidden:\n\n"]
    parts += [f"{p}\n" for p in pages]
    parts.append("```\n")
    if solutions:
        parts.append("\n```{toctree}\n:caption: Solutions\n:maxdepth: 1\n:hidden:\n\n")
        parts += [f"{p}\n" for p in solutions]
        parts.append("```\n")
    if teaching:
        parts.append("\n```{toctree}\n:caption: For teachers\n:maxdepth: 1\n:hidden:\n\n")
        parts += [f"{p}\n" for p in teaching]
        parts.append("```\n")
    return "".join(parts)


def write_source(src: Path, repository: str, log: list[str]) -> None:
    """Fill ``src`` with everything Sphinx reads."""
    if src.exists():
        shutil.rmtree(src)
    static = src / "_static"
    (static / EXPLORER_FOLDER).mkdir(parents=True)
    for asset in (SITE / "static").iterdir():
        shutil.copy2(asset, static / asset.name)
    shutil.copy2(ROOT / "course_kit" / "explorer" / "static" / "viewer.js", static / "viewer.js")
    import course_lib as cl

    browser_model.export(cl.load_pretrained("minilm"), cl.load_tokenizer("minilm"),
                         static / BROWSER_MODEL, "float16")
    shutil.copy2(SITE / "conf.py", src / "conf.py")
    files = src / FILES / "notebooks"
    (files / "solutions").mkdir(parents=True)
    pages, solution_pages = [], []
    for notebook in course_notebooks():
        nb = json.loads(notebook.read_text(encoding="utf-8"))
        shutil.copy2(notebook, files / notebook.name)
        (src / "notebooks").mkdir(exist_ok=True)
        page = prepare(nb, notebook, "../", repository, static, log)
        (src / "notebooks" / notebook.name).write_text(json.dumps(page), encoding="utf-8")
        pages.append(f"notebooks/{notebook.stem}")
        solution = solution_of(notebook)
        if solution:
            sol = json.loads(solution.read_text(encoding="utf-8"))
            shutil.copy2(solution, files / "solutions" / solution.name)
            # notebooks/solutions/ as in the repository, so the notebooks' links work as they are
            (src / "notebooks" / "solutions").mkdir(exist_ok=True)
            page = prepare(sol, notebook, "../../", repository, static, log)
            (src / "notebooks" / "solutions" / solution.name).write_text(json.dumps(page),
                                                                         encoding="utf-8")
            solution_pages.append(f"notebooks/solutions/{solution.stem}")
    teaching = []
    if TEACHING.is_dir():
        (src / "teaching").mkdir()
        for guide in sorted(TEACHING.rglob("*.md")):
            if "slides" in guide.parts:  # a deck's source, built into its own page
                continue
            page = guide.relative_to(TEACHING)
            (src / "teaching" / page.parent).mkdir(parents=True, exist_ok=True)
            shutil.copy2(guide, src / "teaching" / page)
            teaching.append(f"teaching/{page.with_suffix('').as_posix()}")
    (src / "index.md").write_text(home_page(pages, solution_pages, teaching), encoding="utf-8")


def build(out: Path = DEFAULT_OUT, repository: str = "", quiet: bool = True) -> Path:
    """Build the site into ``out``; returns the path of its home page."""
    from sphinx.cmd.build import build_main

    started = time.perf_counter()
    if out.exists():  # Sphinx keeps old pages: a renamed notebook would linger
        shutil.rmtree(out)
    src = out.parent / f"{out.name}-src"
    log: list[str] = []
    if repository:  # conf.py reads it too (the theme's repository button)
        os.environ["COURSE_REPOSITORY_URL"] = repository
    write_source(src, repository, log)
    prepared = time.perf_counter() - started
    print("\n".join(log))
    doctrees = out.parent / f"{out.name}-doctrees"
    args = ["-b", "html", "-j", "1", "-W", "--keep-going", "-d", str(doctrees), str(src), str(out)]
    if quiet:
        args.insert(0, "-q")
    if build_main(args) != 0:
        raise SystemExit("the site build failed (Sphinx warnings are errors); see above")
    took = time.perf_counter() - started
    print(f"site built in {took:.1f} s ({prepared:.1f} s preparing pages and explorers, "
          f"{took - prepared:.1f} s Sphinx): {out / 'index.html'}")
    return out / "index.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--repository", default=os.environ.get("COURSE_REPOSITORY_URL", ""),
                        help="the course's GitHub URL, for Binder links (optional)")
    parser.add_argument("--verbose", action="store_true", help="show Sphinx's progress")
    args = parser.parse_args(argv)
    build(args.out.resolve(), args.repository, quiet=not args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
