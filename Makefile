# Two commands set everything up on a fresh machine:
#   make serve   vendor the browser runtime (once), build the site into dist/, serve it on http://127.0.0.1:8000
#   make test    install what the tests need (Python packages, runtime, MNIST, chromium, Fashion-MNIST), lint, then run them
PYTHON ?= python3
PORT ?= 8000

.PHONY: serve serve-dev site vendor install lint test test-fast train bench clean

vendor:            ## fetch PyScript, Pyodide and NumPy-for-Pyodide into web/vendor (pinned, sha256-checked)
	$(PYTHON) scripts/vendor.py

serve: site        ## build the site (precompressed, repacked, precompiled: the fast page) and serve dist/ on 127.0.0.1
	$(PYTHON) scripts/serve.py --port $(PORT) --dir dist

serve-dev: vendor  ## serve the repository root as it is (edit a file, reload; slower start-up than dist/)
	$(PYTHON) scripts/serve.py --port $(PORT)

site: vendor       ## a self-contained static copy of the site in dist/
	$(PYTHON) scripts/build_site.py --out dist

install:           ## Python packages for the CLI and the tests, Debian's chromium and Fashion-MNIST, the runtime, MNIST
	$(PYTHON) -m pip install --quiet -e '.[test]'
	bash scripts/install_chromium.sh
	bash scripts/install_fashion_mnist.sh
	$(PYTHON) scripts/vendor.py
	$(PYTHON) -m digits.mnist fetch

lint:              ## ruff (lint, and format --check) over the repository; mypy over engine/ and digits/
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m mypy

test: install      ## install, lint, then run every test
	$(MAKE) --no-print-directory lint
	$(PYTHON) -m pytest

test-fast:         ## engine tests only, no install step, no browser
	$(PYTHON) -m pytest -m "not browser and not slow"

train:             ## the default model, end to end
	$(PYTHON) train_offline.py

bench:
	$(PYTHON) bench/run_all.py

clean:
	rm -rf dist .pytest_cache .ruff_cache .mypy_cache
