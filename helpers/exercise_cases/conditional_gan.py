"""Notebook 04's exercise checks: the fixed inputs and the typical mistakes each check names.

The check cells compare the student's function with the reference in ``helpers.lessons.conditional_gan`` (the
notebook's own solution cells) on these small inputs, built inside the check under a fixed seed, so a check
runs in well under a second on a CPU. A mistake is either a wrong variant with the reference's signature (the
hint applies when the student's results match the variant's on every input) or a test on what differs.

* 4.1 ``generator_input(z, labels)`` and 4.2 ``discriminator_input(x, labels)``: the tensors G's and D's first
  layers read. Fixed input 2 of 4.2 is input 1's images with the labels shuffled, so a D that ignores each
  image's own label gets the same input twice where the reference's differ.
* 4.3 ``draw_digit(G, digit, n, seed)``: on :class:`SmallG`, a small conditional DCGAN generator that notes
  what it was given (labels, their dtype and device, z, its mode, whether gradients were tracked); the check
  compares those and the images with the reference's.
"""
from __future__ import annotations

import torch
from torch import nn

from ..exercises import Inputs, Mistake
from ..models import DCGANGenerator

CLASSES = 10


def _one_hot(labels, width=CLASSES, dtype=torch.float32):
    return nn.functional.one_hot(labels, width).to(dtype)


# --- 4.1 generator_input(z, labels): z with the one-hot label appended, (n, nz + 10) ---------------------

GENERATOR_INPUT_CASES = [
    lambda: (torch.randn(4, 100), torch.tensor([3, 8, 0, 5])),                    # no 9: one_hot(labels) is 9 wide
    lambda: (torch.randn(6, 100, dtype=torch.float64), torch.tensor([9, 0, 1, 2, 3, 4])),  # z in float64
    lambda: (torch.randn(3, 7), torch.tensor([7, 7, 2])),                                # a small G's z (nz = 7)
]

GENERATOR_INPUT_MISTAKES = [
    Mistake("one_hot(labels) without its number of classes is only max(labels) + 1 wide: pass CLASSES, so every "
            "label is 10 numbers long", like=lambda z, labels: torch.cat([z, _one_hot(labels, -1, z.dtype)], dim=1)),
    Mistake("the label was appended as one number, not as a one-hot vector of CLASSES numbers",
            like=lambda z, labels: torch.cat([z, labels[:, None].to(z.dtype)], dim=1)),
    Mistake("the one-hot label comes before z: G's first layer reads z in its first NZ channels and the label "
            "after them", like=lambda z, labels: torch.cat([_one_hot(labels, CLASSES, z.dtype), z], dim=1)),
]


# --- 4.2 discriminator_input(x, labels): the image with 10 constant one-hot planes, (n, 1 + 10, H, W) ----

def _images(n, size=28, seed=7, dtype=torch.float32):
    """Images in [-1, 1] from their own generator: the same images for every case that asks for them."""
    return torch.rand(n, 1, size, size, generator=torch.Generator().manual_seed(seed), dtype=dtype) * 2 - 1


DISCRIMINATOR_INPUT_CASES = [
    lambda: (_images(4), torch.tensor([3, 8, 0, 5])),
    lambda: (_images(4), torch.tensor([8, 5, 3, 0])),                          # the same images, the labels shuffled
    lambda: (_images(3, size=6, seed=8, dtype=torch.float64), torch.tensor([9, 1, 1])),   # small float64 images
]


def _planes(labels, x, width=CLASSES):
    return _one_hot(labels, width, x.dtype)[:, :, None, None].expand(-1, -1, *x.shape[2:])


def _every_label_on_every_image(x, labels):
    planes = torch.zeros(len(x), CLASSES, *x.shape[2:], dtype=x.dtype)
    planes[:, labels] = 1            # wrong: marks every label of the batch on every image
    return torch.cat([x, planes], dim=1)


DISCRIMINATOR_INPUT_MISTAKES = [
    Mistake("every image carries the planes of all the batch's labels (planes[:, labels] = 1 indexes the planes of "
            "every image with the whole batch's labels), so D's input does not change when the labels are shuffled: "
            "D cannot see which label goes with which image; index with (torch.arange(n), labels), or use one_hot",
            like=_every_label_on_every_image),
    Mistake("one_hot(labels) without its number of classes gives max(labels) + 1 planes: pass CLASSES, so D always "
            "gets 10 label planes", like=lambda x, labels: torch.cat([x, _planes(labels, x, -1)], dim=1)),
    Mistake("the label planes come before the image: D's first layer reads the image in channel 0 and the 10 label "
            "planes after it", like=lambda x, labels: torch.cat([_planes(labels, x), x], dim=1)),
    Mistake("the label was stacked as one plane holding its value, not as CLASSES one-hot planes",
            like=lambda x, labels: torch.cat([x, labels.to(x.dtype)[:, None, None, None].expand_as(x)], dim=1)),
]


# --- 4.3 draw_digit(G, digit, n, seed): n images of one digit, as G.sample(n, labels=digit, seed=seed) ----

