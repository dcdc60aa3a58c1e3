"""Notebook 03's exercise checks: the fixed inputs, what each check compares, and the typical mistakes it names.

The check cells compare the student's function with the reference in ``helpers.lessons.dcgan`` (the notebook's own
solution cells). A stack (Exercises 3.2 and 3.3) is built inside the check under a fixed seed, for the student's
function and the reference alike, so equal layers in equal order start with equal weights and give equal outputs
on the same batch. Each mistake is a wrong variant with the reference's signature (the hint applies when the
student's results match the variant's on every input) or a predicate on the first input that differs.
"""
from __future__ import annotations

import torch
from torch import nn

from ..exercises import Inputs, Mistake
from ..lessons import dcgan as reference
from ..models import count_parameters


def _shape(x) -> tuple:
    return tuple(x.shape) if isinstance(x, torch.Tensor) else ()


# --- 3.1 out_size(i, k, s, p, transposed=False): one side of a layer's output --------------------------------

SIZE_SETTINGS = [  # (i, k, s, p, transposed): the notebook's layers first, then others (odd sizes, floors, strides 3)
    (28, 4, 2, 1, False), (14, 3, 1, 1, False), (14, 4, 2, 1, False), (7, 7, 1, 0, False),
    (27, 4, 2, 1, False), (7, 4, 2, 1, False), (28, 4, 2, 0, False), (13, 3, 2, 0, False),
    (28, 3, 1, 0, False), (28, 5, 1, 2, False), (32, 5, 3, 1, False), (15, 3, 2, 1, False), (1, 1, 1, 0, False),
    (1, 7, 1, 0, True), (7, 4, 2, 1, True), (14, 4, 2, 1, True), (28, 3, 1, 1, True),
    (7, 3, 2, 1, True), (14, 3, 2, 1, True), (1, 4, 1, 0, True), (4, 4, 2, 1, True), (7, 5, 2, 2, True),
    (3, 4, 3, 0, True), (28, 3, 1, 0, True), (14, 4, 2, 0, True), (5, 2, 2, 0, True),
]


def _size_case(i, k, s, p, transposed):
    return (lambda: Inputs((i, k, s, p), {"transposed": True})) if transposed else (lambda: (i, k, s, p))


SIZE_CASES = [_size_case(*setting) for setting in SIZE_SETTINGS]


def observe_size(size, i, k, s, p, transposed=False):
    kind = "transposed convolution" if transposed else "convolution"
    return {f"the {kind}'s output size for i={i}, k={k}, s={s}, p={p}": size}


def layer_size(i, k, s, p, transposed=False) -> int:
    """One side of what ``nn.Conv2d`` (or ``nn.ConvTranspose2d``) makes of an ``i x i`` input: the layer run on zeros
    (its random initial weights are drawn off the record, so the notebook's random state is untouched)."""
    with torch.random.fork_rng(devices=[]):
        layer = (nn.ConvTranspose2d if transposed else nn.Conv2d)(1, 1, k, s, p)
    with torch.no_grad():
        return layer(torch.zeros(1, 1, i, i)).shape[-1]


def measured_sizes() -> list[tuple[tuple, int]]:
    """Each setting of the check with the size the PyTorch layer gives: ``[((i, k, s, p, transposed), size), ...]``."""
    return [(setting, layer_size(*setting)) for setting in SIZE_SETTINGS]


def _size(conv, transposed_size):
    return lambda i, k, s, p, transposed=False: transposed_size(i, k, s, p) if transposed else conv(i, k, s, p)


_CONV = lambda i, k, s, p: (i + 2 * p - k) // s + 1          # noqa: E731 - the two right formulas, for the variants
_TRANSPOSED = lambda i, k, s, p: (i - 1) * s - 2 * p + k      # noqa: E731

