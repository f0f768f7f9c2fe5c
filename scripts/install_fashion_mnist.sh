#!/usr/bin/env bash
# Install Debian's dataset-fashion-mnist (Fashion-MNIST's IDX files in /usr/share/datasets/fashion-mnist/)
# when it is missing: digits/negatives.py draws "not a digit" examples from it.
# Quiet and non-interactive; a no-op when the files are there. Fashion-MNIST is optional (the negatives
# and bench/reject_bench.py leave it out when it is missing), so failing to install it only warns.
set -euo pipefail

DIR=/usr/share/datasets/fashion-mnist
if [ -f "$DIR/train-images-idx3-ubyte.gz" ] && [ -f "$DIR/t10k-images-idx3-ubyte.gz" ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install_fashion_mnist.sh: $DIR is missing and this is not root; run: apt-get install dataset-fashion-mnist" >&2
    echo "install_fashion_mnist.sh: going on without Fashion-MNIST" >&2
    exit 0
  fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "installing dataset-fashion-mnist with apt-get (once)..."
if ! { $SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq dataset-fashion-mnist >/dev/null; }; then
  echo "install_fashion_mnist.sh: apt-get could not install dataset-fashion-mnist; going on without it" >&2
  exit 0
fi
if [ ! -f "$DIR/train-images-idx3-ubyte.gz" ]; then
  echo "install_fashion_mnist.sh: apt-get finished but $DIR/train-images-idx3-ubyte.gz is still missing" >&2
  exit 0
fi
echo "fashion-mnist: $DIR"
