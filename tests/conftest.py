"""Shared fixtures: the shipped model and a random BERT-base written by `transformers`."""

from __future__ import annotations

import os

import pytest
import torch

# A skipped browser test is an error in CI and under `make test` (tests/browser_required.py).
from browser_required import (  # noqa: F401
    pytest_collection_modifyitems,
    pytest_runtest_makereport,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def pytest_configure(config):
    """`make test` runs on two workers (pytest-xdist): tests/parallel.py says how work is split."""
    import parallel

    if not config.pluginmanager.has_plugin("course-parallel"):
        config.pluginmanager.register(parallel, "course-parallel")


@pytest.fixture(scope="session")
def minilm_folder():
    import course_lib as cl

    return cl.minilm_folder()


@pytest.fixture(scope="session")
def random_base_folder(tmp_path_factory):
    """A randomly initialised BERT-base saved by `transformers` itself (the reference writer)."""
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(1234)
    reference = transformers.BertModel(transformers.BertConfig())
    folder = tmp_path_factory.mktemp("random-bert-base")
    reference.save_pretrained(folder)
    return folder


@pytest.fixture()
def store(tmp_path, monkeypatch):
    """Progress kept in a temporary file, with the module's write cache and notices emptied."""
    import importlib

    progress = importlib.import_module("course_kit.progress")  # kit.progress is the function
    path = tmp_path / "progress.json"
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(path))
    monkeypatch.setattr(progress, "_written", {})
    monkeypatch.setattr(progress, "_told", set())
    return path
