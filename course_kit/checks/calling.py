"""The one way the checkers call a learner's function.

A learner's code may fail in any way: raise, return None because it is not written yet, be
something that is not a function, or loop for ever. ``call_learner`` turns each of these into one
plain-words point in the report and never lets it crash (or hang) the checker.

The time limit: in the main thread on a system with ``SIGALRM`` (Linux, macOS; Jupyter runs cells
in the main thread) an interval timer interrupts the call; elsewhere (another thread, Windows) a
trace function checks the clock at every line of Python the learner's code runs. Either way the
interruption is ``LearnerTimeout``, a ``BaseException``, so a learner's ``except Exception`` inside
the loop cannot swallow it.
"""

from __future__ import annotations

import re
import signal
import sys
import threading
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .report import CheckReport
from .rules import learner_code

TIME_LIMIT_SECONDS = 20.0  # per call; every exercise of the course runs in well under a second

_CHECKS_FOLDER = str(Path(__file__).resolve().parent)
_TORCH_FOLDER = "torch" + ("\\" if sys.platform == "win32" else "/")
_VIEW_ERROR = "view size is not compatible with input tensor's size and stride"
_SHAPE_ERROR = re.compile(r"shape '\[[-\d, ]*\]' is invalid for input of size \d+")


class LearnerTimeout(BaseException):
    """Raised inside the learner's code when it runs past the time limit."""


@contextmanager
def time_limit(seconds: float | None):
    """Interrupt the code inside the ``with`` block with ``LearnerTimeout`` after ``seconds``."""
    if not seconds or seconds <= 0:
        yield
    elif hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        with _alarm(seconds):
            yield
    else:
        with _line_clock(seconds):
            yield


def _raise_timeout(*_args) -> None:
    raise LearnerTimeout


@contextmanager
def _alarm(seconds: float):
    """SIGALRM after ``seconds``; an outer timer (pytest-timeout, say) is put back afterwards."""
    outer_delay, outer_interval = signal.getitimer(signal.ITIMER_REAL)
    if outer_delay and outer_delay < seconds:  # an outer timer fires first: let it do its job
        yield
        return
    outer_handler = signal.signal(signal.SIGALRM, _raise_timeout)
    start = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, outer_handler)
        if outer_delay:
            left = max(outer_delay - (time.monotonic() - start), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, left, outer_interval)


@contextmanager
def _line_clock(seconds: float):
    """The fallback: a trace function that raises once the deadline has passed."""
    deadline = time.monotonic() + seconds
    outer_trace = sys.gettrace()

    def tracer(_frame, _event, _arg):
        if time.monotonic() > deadline:
            raise LearnerTimeout
        return tracer

    sys.settrace(tracer)
    try:
        yield
    finally:
        sys.settrace(outer_trace)


def describe_error(error: BaseException) -> str:
    """``TypeError: message (line 3 of my_function)``, the line being the learner's, not torch's."""
    frames = traceback.extract_tb(error.__traceback__) if error.__traceback__ else []
    theirs = [frame for frame in frames if not frame.filename.startswith(_CHECKS_FOLDER)
              and _TORCH_FOLDER not in frame.filename]
    frame = (theirs or frames or [None])[-1]
    where = f" (line {frame.lineno} of {frame.name})" if frame else ""
    text = f"{type(error).__name__}: {error}{where}"
    if _VIEW_ERROR in str(error):
        text += (": .view needs the memory in order, and after transpose or permute it is not; "
                 "use .reshape(...) (or .contiguous().view(...))")
    elif _SHAPE_ERROR.search(str(error)):
        text += (": a size is fixed in your code (the notebook's 12 heads of 64, say, or a helper "
                 "from the notebook that has them): read every size from the inputs (x.shape, "
                 "num_heads)")
    return text


@dataclass
class Outcome:
    """What one call of the learner's code did: returned ``result``, raised ``error``, or ran past
    the time limit (``timed_out``)."""

    result: object = None
    error: Exception | None = None
    timed_out: bool = False
    seconds: float = 0.0


def run_learner(fn, *args, seconds: float | None = None, **kwargs) -> Outcome:
    """Run ``fn(*args, **kwargs)`` under the time limit; whatever happens, return an Outcome."""
    limit = TIME_LIMIT_SECONDS if seconds is None else seconds
    try:
        with time_limit(limit), learner_code():
            return Outcome(result=fn(*args, **kwargs), seconds=limit)
    except LearnerTimeout:
        return Outcome(timed_out=True, seconds=limit)
    except Exception as error:  # the learner's code may fail in any way; report, never crash
        return Outcome(error=error, seconds=limit)


def timeout_message(what: str, seconds: float) -> str:
    return (f"{what} did not finish within {seconds:g} seconds: is there a loop that never ends "
            "(a while whose condition never becomes False)?")


def call_learner(report: CheckReport, what: str, fn, *args, none_ok: bool = False,
                 seconds: float | None = None, **kwargs) -> tuple[bool, object]:
    """Run ``fn(*args, **kwargs)``: (True, result), or (False, None) with the reason in the report.

    ``what`` names the call in the report, e.g. "wordpiece('unaffable')". ``none_ok`` is for
    exercises where None is a legal answer (a name map that sets a tensor aside, a loader that
    returns nothing). ``seconds`` overrides the time limit (``TIME_LIMIT_SECONDS``).
    """
    if not callable(fn):
        report.fail(f"{what}: expected a function, got {type(fn).__name__}")
        return False, None
    outcome = run_learner(fn, *args, seconds=seconds, **kwargs)
    if outcome.timed_out:
        report.fail(timeout_message(what, outcome.seconds))
        return False, None
    if outcome.error is not None:
        report.fail(f"{what} raised {describe_error(outcome.error)}")
        return False, None
    if outcome.result is None and not none_ok:
        report.fail(f"{what} returned None: write your code where it says '# YOUR CODE HERE' "
                    "and return the result")
        return False, None
    return True, outcome.result


def call_safely(report: CheckReport, what: str, fn, *args, **kwargs):
    """``call_learner`` for callers that only want the result: None when the call failed."""
    return call_learner(report, what, fn, *args, **kwargs)[1]
