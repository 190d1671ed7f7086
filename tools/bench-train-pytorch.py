#!/usr/bin/env python3
"""PyTorch CPU side of tools/bench-train-vs-pytorch.mjs: the same VGG-small BNN as cbnn's
buildBinaryModel (packages/train/src/builders.ts), timed on full training steps.

conv3x3(64w) BN | conv3x3(64w) BN maxpool2 | conv3x3(128w) BN | conv3x3(128w) BN maxpool2 |
flatten | dense(512w) BN | dense(classes) BN. No biases. Every layer but the first signs its
input (straight-through estimator, gradient passed where |x| <= 1), every kernel is signed (STE),
the first layer reads the ±1 planes. Adam, softmax cross-entropy, latent weights clipped to [-1, 1]
after each step, as cbnn's trainer does.

  /usr/bin/python3 tools/bench-train-pytorch.py --width 0.5 --batch 256 --threads 2 --steps 8
Prints one JSON line.
"""
import argparse, json, os, time
import torch
import torch.nn as nn
import torch.nn.functional as F


class SignSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x.abs() <= 1).to(g.dtype)


sign = SignSTE.apply


class BinConv(nn.Conv2d):
    def __init__(self, cin, cout, first=False):
        super().__init__(cin, cout, 3, padding=1, bias=False)
        self.first = first

    def forward(self, x):
        return F.conv2d(x if self.first else sign(x), sign(self.weight), padding=1)


class BinDense(nn.Linear):
    def __init__(self, cin, cout):
        super().__init__(cin, cout, bias=False)

    def forward(self, x):
        return F.linear(sign(x), sign(self.weight))


def vgg_small(width, planes, classes, size):
    s = lambda c: max(1, round(c * width))
    c1, c2, d = s(64), s(128), s(512)
    flat = c2 * (size // 4) * (size // 4)
    bn = lambda c: nn.BatchNorm2d(c, momentum=0.1, eps=1e-3)
    return nn.Sequential(
        BinConv(planes, c1, first=True), bn(c1),
        BinConv(c1, c1), bn(c1), nn.MaxPool2d(2),
        BinConv(c1, c2), bn(c2),
        BinConv(c2, c2), bn(c2), nn.MaxPool2d(2),
        nn.Flatten(),
        BinDense(flat, d), nn.BatchNorm1d(d, momentum=0.1, eps=1e-3),
        BinDense(d, classes), nn.BatchNorm1d(classes, momentum=0.1, eps=1e-3),
    )


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--width', type=float, default=0.5)
    p.add_argument('--batch', type=int, default=256)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--steps', type=int, default=8)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = vgg_small(a.width, 8, 10, 28)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.where(torch.rand(a.batch, 8, 28, 28) < 0.5, -1.0, 1.0)
    y = torch.randint(0, 10, (a.batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, (BinConv, BinDense)):
                    m.weight.clamp_(-1, 1)
        return loss.item()

    step()
    step()
    times = []
    cpu0 = time.process_time()
    for _ in range(a.steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    cpu = time.process_time() - cpu0
    times.sort()
    med = times[len(times) // 2]
    print(json.dumps({
        'side': 'pytorch',
        'runtime': f'PyTorch {torch.__version__} CPU, {a.threads} threads',
        'model': f'vgg-small binary w={a.width}', 'batch': a.batch, 'threads': a.threads, 'steps': a.steps,
        'samplesPerSecond': {'median': round(a.batch / med), 'best': round(a.batch / times[0]), 'worst': round(a.batch / times[-1])},
        'cpuSecondsPerStep': round(cpu / a.steps, 3),
        'loadavg': [round(l, 2) for l in os.getloadavg()],
    }))


if __name__ == '__main__':
    main()
