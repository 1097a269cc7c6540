"""Build a slide deck from its Markdown source into one self-contained HTML file.

    python teaching/make_slides.py                      # every teaching/slides/*.md
    python teaching/make_slides.py teaching/slides/workshop.md

Slides are separated by a line holding only ``---``. An image names one of the course's
diagrams (``![](qkv_one_head.svg)``): it is embedded in the page, with the diagram's own title
as its text alternative. The page needs no network (no CDN, no font download): arrow keys,
space, Page Up / Page Down and clicks move between slides, the address remembers the slide
(``#3``), and printing gives one slide per page.
"""

from __future__ import annotations

import base64
import html
import re
import sys
from pathlib import Path

from markdown_it import MarkdownIt

from course_lib import course_file

ROOT = Path(__file__).resolve().parents[1]
SLIDES = ROOT / "teaching" / "slides"
IMAGE = re.compile(r"!\[[^\]]*\]\(([\w.-]+\.svg)\)")
TITLE = re.compile(r"<title>(.*?)</title>", re.S)

STYLE = """
:root { color-scheme: light dark; --fg: #1b1b1b; --bg: #ffffff; --accent: #1f5fa8; }
@media (prefers-color-scheme: dark) { :root { --fg: #eeeeee; --bg: #161616; --accent: #8ab8ff; } }
html, body { margin: 0; height: 100%; background: var(--bg); color: var(--fg);
  font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; }
section { display: none; box-sizing: border-box; height: 100vh; padding: 4vh 6vw;
  font-size: clamp(16px, 2.6vw, 34px); overflow: auto; }
section.current { display: block; }
h1, h2 { color: var(--accent); margin-top: 0; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 0.9em; }
img { display: block; max-width: 100%; max-height: 55vh; margin: 1em auto;
  background: #ffffff; border-radius: 6px; }
nav { position: fixed; bottom: 1vh; right: 2vw; font-size: 14px; }
@media print { section { display: block; height: auto; page-break-after: always; }
  nav { display: none; } }
"""

SCRIPT = """
const slides = [...document.querySelectorAll('section')];
const counter = document.querySelector('nav');
function show(n) {
  n = Math.max(0, Math.min(slides.length - 1, n));
  slides.forEach((s, i) => s.classList.toggle('current', i === n));
  counter.textContent = (n + 1) + ' / ' + slides.length;
  history.replaceState(null, '', '#' + (n + 1));
  slides[n].focus();
}
let current = Math.max(0, parseInt(location.hash.slice(1) || '1', 10) - 1) || 0;
document.addEventListener('keydown', (e) => {
  if (['ArrowRight', 'PageDown', ' '].includes(e.key)) { show(++current); e.preventDefault(); }
  if (['ArrowLeft', 'PageUp'].includes(e.key)) { show(--current); e.preventDefault(); }
  current = Math.max(0, Math.min(slides.length - 1, current));
});
document.addEventListener('click', () => {
  current = Math.min(slides.length - 1, current + 1);
  show(current);
});
show(current);
"""


def embedded_image(name: str) -> str:
    """An <img> of a course diagram, embedded, its title as the text alternative."""
    path = course_file("diagrams") / name
    if not path.is_file():
        raise FileNotFoundError(f"slide image {name!r}: no such diagram in {path.parent}")
    svg = path.read_text(encoding="utf-8")
    title = TITLE.search(svg)
    alt = html.escape(title.group(1).strip() if title else name, quote=True)
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img src="data:image/svg+xml;base64,{data}" alt="{alt}">'


def build(source: Path) -> Path:
    """source.md -> source.html beside it; returns the HTML file."""
    markdown = MarkdownIt("commonmark")
    parts = re.split(r"^---\s*$", source.read_text(encoding="utf-8"), flags=re.M)
    sections = []
    for number, part in enumerate(parts, start=1):
        body = markdown.render(IMAGE.sub(lambda m: f"\n\nIMAGE:{m.group(1)}\n\n", part))
        body = re.sub(r"<p>IMAGE:([\w.-]+)</p>", lambda m: embedded_image(m.group(1)), body)
        sections.append(f'<section tabindex="-1" aria-label="slide {number}">{body}</section>')
    title = re.search(r"^# (.+)$", source.read_text(encoding="utf-8"), re.M)
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{html.escape(title.group(1) if title else source.stem)}</title>'
            f"<style>{STYLE}</style></head><body><main>{''.join(sections)}</main>"
            f'<nav aria-live="polite"></nav><script>{SCRIPT}</script></body></html>\n')
    out = source.with_suffix(".html")
    out.write_text(page, encoding="utf-8")
    return out


def main(argv: list[str]) -> int:
    sources = [Path(a) for a in argv] or sorted(SLIDES.glob("*.md"))
    for source in sources:
        print(f"wrote {build(source)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
