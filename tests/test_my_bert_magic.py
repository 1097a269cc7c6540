"""%%my_bert: a cell runs as usual and its definitions land in my_bert/<module>.py, once.

The magic runs through IPython's InteractiveShell in a temporary working folder, as a notebook
cell would in JupyterLab."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import pytest

IPython = pytest.importorskip("IPython")
from IPython.testing import globalipapp  # noqa: E402

from course_kit import my_bert as saving  # noqa: E402

ATTENTION_CELL = '''
import math

import torch

from course_kit.checks.attention import check_attention_weights


def attention_weights(q, k, mask):
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1)


print("checked:", bool(check_attention_weights(attention_weights)))
'''


def ipython_shell():
    """IPython's test shell, one per process (start_ipython does nothing when called again)."""
    globalipapp.start_ipython()
    return globalipapp.get_ipython()


@pytest.fixture(scope="module")
def shell():
    ip = ipython_shell()
    ip.run_cell("%load_ext course_kit.my_bert", store_history=False)
    return ip


@pytest.fixture()
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [n for n in sys.modules if n == "my_bert" or n.startswith("my_bert.")]:
        del sys.modules[name]


def run(shell, capsys, module: str, cell: str) -> str:
    capsys.readouterr()
    shell.run_cell(f"%%my_bert {module}\n{cell}", store_history=False)
    return capsys.readouterr().out


def fresh_import(name: str):
    for loaded in [n for n in sys.modules if n == "my_bert" or n.startswith("my_bert.")]:
        del sys.modules[loaded]
    importlib.invalidate_caches()
    return importlib.import_module(name)


def test_load_ext_registers_the_magic(shell):
    assert "my_bert" in shell.magics_manager.magics["cell"]


def test_import_course_lib_has_no_side_effects(tmp_path):
    """In a fresh IPython shell: `import course_lib` registers no magic and writes no file;
    `%load_ext course_kit` registers %%my_bert (issue 18)."""
    code = ("from IPython.testing.globalipapp import start_ipython\n"
            "ip = start_ipython()\n"
            "ip.run_cell('import course_lib')\n"
            "print('after import:', 'my_bert' in ip.magics_manager.magics['cell'])\n"
            "ip.run_cell('%load_ext course_kit')\n"
            "print('after load_ext:', 'my_bert' in ip.magics_manager.magics['cell'])\n")
    env = dict(os.environ, HOME=str(tmp_path / "home"), XDG_CACHE_HOME=str(tmp_path / "cache"))
    env.pop("COURSE_PROGRESS_FILE", None)
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True, cwd=work, env=env)
    assert "after import: False" in done.stdout, done.stdout + done.stderr
    assert "after load_ext: True" in done.stdout, done.stdout + done.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file() and "ipython" not in str(p).lower()]
    assert written == [], written


def test_cell_runs_and_is_saved_importable(shell, capsys, folder):
    out = run(shell, capsys, "attention", ATTENTION_CELL)
    assert "checked: True" in out  # the cell ran, its print and check included
    assert "saved attention_weights to my_bert/attention.py" in out
    text = (folder / "my_bert" / "attention.py").read_text()
    assert "import math" in text and "import torch" in text
    assert "check_attention_weights" not in text and "print(" not in text  # checks stay
    module = fresh_import("my_bert.attention")
    import torch

    q = torch.randn(4, 8)
    assert torch.allclose(module.attention_weights(q, q, None).sum(-1), torch.ones(4))


def test_rerun_replaces_never_appends(shell, capsys, folder):
    run(shell, capsys, "attention", ATTENTION_CELL)
    run(shell, capsys, "attention", "def other():\n    return 1\n")
    edited = ATTENTION_CELL.replace("dim=-1)", "dim=-1)  # edited")
    run(shell, capsys, "attention", edited)
    run(shell, capsys, "attention", edited)
    text = (folder / "my_bert" / "attention.py").read_text()
    assert text.count("def attention_weights") == 1
    assert "# edited" in text
    assert text.index("def attention_weights") < text.index("def other")  # kept its place
    assert fresh_import("my_bert.attention").other() == 1


def test_a_cell_that_raises_is_not_saved(shell, capsys, folder):
    run(shell, capsys, "layers", "def gelu(x):\n    return x\n")
    capsys.readouterr()
    outcome = shell.run_cell("%%my_bert layers\ndef gelu(x):\n    return 2 * x\n\n1 / 0\n",
                             store_history=False)
    captured = capsys.readouterr()
    out = captured.out + captured.err
    assert not outcome.success  # the cell fails, as it would without the magic
    assert isinstance(outcome.error_in_exec, saving.CellNotSaved)
    assert "ZeroDivisionError" in out  # the learner's own traceback is shown
    assert "not saved: the cell raised ZeroDivisionError" in out
    assert "return x\n" in (folder / "my_bert" / "layers.py").read_text()  # previous version


def test_a_stub_is_not_saved(shell, capsys, folder):
    cell = ('def split_heads(x, num_heads):\n    # YOUR CODE HERE\n'
            '    raise NotImplementedError("write split_heads")\n')
    out = run(shell, capsys, "multi_head", cell)
    assert "split_heads is not written yet" in out and "not saved into my_bert/multi_head.py" in out
    assert not (folder / "my_bert").exists()
    out = run(shell, capsys, "multi_head", "print('no definitions')\n")
    assert "nothing to save into my_bert/multi_head.py" in out


