"""The paper's fully connected net trained by SGD on the hinge loss, in NumPy: an external
trainer for sgd-regimes (docs/external-trainer.md). `sgd-regimes sweep run sweep.toml` starts
it once per run; `python3 train.py --self-test` checks its gradient by finite differences.

The net (method §2): L hidden layers of width h, no biases, each x <- phi(W x / sqrt(fan_in))
with phi = sqrt(2) relu, output f = v . x / h; weights N(0, 1). The loss is the hinge at margin
1/alpha on F = f - f0 (method §1); SGD draws B distinct points per step; the run stops when
the whole training loss is exactly zero, at t* = the time of the last step that changed w.
"""

import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "python"))
from sgd_regimes_trainer import Run, StallWatch, ZeroLossClock, observables  # noqa: E402


def init(rng, d, depth, width):
    """Hidden weights W_1..W_L (fan_out x fan_in) and the readout v, all N(0, 1)."""
    sizes = [d] + [width] * depth
    hidden = [rng.standard_normal((sizes[i + 1], sizes[i])) for i in range(depth)]
    return hidden + [rng.standard_normal(width)]


def forward(weights, x):
    """Output f (n,) and the pre-activations of every hidden layer (for backward)."""
    a, pre = x, []
    for w in weights[:-1]:
        z = a @ w.T / math.sqrt(w.shape[1])
        pre.append((a, z))
        a = math.sqrt(2.0) * np.maximum(z, 0.0)
    v = weights[-1]
    return a @ v / v.shape[0], pre, a


def backward(weights, pre, a_last, c):
    """Gradients of sum_mu c_mu f(x_mu) with respect to every weight array."""
    v = weights[-1]
    h = v.shape[0]
    grads = [None] * len(weights)
    grads[-1] = a_last.T @ c / h
    delta = np.outer(c, v) / h  # d(sum c f) / d(a_L)
    for k in range(len(weights) - 2, -1, -1):
        a_in, z = pre[k]
        w = weights[k]
        delta = delta * math.sqrt(2.0) * (z > 0)  # through phi
        scale = 1.0 / math.sqrt(w.shape[1])
        grads[k] = delta.T @ a_in * scale
        delta = delta @ w * scale
    return grads


def train(run):
    x_train, y_train, x_test, y_test = run.load_data()
    x_train = x_train.reshape(len(x_train), -1).astype(np.float64)
    x_test = x_test.reshape(len(x_test), -1).astype(np.float64)
    y_train, y_test = y_train.astype(np.float64), y_test.astype(np.float64)
    depth, width = run.config["depth"], run.config["width"]
    if run.config["model"] != "fc" or run.config.get("activation") != "relu":
        raise SystemExit("this example trains model fc with relu only")
    weights = init(np.random.default_rng(run.seed_init), x_train.shape[1], depth, width)
    w0 = [w.copy() for w in weights]
    f0_train = forward(weights, x_train)[0]
    f0_test = forward(weights, x_test)[0]
    batches = np.random.default_rng(run.seed_batch)
    clock = ZeroLossClock(run.lr)
    p, b, margin = run.p, run.batch, run.margin
    check_every = max(1, -(-p // b))  # one epoch of steps between full checks
    stall, watch_every = StallWatch(), max(64, 20 * check_every)

    def final(status, detail):
        F_train = forward(weights, x_train)[0] - f0_train
        F_test = forward(weights, x_test)[0] - f0_test
        t = clock.t_star if status == "converged" else clock.t
        obs = observables(
            t,
            clock.last_update if status == "converged" else clock.steps,
            (F_train, y_train),
            (F_test, y_test),
            margin,
            [(f"hidden.{k + 1}", w, w0[k]) for k, w in enumerate(weights[:-1])]
            + [("readout", weights[-1], w0[-1])],
        )
        run.write_result(
            status,
            obs,
            t_star=t if status == "converged" else None,
            n_params=sum(w.size for w in weights),
            status_detail=detail,
        )

    while True:
        if clock.steps % check_every == 0:
            F = forward(weights, x_train)[0] - f0_train
            if not np.all(np.isfinite(F)):
                return final("diverged", "the output became non-finite")
            if np.all(y_train * F >= margin):
                return final("converged", "every training point fitted")
        if clock.steps % watch_every == 0 and stall.watch(weights, clock.updates):
            return final("stalled", "weights unchanged for 20 epochs of steps with unfitted points: their gradient is zero")
        if run.out_of_budget(clock.steps):
            why = "stopped by SIGTERM" if run.stop_requested else "the step or wall budget ran out"
            return final("budget", why)
        idx = batches.choice(p, size=b, replace=False)
        f, pre, a_last = forward(weights, x_train[idx])
        F = f - f0_train[idx]
        active = y_train[idx] * F < margin
        if active.any():
            c = np.where(active, y_train[idx], 0.0)
            for w, g in zip(weights, backward(weights, pre, a_last, c)):
                w += (run.lr / b) * g
        clock.step(bool(active.any()))


def self_test():
    """Backward against central differences of forward, in float64."""
    rng = np.random.default_rng(7)
    weights = init(rng, 6, 3, 5)
    x = rng.standard_normal((4, 6))
    c = rng.standard_normal(4)
    f, pre, a_last = forward(weights, x)
    grads = backward(weights, pre, a_last, c)
    worst = 0.0
    for w, g in zip(weights, grads):
        for i in np.ndindex(w.shape):
            keep = w[i]
            w[i] = keep + 1e-6
            up = forward(weights, x)[0] @ c
            w[i] = keep - 1e-6
            down = forward(weights, x)[0] @ c
            w[i] = keep
            worst = max(worst, abs((up - down) / 2e-6 - g[i]) / max(1.0, abs(g[i])))
    print(f"max relative gradient error {worst:.2e}")
    if worst > 1e-6:
        raise SystemExit("gradient check failed")


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        self_test()
    else:
        train(Run())
