"""Throughput of the scorers (images per second) versus plain eager torchvision Inception-v3, and exactness.

    python bench/score.py                      # ~4 min on a 2-core CPU: 100 MNIST-shaped images per path
    python bench/score.py --data-dir ../shared/data/mnist   # real MNIST test digits instead of noise
    python bench/score.py --quick              # smoke run, under a minute
    python bench/score.py --compile            # also try torch.compile (minutes of compiling on a CPU)
    python bench/score.py --grid --reps 3      # every batch size x channels_last on/off x grad mode
    python bench/score.py --device cuda --images 1000 --batch-sizes 50,100,250 --reps 3

Rows:
  * baseline: ``torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False,
    transform_input=False).eval()``, plain eager fp32 under no_grad, on float input already at 299x299;
  * reference: the exact path every score is checked against: torch-fidelity's network called
    directly, fp32, contiguous NCHW, no_grad, no compile, on uint8 images (grey repeated to 3
    channels; the network resizes to 299 itself);
  * candidates: the "inception-v3" scorer (``load_scorer``, logits and features from one pass) with
    other batch sizes, inference_mode vs no_grad, fewer threads, torch.compile (``--compile``), and
    with ``--grid`` channels_last off too (by default the reference row stands for channels_last
    off: the scorer with ``channels_last=False`` runs the same network on the same contiguous input);
  * the 3x32x32 case (scorer defaults) and the "mnist-classifier" scorer, for scale.

The Inception weights are random (``random_weights_state``; the real file is not needed and
timings do not depend on the values). Every candidate sees the same images as the reference; the
"rel diff" columns are ``max|out - ref| / max|ref|`` over the logits [N, 1008] and the pool
features [N, 2048], and the IS column the relative difference of the Inception Score (mean over
``--splits`` splits) computed from the candidate's logits. A candidate is "exact" (acceptable for
reported scores) when all three are at most ``--tolerance`` (1e-4).

Candidates run interleaved (one pass of each per repetition, ``--reps`` times; the median pass is
reported), so load from other processes drifts over all rows alike. Each network (per thread
count) gets one untimed 1-image warm-up pass first. On a shared machine the absolute numbers move
with the other load: compare the ratios, and rerun (``--reps``).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    default_device = "cuda" if torch.cuda.is_available() else "cpu"
    parser.add_argument("--device", default=default_device, help="torch device to run every path on")
    parser.add_argument(
        "--images", type=int, default=100, help="MNIST-shaped images per pass (candidates and reference)"
    )
    parser.add_argument("--rgb-images", type=int, default=25, help="3x32x32 images for the RGB row")
    parser.add_argument("--baseline-images", type=int, default=25, help="images per pass of the torchvision baseline")
    parser.add_argument("--mnist-images", type=int, default=2000, help="images per pass of the mnist-classifier")
    parser.add_argument(
        "--batch",
        type=int,
        default=50,
        help="batch size of the reference, the baseline and the layout/grad-mode/threads candidates",
    )
    parser.add_argument("--batch-sizes", default="25,50,100", help="batch sizes tried with channels_last")
    parser.add_argument("--reps", type=int, default=1, help="timed passes per path (interleaved); median reported")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch.set_num_threads for every path (default: torch's choice)"
    )
    parser.add_argument(
        "--grid",
        action="store_true",
        help="every batch size x channels_last on/off x "
        "inference_mode/no_grad (default: batch sizes with channels_last, grad mode at --batch)",
    )
    parser.add_argument(
        "--compile",
        action="store_true",
        help="also try torch.compile(network) (~80 s of compiling on a 2-core CPU, so off by default)",
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="folder with MNIST IDX files (t10k-images-idx3-ubyte[.gz]); "
        "real test digits are used when found there or in gan_hub's data dir, else random noise",
    )
    parser.add_argument("--splits", type=int, default=10, help="Inception Score splits")
    parser.add_argument("--logit-scale", type=float, default=1.0, help="random_weights_state(logit_scale=...)")
    parser.add_argument("--tolerance", type=float, default=1e-4, help="largest relative difference called exact")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights and images")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 8 images, batch 4, batch sizes 4,8, 2 IS splits"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.images, args.rgb_images, args.baseline_images, args.mnist_images = 8, 4, 4, 1000
        args.batch, args.batch_sizes, args.splits = 4, "4,8", 2
    args.batch_sizes = [int(b) for b in str(args.batch_sizes).split(",") if b.strip()]
    return args


# ----------------------------------------------------------------------------------------------- helpers


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def rel_diff(out: torch.Tensor, ref: torch.Tensor) -> float:
    """max|out - ref| / max|ref| (0 when both are all zeros)."""
    out, ref = out.double().cpu(), ref.double().cpu()
    scale = ref.abs().max().item()
    err = (out - ref).abs().max().item()
    return err / scale if scale > 0 else err


def inception_score(logits: torch.Tensor, splits: int) -> float:
    """Mean IS over contiguous splits, through the streaming metric (log-softmax in float64)."""
    from gan_hub.metrics import InceptionScore

    return InceptionScore(None, splits=splits, num_samples=len(logits)).update_logits(logits).compute()[0]


def mnist_images(n: int, data_dir, seed: int) -> tuple[torch.Tensor, str]:
    """n MNIST test digits uint8 [n, 1, 28, 28] when the IDX files are found (no download), else random noise."""
    with contextlib.suppress(Exception):
        from gan_hub.data import mnist

        ds = mnist(data_dir, train=False, download=False)
        if len(ds) >= n:
            return ds.images[:n].clone(), f"MNIST test digits 0..{n - 1}"
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 1, 28, 28), generator=gen, dtype=torch.uint8), "uniform random noise"


@dataclass
class Row:
    """One way of running a network over a set of images; ``run(images)`` -> outputs (or None)."""

    label: str
    input: str
    batch: int
    layout: str
    grad: str
    threads: int
    run: Callable[[torch.Tensor], object]
    images: torch.Tensor
    ref_key: str | None = None  # which reference outputs to compare with
    times: list[float] = field(default_factory=list)
    outputs: object = None
    note: str = ""
    warm: bool = True  # False: already warmed (a compiled path must not see a new shape)
    network: object = None  # rows sharing a network (and thread count) share one warm-up

    @property
    def n(self) -> int:
        return len(self.images)

    def rate(self) -> float:
        return self.n / float(np.median(self.times))


@contextlib.contextmanager
def num_threads(n: int):
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def timed_pass(path: Row, device: torch.device) -> None:
    with num_threads(path.threads):
        sync(device)
        start = time.perf_counter()
        out = path.run(path.images)
        sync(device)
        path.times.append(time.perf_counter() - start)
    if path.outputs is None:
        path.outputs = out


def warm_up(path: Row, device: torch.device, count: int = 1) -> None:
    if not path.warm:
        return
    with num_threads(path.threads):
        path.run(path.images[:count])
        sync(device)


# ----------------------------------------------------------------------------------------------- paths


def reference_runner(network, device: torch.device, batch: int):
    """torch-fidelity's network on contiguous NCHW uint8 input, fp32, no_grad: (logits, features) on the CPU."""

    @torch.no_grad()
    def run(images: torch.Tensor):
        logits, feats = [], []
        for i in range(0, len(images), batch):
            x = images[i : i + batch].to(device)
            if x.shape[1] == 1:
                x = x.expand(-1, 3, -1, -1)
            pool, lg = network(x.contiguous())
            logits.append(lg.float().cpu())
            feats.append(pool.float().cpu())
        return torch.cat(logits), torch.cat(feats)

    return run


