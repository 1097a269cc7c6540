"""The pre-flight check (python -m course_kit.doctor, make check): PASS on this machine, and a
clear FIX line for each kind of problem it looks for (a missing or too old package, a damaged
model file, too little memory), never a traceback."""

from __future__ import annotations

import pytest

from course_kit import doctor
from course_lib.pretrained import ShippedModel


def test_quick_check_passes_here(capsys):
    assert doctor.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "PASS  python" in out and "PASS  model minilm" in out
    assert "this machine is ready" in out


def test_missing_and_old_packages_are_fix_lines(monkeypatch):
    monkeypatch.setattr(doctor, "_requirements",
                        lambda: ["no-such-course-package>=1.0", "numpy>=9999", "torch>=1.0"])
    results = {r.item: r for r in doctor.check_packages()}
    assert results["no-such-course-package"].verdict == "FIX"
    assert "not installed" in results["no-such-course-package"].detail
    assert results["numpy"].verdict == "FIX" and "does not meet numpy>=9999" in \
        results["numpy"].detail
    assert results["torch"].verdict == "PASS"


def test_damaged_model_file_is_a_fix_line(tmp_path, monkeypatch):
    (tmp_path / "weights.bin").write_bytes(b"not the published weights")
    fake = {"fake": ShippedModel(lambda: tmp_path, {"weights.bin": "0" * 64})}
    monkeypatch.setattr("course_lib.pretrained.SHIPPED_MODELS", fake)
    [result] = doctor.check_models()
    assert result.verdict == "FIX" and "weights.bin" in result.detail


def test_low_memory_is_a_fix_line(monkeypatch):
    monkeypatch.setattr(doctor, "MIN_FREE_MEMORY_GB", 1e9)
    result = doctor.check_memory()
    assert result.verdict == "FIX" and "close other programs" in result.detail


def test_a_crashing_check_becomes_a_fix_line(monkeypatch, capsys):
    def broken():
        raise OSError("disk unreadable")

    monkeypatch.setattr(doctor, "check_disk", broken)
    assert doctor.main(["--quick"]) == 1
    assert "FIX   disk" in capsys.readouterr().out


@pytest.mark.slow
def test_kernel_and_forward_pass():
    assert doctor.check_kernel().verdict == "PASS"
    forward = doctor.check_forward()
    assert forward.verdict == "PASS" and "ms for 1 x 128 tokens" in forward.detail


@pytest.mark.browser
def test_the_browser_check_hovers_a_cell_and_passes_here():
    from pathlib import Path

    if not Path(doctor.CHROMIUM).exists():
        pytest.skip("no Chromium at /usr/bin/chromium (make browser installs it)")
    result = doctor.check_browser()
    assert result.verdict == "PASS", result


@pytest.mark.browser
def test_the_browser_check_says_fix_when_the_viewer_does_not_answer(monkeypatch):
    from pathlib import Path

    from course_kit.explorer import export

    if not Path(doctor.CHROMIUM).exists():
        pytest.skip("no Chromium at /usr/bin/chromium (make browser installs it)")
    real = export.write_static_html

    def without_viewer(path, *args, **kwargs):  # the page's viewer never starts
        page = real(path, *args, **kwargs)
        page.write_text(page.read_text(encoding="utf-8").replace(
            "window.AttentionViewer = ", "window.NoViewer = "), encoding="utf-8")
        return page

    monkeypatch.setattr(export, "write_static_html", without_viewer)
    result = doctor.check_browser()
    assert result.verdict == "FIX" and "widgets in a browser" in str(result), result
