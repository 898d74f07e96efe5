"""Write an external trainer for sgd-regimes (docs/external-trainer.md, protocol 1).

`sgd-regimes sweep run` starts your trainer once per run of a sweep whose file has a
`[trainer]` table. This module does the protocol's side of the work: it reads the run's
config, hands you the run's data, computes the paper's observables (the hinge at margin
1/alpha on F = f - f0, the relative weight change dw), finds t* exactly, and writes the
result atomically. Standard library only; `Run.load_data` needs NumPy.

    from sgd_regimes_trainer import Run, observables, StallWatch, ZeroLossClock

    run = Run()                               # reads SGD_REGIMES_CONFIG (or argv[1])
    x_train, y_train, x_test, y_test = run.load_data()
    ...                                       # your net, your SGD loop
    run.write_result("converged", final=observables(...), t_star=clock.t_star)

Copy this file next to your trainer (it is one file, no package to install) and list it in
the sweep file's `[trainer] files`, so a change to it changes the run ids as a change to your
script does.
"""

import json
import math
import os
import signal
import sys
import time

PROTOCOL = "1"
RESULT_SCHEMA = "sgd-regimes/external-result/1"
STATUSES = ("converged", "diverged", "stalled", "budget")


class Run:
    """One run: its config, where its data and its result go, and its budget.

    Fields: `run_id`, `config` (the normalized run config as a dict, see
    docs/result-schema.md), `params` (the `[trainer.params]` table), `alpha`, `margin`
    (1/alpha), `temperature` (T), `lr` (eta = T B), `batch` (B), `p`, `p_test`,
    `seed_init`, `seed_batch`, `seed_train`, `seed_test`, `max_steps`, `max_wall`,
    `threads`, `data_path` (None if the trainer reads its own data) and `result_path`.

    SIGTERM (max_wall, or the sweep being stopped) sets `stop_requested`; `out_of_budget`
    says so, and the trainer should then write a `budget` result promptly (within the
    `grace_s` of the `[trainer]` table, 10 s by default).
    """

    def __init__(self, config_path=None):
        if config_path is None:
            config_path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SGD_REGIMES_CONFIG")
        if not config_path:
            raise SystemExit(
                "sgd_regimes_trainer: no config; this script is started by `sgd-regimes sweep run` "
                "(it passes the config path as the first argument and in SGD_REGIMES_CONFIG)"
            )
        with open(config_path, encoding="utf-8") as f:
            doc = json.load(f)
        if doc.get("protocol") != PROTOCOL:
            raise SystemExit(
                f"sgd_regimes_trainer: protocol {doc.get('protocol')!r}, this helper speaks {PROTOCOL!r}; "
                "update python/sgd_regimes_trainer.py from the sgd-regimes release you run"
            )
        self.run_id = doc["run_id"]
        self.config = doc["config"]
        self.params = (self.config.get("trainer") or {}).get("params") or {}
        self.temperature = doc["derived"]["temperature"]
        self.lr = doc["derived"]["lr"]
        self.margin = doc["derived"]["margin"]
        self.alpha = self.config["alpha"]
        self.batch = self.config["batch"]
        self.p = self.config["p"]
        self.p_test = self.config["p_test"]
        for k in ("seed_init", "seed_batch", "seed_train", "seed_test"):
            setattr(self, k, self.config[k])
        self.max_steps = self.config.get("max_steps") or 10_000_000
        self.max_wall = self.config.get("max_wall")
        self.threads = doc.get("threads", 1)
        self.data_path = doc.get("data")
        self.result_path = doc["result"]
        if len(sys.argv) > 2:
            self.result_path = sys.argv[2]
        self.stop_requested = False
        self._started = time.monotonic()
        signal.signal(signal.SIGTERM, self._on_term)

    def _on_term(self, signum, frame):
        self.stop_requested = True

    def elapsed(self):
        """Seconds since the run started."""
        return time.monotonic() - self._started

    def out_of_budget(self, step):
        """True once `step` reaches `max_steps`, the wall time `max_wall`, or SIGTERM came."""
        if self.stop_requested or step >= self.max_steps:
            return True
        return self.max_wall is not None and self.elapsed() >= self.max_wall

    def load_data(self):
        """The run's points as NumPy arrays `(x_train, y_train, x_test, y_test)`: x as
        (n, height, width, channels) float32 standardized exactly as the built-in trainer
        sees them (flatten with `x.reshape(len(x), -1)`), y as float32 +-1."""
        if self.data_path is None:
            raise SystemExit(
                "sgd_regimes_trainer: the runner wrote no data ([trainer] provide_data = false)"
            )
        import numpy as np

        with np.load(self.data_path) as z:
            return z["x_train"], z["y_train"], z["x_test"], z["y_test"]

    def checkpoint_steps(self):
        """The log-spaced steps of the trajectory: 0 and round(10^(k/n)) for
        n = checkpoints_per_decade, up to max_steps (empty set of steps for n = 0)."""
        n = self.config.get("checkpoints_per_decade") or 0
        steps = {0}
        if n > 0:
            k = 0
            while True:
                s = round(10 ** (k / n))
                if s > self.max_steps:
                    break
                steps.add(s)
                k += 1
        return steps

    def write_result(self, status, final, t_star=None, trajectory=(), n_params=None, status_detail=None):
        """Write the run's result atomically (a temporary file, fsync, rename).

        `status`: "converged" (every training point fitted: train_loss exactly 0, and then
        `t_star` = final["t"]), "diverged", "stalled" or "budget". `final`: a dict of
        observables (see `observables`), with any further numbers of your own, which become
        columns of `sgd-regimes collect`. `trajectory`: such dicts at earlier times.
        """
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
        report = {
            "schema": RESULT_SCHEMA,
            "run_id": self.run_id,
            "status": status,
            "t_star": t_star,
            "final": _json_safe(final),
            "trajectory": [_json_safe(o) for o in trajectory],
        }
        if n_params is not None:
            report["n_params"] = int(n_params)
        if status_detail is not None:
            report["status_detail"] = str(status_detail)
        tmp = f"{self.result_path}.tmp.{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1, allow_nan=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.result_path)