def test_a_name_from_another_file_is_imported_from_there(shell, capsys, folder):
    run(shell, capsys, "layers", "import math\n\nimport torch\n\n"
        "def gelu(x):\n    return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))\n")
    out = run(shell, capsys, "feed", "def feed_forward(x, ff):\n"
              "    return ff.output(gelu(ff.intermediate(x)))\n")
    assert "%%my_bert:" not in out  # no warning: gelu is found in my_bert/layers.py
    assert "from .layers import gelu" in (folder / "my_bert" / "feed.py").read_text()
    import torch

    ff = torch.nn.Module()
    ff.intermediate, ff.output = torch.nn.Linear(4, 8), torch.nn.Linear(8, 4)
    assert fresh_import("my_bert.feed").feed_forward(torch.ones(2, 4), ff).shape == (2, 4)


def test_modules_from_the_notebook_are_imported(shell, capsys, folder):
    shell.run_cell("import torch.nn.functional as F", store_history=False)
    run(shell, capsys, "layers", "def relu(x):\n    return F.relu(x)\n")
    assert "import torch.nn.functional as F" in (folder / "my_bert" / "layers.py").read_text()
    import torch

    assert fresh_import("my_bert.layers").relu(torch.tensor([-1.0])).item() == 0.0


def test_an_unknown_name_is_reported(shell, capsys, folder):
    out = run(shell, capsys, "layers", "def f(x):\n    return helper_never_defined(x)\n")
    assert "it uses helper_never_defined, which no my_bert file saves yet" in out


def test_constants_kept_and_test_code_dropped(shell, capsys, folder):
    out = run(shell, capsys, "tokens", "MAX_CHARS = 100\nsample = list(range(3))\nword = 'x'\n"
              "def short(word):\n    return len(word) <= MAX_CHARS\n\nshort('x')\n")
    text = (folder / "my_bert" / "tokens.py").read_text()
    assert "MAX_CHARS = 100" in text and "sample" not in text and "short('x')" not in text
    assert "word = " not in text  # a lowercase name is a test value, not a constant
    assert "saved MAX_CHARS, short" in out


@pytest.mark.parametrize("bad", ["", "two words", "Attention", "class", "my-bert"])
def test_bad_module_names_are_refused(bad):
    with pytest.raises(ValueError, match="lowercase Python name"):
        saving.check_module_name(bad)


def test_save_cell_without_ipython(tmp_path):
    result = saving.save_cell("X = 1\n", "consts", {}, tmp_path)
    assert str(result) == "saved X to my_bert/consts.py"
    assert (tmp_path / "my_bert" / "__init__.py").is_file()


def test_classes_decorators_and_ipython_lines(shell, capsys, folder):
    cell = ("import functools\n\n%time x = 1\n\n@functools.lru_cache\ndef cached(n):\n"
            "    return n\n\nclass Box:\n    size = 3\n\n    def twice(self):\n"
            "        return 2 * cached(self.size)\n")
    out = run(shell, capsys, "misc", cell)
    assert "saved cached, Box to my_bert/misc.py" in out
    text = (folder / "my_bert" / "misc.py").read_text()
    assert "@functools.lru_cache" in text and "run_line_magic" not in text
    assert fresh_import("my_bert.misc").Box().twice() == 6


def test_a_syntax_error_is_not_saved(shell, folder):
    outcome = shell.run_cell("%%my_bert misc\ndef broken(:\n    pass\n", store_history=False)
    assert not outcome.success and not (folder / "my_bert").exists()


def test_values_the_functions_use_are_saved_with_them(shell, capsys, folder):
    """A non-literal UPPER_CASE constant and a lower-case table, in the same cell as the function
    that uses them, are saved (in the cell's order); a value no function uses is not."""
    cell = ("import math\n\nSCALE = math.sqrt(64)\nparts = {'a': SCALE}\nunused = [1, 2]\n\n"
            "def scaled(x):\n    return x / parts['a']\n\nprint(scaled(8.0))\n")
    out = run(shell, capsys, "consts", cell)
    assert "saved SCALE, parts, scaled to my_bert/consts.py" in out, out
    assert "run the cell" not in out and "no my_bert file saves" not in out
    text = (folder / "my_bert" / "consts.py").read_text()
    assert "unused" not in text and "print(" not in text
    assert fresh_import("my_bert.consts").scaled(8.0) == 1.0


def test_a_notebook_variable_is_to_be_computed_from_the_inputs(shell, capsys, folder):
    shell.run_cell("d = 64", store_history=False)
    out = run(shell, capsys, "attention", "import math\n\ndef scale(q):\n    return math.sqrt(d)\n")
    assert "it uses the notebook's variable d (d = 64 here)" in out, out
    assert "compute it from the function's inputs" in out
    assert "run the cell that defines d" not in out


def test_a_failing_answer_is_saved_and_said_not_to_pass(shell, capsys, folder):
    wrong = ATTENTION_CELL.replace("/ math.sqrt(q.shape[-1])", "")
    out = run(shell, capsys, "attention", wrong)
    assert "checked: False" in out
    assert "saved attention_weights to my_bert/attention.py, but it does not pass its check yet" \
        in out, out
    out = run(shell, capsys, "attention", ATTENTION_CELL)
    assert "saved attention_weights to my_bert/attention.py\n" in out and "does not pass" not in out


def test_a_function_written_as_a_lambda_is_saved(shell, capsys, folder):
    cell = "import torch\n\ndouble = lambda x: 2 * torch.as_tensor(x)\n"
    out = run(shell, capsys, "layers", cell)
    assert "saved double to my_bert/layers.py" in out, out
    assert fresh_import("my_bert.layers").double(3).item() == 6
