"""A pytest plugin (registered by conftest.py) for `make test`'s two workers (pytest-xdist, -n 2).

- Every test file and every notebook is one unit of work that runs whole on one worker, in
  collection order (a notebook's cells share one kernel; a module's fixtures are built once).
  The learner's notebooks that write or read ``notebooks/my_bert/`` (01 to 05, 07 and 07b) are
  one unit, so they run in course order as in a serial run and 07b always finds the same package.
- Units are handed out longest first (SECONDS below), so that the two workers end together;
  the others follow, those with more tests first. The figures only order the work: a wrong or
  missing one costs time, never a check. Test ids, outcomes and reports are xdist's own.
- Torch's OpenMP threads sleep while they wait (OMP_WAIT_POLICY=PASSIVE, unless set): two
  workers each running torch on 2 threads share 2 cores, and threads that spin while they wait
  then burn the other worker's time (a fine-tuning step took 15 times longer on the busy test
  machine). The thread count, and so every number the notebooks compute, is unchanged.
- Each worker keeps its own progress file (COURSE_PROGRESS_FILE with ``-gw0``, ``-gw1``), which
  the notebooks' kernels inherit, so two workers never share one.

This replaces whatever ``--dist`` says (except ``each``). Without xdist (``-n 0``, a bare
``pytest``) it changes nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The learner's notebooks that share notebooks/my_bert/ (written by 01-05 and 07, read by 07b).
MY_BERT_UNIT = "notebooks/ (the notebooks that share my_bert/)"
MY_BERT_NOTEBOOKS = {f"notebooks/{name}.ipynb" for name in (
    "01_text_to_token_ids", "02_word_embeddings", "03_self_attention", "04_multi_head_attention",
    "05_encoder_layer", "07_pretrained_weights", "07b_your_own_bert")}

# Seconds per unit, the long ones only (pytest's own durations, summed per unit, on 2 workers of
# the busy 2-core test machine, 2026-12-06): only their order is used.
SECONDS: dict[str, float] = {
    "notebooks/10_fine_tuning_bert.ipynb": 832, "notebooks/10b_bert_at_work.ipynb": 460,
    "notebooks/09b_pretraining_on_real_text.ipynb": 175, "tests/test_shakespeare.py": 70,
    "tests/test_site.py": 165, "tests/test_inference.py": 133, "tests/test_fresh_install.py": 129,
    "notebooks/A1_making_bert_fast.ipynb": 92, "tests/test_my_bert_capstone.py": 83,
    "tests/test_browser.py": 73, "tests/test_paths.py": 66, "tests/test_hub.py": 65,
    MY_BERT_UNIT: 63, "notebooks/09_pretraining_bert.ipynb": 54, "tests/test_reference.py": 42,
    "tests/test_checks_no_false_verdicts.py": 35, "tests/test_doctor.py": 34,
}


def unit_of(nodeid: str) -> str:
    """The unit of work a test belongs to: its file, or the notebooks sharing my_bert/."""
    path = nodeid.split("::", 1)[0]
    return MY_BERT_UNIT if path in MY_BERT_NOTEBOOKS else path


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("dist", "no") != "no":  # xdist's controller, before it starts workers
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1, ... (None outside xdist)
    progress = os.environ.get("COURSE_PROGRESS_FILE", "")
    if worker and progress and progress != "off":
        path = Path(progress)
        path = path.with_name(f"{path.stem}-{worker}{path.suffix}")
        os.environ["COURSE_PROGRESS_FILE"] = str(path)


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist; ours wins over its default
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if config.getvalue("dist") == "each":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class UnitScheduling(LoadScopeScheduling):
        """xdist's loadscope, with our units as scopes, the long ones handed out first."""

        ordered = False

        def _split_scope(self, nodeid: str) -> str:
            return unit_of(nodeid)

        def _assign_work_unit(self, node) -> None:
            if not self.ordered:  # the queue is complete by the first assignment
                units = sorted(self.workqueue.items(), key=lambda unit: -SECONDS.get(unit[0], 0))
                self.workqueue.clear()
                self.workqueue.update(units)
                self.ordered = True
            super()._assign_work_unit(node)

    return UnitScheduling(config, log)
