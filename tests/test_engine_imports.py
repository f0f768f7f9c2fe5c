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


def test_reading_with_a_model_file_never_imports_numpys_random_module():
    """In the page every extension module NumPy imports is compiled on the spot (web/compute.js), and
    numpy.random's take ~0.1 s: loading a model and reading a number must not need them. Training and
    personalizing do, and import them then."""
    import subprocess

    script = (
        "import sys, numpy as np, engine\n"
        "for path in sys.argv[1:]:\n"
        "    model = engine.load_model(path)\n"
        "    gray = np.zeros((80, 120), np.uint8); gray[15:65, 28:34] = 255; gray[15:65, 80:86] = 255\n"
        "    text = engine.read_number(model, gray).text\n"
        "    assert text == '11' or 'int8' not in path, text  # the float model is untrained\n"
        "    model.predict_proba(engine.preprocess(gray[:, :60]))\n"
        "assert 'numpy.random' not in sys.modules, 'numpy.random was imported'\n"
    )
    float_model = engine_float_model_file()
    done = subprocess.run(
        [sys.executable, "-c", script, str(ROOT / "models" / "mnist_int8.npz"), str(float_model)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def engine_float_model_file() -> Path:
    """A small float model file (a Conv2D, BatchNorm and Dense), written once per session."""
    import tempfile

    import numpy as np

    from engine import Sequential, save_model

    path = Path(tempfile.gettempdir()) / "engine-imports-float-model.npz"
    config = {
        "input_shape": [28, 28, 1],
        "layers": [
            {"type": "Conv2D", "in_channels": 1, "out_channels": 4, "kernel": 3, "padding": 1},
            {"type": "BatchNorm", "channels": 4},
            {"type": "ReLU"},
            {"type": "Flatten"},
            {"type": "Dense", "in_features": 28 * 28 * 4, "out_features": 10},
        ],
    }
    model = Sequential.from_config(config, rng=np.random.default_rng(0))
    save_model(model, path)
    return path
