//! The bad-input catalogue (issue #12): one table of wrong invocations and files, each with the
//! one-line message it must give and its exit code. Every case runs next to a finished results
//! directory and a user's own files; afterwards not one of them has changed (bytes and
//! modification times).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

mod common;
use common::{SMALL_TRAIN as F, ok, sgd};

const SWEEP: &str = "[base]\nmodel = \"fc\"\ndepth = 2\nwidth = 16\nalpha = 1\np = 128\np_test = 128\n[grid]\ntemperature = [0.01, 0.02]\n";

/// Every file under `dir`, with its bytes and modification time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let meta = std::fs::symlink_metadata(e.path()).unwrap();
            if meta.is_dir() {
                stack.push(e.path());
            } else if meta.is_file() {
                out.insert(
                    e.path(),
                    (std::fs::read(e.path()).unwrap(), meta.modified().unwrap()),
                );
            } else {
                out.insert(e.path(), (Vec::new(), meta.modified().unwrap()));
            }
        }
    }
    out
}

/// One wrong invocation: extra arguments after a base command, the exit code and a part of
/// the one-line message.
struct Case {
    args: Vec<String>,
    code: i32,
    says: &'static str,
}

fn case(base: &[&str], extra: &[&str], code: i32, says: &'static str) -> Case {
    Case {
        args: base.iter().chain(extra).map(|s| s.to_string()).collect(),
        code,
        says,
    }
}

