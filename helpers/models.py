"""Generators and discriminators. Every generator shares :class:`Generator`'s ``sample`` API.

Discriminators return raw scores (logits), never probabilities: the losses apply the sigmoid
inside a numerically stable ``BCEWithLogits``, and least-squares / hinge / Wasserstein losses need
the raw score anyway. ``torch.sigmoid(D(x))`` is the probability ``D(x)`` of the equations.

Every model here computes in mixed precision where that pays (:func:`mixed_precision`): on a CPU with bfloat16
hardware its convolutions and matrix products run in bfloat16 (``GAN_COURSE_PRECISION``, read by
:func:`helpers.config.precision`); its inputs, weights and outputs are float32 either way.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from .config import CourseError, autocast

IMAGE_SHAPE = (1, 28, 28)
IMAGE_SIZE = 28 * 28


def _enter_autocast(module: nn.Module, args) -> None:
    first = args[0] if args and isinstance(args[0], torch.Tensor) else next(module.parameters())
    context = autocast(first.device)
    if context is not None:
        # bfloat16 convolutions are fastest on channels-last tensors (oneDNN on a CPU: x1.4 on the DCGAN step here).
        # Every 4-d weight is looked at: a first layer that reads one channel (D's, 1 -> ndf) has a weight that is
        # channels-last and contiguous at once, and judging by it alone left D's other layers in NCHW.
        if any(p.dim() == 4 and not p.is_contiguous(memory_format=torch.channels_last) for p in module.parameters()):
            module.to(memory_format=torch.channels_last)
        context.__enter__()
    module._autocast_stack.append(context)


def _exit_autocast(module: nn.Module, args, output):
    context = module._autocast_stack.pop()
    if context is None:
        return None
    context.__exit__(None, None, None)
    if isinstance(output, torch.Tensor) and output.is_floating_point():
        return output.float().contiguous()
    return None


def mixed_precision(module: nn.Module) -> nn.Module:
    """Make every call ``module(...)`` run under :func:`helpers.config.autocast` and return float32.

    With bfloat16 on a CPU the module's convolution weights are also kept channels-last (NHWC), where oneDNN's
    kernels are fastest. In float32 nothing changes: the module computes exactly as a plain ``nn.Module``.
    Hooks rather than code in ``forward``, so that a subclass's own ``forward`` (notebook 04 writes its
    generator's and discriminator's) is covered too; the closing hook runs even when ``forward`` raises.
    Every model class of this module calls it in ``__init__``."""
    module._autocast_stack = []
    module.register_forward_pre_hook(_enter_autocast)
    module.register_forward_hook(_exit_autocast, always_call=True)
    return module


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """Fold every BatchNorm that directly follows a (transposed) convolution into that convolution, in place.

    In eval mode a BatchNorm is a fixed scale and shift per channel, so it can live in the convolution's weights
    and bias (``torch.nn.utils.fusion.fuse_conv_bn_eval``): the outputs are the same to rounding, and each forward
    and backward pass skips one layer per block (x1.3 on notebook 05's search for z, bench/results.md "restore").
    For a model that is only run, not trained: it must be in eval mode, and its state dict no longer matches a
    checkpoint's.
    """
    if model.training:
        raise CourseError("fold_batchnorm needs a model in eval mode (call .eval() first): "
                          "a BatchNorm that is still training has no fixed scale and shift to fold.")
    for seq in [m for m in model.modules() if isinstance(m, nn.Sequential)]:
        for i in range(len(seq) - 1):
            conv, bn = seq[i], seq[i + 1]
            if isinstance(conv, (nn.Conv2d, nn.ConvTranspose2d)) and isinstance(bn, nn.BatchNorm2d):
                fused = fuse_conv_bn_eval(conv, bn, transpose=isinstance(conv, nn.ConvTranspose2d))
                seq[i], seq[i + 1] = fused.requires_grad_(conv.weight.requires_grad), nn.Identity()
    return model


class Generator(nn.Module):
    """Base class: ``forward(z, labels=None)`` gives images in ``[-1, 1]`` of shape ``(n, 1, 28, 28)``.

    Subclasses set ``self.config`` (the keyword arguments that rebuild them, saved in checkpoints),
    ``self.nz`` (latent size) and ``self.num_classes`` (0 for unconditional models).
    """

    kind = "generator"
    nz: int
    num_classes: int = 0
    config: dict

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def noise(self, n: int, seed: int | None = None) -> torch.Tensor:
        """``n`` latent vectors z ~ N(0, I) on the model's device (drawn on the CPU when seeded, so
        a seed gives the same z on every device)."""
        if seed is None:
            return torch.randn(n, self.nz, device=self.device)
        return torch.randn(n, self.nz, generator=torch.Generator().manual_seed(seed)).to(self.device)

    def check_labels(self, n: int, labels) -> torch.Tensor | None:
        if not self.num_classes:
            if labels is not None:
                raise CourseError(f"This {self.kind} generator is unconditional; call sample(n) without labels.")
            return None
        if labels is None:
            raise CourseError(f"This conditional generator needs labels: sample(n, labels=...) with {n} digits in 0-{self.num_classes - 1}.")
        labels = torch.as_tensor(labels, dtype=torch.long).flatten()
        if labels.numel() == 1 and n > 1:
            labels = labels.expand(n)
        if labels.numel() != n:
            raise CourseError(f"Got {labels.numel()} labels for {n} samples; pass one label, or exactly n labels.")
        if labels.min() < 0 or labels.max() >= self.num_classes:
            raise CourseError(f"Labels must be digits 0-{self.num_classes - 1}; got {labels.min().item()}..{labels.max().item()}.")
        return labels.to(self.device)

    @torch.no_grad()
    def sample(self, n: int, labels=None, seed: int | None = None) -> torch.Tensor:
        """``n`` images as a float CPU tensor ``(n, 1, 28, 28)`` in ``[0, 1]``.

        ``labels``: one digit or ``n`` digits, for conditional models only. ``seed``: fixes z.
        """
        if not isinstance(n, int) or n < 1:
            raise CourseError(f"n must be a positive whole number of samples; got {n!r}.")
        labels = self.check_labels(n, labels)
        return self.images(self.noise(n, seed), labels)

    @torch.no_grad()
    def images(self, z: torch.Tensor, labels: torch.Tensor | None = None, chunk: int = 250) -> torch.Tensor:
        """G's images for the given ``z`` (and ``labels``) as a float CPU tensor in ``[0, 1]``: in eval mode,
        without gradients, ``chunk`` at a time (250: a DCGAN's activations stay in a CPU's cache, 1.4x as fast as
        500); the training mode is restored afterwards."""
        was_training = self.training
        self.eval()
        try:
            args = (z,) if labels is None else (z, labels)
            out = torch.cat([self(*[a[i:i + chunk] for a in args]) for i in range(0, len(z), chunk)])
        finally:
            self.train(was_training)
        return ((out.float().cpu() + 1) / 2).clamp(0, 1)


class MLPGenerator(Generator):
    """z (nz) -> hidden layers (Linear, BatchNorm, LeakyReLU 0.2) -> 784 -> tanh -> 1x28x28."""

    kind = "mlp"

    def __init__(self, nz: int = 64, hidden: tuple[int, ...] = (256, 512, 1024), batchnorm: bool = True):
        super().__init__()
        self.nz, self.config = nz, {"nz": nz, "hidden": list(hidden), "batchnorm": batchnorm}
        layers, width = [], nz
        for h in hidden:
            layers += [nn.Linear(width, h)]
            if batchnorm:
                layers += [nn.BatchNorm1d(h)]
            layers += [nn.LeakyReLU(0.2)]
            width = h
        layers += [nn.Linear(width, IMAGE_SIZE), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        mixed_precision(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, *IMAGE_SHAPE)


class MLPDiscriminator(nn.Module):
    """1x28x28 -> 784 -> hidden layers (Linear, LeakyReLU 0.2) -> one logit per image."""

    def __init__(self, hidden: tuple[int, ...] = (512, 256), dropout: float = 0.0):
        super().__init__()
        self.config = {"hidden": list(hidden), "dropout": dropout}
        layers, width = [nn.Flatten()], IMAGE_SIZE
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2)]
            if dropout:
                layers += [nn.Dropout(dropout)]
            width = h
        layers += [nn.Linear(width, 1)]
        self.net = nn.Sequential(*layers)
        mixed_precision(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()


def dcgan_init(module: nn.Module) -> None:
    """DCGAN's initialization (Radford et al., 2016): conv weights ~ N(0, 0.02), BatchNorm scales ~ N(1, 0.02),
    biases 0. Apply with ``model.apply(dcgan_init)``."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if getattr(module, "bias", None) is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class DCGANGenerator(Generator):
    """DCGAN for 28x28: z (nz, plus a one-hot label when conditional) -> 7x7 -> 14x14 -> 28x28.

    Transposed convolutions with BatchNorm and ReLU, tanh at the output:
    ``(nz+c)x1x1 -> (4 ngf)x7x7 -> (2 ngf)x14x14 -> ngf x28x28 -> 1x28x28``; the last layer (3x3,
    stride 1) turns ngf feature maps at full resolution into the image. ``num_classes > 0`` makes it
    conditional: ``forward(z, labels)`` appends the one-hot label to z.
    """

    kind = "dcgan"

    def __init__(self, nz: int = 100, ngf: int = 32, num_classes: int = 0):
        super().__init__()
        self.nz, self.num_classes = nz, num_classes
        self.config = {"nz": nz, "ngf": ngf, "num_classes": num_classes}
        self.net = nn.Sequential(
            nn.ConvTranspose2d(nz + num_classes, 4 * ngf, 7, 1, 0, bias=False),   # 1x1 -> 7x7
            nn.BatchNorm2d(4 * ngf), nn.ReLU(True),
            nn.ConvTranspose2d(4 * ngf, 2 * ngf, 4, 2, 1, bias=False),           # 7x7 -> 14x14
            nn.BatchNorm2d(2 * ngf), nn.ReLU(True),
            nn.ConvTranspose2d(2 * ngf, ngf, 4, 2, 1, bias=False),               # 14x14 -> 28x28
            nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, 1, 3, 1, 1),                                 # 28x28 -> 28x28, one channel
            nn.Tanh(),
        )
        self.apply(dcgan_init)
        mixed_precision(self)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.num_classes:
            if labels is None:
                raise CourseError("This conditional generator needs labels: G(z, labels).")
            z = torch.cat([z, nn.functional.one_hot(labels, self.num_classes).to(z.dtype)], dim=1)
        return self.net(z[:, :, None, None])


