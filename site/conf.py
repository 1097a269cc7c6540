"""Sphinx configuration of the course site (used by site/build.py; see site/README.md).

Everything the pages load ships in Python wheels (Sphinx, myst-nb, sphinx-book-theme, MathJax
from sphinx-mathjax-offline): the build and the site work with no network.
"""

from __future__ import annotations

import os

project = "The BERT Encoder, built from scratch"
author = "the course authors"
copyright = "the course authors"

extensions = ["myst_nb", "sphinx-mathjax-offline"]
# The notebooks are shown with the outputs saved in them: never executed here.
nb_execution_mode = "off"
myst_enable_extensions = ["dollarmath", "amsmath", "html_image"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type"]

source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"]
html_css_files = ["site.css"]
html_js_files = ["explorer-frame.js", "menu-fix.js", "bert.js", "viewer.js", "try-bert.js"]
# The .ipynb files, offered for download from every page (site/build.py copies them there).
html_extra_path = ["files"]
html_last_updated_fmt = None
html_show_sourcelink = False
html_copy_source = False
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "use_source_button": False,
    "use_issues_button": False,
    "use_edit_page_button": False,
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
repository = os.environ.get("COURSE_REPOSITORY_URL", "")
if repository:
    html_theme_options.update(repository_url=repository, use_repository_button=True)
# Light or dark as the reader's system says; the switch in the header changes it.
html_context = {"default_mode": "auto"}
