"""Import Gradio without regenerating its type stubs.

Every Gradio component class, as it is defined, rewrites the `.pyi` stub beside its module in
Gradio's installed package (`gradio.component_meta.create_or_modify_pyi`: it parses the
module's source, renders a template and writes the stub when it differs). That is a tool for
Gradio's own developers: the stubs already ship in the wheel, a server has no business writing
into its installation, and on Python 3.11 it was most of `import gradio` (4.2-5.3 s -> 2.3-2.7 s
measured on this project's 2-core machines). So the chat imports Gradio with that function
replaced by one that does nothing; everything else of Gradio is untouched.

Done with an import hook, because the function runs while `import gradio` itself executes:
the hook wraps the loader of `gradio.component_meta` and swaps the name in right after that
module runs, before any component class is defined. If a Gradio release moves or renames the
function, the swap has nothing to replace and Gradio simply behaves as it always has.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

_MODULE = "gradio.component_meta"
_FUNCTION = "create_or_modify_pyi"


def _no_stub(*args: Any, **kwargs: Any) -> None:
    """Stands in for Gradio's stub writer: the installed stubs are left as they are."""


class _Loader(importlib.abc.Loader):
    def __init__(self, inner: importlib.abc.Loader) -> None:
        self._inner = inner

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._inner.exec_module(module)
        if callable(getattr(module, _FUNCTION, None)):
            setattr(module, _FUNCTION, _no_stub)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


def skip_stub_generation() -> None:
    """Install the hook once, unless Gradio is already imported (then it is too late)."""
    if _MODULE in sys.modules or any(isinstance(f, _Finder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _Finder())
