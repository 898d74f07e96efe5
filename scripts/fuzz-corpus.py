#!/usr/bin/env python3
"""Write the seed corpus of the fuzz targets (src/fuzz.rs) into tests/fuzz/corpus/<target>/.

Small valid inputs in the real formats, plus a few near misses; the fuzzers mutate them.
Run from the repository root: python3 scripts/fuzz-corpus.py
"""
import gzip, io, json, os, struct, tarfile, glob, shutil

root = "tests/fuzz/corpus"


def put(target, name, data):
    os.makedirs(f"{root}/{target}", exist_ok=True)
    with open(f"{root}/{target}/{name}", "wb") as f:
        f.write(data)


def idx(dims, body):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + body


# MNIST pairs: u32 LE length of the image file, the image file, the label file.
for n in [1, 3]:
    images = idx([n, 28, 28], bytes((i * 7) % 256 for i in range(n * 784)))
    labels = idx([n], bytes(i % 10 for i in range(n)))
    put("idx", f"pair{n}", struct.pack("<I", len(images)) + images + labels)
    gi, gl = gzip.compress(images, mtime=0), gzip.compress(labels, mtime=0)
    put("idx", f"pair{n}_gz", struct.pack("<I", len(gi)) + gi + gl)
put("idx", "wrong_side", struct.pack("<I", 20) + idx([1, 2, 2], bytes(4)) + idx([1], b"\x01"))

# CIFAR-10 binary: records of a label byte and 3x32x32 planes.
def records(classes):
    return b"".join(bytes([c]) + bytes((c * 31 + i) % 256 for i in range(3072)) for c in classes)

put("cifar_batch", "two", records([3, 9]))
put("cifar_batch", "label10", records([10]))

names = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
         "data_batch_5.bin", "test_batch.bin"]
for tag, files in [("whole", names), ("missing_test", names[:5])]:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for k, name in enumerate(files):
            data = records([k % 10])
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size, info.mtime = len(data), 0
            tar.addfile(info, io.BytesIO(data))
    put("cifar_archive", tag, gzip.compress(buf.getvalue(), mtime=0))

for path in sorted(glob.glob("sweeps/*.toml")):
    os.makedirs(f"{root}/sweep_toml", exist_ok=True)
    shutil.copy(path, f"{root}/sweep_toml/{os.path.basename(path)}")
put("sweep_toml", "small.toml", b'''[base]
model = "perceptron"
dataset = "depleted-sign"
dim = 8
p_test = 64
alpha = 1
batch = 2

[grid]
temperature = { log2 = [-4, 0], step = 1 }
p = [32, 64]
seed = [0, 1]

[analysis]
regime = "feature"
''')

for path in sorted(glob.glob("tests/golden/*.toml")):
    os.makedirs(f"{root}/run_toml", exist_ok=True)
    shutil.copy(path, f"{root}/run_toml/{os.path.basename(path)}")

# Results: a flag byte (0 = result, 1 = failure record), then the JSON.
for path in sorted(glob.glob("tests/golden/*.json"))[:3]:
    with open(path, "rb") as f:
        put("result_json", os.path.basename(path), b"\x00" + f.read())
with open(sorted(glob.glob("tests/golden/*.json"))[0]) as f:
    config = json.load(f)["config"]
failure = {"schema": "sgd-regimes/failed-run/1", "version": "0.1.0", "config": config,
           "error": "invalid config: p (64) + p_test (9990) exceeds the 10000 points"}
put("result_json", "failure", b"\x01" + json.dumps(failure, indent=2).encode())