SIZE_MISTAKES = [
    Mistake("the division is not floored: a convolution counts only the positions where the whole kernel fits, "
            "⌊(i + 2p − k) / s⌋ + 1 (use //)", like=_size(lambda i, k, s, p: (i + 2 * p - k) / s + 1, _TRANSPOSED)),
    Mistake("the padding is counted once: it is added on both sides of the input, 2p",
            like=_size(lambda i, k, s, p: (i + p - k) // s + 1, _TRANSPOSED)),
    Mistake("the transposed convolution's padding must be subtracted: (i − 1)s − 2p + k",
            like=_size(_CONV, lambda i, k, s, p: (i - 1) * s + 2 * p + k)),
    Mistake("the transposed convolution's size starts from (i − 1)s, the distance between the first and last input "
            "positions once spread s apart, not i·s", like=_size(_CONV, lambda i, k, s, p: i * s - 2 * p + k)),
    Mistake("transposed=True gives a convolution's size: a transposed convolution has its own formula, (i − 1)s − 2p + k",
            like=_size(_CONV, _CONV)),
]


# --- 3.2 generator_stack(nz, ngf) and 3.3 discriminator_stack(ndf, extra_layers): the layer lists ------------

BIASES = "the number of bias entries in the hidden convolutions followed by BatchNorm"
IMAGES = "the batch of images from 4 latent vectors"
LOGITS = "the batch of logits for 4 images"
PARAMETERS = "the number of parameters"


def _biases_before_batchnorm(stack) -> int:
    """Bias entries of the hidden convolutions (all but the last) that BatchNorm follows: none in DCGAN."""
    layers = [m for m in stack.modules() if not list(m.children())]
    convs = [m for m in layers if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    return sum(m.bias.numel() for m, after in zip(layers, layers[1:])
               if m in convs[:-1] and m.bias is not None and isinstance(after, nn.BatchNorm2d))


def _stack(kind):
    def observe(stack, *_, batch):
        if not isinstance(stack, nn.Module):
            raise TypeError(f"the function must return the layers as one nn.Sequential, not a {type(stack).__name__}")
        out = stack(batch)
        return {BIASES: _biases_before_batchnorm(stack), kind: out, PARAMETERS: count_parameters(stack)}
    return observe


observe_generator, observe_discriminator = _stack(IMAGES), _stack(LOGITS)

GENERATOR_CASES = [  # (nz, ngf): every latent size of section 4, and widths other than NGF
    lambda: Inputs((10, 32), also={"batch": torch.randn(4, 10, 1, 1)}),
    lambda: Inputs((100, 16), also={"batch": torch.randn(4, 100, 1, 1)}),
    lambda: Inputs((200, 8), also={"batch": torch.randn(4, 200, 1, 1)}),
    lambda: Inputs((1000, 8), also={"batch": torch.randn(4, 1000, 1, 1)}),
]

DISCRIMINATOR_CASES = [  # (ndf, extra_layers) and a batch of 4 images in [-1, 1]
    lambda: Inputs((32, 1), also={"batch": torch.rand(4, 1, 28, 28) * 2 - 1}),
    lambda: Inputs((16, 0), also={"batch": torch.rand(4, 1, 28, 28) * 2 - 1}),
    lambda: Inputs((8, 2), also={"batch": torch.rand(4, 1, 28, 28) * 2 - 1}),
]


def _replaced(stack, kind, new):
    """The stack with every layer of type ``kind`` replaced by ``new()`` (which has no weights: same random draws)."""
    return nn.Sequential(*[new() if type(m) is kind else m for m in stack])


def _side(key, size):
    return lambda got, want: _shape(got[key])[-2:] == (size, size) and _shape(want[key])[-2:] != (size, size)


def _extra_biases(got, want):
    return got[BIASES] > 0 and want[BIASES] == 0


BIAS_HINT = ("a convolution followed by BatchNorm has bias=False: BatchNorm's shift does a bias's job, and the bias's "
             "random draws change every later layer's weights")

GENERATOR_MISTAKES = [
    Mistake("the Tanh at G's end is missing: images must land in [-1, 1], like the training digits",
            like=lambda nz, ngf: reference.generator_stack(nz, ngf)[:-1]),
    Mistake("G ends with a Sigmoid, which gives images in [0, 1]; the training digits are scaled to [-1, 1]: Tanh",
            like=lambda nz, ngf: nn.Sequential(*reference.generator_stack(nz, ngf)[:-1], nn.Sigmoid())),
    Mistake("G's output layer has BatchNorm: DCGAN puts none there (nor on D's first layer); the last "
            "convolution goes straight into Tanh",
            like=lambda nz, ngf: (lambda s: nn.Sequential(*s[:-1], nn.BatchNorm2d(1), s[-1]))(reference.generator_stack(nz, ngf))),
    Mistake("G uses LeakyReLU: DCGAN's G uses ReLU (LeakyReLU(0.2) is D's)",
            like=lambda nz, ngf: _replaced(reference.generator_stack(nz, ngf), nn.ReLU, lambda: nn.LeakyReLU(0.2, True))),
    Mistake("the widths use the notebook's NGF, not the argument ngf",
            like=lambda nz, ngf: reference.generator_stack(nz, 32)),
    Mistake(BIAS_HINT, when=_extra_biases),
    Mistake("G's images come out 27x27, not 28x28: a layer's kernel or padding is off (7 -> 14 -> 28 needs k=4, s=2, "
            "p=1; the last layer k=3, s=1, p=1): out_size(14, 3, 2, 1, transposed=True) is 27", when=_side(IMAGES, 27)),
    Mistake("G's images come out 29x29, not 28x28: an output_padding=1 (or a kernel one too large) adds a row and a "
            "column; with k=4, s=2, p=1 the size doubles exactly", when=_side(IMAGES, 29)),
    Mistake("G's images are not 28x28: check each layer's size with out_size (7x7, 14x14, 28x28, 28x28)",
            when=lambda got, want: _shape(got[IMAGES])[-2:] != _shape(want[IMAGES])[-2:]),
]

DISCRIMINATOR_MISTAKES = [
    Mistake("D's first layer has BatchNorm: DCGAN puts none on D's input layer (nor on G's output)",
            like=lambda ndf, extra: (lambda s: nn.Sequential(s[0], nn.BatchNorm2d(ndf), *s[1:]))(
                reference.discriminator_stack(ndf, extra))),
    Mistake("D uses ReLU where DCGAN's D uses LeakyReLU(0.2)",
            like=lambda ndf, extra: _replaced(reference.discriminator_stack(ndf, extra), nn.LeakyReLU, lambda: nn.ReLU(True))),
    Mistake("D's LeakyReLU has slope 0.01 (nn.LeakyReLU()'s default); DCGAN's is 0.2: nn.LeakyReLU(0.2, True)",
            like=lambda ndf, extra: _replaced(reference.discriminator_stack(ndf, extra), nn.LeakyReLU,
                                              lambda: nn.LeakyReLU(0.01, True))),
    Mistake("D ends with a Sigmoid: it must return logits, because the loss, BCEWithLogitsLoss, applies the sigmoid itself",
            like=lambda ndf, extra: nn.Sequential(*reference.discriminator_stack(ndf, extra), nn.Sigmoid())),
    Mistake("the 3x3 layers at 14x14 do not follow extra_layers: there must be exactly extra_layers of them",
            like=lambda ndf, extra: reference.discriminator_stack(ndf, 0)),
    Mistake("the 3x3 layers at 14x14 do not follow extra_layers: there must be exactly extra_layers of them",
            like=lambda ndf, extra: reference.discriminator_stack(ndf, 1)),
    Mistake("the widths use the notebook's NDF, not the argument ndf",
            like=lambda ndf, extra: reference.discriminator_stack(32, extra)),
    Mistake(BIAS_HINT, when=_extra_biases),
    Mistake("D must give one logit per image, a 1x1 map: 28 -> 14 -> 7 (k=4, s=2, p=1), then a convolution that covers "
            "the whole 7x7 map (k=7, s=1, p=0)",
            when=lambda got, want: _shape(got[LOGITS])[-2:] != _shape(want[LOGITS])[-2:]),
]


# --- 3.4 init_weights(module): DCGAN's initialization of one layer -----------------------------------------

INIT_CASES = [  # one layer each, as model.apply hands them over; built (with PyTorch's own init) under the case's seed
    lambda: nn.ConvTranspose2d(100, 128, 7, 1, 0, bias=False),
    lambda: nn.BatchNorm2d(64),
    lambda: nn.Conv2d(1, 32, 4, 2, 1),
    lambda: nn.ConvTranspose2d(32, 1, 3, 1, 1),
    lambda: nn.LeakyReLU(0.2, True),
    lambda: nn.Sequential(nn.Conv2d(16, 32, 4, 2, 1, bias=False), nn.BatchNorm2d(32)),   # apply reaches its layers itself
]


def observe_init(_, module):
    seen = {}
    weight = getattr(module, "weight", None)
    if isinstance(weight, torch.Tensor):
        seen["the weight's standard deviation"] = weight.detach().std()
        seen["the weight's mean"] = weight.detach().mean()
    seen["the layer"] = module   # every parameter, value by value
    return seen


def _init(std=0.02, bn_mean=1.0, batchnorm=True, zero_bias=True, kinds=(nn.Conv2d, nn.ConvTranspose2d)):
    def init(module):
        if isinstance(module, kinds):
            nn.init.normal_(module.weight, 0.0, std)
            if zero_bias and module.bias is not None:
                nn.init.zeros_(module.bias)
        elif batchnorm and isinstance(module, nn.BatchNorm2d):
            nn.init.normal_(module.weight, bn_mean, 0.02)
            nn.init.zeros_(module.bias)
    return init


def _every_layer_inside(module):
    for m in module.modules():
        reference.init_weights(m)


INIT_MISTAKES = [
    Mistake("the weights' standard deviation is 0.2; DCGAN draws them from N(0, 0.02)", like=_init(std=0.2)),
    Mistake("BatchNorm's weights are drawn around 0: they scale each channel, so they start near 1, N(1, 0.02)",
            like=_init(bn_mean=0.0)),
    Mistake("BatchNorm's weights were left at 1: DCGAN draws them from N(1, 0.02)", like=_init(batchnorm=False)),
    Mistake("the biases were left as PyTorch drew them: DCGAN sets them to 0", like=_init(zero_bias=False)),
    Mistake("the transposed convolutions were left alone: nn.ConvTranspose2d is not a subclass of nn.Conv2d, so "
            "test for both", like=_init(kinds=nn.Conv2d)),
    Mistake("a container's layers were initialized too: model.apply calls the function on every layer itself, so "
            "it must change only the module it is given", like=_every_layer_inside),
]
