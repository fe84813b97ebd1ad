"""Find a task by name: a built-in name, ``package.module:attr`` or ``path/to/file.py:attr``.

``attr`` may be a :class:`~daofed.learning.task.Task` instance, a ``Task`` subclass or
any callable taking no arguments that returns a task. Loading a task runs the user's
module, as ``python file.py`` would: it is the member's own code, never a peer's.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from daofed.errors import ConfigError
from daofed.learning.builtin_tasks import BUILTIN_TASKS
from daofed.learning.task import Task


def load_task(spec: str) -> Task[Any]:
    """Return the task ``spec`` names; ConfigError with the reason when it names none."""
    spec = spec.strip()
    if spec in BUILTIN_TASKS:
        return BUILTIN_TASKS[spec]()
    if ":" not in spec:
        raise ConfigError(
            f"unknown task {spec!r}: use a built-in task ({', '.join(BUILTIN_TASKS)}), "
            "package.module:attr or path/to/file.py:attr"
        )
    where, attr = spec.rsplit(":", 1)
    module = _load_file(where) if where.endswith(".py") else _import(where)
    try:
        found = getattr(module, attr)
    except AttributeError:
        raise ConfigError(f"task {spec!r}: {where} has no attribute {attr!r}") from None
    return _as_task(found, spec)


def _import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise ConfigError(f"cannot import task module {name!r}: {error}") from None
    except Exception as error:  # the user's module failed while loading
        raise ConfigError(f"task module {name!r} failed to load: {_said(error)}") from None


def _load_file(path_text: str) -> Any:
    path = Path(path_text).expanduser()
    if not path.is_file():
        raise ConfigError(f"task file {path} does not exist")
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # as `python file.py` does: its neighbours import
    name = f"daofed_task_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling-free reflection look it up
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # the user's file failed while loading
        sys.modules.pop(name, None)
        raise ConfigError(f"task file {path} failed to load: {_said(error)}") from None
    return module


def _as_task(found: Any, spec: str) -> Task[Any]:
    if isinstance(found, Task):
        return _named(found, spec)
    if callable(found):
        try:
            made = found()
        except Exception as error:  # the user's factory failed
            raise ConfigError(f"task {spec!r}: making the task failed: {_said(error)}") from None
        if isinstance(made, Task):
            return _named(made, spec)
    raise ConfigError(
        f"task {spec!r} is a {type(found).__name__}, not a daofed Task: subclass "
        "daofed.learning.task.TorchTask (or Task), or wrap a Flower client in "
        "daofed.flower.FlowerTask"
    )


def _named(task: Task[Any], spec: str) -> Task[Any]:
    name = getattr(task, "name", None)
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"task {spec!r} has no name: set its `name` attribute")
    return task


def _said(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
