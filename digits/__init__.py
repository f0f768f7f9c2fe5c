"""The command-line application around the engine: train, evaluate, export and use digit models.

``engine`` is the library (what the page loads and what users import); this package
is everything that only makes sense on a developer's machine: where ``models/`` and
``data/`` are, fetching MNIST from PyPI, run folders, the model card, plots, the
int8 export and its install into ``models/``, the ``predict``/``evaluate`` commands,
and CPython's speed settings. It imports the engine; the engine never imports it.
"""
