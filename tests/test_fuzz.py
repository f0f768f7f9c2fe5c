"""A mutation fuzz of the loaders (issue 17): nothing escapes, nothing loads broken, nothing hangs.

5,000 seeded mutants (tests/fuzz_mutants.py says how each is made): 2,500 of the shipped model
(bit flips, zip header fields, deflate damage, truncations, npy headers, JSON metadata, weight
values, dtypes and shapes, zip structure, pickles, bombs), 1,500 of IDX files written by
engine.write_idx (header bytes, dimensions, truncation, gzip edits, gzip bombs) and 1,000 of an
examples file written by engine.save_examples (the page's Export, train_offline.py --extra:
the same zip and npy damage, and its arrays edited), which engine.load_examples must refuse
with a ModelFormatError or return as uint8 (N, 28, 28) images with labels 0..9. Each is loaded
in a child process whose address space is capped, under a per-file alarm. Every mutant must be
refused with the documented error or load and work: engine.load_model's models predict finite
probabilities from finite logits. A child that dies is restarted after the mutant that killed
it, which counts as a crash; one silent for a minute (stuck where the alarm cannot reach) is
killed, and that mutant counts as a hang. The kinds run in two children side by side.
"""

import collections
import json
import os
import selectors
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

FUZZ = Path(__file__).resolve().parent / "fuzz_mutants.py"
SEED = 17
COUNTS = {"model": 2500, "idx": 1500, "examples": 1000}
SILENCE_SECONDS = 60  # a child that reports nothing for this long (stuck inside C code) is killed


def fuzz(kind: str, count: int, marker: Path, folder: Path) -> list[dict]:
    """One row per mutant: {"i", "op", "outcome", "detail"}; children restarted past any that dies."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    start = 0
    while start < count:
        command = [sys.executable, str(FUZZ), "run", kind, str(SEED), str(start), str(count), str(marker), str(folder)]
        with open(folder / "stderr.txt", "w+") as err:
            proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
            died = None
            with selectors.DefaultSelector() as selector:
                selector.register(proc.stdout, selectors.EVENT_READ)
                while True:
                    if not selector.select(timeout=SILENCE_SECONDS):  # stuck where the alarm cannot reach
                        proc.kill()
                        died = "hang: killed after a silence the alarm could not end"
                        break
                    line = proc.stdout.readline()
                    if not line:
                        break
                    rows.append(json.loads(line))
                    start = rows[-1]["i"] + 1
            proc.stdout.close()
            status = proc.wait()
            err.seek(0)
            last_error = err.read().strip().splitlines()[-1:]
        if start < count and (died or status):
            outcome = "hang" if died else "crash"
            detail = f"{died or f'exit status {status}'} {last_error}"
            rows.append({"i": start, "op": "(see fuzz_mutants.py show)", "outcome": outcome, "detail": detail})
            start += 1
        elif start < count:
            raise AssertionError(f"the {kind} child stopped at mutant {start} of {count} without an error")
    return rows


def test_fuzzed_model_and_idx_files_are_refused_cleanly_or_load_and_work(tmp_path):
    marker = tmp_path / "pickle-ran"  # a pickle in a mutant creates this file if anything unpickles it
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(COUNTS, pool.map(lambda kind: fuzz(kind, COUNTS[kind], marker, tmp_path / kind), COUNTS)))
    seconds = time.perf_counter() - began
    summary = {kind: dict(collections.Counter(r["outcome"] for r in rows)) for kind, rows in results.items()}
    print(f"\nfuzz (seed {SEED}, {sum(COUNTS.values())} mutants, {seconds:.0f} s): {summary}")
    for kind, rows in results.items():
        assert len(rows) == COUNTS[kind], (kind, len(rows))
        bad = [r for r in rows if r["outcome"] not in ("refused", "ok")]
        assert not bad, (
            f"{kind}: {len(bad)} of {len(rows)} mutants escaped, loaded broken, hung or crashed "
            f"(python tests/fuzz_mutants.py show {kind} {SEED} I rebuilds mutant I): "
            + "; ".join(f"#{r['i']} {r['op']} -> {r['outcome']} {r['detail']}" for r in bad[:8])
        )
        counts = collections.Counter(r["outcome"] for r in rows)
        # The mutants must reach both ends: mostly refused, and a fair share that still loads.
        assert counts["refused"] > 0.5 * len(rows) and counts["ok"] > 0.05 * len(rows), (kind, counts)
    assert not marker.exists(), "a loader unpickled a mutant's payload"
