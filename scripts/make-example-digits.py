#!/usr/bin/env python3
"""Make docs/examples/own-net/digits14.npz: every fifth of the 10,000 MNIST digits bundled in
data/mnist10k/ (2,000 digits; that set is ordered by digit, so every fifth keeps all ten;
CC BY-SA 3.0, see its README), each 28x28 image averaged over 2x2
blocks to 14x14 uint8, with the digit as its class: a small "own data set" in NumPy's format for
the example in docs/examples/own-net/. Needs numpy. Run from the repository root."""
import gzip
import numpy as np

N = 2000
with gzip.open("data/mnist10k/t10k-images-idx3-ubyte.gz") as f:
    images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28)[::5]
with gzip.open("data/mnist10k/t10k-labels-idx1-ubyte.gz") as f:
    labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)[::5]
small = images.reshape(N, 14, 2, 14, 2).astype(np.float64).mean(axis=(2, 4))
x = np.rint(small).astype(np.uint8)
np.savez_compressed("docs/examples/own-net/digits14.npz", x=x, y=labels.astype(np.int64))
print(x.shape, x.dtype, np.bincount(labels))
assert len(x) == N
