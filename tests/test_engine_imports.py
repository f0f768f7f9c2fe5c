"""The library apart from the application: the engine imports NumPy and the standard library only.

The engine runs in Pyodide, so nothing else may be imported anywhere in it, not even
lazily inside a function. Its one exception is ``engine/__main__.py``, the
``python -m engine`` shim that hands over to the application's command line.
"""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine"
SHIM = ENGINE / "__main__.py"


def imported_top_levels(path: Path, lazy_too: bool) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    nodes = ast.walk(tree) if lazy_too else tree.body
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_engine_modules_import_only_numpy_and_the_standard_library():
    allowed = set(sys.stdlib_module_names) | {"numpy"}
    for path in sorted(ENGINE.rglob("*.py")):
        if path == SHIM:
            continue
        extra = imported_top_levels(path, lazy_too=True) - allowed
        assert not extra, f"{path.relative_to(ROOT)} imports {sorted(extra)}"


def test_the_engine_knows_nothing_of_the_application():
    """No models/ or data/ folders, no train_offline.py, no cpu_runtime: those are the application's."""
    for path in sorted(ENGINE.rglob("*.py")):
        if path == SHIM:
            continue
        text = path.read_text()
        for needle in ("models/", "data/mnist", "train_offline", "cpu_runtime", "import digits", "from digits"):
            assert needle not in text, f"{path.relative_to(ROOT)} mentions {needle!r}"


def test_python_m_engine_is_only_a_shim_for_the_application():
    assert imported_top_levels(SHIM, lazy_too=True) - set(sys.stdlib_module_names) == {"digits"}


def test_cli_imports_pillow_only_inside_a_function():
    cli = ROOT / "digits" / "cli.py"
    assert "PIL" not in imported_top_levels(cli, lazy_too=False)
    assert "PIL" in imported_top_levels(cli, lazy_too=True)
