"""An exercise's rules, declared once and enforced: what the learner's code must not call.

``@exercise(forbids=("torch.nn.functional.gelu", "torch.nn.GELU", "course_lib.gelu"),
write_from="torch.erf")`` on a checker swaps each forbidden function for a recorder while the
check runs. The recorder only notes calls made while the learner's code runs (``learner_code``,
entered by ``calling.run_learner``), so the checker's own references may use the same functions;
it then calls the original, so the rest of the report still says what is right. A forbidden call
fails the check by name: "you called `F.gelu`: this exercise asks you to write it from
`torch.erf`". A forbidden class (an ``nn.Module`` such as ``nn.GELU`` or the given module's class)
is watched through its ``forward``; a function is watched under its module's name (``F.gelu``,
``cl.gelu``), for course_lib's own in the module that defines it too, and under any name the
learner's module gave it (``from torch.nn.functional import gelu``).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from .report import CheckReport, recorded

SHORT_NAMES = (("torch.nn.functional.", "F."), ("torch.nn.", "nn."), ("course_lib.", "cl."),
               ("course_kit.", "kit."))


class _State:
    learner = 0  # > 0 while the learner's code runs
    inside = 0  # > 0 inside a watched call: what it calls in turn is not the learner's doing


def shown(dotted: str) -> str:
    """'torch.nn.functional.gelu' -> 'F.gelu', as a learner writes it."""
    for long, short in SHORT_NAMES:
        if dotted.startswith(long):
            return short + dotted[len(long):]
    return dotted


@contextmanager
def learner_code() -> Iterator[None]:
    """Marks the learner's code running: forbidden calls made now are noted."""
    _State.learner += 1
    try:
        yield
    finally:
        _State.learner -= 1


@contextmanager
def checker_code() -> Iterator[None]:
    """Marks a checker's own code running, even when it is called from inside the learner's
    (07b runs each checker within its run of the learner's package): its references are not
    the learner's calls; its own ``run_learner`` calls mark the learner's code again."""
    outer = _State.learner, _State.inside
    _State.learner = _State.inside = 0
    try:
        yield
    finally:
        _State.learner, _State.inside = outer


def _resolve(dotted: str) -> tuple[object, str]:
    """The object that holds the last name of ``dotted``, and that name (a class: its forward)."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            owner = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:-1]:
            owner = getattr(owner, part)
        target = getattr(owner, parts[-1])
        if isinstance(target, type):
            return target, "forward"
        return owner, parts[-1]
    raise ValueError(f"{dotted}: not a module's attribute")


def _places(dotted: str) -> list[tuple[object, str]]:
    """Where ``dotted`` is looked up: its own place and, for course_lib, where it is defined."""
    owner, name = _resolve(dotted)
    target = getattr(owner, name)
    defined_in = getattr(target, "__module__", None) or ""
    if not (dotted.startswith("course_lib.") and defined_in.startswith("course_lib")):
        return [(owner, name)]
    module = importlib.import_module(defined_in)  # e.g. course_lib.layers for course_lib.gelu
    same = module is not owner and getattr(module, name, None) is target
    return [(owner, name), (module, name)] if same else [(owner, name)]


@contextmanager
def _swapped(owner: object, name: str, label: str, watch: Watch) -> Iterator[None]:
    original = getattr(owner, name)
    inherited = isinstance(owner, type) and name not in vars(owner)
    stored = None if inherited else vars(owner)[name]  # a classmethod stays one when put back

    @functools.wraps(original)
    def recorder(*args, **kwargs):
        if _State.learner and not _State.inside:
            watch.calls.append(label)
        _State.inside += 1
        try:
            return original(*args, **kwargs)
        finally:
            _State.inside -= 1

    setattr(owner, name, recorder)
    watch.recorders[id(original)] = recorder
    watch.originals[id(original)] = original
    try:
        yield
    finally:
        if inherited:
            delattr(owner, name)
        else:
            setattr(owner, name, stored)


@dataclass
class Watch:
    """The forbidden calls noted so far, and each watched function's recorder (by its id)."""

    calls: list[str] = field(default_factory=list)
    recorders: dict[int, Callable] = field(default_factory=dict)
    originals: dict[int, object] = field(default_factory=dict)

    def instead_of(self, value):
        """A forbidden function handed in itself (``check_gelu(F.gelu)``): its recorder."""
        return self.recorders.get(id(value), value) if callable(value) else value


@contextmanager
def _swapped_names(namespace: dict, watch: Watch) -> Iterator[None]:
    """A forbidden function imported by its own name into the learner's namespace
    (``from torch.nn.functional import gelu``): that name too is swapped for its recorder."""
    found = {key: value for key, value in list(namespace.items())
             if id(value) in watch.originals and watch.originals[id(value)] is value}
    namespace.update({key: watch.recorders[id(value)] for key, value in found.items()})
    try:
        yield
    finally:
        namespace.update(found)


@contextmanager
def watching(forbids: tuple[str, ...], learners: tuple = ()) -> Iterator[Watch]:
    """Inside the block, every learner call of a function in ``forbids`` is noted, by the name
    the learner wrote, in the ``Watch`` it yields; ``learners`` are the learner's functions,
    whose modules' own names for a forbidden function are watched too."""
    watch = Watch()
    with ExitStack() as stack:
        for dotted in forbids:
            for owner, name in _places(dotted):
                stack.enter_context(_swapped(owner, name, shown(dotted), watch))
        namespaces = {id(fn.__globals__): fn.__globals__ for fn in learners
                      if isinstance(getattr(fn, "__globals__", None), dict)}
        for namespace in namespaces.values():
            stack.enter_context(_swapped_names(namespace, watch))
        yield watch


def exercise(forbids: tuple[str, ...] = (), write_from: str | None = None
             ) -> Callable[[Callable[..., CheckReport]], Callable[..., CheckReport]]:
    """Mark a ``check_...`` function as an exercise: its verdict is kept for ``kit.progress()``,
    and calling anything in ``forbids`` (dotted names) fails it, saying what to write it from."""
    hint = f"write it from {write_from}" if write_from else "write it yourself"

    def decorate(check: Callable[..., CheckReport]) -> Callable[..., CheckReport]:
        @functools.wraps(check)
        def enforced(*args, **kwargs) -> CheckReport:
            with checker_code(), watching(forbids, (*args, *kwargs.values())) as watch:
                report = check(*map(watch.instead_of, args),
                               **{key: watch.instead_of(value) for key, value in kwargs.items()})
            for name in dict.fromkeys(watch.calls):
                report.fail(message(name))
            return report

        def message(name: str) -> str:
            return f"you called `{name}`: this exercise asks you to {hint}"

        enforced.forbids = tuple(shown(dotted) for dotted in forbids)
        names = [f"`{name}`" for name in enforced.forbids]
        listed = ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else "".join(names)
        enforced.rule = f"calling {listed}: this exercise asks you to {hint}" if names else None
        return recorded(enforced)

    return decorate