def scorer_runner(scorer, grad: str):
    if grad == "inference_mode":
        return scorer.logits_and_features  # Scorer's own methods run under inference_mode

    def run(images: torch.Tensor):
        with torch.no_grad():
            return scorer._batched(scorer.module.logits_and_features, images)

    return run


def baseline_runner(device: torch.device, batch: int):
    import torchvision

    net = (
        torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False, transform_input=False)
        .eval()
        .to(device)
    )

    @torch.no_grad()
    def run(images: torch.Tensor):
        for i in range(0, len(images), batch):
            net(images[i : i + batch])

    return run


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.images < 1 or args.batch < 1 or not args.batch_sizes or min(args.batch_sizes) < 1:
        print("bench/score.py: --images, --batch and --batch-sizes must be positive", file=sys.stderr)
        return 2
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("bench/score.py: --device cuda but CUDA is not available", file=sys.stderr)
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()

    import torch_fidelity
    import torchvision
    from safetensors.torch import save_file

    from gan_hub.metrics import load_scorer
    from gan_hub.metrics.inception_v3 import build_network, random_weights_state, read_weights

    started = time.perf_counter()
    tmp = tempfile.TemporaryDirectory()
    weights = Path(tmp.name) / "inception-random.safetensors"
    save_file(random_weights_state(args.seed, logit_scale=args.logit_scale), str(weights))

    grey, grey_source = mnist_images(args.images, args.data_dir, args.seed)
    gen = torch.Generator().manual_seed(args.seed + 1)
    rgb = torch.randint(0, 256, (args.rgb_images, 3, 32, 32), generator=gen, dtype=torch.uint8)
    float299 = torch.randn(args.baseline_images, 3, 299, 299, generator=gen).to(device)
    digits = torch.randint(0, 256, (args.mnist_images, 1, 28, 28), generator=gen, dtype=torch.uint8)

    loaded = {}

    def scorer(batch: int, channels_last: bool):
        """load_scorer(..., batch_size=batch, channels_last=channels_last); one network per layout, shared."""
        if channels_last not in loaded:
            loaded[channels_last] = load_scorer(
                "inception-v3", weights_path=weights, device=device, channels_last=channels_last
            )
        s = copy.copy(loaded[channels_last])
        s.batch_size = batch
        return s

    ref_net = build_network(read_weights(weights)).eval().to(device)
    b = args.batch
    few = max(1, threads // 2)  # the "fewer threads" candidate
    paths: list[Row] = [
        Row(
            "baseline: torchvision eager fp32",
            "float 3x299x299",
            b,
            "NCHW",
            "no_grad",
            threads,
            baseline_runner(device, b),
            float299,
        ),
        Row(
            "reference: torch-fidelity net",
            "uint8 1x28x28",
            b,
            "NCHW",
            "no_grad",
            threads,
            reference_runner(ref_net, device, b),
            grey,
            ref_key="grey",
            network=ref_net,
        ),
    ]
    # Default: every batch size with channels_last, plus grad mode at --batch; channels_last off is the
    # reference row itself (same network, same contiguous input). --grid: every layout x batch x grad mode.
    combos = [(bs, True, "inference_mode") for bs in args.batch_sizes] + [(b, True, "no_grad")]
    if args.grid:
        combos = [
            (bs, cl, grad) for cl in (True, False) for bs in args.batch_sizes for grad in ("inference_mode", "no_grad")
        ]
    default = None
    for bs, cl, grad in combos:
        s = scorer(bs, cl)
        row = Row(
            "scorer",
            "uint8 1x28x28",
            bs,
            "channels_last" if cl else "NCHW",
            grad,
            threads,
            scorer_runner(s, grad),
            grey,
            ref_key="grey",
            network=s.module,
        )
        paths.append(row)
        if (bs, cl, grad) == (b, True, "inference_mode"):
            default = row
    if device.type == "cpu" and few < threads:
        s = scorer(b, True)
        paths.append(
            Row(
                "scorer",
                "uint8 1x28x28",
                b,
                "channels_last",
                "inference_mode",
                few,
                scorer_runner(s, "inference_mode"),
                grey,
                ref_key="grey",
                network=s.module,
            )
        )
    if args.compile:
        s = load_scorer("inception-v3", weights_path=weights, device=device, batch_size=b, channels_last=True)
        s.module.network = torch.compile(s.module.network, dynamic=False)
        compiled = Row(
            "scorer + torch.compile",
            "uint8 1x28x28",
            b,
            "channels_last",
            "inference_mode",
            threads,
            scorer_runner(s, "inference_mode"),
            grey,
            ref_key="grey",
        )
        start = time.perf_counter()
        try:
            with torch.inference_mode():
                compiled.run(grey[: min(b, len(grey))])  # compiles for the full batch shape
            compiled.note = f"compiled in {time.perf_counter() - start:.0f} s"
            compiled.warm = False
            paths.append(compiled)
        except Exception as err:  # no compiler, unsupported backend: report and go on
            print(f"torch.compile failed, skipped: {type(err).__name__}: {str(err).splitlines()[0][:200]}")
    rgb_ref = Row(
        "reference: torch-fidelity net",
        "uint8 3x32x32",
        b,
        "NCHW",
        "no_grad",
        threads,
        reference_runner(ref_net, device, b),
        rgb,
        network=ref_net,
    )
    defaults = load_scorer("inception-v3", weights_path=weights, device=device)  # the load_inception_v3 defaults
    paths += [
        Row(
            "scorer (defaults)",
            "uint8 3x32x32",
            defaults.batch_size,
            "channels_last" if defaults.module.channels_last else "NCHW",
            "inference_mode",
            threads,
            scorer_runner(defaults, "inference_mode"),
            rgb,
            ref_key="rgb",
        ),
        Row(
            "mnist-classifier scorer",
            "uint8 1x28x28",
            1000,
            "NCHW",
            "inference_mode",
            threads,
            load_scorer("mnist-classifier", device=device).logits,
            digits,
        ),
    ]

    warmed = set()
    for p in paths + [rgb_ref]:
        key = (id(p.network) if p.network is not None else id(p), p.threads)
        if key not in warmed:
            warm_up(p, device)
            warmed.add(key)
    for _ in range(args.reps):  # interleaved: one pass of every path per repetition
        for p in paths:
            timed_pass(p, device)
    timed_pass(rgb_ref, device)  # only for its outputs
    elapsed = time.perf_counter() - started
    tmp.cleanup()

    refs = {"grey": paths[1].outputs, "rgb": rgb_ref.outputs}
    ref_is = {k: inception_score(v[0], args.splits) for k, v in refs.items()}
    base_rate = paths[0].rate()

    load = " ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    gpu = f", {torch.cuda.get_device_name(device)}" if device.type == "cuda" else ""
    print(
        f"\ntorch {torch.__version__}, torchvision {torchvision.__version__}, torch-fidelity "
        f"{torch_fidelity.__version__}; device {device}{gpu}; {threads} threads (of {os.cpu_count()} CPUs); "
        f"CPU {cpu_model()}; load average {load}"
    )
    print(
        f"images: {args.images} x 1x28x28 ({grey_source}), {args.rgb_images} x 3x32x32 (random); "
        f"random Inception weights (seed {args.seed}); {args.reps} interleaved timed pass(es) per row after a "
        f"1-image warm-up per network; IS over {args.splits} splits; exact = every rel diff <= {args.tolerance:g}; "
        f"run took {elapsed:.0f} s\n"
    )
    head = (
        f"| {'path':<33} | {'input':<15} | {'batch':>5} | {'layout':<13} | {'grad mode':<14} | {'thr':>3} "
        f"| {'img/s':>8} | {'x base':>8} | {'logits rel':>10} | {'feat rel':>9} | {'IS rel':>9} | exact |"
    )
    print(head)
    print("|" + "|".join("-" * len(c) for c in head.split("|")[1:-1]) + "|")
    best = None
    for p in paths:
        cells = ["-", "-", "-"]
        exact = "-"
        if p.ref_key is not None:
            ref_logits, ref_feats = refs[p.ref_key]
            logits, feats = p.outputs
            is_rel = abs(inception_score(logits, args.splits) - ref_is[p.ref_key]) / ref_is[p.ref_key]
            diffs = (rel_diff(logits, ref_logits), rel_diff(feats, ref_feats), is_rel)
            cells = [f"{d:.1e}" for d in diffs]
            ok = max(diffs) <= args.tolerance
            exact = "yes" if ok else "NO"
            if ok and p.ref_key == "grey" and p.label.startswith("scorer") and (best is None or p.rate() > best.rate()):
                best = p
        print(
            f"| {p.label:<33} | {p.input:<15} | {p.batch:>5} | {p.layout:<13} | {p.grad:<14} | {p.threads:>3} "
            f"| {p.rate():>8.2f} | {p.rate() / base_rate:>7.2f}x | {cells[0]:>10} | {cells[1]:>9} | {cells[2]:>9} "
            f"| {exact:<5} |" + (f"  {p.note}" if p.note else "")
        )

    print(
        f"\nInception Score of the {args.images} grey images (random weights, so only agreement matters): "
        f"reference {ref_is['grey']:.9f}"
        + (
            f", scorer at batch {b} channels_last {inception_score(default.outputs[0], args.splits):.9f}"
            if default is not None
            else ""
        )
    )
    if best is not None:
        print(
            f"fastest exact scorer path: batch {best.batch}, {best.layout}, {best.grad}, {best.threads} threads"
            f"{' (' + best.label + ')' if best.label != 'scorer' else ''}: {best.rate():.2f} img/s, "
            f"{best.rate() / paths[1].rate():.2f}x the reference path, {best.rate() / base_rate:.2f}x the baseline"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