#[test]
fn every_bad_input_is_one_line_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let t = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    // A finished sweep, and a user's own files the tool must not touch.
    std::fs::write(t("grid.toml"), SWEEP).unwrap();
    ok(&[
        "sweep",
        "run",
        &t("grid.toml"),
        "--results",
        &t("r"),
        "--quiet",
    ]);
    std::fs::write(t("mine.csv"), "a user's table\n").unwrap();
    std::os::unix::fs::symlink(t("mine.csv"), t("link.json")).unwrap();
    std::fs::create_dir(t("adir")).unwrap();
    std::fs::write(t("readonly.json"), "keep").unwrap();
    let mut perm = std::fs::metadata(t("readonly.json")).unwrap().permissions();
    perm.set_readonly(true);
    std::fs::set_permissions(t("readonly.json"), perm).unwrap();
    std::fs::create_dir(t("mnist")).unwrap();
    std::fs::write(t("mnist/train-images-idx3-ubyte"), [0, 0, 8, 3, 0, 0, 0, 9]).unwrap();
    std::fs::write(
        t("mnist/train-labels-idx1-ubyte"),
        [0, 0, 8, 1, 0, 0, 0, 1, 3],
    )
    .unwrap();
    let sweeps = [
        (
            "both.toml",
            "[base]\nlr = 0.1\np = 64\n[grid]\np = [32, 64]\n",
        ),
        (
            "seeds.toml",
            "[base]\nlr = 0.1\nseed_init = 1\n[grid]\nseed = [0, 1]\n",
        ),
        (
            "inf.toml",
            "[base]\nlr = 0.1\n[grid]\ntemperature = { log2 = [-16, inf], step = 0.5 }\n",
        ),
        (
            "alpha.toml",
            "[base]\nlr = 0.1\n[grid]\nalpha = [1.0, -2.0]\n",
        ),
        // Issue #23, cases 4 and 5: a step so small the count overflows; a huge `num`.
        (
            "tiny.toml",
            "[base]\nlr = 0.1\n[grid]\ntemperature = { linear = [0.001, 1], step = 1e-320 }\n",
        ),
        (
            "num.toml",
            "[base]\nlr = 0.1\n[grid]\ntemperature = { log10 = [-3, -1], num = 1000000000000 }\n",
        ),
        ("other.toml", "[base]\nlr = 0.2\n[grid]\np = [32, 64]\n"),
        // Issue #23, case 12: an axis that changes no run.
        (
            "chi.toml",
            "[base]\nlr = 0.1\np = 64\n[grid]\nchi = [0, 1]\n",
        ),
        ("bad.toml", "[base\nlr = 0.1\n"),
        // Issue #24: nets as layer lists, and data sets with label maps.
        (
            "netshape.toml",
            "[net]\nlayers = [{ pointwise = 4 }, { residual = [{ pointwise = 2 }] }, \"global-mean\", { dense = 1 }]\n",
        ),
        (
            "netop.toml",
            "[net]\nlayers = [{ conv = { out = 4, k = 3 } }, { pool = 2 }, { dense = 1 }]\n",
        ),
        (
            "netend.toml",
            "[net]\nlayers = [{ conv = { out = 4, k = 3 } }, \"phi\"]\n",
        ),
        (
            "netwide.toml",
            "[net]\nlayers = [{ conv = { out = \"h\", k = 3 } }, \"phi\", \"global-mean\", { dense = 1 }]\n",
        ),
        (
            "netfc.toml",
            "[base]\nmodel = \"fc\"\nlr = 0.1\np = 64\n[net]\nlayers = [{ dense = 1 }]\n",
        ),
        (
            "netwidth.toml",
            "[base]\nmodel = \"net\"\nlr = 0.1\np = 64\n[net]\nlayers = [{ dense = 8 }, \"phi\", { dense = 1 }]\n[grid]\nwidth = [1, 2]\n",
        ),
        // Issue #25: external trainers.
        (
            "trainer-empty.toml",
            "[trainer]\ncommand = []\n[base]\nlr = 0.1\np = 64\n",
        ),
        (
            "trainer-file.toml",
            "[trainer]\ncommand = [\"python3\", \"nope.py\"]\nfiles = [\"nope.py\"]\n[base]\nlr = 0.1\np = 64\n",
        ),
        (
            "trainer-key.toml",
            "[trainer]\ncmd = [\"python3\", \"train.py\"]\n[base]\nlr = 0.1\np = 64\n",
        ),
        (
            "trainer-threads.toml",
            "[trainer]\ncommand = [\"python3\", \"train.py\"]\nthreads_per_run = 0\n[base]\nlr = 0.1\np = 64\n",
        ),
        (
            "trainer-run.toml",
            "lr = 0.1\np = 64\np_test = 64\n[trainer]\ncommand = [\"python3\", \"train.py\"]\n",
        ),
    ];
    for (name, text) in sweeps {
        std::fs::write(t(name), text).unwrap();
    }
    std::fs::create_dir(t("laptop")).unwrap();
    std::fs::write(
        t("laptop/reproduction.txt"),
        "reproduce fc-mnist --preset laptop\n",
    )
    .unwrap();
    let before = snapshot(tmp.path());

    let (r, sweep) = (t("r"), t("grid.toml"));
    let cases = [
        case(F, &["--alpha", "0"], 1, "alpha must be a positive"),
        case(F, &["--alpha", "-1"], 1, "alpha must be a positive"),
        case(F, &["--batch", "200"], 1, "batch (200) exceeds p (128)"),
        case(F, &["--model", "resnet"], 2, "invalid value 'resnet'"),
        case(
            F,
            &["--temperatur", "1"],
            2,
            "unexpected argument '--temperatur'",
        ),
        case(
            F,
            &["--p", "18446744073709551615", "--p-test", "2"],
            1,
            "this run needs about",
        ),
        case(F, &["--width", "100000000000"], 1, "this run needs about"),
        case(
            F,
            &["--p", "100000000000", "--dataset", "depleted-sign"],
            1,
            "needs about",
        ),
        case(
            F,
            &["--chi", "1"],
            1,
            "--chi applies only to --dataset depleted-sign",
        ),
        case(
            F,
            &["--model", "perceptron"],
            1,
            "--depth applies only to --model fc",
        ),
        case(
            F,
            &["--data-dir", &t("mine.csv")],
            1,
            "is a file, not a data directory",
        ),
        case(
            F,
            &["--data-dir", &t("nowhere")],
            1,
            "data directory does not exist",
        ),
        case(
            F,
            &["--data-dir", &t("mnist")],
            1,
            "train-images-idx3-ubyte: truncated IDX header",
        ),
        case(F, &["--out", "/dev/null"], 1, "is not a regular file"),
        case(F, &["--out", &t("link.json")], 1, "is a symbolic link"),
        case(F, &["--out", &t("adir")], 1, "is a directory"),
        case(F, &["--out", &t("readonly.json")], 1, "is read-only"),
        case(F, &["--config", &t("missing.toml")], 1, "missing.toml"),
        case(F, &["--config", &t("bad.toml")], 1, "bad.toml:1"),
        case(
            &["sweep", "run"],
            &[&t("both.toml"), "--results", &t("x")],
            1,
            "is both in [base] and in [grid]",
        ),
        case(
            &["sweep", "run"],
            &[&t("seeds.toml"), "--results", &t("x")],
            1,
            "`seed_init` is overridden",
        ),
        case(
            &["sweep", "run"],
            &[&t("inf.toml"), "--results", &t("x")],
            1,
            "must be finite",
        ),
        case(
            &["sweep", "run"],
            &[&t("tiny.toml"), "--results", &t("x")],
            1,
            "at most 1,000,000 per axis",
        ),
        case(
            &["sweep", "plan"],
            &[&t("num.toml")],
            1,
            "`num` is at most 1,000,000 per axis",
        ),
        // Issue #23, case 11: unbounded and non-regular config files.
        case(F, &["--config", "/dev/zero"], 1, "is not a regular file"),
        case(F, &["--config", &t("adir")], 1, "is a directory"),
        case(
            &["sweep", "plan"],
            &["/dev/zero"],
            1,
            "is not a regular file",
        ),
        // Issue #23, case 12: flags and axes that do not apply.
        case(
            F,
            &[
                "--model",
                "perceptron",
                "--depth",
                "1",
                "--activation",
                "gelu",
            ],
            1,
            "applies only to",
        ),
        case(
            &[
                "train",
                "--model",
                "perceptron",
                "--dataset",
                "depleted-sign",
            ],
            &["--alpha", "1", "-T", "0.01", "--activation", "gelu"],
            1,
            "--activation applies only to --model fc, simple-cnn, mnas or net",
        ),
        case(
            &[
                "train",
                "--model",
                "perceptron",
                "--dataset",
                "depleted-sign",
            ],
            &["--alpha", "1", "-T", "0.01", "--data-dir", &t("mnist")],
            1,
            "--data-dir applies only to --dataset mnist-parity, cifar-animals, idx, cifar10 or numpy",
        ),
        case(
            &["sweep", "run"],
            &[&sweep, "--results", &r, "-j", "0"],
            2,
            "0 is not in 1..",
        ),
        case(
            &["bench", "sweep"],
            &["--only", "cnn"],
            1,
            "--only and --net apply to `bench steps`",
        ),
        case(
            &["bench", "sweep"],
            &["--quick"],
            1,
            "--quick applies to `bench steps` and `bench external`",
        ),
        case(
            &["sweep", "plan"],
            &[&t("chi.toml")],
            1,
            "grid axis `chi` changes no run: it applies only to dataset depleted-sign",
        ),
        // Issue #24: nets as layer lists.
        case(
            F,
            &["--net", &t("netshape.toml")],
            1,
            "--net gives the layers of model net, but --model is fc",
        ),
        case(
            &[
                "train", "--p", "64", "--p-test", "64", "-T", "0.01", "--net",
            ],
            &[&t("netshape.toml")],
            1,
            "[net] layer 2 (residual): its input is 28x28x4, the branch gives 28x28x2",
        ),
        case(
            &[
                "train", "--p", "64", "--p-test", "64", "-T", "0.01", "--net",
            ],
            &[&t("netop.toml")],
            1,
            "[net] layer 2: unknown op `pool`",
        ),
        case(
            &[
                "train", "--p", "64", "--p-test", "64", "-T", "0.01", "--net",
            ],
            &[&t("netend.toml")],
            1,
            "layer 2 (phi): a net ends with the readout { dense = 1 }",
        ),
        case(
            &[
                "train", "--p", "64", "--p-test", "64", "-T", "0.01", "--net",
            ],
            &[&t("netend.toml"), "--width", "4"],
            1,
            "--width applies only to",
        ),
        case(
            &[
                "train", "--p", "64", "--p-test", "64", "-T", "0.01", "--net",
            ],
            &[&t("missing-net.toml")],
            1,
            "missing-net.toml",
        ),
        case(
            &[
                "train", "--p", "64", "--p-test", "64", "-T", "0.01", "--net",
            ],
            &[&t("netwide.toml"), "--width", "1000000"],
            1,
            "this run needs about",
        ),
        case(
            &["sweep", "plan"],
            &[&t("netfc.toml")],
            1,
            "a [net] table needs model = \"net\"",
        ),
        case(
            &["sweep", "plan"],
            &[&t("netwidth.toml")],
            1,
            "grid axis `width` changes no run",
        ),
        case(
            &["sweep", "plan"],
            &[&t("trainer-empty.toml")],
            1,
            "[trainer] command is empty; give the program and its arguments",
        ),
        case(
            &["sweep", "plan"],
            &[&t("trainer-file.toml")],
            1,
            "nope.py (No such file or directory",
        ),
        case(
            &["sweep", "plan"],
            &[&t("trainer-key.toml")],
            1,
            "[trainer]: unknown field `cmd`, expected one of `command`",
        ),
        case(
            &["sweep", "plan"],
            &[&t("trainer-threads.toml")],
            1,
            "[trainer] threads_per_run must be at least 1",
        ),
        case(
            &["train", "--config", &t("trainer-run.toml")],
            &[],
            1,
            "this run names an external trainer ([trainer]); `sgd-regimes sweep run` runs it",
        ),
        case(
            &["train", "--model", "net", "--p", "64", "-T", "0.01"],
            &[],
            1,
            "model net needs its layers",
        ),
        // Issue #24: data sets with label maps.
        case(
            F,
            &["--positive", "1,3"],
            1,
            "--positive applies only to --dataset idx, cifar10 or numpy",
        ),
        case(
            F,
            &["--dataset", "idx", "--data-dir", &t("mnist")],
            1,
            "dataset idx needs positive (--positive)",
        ),
        case(
            F,
            &["--dataset", "numpy", "--positive", "1"],
            1,
            "dataset numpy needs data_dir (--data-dir): a .npz file or a directory of .npy files",
        ),
        case(
            F,
            &[
                "--dataset",
                "numpy",
                "--positive",
                "1",
                "--data-dir",
                &t("mine.csv"),
            ],
            1,
            "mine.csv: not a readable .npz file",
        ),
        case(
            F,
            &[
                "--dataset",
                "idx",
                "--positive",
                "1",
                "--data-dir",
                &t("mnist"),
            ],
            1,
            "train-images-idx3-ubyte: truncated IDX header",
        ),
        // Issue #23, case 14: messages.
        case(F, &["--alpha", "1e-320"], 1, "alpha = 1e-320 is too small"),
        case(F, &["--depth", "100000000"], 1, "lower depth or width"),
        case(
            &["analyze"],
            &[&r, "--out", &t("mine.csv")],
            1,
            "is a file; --out takes a directory",
        ),
        case(
            &["reproduce", "fc-mnist"],
            &["--out", &t("mine.csv"), "--dry-run"],
            1,
            "is a file; --out takes a directory",
        ),
        // Issue #23, case 13: a directory holding another preset.
        case(
            &["reproduce", "fc-mnist"],
            &["--preset", "quick", "--out", &t("laptop"), "--dry-run"],
            1,
            "holds `reproduce fc-mnist --preset laptop`, not `reproduce fc-mnist --preset quick`",
        ),
        case(
            &["reproduce", "eta-over-b"],
            &["--out", &t("laptop"), "--no-run"],
            1,
            "holds `reproduce fc-mnist --preset laptop`, not `reproduce eta-over-b`",
        ),
        // Issue #23, case 8: a wall budget no Duration holds.
        case(F, &["--max-wall", "1e20"], 1, "max_wall must be at most"),
        case(
            &["sweep", "run"],
            &[&t("alpha.toml"), "--results", &t("x")],
            1,
            "alpha must be a positive",
        ),
        case(
            &["sweep", "run"],
            &[&t("other.toml"), "--results", &r],
            1,
            "was made by a different sweep file",
        ),
        case(
            &["sweep", "run"],
            &[&sweep, "--results", &t("adir/..")],
            1,
            "is not empty and has no sweep.toml",
        ),
        case(
            &["sweep", "run"],
            &[&sweep, "--results", &r, "--shard", "3/3"],
            2,
            "expected I/N",
        ),
        case(&["sweep", "plan"], &[&t("nope.toml")], 1, "nope.toml"),
        case(
            &["collect"],
            &[&r, "--out", "/dev/full"],
            1,
            "unknown table format",
        ),
        case(
            &["collect"],
            &[&r, "--out", &t("adir/../link.json")],
            1,
            "unknown table format",
        ),
        case(
            &["collect"],
            &[&r, "--out", &t("adir")],
            1,
            "unknown table format",
        ),
        case(
            &["status"],
            &[&t("adir")],
            1,
            "not a sweep results directory",
        ),
        case(
            &["status"],
            &[&r, "--by", "alpha"],
            1,
            "`alpha` is not a grid axis",
        ),
        case(
            &["slurm"],
            &[&sweep, "--results", &r, "--time", "99:99:99"],
            2,
            "invalid Slurm time `99:99:99`",
        ),
        case(
            &["data", "fetch"],
            &["imagenet"],
            2,
            "invalid value 'imagenet'",
        ),
        case(
            &["analyze"],
            &[&t("adir")],
            1,
            "not a sweep results directory",
        ),
    ];
    // Issue #23, case 14: a data directory from the environment is named when wrong.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_sgd-regimes"))
        .args(F)
        .env("SGD_REGIMES_DATA", t("nowhere"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.code() == Some(1)
            && err.trim_end().lines().count() == 1
            && err.contains("nowhere: not a data directory, taken from $SGD_REGIMES_DATA"),
        "{err}"
    );
    for c in &cases {
        let args: Vec<&str> = c.args.iter().map(String::as_str).collect();
        let o = sgd(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        let line = err.trim_end();
        assert_eq!(o.status.code(), Some(c.code), "{args:?}: {err}");
        assert_eq!(line.lines().count(), 1, "{args:?}: not one line: {err}");
        assert!(line.starts_with("error: "), "{args:?}: {err}");
        assert!(
            line.contains(c.says),
            "{args:?}: expected `{}` in: {err}",
            c.says
        );
        assert!(!line.contains("panicked"), "{args:?}: {err}");
    }
    // A table named like a user's file: refused when the name is a symlink or a device.
    std::fs::remove_file(t("link.json")).unwrap();
    std::os::unix::fs::symlink(t("mine.csv"), t("link.csv")).unwrap();
    let o = sgd(&["collect", &r, "--out", &t("link.csv")]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("is a symbolic link"),
        "{err}"
    );
    std::fs::remove_file(t("link.csv")).unwrap();
    std::os::unix::fs::symlink(t("mine.csv"), t("link.json")).unwrap();

    let mut after = snapshot(tmp.path());
    // Recreating the link changed its own mtime, not the file it points to.
    let link = PathBuf::from(t("link.json"));
    after.insert(link.clone(), before[&link].clone());
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "files appeared or vanished"
    );
    for (path, was) in &before {
        assert!(after[path] == *was, "{} changed", path.display());
    }
}
