"""The trainer's faster paths compute what the plain ones did: batched data fetch and the fused EMA update."""

import torch
from torch.optim.swa_utils import AveragedModel
from torch.utils.data import DataLoader

from gan_hub.data import load_dataset
from train.ema import ema_with_warmup


def test_batched_fetch_gives_the_per_item_batches():
    dataset = load_dataset("synthetic", None, train=True)
    index = [5, 0, 17, 3, 3]
    batched = torch.stack([image for image, _ in dataset.__getitems__(index)])
    assert torch.equal(batched, torch.stack([dataset[i][0] for i in index]))
    assert batched.dtype == torch.float32 and batched.min() >= -1 and batched.max() <= 1
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0))[:8].tolist()
    images, labels = next(iter(DataLoader(dataset, batch_size=8, sampler=order)))  # the trainer's loader fetches so
    assert torch.equal(images, torch.stack([dataset[i][0] for i in order]))
    assert torch.equal(labels, torch.stack([dataset[i][1] for i in order]))


def test_ema_update_follows_the_warmup_formula():
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
    ema = AveragedModel(net, multi_avg_fn=ema_with_warmup(0.9), use_buffers=True)

    def tensors(module):
        return [t.detach().double() for t in list(module.parameters()) + list(module.buffers())]

    reference = None
    for n in range(25):  # n: the updates averaged before this one (the first one copies)
        with torch.no_grad():
            for p in net.parameters():
                p.add_(torch.randn_like(p))
        net(torch.randn(6, 4))
        ema.update_parameters(net)
        rate = min(0.9, (1 + n) / (10 + n))
        reference = (
            tensors(net) if reference is None else [r + (c - r) * (1 - rate) for r, c in zip(reference, tensors(net))]
        )
    averaged = list(ema.module.parameters()) + list(ema.module.buffers())
    for got, want, original in zip(averaged, reference, list(net.parameters()) + list(net.buffers())):
        if original.is_floating_point():
            assert torch.allclose(got.double(), want, atol=1e-5)
        else:  # batch norm's step counter is copied, not averaged
            assert torch.equal(got, original)
