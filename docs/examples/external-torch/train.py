"""The paper's fully connected net in PyTorch, trained by SGD on the hinge loss until every
training point is fitted: an external trainer for sgd-regimes (docs/external-trainer.md).
`sgd-regimes sweep run sweep.toml` starts it once per run. Needs `pip install torch numpy`
(CPU is enough).

The net (method §2): L hidden layers of width h, no biases, x <- phi(W x / sqrt(fan_in)) with
phi = sqrt(2) relu, output f = v . x / h; weights N(0, 1). Loss: the hinge at margin 1/alpha on
F = f - f0 (method §1). SGD draws B distinct points per step; the run stops when the whole
training loss is exactly zero, at t* = the time of the last step that changed w.
"""

import math
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "python"))
from sgd_regimes_trainer import Run, StallWatch, ZeroLossClock, observables  # noqa: E402


class FC(torch.nn.Module):
    def __init__(self, d, depth, width, generator):
        super().__init__()
        sizes = [d] + [width] * depth
        self.hidden = torch.nn.ParameterList(
            torch.nn.Parameter(torch.randn(sizes[i + 1], sizes[i], generator=generator)) for i in range(depth)
        )
        self.readout = torch.nn.Parameter(torch.randn(width, generator=generator))

    def forward(self, x):
        for w in self.hidden:
            x = math.sqrt(2.0) * torch.relu(x @ w.t() / math.sqrt(w.shape[1]))
        return x @ self.readout / self.readout.shape[0]

    def named_weights(self):
        return [(f"hidden.{k + 1}", w) for k, w in enumerate(self.hidden)] + [("readout", self.readout)]


def main():
    run = Run()
    torch.set_num_threads(run.threads)
    if run.config["model"] != "fc" or run.config.get("activation") != "relu":
        raise SystemExit("this example trains model fc with relu only")
    x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in run.load_data())
    x_train, x_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
    net = FC(x_train.shape[1], run.config["depth"], run.config["width"], torch.Generator().manual_seed(run.seed_init))
    w0 = [w.detach().clone() for _, w in net.named_weights()]
    with torch.no_grad():
        f0_train, f0_test = net(x_train), net(x_test)
    batches = torch.Generator().manual_seed(run.seed_batch)
    clock = ZeroLossClock(run.lr)
    p, b, margin, lr = run.p, run.batch, run.margin, run.lr
    check_every = max(1, -(-p // b))
    stall, watch_every = StallWatch(), max(64, 20 * check_every)

    def finish(status, detail):
        with torch.no_grad():
            F_train, F_test = net(x_train) - f0_train, net(x_test) - f0_test
        converged = status == "converged"
        t = clock.t_star if converged else clock.t
        weights = [(name, w, w0[k]) for k, (name, w) in enumerate(net.named_weights())]
        obs = observables(t, clock.last_update if converged else clock.steps,
                          (F_train, y_train), (F_test, y_test), margin, weights)
        run.write_result(status, obs, t_star=t if converged else None,
                         n_params=sum(w.numel() for w in net.parameters()), status_detail=detail)

    while True:
        if clock.steps % check_every == 0:
            with torch.no_grad():
                F = net(x_train) - f0_train
            if not torch.isfinite(F).all():
                return finish("diverged", "the output became non-finite")
            if bool((y_train * F >= margin).all()):
                return finish("converged", "every training point fitted")
        if clock.steps % watch_every == 0 and stall.watch(list(net.parameters()), clock.updates):
            return finish("stalled", "weights unchanged for 20 epochs of steps with unfitted points: their gradient is zero")
        if run.out_of_budget(clock.steps):
            return finish("budget", "stopped by SIGTERM" if run.stop_requested else "the step or wall budget ran out")
        idx = torch.randperm(p, generator=batches)[:b]
        F = net(x_train[idx]) - f0_train[idx]
        yF = y_train[idx] * F
        active = yF.detach() < margin
        changed = bool(active.any())
        if changed:
            net.zero_grad(set_to_none=True)
            # The hinge's gradient on the unfitted points only (a point exactly at the margin
            # is fitted and pulls nothing), summed and divided by B.
            loss = ((margin - yF) * active).sum() / b
            loss.backward()
            with torch.no_grad():
                for w in net.parameters():
                    w -= lr * w.grad
        clock.step(changed)


if __name__ == "__main__":
    main()
