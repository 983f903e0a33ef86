"""Every benchmark module imports, and the ones that take arguments answer --help: a renamed
function breaks `make check`, not the next `make bench` an hour in."""

from __future__ import annotations

import importlib
import inspect

import pytest

from tests.conftest import REPO

MODULES = sorted(
    path.stem for path in (REPO / "benchmarks").glob("*.py") if path.stem != "__init__"
)


@pytest.mark.parametrize("name", MODULES)
def test_benchmark_module_imports_and_its_main_parses_help(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    module = importlib.import_module(f"benchmarks.{name}")
    main = getattr(module, "main", None)
    if main is None or not inspect.signature(main).parameters:
        return  # a library module, or a benchmark without options (nothing to parse)
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    assert "usage:" in capsys.readouterr().out