class DCGANDiscriminator(nn.Module):
    """DCGAN's discriminator for 28x28: strided convolutions, BatchNorm (not on the first layer) and
    LeakyReLU(0.2): ``1x28x28 -> ndf x14x14 -> (2 ndf)x7x7 -> one logit``.

    ``extra_layers``: 3x3 stride-1 convolutions (with LeakyReLU, no BatchNorm) added at 14x14, where the
    strokes are; DCGAN has none. Notebook 03 uses one and measures what it buys against DCGAN's own D.
    ``num_classes > 0``: conditional, ``forward(x, labels)``. By default the one-hot label is stacked as
    ``num_classes`` constant planes on the image, so every filter of the first layer sees it (notebook 04).
    ``projection=True`` instead adds ``<e_y, h>`` to the logit, where ``h`` are the ``(2 ndf)x7x7`` features
    and ``e_y`` is a learned vector per label (Miyato and Koyama, 2018): cheaper when there are many labels
    (notebook 03's clusters).
    """

    def __init__(self, ndf: int = 32, num_classes: int = 0, extra_layers: int = 0, projection: bool = False):
        super().__init__()
        if projection and not num_classes:
            raise CourseError("projection=True needs num_classes > 0: it projects D's features on one vector per label.")
        self.num_classes, self.projection = num_classes, projection
        self.config = {"ndf": ndf, "num_classes": num_classes, "extra_layers": extra_layers, "projection": projection}
        planes = 0 if projection else num_classes
        layers = [nn.Conv2d(1 + planes, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]                # 28 -> 14
        for _ in range(extra_layers):
            layers += [nn.Conv2d(ndf, ndf, 3, 1, 1), nn.LeakyReLU(0.2, True)]                  # 14 -> 14
        layers += [nn.Conv2d(ndf, 2 * ndf, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * ndf),     # 14 -> 7
                   nn.LeakyReLU(0.2, True),
                   nn.Conv2d(2 * ndf, 1, 7, 1, 0)]                                            # 7 -> 1: the logit
        self.net = nn.Sequential(*layers)
        self.embed = nn.Embedding(num_classes, 2 * ndf * 49) if projection else None
        self.apply(dcgan_init)
        mixed_precision(self)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.num_classes:
            if labels is None:
                raise CourseError("This conditional discriminator needs labels: D(x, labels).")
            if self.projection:
                h = self.net[:-1](x)                                   # (n, 2 ndf, 7, 7)
                return self.net[-1](h).flatten() + (self.embed(labels) * h.flatten(1)).sum(1)
            planes = nn.functional.one_hot(labels, self.num_classes).to(x.dtype)[:, :, None, None]
            x = torch.cat([x, planes.expand(-1, -1, *x.shape[2:])], dim=1)
        return self.net(x).flatten()


class MixtureDCGANGenerator(DCGANGenerator):
    """:class:`DCGANGenerator`, unchanged, with a mixture of Gaussians as the prior on z (notebook 03, section 5).

    ``z = means[c] + eps`` with ``eps ~ N(0, I)`` and the component ``c`` drawn with probabilities ``weights``.
    The ``components`` means start orthogonal, at distance ``scale`` from 0, and are learned with the network;
    ``weights`` is set from data with :meth:`set_weights`. ``forward(eps, components)`` adds the means (training,
    fixed-noise grids); ``forward(z)`` takes a finished z, as any DCGAN generator does (inversion in notebook 05);
    ``sample(n)`` draws z from the mixture.
    """

    kind = "dcgan_mixture"

    def __init__(self, nz: int = 100, ngf: int = 32, components: int = 20, scale: float = 3.0):
        if not isinstance(components, int) or not 2 <= components <= nz:
            raise CourseError(f"components must be a whole number from 2 to nz={nz}; got {components!r}.")
        super().__init__(nz=nz, ngf=ngf)
        self.config = {"nz": nz, "ngf": ngf, "components": components, "scale": scale}
        directions = torch.linalg.qr(torch.randn(nz, components, generator=torch.Generator().manual_seed(0)))[0].T
        self.means = nn.Parameter(scale * directions.contiguous())                   # (components, nz)
        self.register_buffer("weights", torch.full((components,), 1.0 / components))

    @property
    def components(self) -> int:
        return self.means.shape[0]

    def set_weights(self, counts) -> None:
        """Component probabilities proportional to ``counts`` (e.g. the number of training digits per cluster)."""
        counts = torch.as_tensor(counts, dtype=torch.float).flatten()
        if counts.numel() != self.components or (counts < 0).any() or counts.sum() <= 0:
            raise CourseError(f"set_weights needs {self.components} non-negative counts, not all 0; got {counts.numel()} values.")
        self.weights.copy_(counts / counts.sum())

    def draw(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(eps, components)`` for ``n`` samples, on the model's device (drawn on the CPU, so seeded draws
        are the same on every device); ``G(eps, components)`` turns them into images."""
        components = torch.multinomial(self.weights.cpu(), n, replacement=True, generator=generator)
        eps = torch.randn(n, self.nz, generator=generator)
        return eps.to(self.device), components.to(self.device)

    def noise(self, n: int, seed: int | None = None) -> torch.Tensor:
        eps, components = self.draw(n, None if seed is None else torch.Generator().manual_seed(seed))
        return (eps + self.means[components]).detach()

    def forward(self, z: torch.Tensor, components: torch.Tensor | None = None) -> torch.Tensor:
        if components is not None:
            z = z + self.means[components]
        return self.net(z[:, :, None, None])


def layer_table(model: nn.Module, *inputs) -> list[dict]:
    """Run ``model(*inputs)`` once and list each leaf layer with its output shape and parameter count."""
    rows, hooks = [], []
    for name, module in model.named_modules():
        if not list(module.children()) and not isinstance(module, nn.Identity):
            def hook(mod, args, out, name=name):
                rows.append({"layer": name, "type": type(mod).__name__, "shape": tuple(out.shape[1:]),
                             "params": count_parameters(mod)})
            hooks.append(module.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(*inputs)
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    return rows


# Generator classes by ``kind``: checkpoints store the kind and config and are rebuilt from here.
# A new architecture gets an entry here.
GENERATORS: dict[str, type[Generator]] = {"mlp": MLPGenerator, "dcgan": DCGANGenerator,
                                          "dcgan_mixture": MixtureDCGANGenerator}


def build_generator(kind: str, config: dict) -> Generator:
    if kind not in GENERATORS:
        raise CourseError(f"Unknown generator kind {kind!r}; known kinds: {', '.join(sorted(GENERATORS))}.")
    return GENERATORS[kind](**config)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
