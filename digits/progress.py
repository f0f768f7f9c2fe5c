"""What training shows on screen: a tqdm bar per epoch (unless --quiet) and one line per epoch."""

import sys
from typing import Any


class Progress:
    """A tqdm bar per epoch (when tqdm is installed and not --quiet) and one summary line per epoch."""

    def __init__(self, quiet: bool):
        self.bar: Any = None  # the tqdm bar of the epoch in progress
        self.tqdm: Any = None  # the tqdm class, when it is installed and wanted
        if not quiet:
            try:
                from tqdm import tqdm

                self.tqdm = tqdm
            except ImportError:
                pass

    def on_batch(self, epoch, step, steps, loss, acc, ips):
        if self.tqdm is None:
            return
        if self.bar is None:
            self.bar = self.tqdm(total=steps, desc=f"epoch {epoch}", unit="step", leave=False, file=sys.stderr)
        self.bar.update(1)
        if step % 10 == 0 or step == steps:
            self.bar.set_postfix(loss=f"{loss:.4f}", acc=f"{acc:.4f}", img_s=f"{ips:.0f}")

    def on_epoch(self, record, state):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        best = " *best*" if state.best_epoch == record.epoch else ""
        print(
            f"epoch {record.epoch:3d}  train loss {record.train_loss:.4f} acc {record.train_accuracy:.4f}  "
            f"val loss {record.val_loss:.4f} acc {record.val_accuracy:.4f}  lr {record.lr:.2e}  "
            f"{record.seconds:.1f}s ({record.images_per_second:.0f} img/s){best}",
            flush=True,
        )