def _json_safe(obs):
    """Non-finite floats as null (JSON has no NaN); NumPy and PyTorch scalars as floats."""
    out = {}
    for k, v in obs.items():
        if isinstance(v, list):
            out[k] = [_json_safe(x) if isinstance(x, dict) else _number(x) for x in v]
        elif isinstance(v, (str, type(None))):
            out[k] = v
        else:
            out[k] = _number(v)
    return out


def _number(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return v
    v = float(v)
    return v if math.isfinite(v) else None


def _floats(a):
    """A flat list of Python floats from a list, a NumPy array or a PyTorch tensor."""
    if hasattr(a, "detach"):
        a = a.detach().cpu()
    if hasattr(a, "reshape") and not isinstance(a, list):
        a = a.reshape(-1)
    if hasattr(a, "tolist"):
        a = a.tolist()
    return [float(x) for x in a]


def hinge(F, y, margin):
    """(loss, error, unfitted) of outputs F (centred: f - f0) against labels y = +-1 at
    `margin` = 1/alpha: loss = mean (margin - y F)^+, error = fraction with y F <= 0 (or not
    finite), unfitted = count with y F < margin (method §1)."""
    F, y = _floats(F), _floats(y)
    if len(F) != len(y):
        raise ValueError(f"{len(F)} outputs for {len(y)} labels")
    loss, errors, unfitted = 0.0, 0, 0
    for f, label in zip(F, y):
        m = label * f
        if not math.isfinite(m):
            loss, errors, unfitted = math.nan, errors + 1, unfitted + 1
            continue
        if m < margin:
            loss += margin - m
            unfitted += 1
        if m <= 0:
            errors += 1
    n = max(len(F), 1)
    return loss / n, errors / n, unfitted


def weight_stats(pairs):
    """Weight statistics of `pairs` = [(name, w, w0), ...] (arrays or tensors of any shape):
    the whole net's (norm, distance, dw) and the per-layer dicts of the result's `layers`."""
    layers, total_w, total_d, total_w0 = [], 0.0, 0.0, 0.0
    for name, w, w0 in pairs:
        w, w0 = _floats(w), _floats(w0)
        sw = sum(x * x for x in w)
        sd = sum((a - b) * (a - b) for a, b in zip(w, w0))
        s0 = sum(x * x for x in w0)
        total_w, total_d, total_w0 = total_w + sw, total_d + sd, total_w0 + s0
        layers.append(
            {
                "name": name,
                "weight_norm": math.sqrt(sw),
                "weight_distance": math.sqrt(sd),
                "weight_change": math.sqrt(sd / s0) if s0 > 0 else None,
            }
        )
    dw = math.sqrt(total_d / total_w0) if total_w0 > 0 else None
    return math.sqrt(total_w), math.sqrt(total_d), dw, layers


def observables(t, step, train, test, margin, weights):
    """The observables of docs/result-schema.md at time `t` after `step` steps.

    `train` and `test` are (F, y) pairs of centred outputs and labels; `weights` is
    [(name, w, w0), ...] per layer. Add your own numbers to the returned dict.
    """
    train_loss, train_error, unfitted = hinge(train[0], train[1], margin)
    test_loss, test_error, _ = hinge(test[0], test[1], margin)
    norm, distance, dw, layers = weight_stats(weights)
    return {
        "t": float(t),
        "step": int(step),
        "train_loss": train_loss,
        "train_error": train_error,
        "unfitted": unfitted,
        "test_loss": test_loss,
        "test_error": test_error,
        "weight_norm": norm,
        "weight_distance": distance,
        "weight_change": dw,
        "layers": layers,
    }


class ZeroLossClock:
    """t* exactly (method §1): a step changes the weights only if its batch holds a point with
    positive loss, so once the whole training loss is zero it became zero at the last step
    that changed the weights. Call `step(changed)` after every step and check the full
    training loss as often as you like; when it is zero, `t_star` is exact whatever the
    spacing of the checks."""

    def __init__(self, lr):
        self.lr = lr
        self.steps = 0
        self.last_update = 0
        self.updates = 0

    def step(self, changed):
        """Count one step; `changed`: its batch held a point with positive loss."""
        self.steps += 1
        if changed:
            self.last_update = self.steps
            self.updates += 1

    @property
    def t(self):
        """Time now: steps * eta."""
        return self.steps * self.lr

    @property
    def t_star(self):
        """Time of the last step that changed the weights."""
        return self.last_update * self.lr


class StallWatch:
    """The stall rule of method §1: a net whose every unfitted point has an exactly zero
    gradient (all ReLUs on its way dead) can never converge. Call `watch(step, weights,
    unfitted_steps)` every few epochs (the built-in trainer watches every 20 epochs, at least
    64 steps) with the weight arrays or tensors and the number of steps so far whose batch held
    an unfitted point; it returns True when the weights are bit-identical to the previous watch
    although such steps were taken since: the run is `stalled`."""

    def __init__(self):
        self._weights = None
        self._unfitted_steps = 0

    def watch(self, weights, unfitted_steps):
        snapshot = [w.detach().clone() if hasattr(w, "detach") else w.copy() for w in weights]
        stalled = (
            self._weights is not None
            and unfitted_steps > self._unfitted_steps
            and all(bool((a == b).all()) for a, b in zip(snapshot, self._weights))
        )
        self._weights, self._unfitted_steps = snapshot, unfitted_steps
        return stalled