class SmallG(DCGANGenerator):
    """A small conditional DCGAN generator (ngf 4; nz 100 and 10 classes, as the notebook's) that notes what each
    call gave it.

    It is lenient so that a check can name a mistake instead of stopping at an error: labels given as floats,
    on another device, or as one label for the whole batch are noted as given, then used as whole numbers on
    G's device, one per z. (The notebook's generator would raise an error for each of these.)"""

    def __init__(self):
        super().__init__(nz=100, ngf=4, num_classes=CLASSES)
        self.calls: list[dict] = []

    def forward(self, z, labels=None):
        given = labels if isinstance(labels, torch.Tensor) else torch.as_tensor(labels if labels is not None else [])
        self.calls.append({
            "labels": given.detach().cpu().clone(),
            "dtype": str(given.dtype) if isinstance(labels, torch.Tensor) else f"a Python {type(labels).__name__}",
            "on device": str(given.device) == str(self.device) and str(z.device) == str(self.device),
            "z": z.detach().cpu().clone(),
            "mode": "training" if self.training else "eval",
            "tracking": "on" if torch.is_grad_enabled() else "off",
        })
        labels = given.to(self.device).reshape(-1)
        labels = (labels.round() if labels.is_floating_point() else labels).long()
        if labels.numel() == 1:
            labels = labels.expand(len(z))
        return super().forward(z.to(self.device), labels)


def _small_g(train: bool = True) -> SmallG:
    G = SmallG()
    with torch.no_grad():   # BatchNorm's running statistics away from (0, 1), so eval mode is not batch-like
        for m in G.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    return G.train(train)


DRAW_DIGIT_CASES = [
    lambda: Inputs((_small_g(train=True), 8, 5), {"seed": 0}),     # G in training mode, as after a training step
    lambda: Inputs((_small_g(train=False), 3, 4), {"seed": 7}),    # G in eval mode, as an EMA copy
    lambda: Inputs((_small_g(train=True), 0, 1), {"seed": 1}),
]

LABELS, DTYPE, DEVICE, Z = ("the label tensor G was given", "the label tensor's dtype",
                            "labels and z being on G's device", "the noise z G was given")
MODE, TRACKING, IMAGES, AFTER = ("G's mode while it ran", "gradient tracking while G ran", "the image tensor",
                                 "G's mode afterwards")


def observe_draw(images, G, *args, **kwargs) -> dict:
    """What the check compares: what G was given and how it ran (all its calls together), then the images."""
    calls = G.calls
    joined = lambda key: "/".join(sorted({c[key] for c in calls})) or "never called"   # noqa: E731
    return {
        LABELS: torch.cat([c["labels"].reshape(-1) for c in calls]) if calls else None,
        DTYPE: joined("dtype"),
        DEVICE: all(c["on device"] for c in calls),
        Z: torch.cat([c["z"] for c in calls]) if calls else None,
        MODE: joined("mode"),
        TRACKING: joined("tracking"),
        IMAGES: images,
        "the image tensor's device": str(images.device) if isinstance(images, torch.Tensor) else None,
        "the image tensor's requires_grad": bool(getattr(images, "requires_grad", False)),
        AFTER: "training" if G.training else "eval",
    }


def _differs(key):
    def differs(got, want):
        g, w = got[key], want[key]
        return (isinstance(g, torch.Tensor) and isinstance(w, torch.Tensor)
                and (g.shape != w.shape or not torch.allclose(g.double(), w.double())))
    return differs


DRAW_DIGIT_MISTAKES = [
    Mistake("the label tensor must hold one label per image, n of them (torch.full((n,), digit, ...)): G does not "
            "repeat a single label", when=lambda got, want: isinstance(got[LABELS], torch.Tensor)
            and got[LABELS].shape != want[LABELS].shape),
    Mistake("the labels are floats: one_hot (and nn.Embedding) need whole numbers of dtype torch.long",
            when=lambda got, want: got[DTYPE] != want[DTYPE] and "float" in got[DTYPE]),
    Mistake("z was not drawn from a generator seeded with seed: torch.randn(n, G.nz, generator=torch.Generator()"
            ".manual_seed(seed)), so that a seed gives the same images", when=_differs(Z)),
    Mistake("G ran in training mode: its BatchNorm layers then normalize with this batch's statistics (and update "
            "their running averages); call G.eval() before sampling", when=lambda got, want: got[MODE] != want[MODE]),
    Mistake("G ran with gradient tracking on, so the images require grad and keep G's graph: sample under "
            "torch.no_grad()", when=lambda got, want: got[TRACKING] != want[TRACKING]),
    Mistake("the images are G's tanh output in [-1, 1]: map them to [0, 1] with (x + 1) / 2",
            when=lambda got, want: isinstance(got[IMAGES], torch.Tensor) and got[IMAGES].shape == want[IMAGES].shape
            and torch.allclose(got[IMAGES].double(), 2 * want[IMAGES].double() - 1, atol=1e-5)),
    Mistake("G's mode was not restored: put it back in the mode it was in (G.train(was_training)), since a training "
            "step needs training mode and an EMA copy stays in eval mode",
            when=lambda got, want: got[AFTER] != want[AFTER]),
]
