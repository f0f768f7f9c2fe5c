"""The engine runs in Pyodide: it may import NumPy and the standard library, nothing else."""

import ast
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parent.parent / "engine"
# The command line decodes image files with Pillow, imported lazily inside a function; it is not
# part of what the page loads.
CPYTHON_ONLY = {"cli.py", "__main__.py"}


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
        lazy_too = path.name not in CPYTHON_ONLY
        extra = imported_top_levels(path, lazy_too) - allowed
        assert not extra, f"{path.relative_to(ENGINE.parent)} imports {sorted(extra)}"


def test_cli_imports_pillow_only_inside_a_function():
    assert "PIL" not in imported_top_levels(ENGINE / "cli.py", lazy_too=False)
    assert "PIL" in imported_top_levels(ENGINE / "cli.py", lazy_too=True)
