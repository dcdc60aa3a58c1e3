"""2-D toy GANs: target distributions, tiny MLPs, one training step per loss, a mode-coverage
metric, and :class:`GANLab`, an interactive widget in the spirit of GAN Lab.

Points live in the square ``[-3, 3]²``; each target is a noisy version of a simple shape (its
"skeleton": the centres of a Gaussian mixture, or a curve) cut into regions (the modes), so
:func:`coverage` can say how many regions a generator reaches::

    gan = ToyGAN("ring of 8 Gaussians", loss="non-saturating", seed=0)
    gan.train(2000)
    print(gan.coverage())          # e.g. "8/8 modes covered, 93% of points on target"

The losses come from :mod:`helpers.losses` (``get_loss(name)``: ``d(real, fake)`` and ``g(fake)`` on
D's raw scores). The models always run on the CPU: with a few thousand weights, a GPU only adds
transfer time.
"""
from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn

from . import losses
from .config import CourseError
from .plots import smooth

LIMIT = 3.0  # the view is [-LIMIT, LIMIT]²


@contextlib.contextmanager
def one_thread():
    """Run tiny models on one CPU thread: for a few thousand weights, more threads only add overhead
    (and fight with anything else running on the machine)."""
    before = torch.get_num_threads()
    if before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# --------------------------------------------------------------------------- targets
@dataclass(frozen=True)
class Target:
    """A 2-D distribution: noise of std ``noise`` around a skeleton (points with region labels).

    ``skeleton``: ``(m, 2)`` points (mixture centres, or a dense sampling of a curve);
    ``regions``: the region (mode) of each skeleton point; ``mixture``: True when the skeleton
    points are the centres of a Gaussian mixture with equal weights.
    """

    name: str
    skeleton: torch.Tensor
    regions: torch.Tensor
    noise: float
    mixture: bool

    @property
    def num_regions(self) -> int:
        return int(self.regions.max()) + 1

    @property
    def radius(self) -> float:
        """A point closer than this to the skeleton counts as on the target (3 noise stds)."""
        return 3 * self.noise

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` points ``(n, 2)``: a skeleton point drawn uniformly, plus Gaussian noise."""
        idx = torch.randint(len(self.skeleton), (n,), generator=generator)
        return self.skeleton[idx] + self.noise * torch.randn(n, 2, generator=generator)


def _ring(k: int = 8, radius: float = 2.0) -> torch.Tensor:
    t = torch.arange(k) * 2 * math.pi / k
    return torch.stack([radius * torch.cos(t), radius * torch.sin(t)], 1)


def _curve(points: torch.Tensor, k: int) -> torch.Tensor:
    """Region labels cutting a densely sampled curve into ``k`` pieces of equal length (by index)."""
    return (torch.arange(len(points)) * k // len(points)).long()


def _make_targets() -> dict[str, Target]:
    m = 2000
    t = torch.linspace(0, math.pi, m // 2)
    upper = torch.stack([torch.cos(t), torch.sin(t)], 1)
    lower = torch.stack([1 - torch.cos(t), 0.5 - torch.sin(t)], 1)
    moons = 1.6 * (torch.cat([upper, lower]) - torch.tensor([0.5, 0.25]))
    s = torch.linspace(-1, 1, m)
    line = torch.stack([2.2 * s, 1.1 * s], 1)
    a = torch.linspace(0, 2 * math.pi, m + 1)[:-1]
    circle = torch.stack([1.8 * torch.cos(a), 1.8 * torch.sin(a)], 1)
    grid = torch.tensor([[x, y] for x in (-2.0, 0.0, 2.0) for y in (-2.0, 0.0, 2.0)])
    return {
        "ring of 8 Gaussians": Target("ring of 8 Gaussians", _ring(), torch.arange(8), 0.1, True),
        "grid of 9 Gaussians": Target("grid of 9 Gaussians", grid, torch.arange(9), 0.1, True),
        "two moons": Target("two moons", moons, _curve(moons, 8), 0.06, False),
        "circle": Target("circle", circle, _curve(circle, 8), 0.06, False),
        "line": Target("line", line, _curve(line, 8), 0.06, False),
    }


TARGETS = _make_targets()


def get_target(name: str) -> Target:
    if name not in TARGETS:
        raise CourseError(f"Unknown target {name!r}; choose one of: {', '.join(TARGETS)}.")
    return TARGETS[name]


def sample_target(name: str, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` points from the named target, shape ``(n, 2)``."""
    return get_target(name).sample(n, generator)


# --------------------------------------------------------------------------- coverage
@dataclass
class Coverage:
    """How a set of points covers a target's regions (modes)."""

    covered: int  # regions holding at least ``min_share`` of their fair share of the points
    regions: int
    on_target: float  # fraction of points within ``target.radius`` of the skeleton
    counts: list[int]  # on-target points per region
    n: int

    def __str__(self) -> str:
        return f"{self.covered}/{self.regions} modes covered, {self.on_target:.0%} of points on target"


def coverage(points: torch.Tensor, target: str | Target, min_share: float = 0.2) -> Coverage:
    """Count the target's regions that the points reach.

    Each point goes to the region of its nearest skeleton point, if it lies within ``target.radius``
    (3 noise stds) of it; a region is covered when it receives at least ``min_share`` times its fair
    share ``n / regions`` of the points. A generator collapsed on one mode covers 1 region.
    """
    target = get_target(target) if isinstance(target, str) else target
    pts = torch.as_tensor(points, dtype=torch.float32).detach().cpu().reshape(-1, 2)
    n = len(pts)
    if n == 0:
        raise CourseError("coverage() needs at least one point.")
    dist, idx = torch.cdist(pts, target.skeleton).min(1)
    on = dist < target.radius
    counts = torch.bincount(target.regions[idx[on]], minlength=target.num_regions)
    need = min_share * n / target.num_regions
    return Coverage(covered=int((counts >= need).sum()), regions=target.num_regions,
                    on_target=float(on.float().mean()), counts=counts.tolist(), n=n)


# --------------------------------------------------------------------------- models
def mlp(sizes: list[int], act: Callable[[], nn.Module]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


class ToyGenerator(nn.Module):
    """z (``nz``) -> ``depth`` hidden layers of ``hidden`` units (ReLU) -> a point in the plane."""

    def __init__(self, nz: int = 2, hidden: int = 64, depth: int = 3):
        super().__init__()
        self.nz = nz
        self.net = mlp([nz] + [hidden] * depth + [2], nn.ReLU)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class ToyDiscriminator(nn.Module):
    """A point -> ``depth`` hidden layers (LeakyReLU 0.2) -> one raw score (logit)."""

    def __init__(self, hidden: int = 64, depth: int = 3):
        super().__init__()
        self.net = mlp([2] + [hidden] * depth + [1], lambda: nn.LeakyReLU(0.2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()


def grad_norm(module: nn.Module) -> float:
    """The L2 norm of all of a module's parameter gradients taken together."""
    grads = [p.grad.flatten() for p in module.parameters() if p.grad is not None]
    return float(torch.cat(grads).norm()) if grads else 0.0


# --------------------------------------------------------------------------- training
LAB_LOSSES = ("saturating", "non-saturating", "least-squares", "hinge", "wgan-gp")


class ToyGAN:
    """A generator and a discriminator on a 2-D target, trained with one of :mod:`helpers.losses`.

    ``step()`` does ``d_steps`` discriminator updates, then one generator update, and records
    ``loss_d``, ``loss_g``, ``d_real`` and ``d_fake`` (D's mean probability "real" on real and fake
    points; the raw score's mean for losses without a sigmoid) and ``g_grad_norm`` (the norm of G's
    parameter gradient in that update). Seeded: the same arguments give the same run.
    """

    def __init__(self, target: str = "ring of 8 Gaussians", loss: str = "non-saturating", d_steps: int = 1,
                 lr_d: float = 1e-3, lr_g: float = 1e-3, batch_size: int = 256, nz: int = 2, hidden: int = 64,
                 depth: int = 3, betas: tuple[float, float] = (0.5, 0.999), optimizer: str = "adam", seed: int = 0):
        self.target = get_target(target)
        self.loss = losses.get_loss(loss)
        check_settings(lr_d=lr_d, lr_g=lr_g, d_steps=d_steps)
        self.d_steps, self.batch_size, self.seed, self.betas = int(d_steps), int(batch_size), seed, betas
        self.lr_d, self.lr_g = float(lr_d), float(lr_g)
        self.nz, self.hidden, self.depth = nz, hidden, depth
        if optimizer not in ("adam", "sgd"):
            raise CourseError(f"optimizer must be 'adam' or 'sgd'; got {optimizer!r}.")
        self.optimizer = optimizer
        self.reset()

    def reset(self) -> None:
        """New models and optimizers from the seed; clears the history."""
        torch.manual_seed(self.seed)
        self.G = ToyGenerator(self.nz, self.hidden, self.depth)
        self.D = ToyDiscriminator(self.hidden, self.depth)
        if self.optimizer == "adam":
            self.opt_g = torch.optim.Adam(self.G.parameters(), lr=self.lr_g, betas=self.betas)
            self.opt_d = torch.optim.Adam(self.D.parameters(), lr=self.lr_d, betas=self.betas)
        else:
            self.opt_g = torch.optim.SGD(self.G.parameters(), lr=self.lr_g)
            self.opt_d = torch.optim.SGD(self.D.parameters(), lr=self.lr_d)
        self.rng = torch.Generator().manual_seed(self.seed + 1)  # data, noise and penalty mixing
        self.history: dict[str, list[float]] = {}
        self.steps = 0
        # Fixed noise for the view and the metrics: the same z at every step.
        self.fixed_z = torch.randn(1000, self.nz, generator=torch.Generator().manual_seed(self.seed + 2))

    def set_lr(self, lr_d: float | None = None, lr_g: float | None = None) -> None:
        check_settings(lr_d=lr_d, lr_g=lr_g)
        if lr_d is not None:
            self.lr_d = float(lr_d)
            for group in self.opt_d.param_groups:
                group["lr"] = self.lr_d
        if lr_g is not None:
            self.lr_g = float(lr_g)
            for group in self.opt_g.param_groups:
                group["lr"] = self.lr_g

    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.nz, generator=self.rng)

    def real(self, n: int) -> torch.Tensor:
        return self.target.sample(n, self.rng)

    def prob(self, scores: torch.Tensor) -> torch.Tensor:
        """D's probability "real" for sigmoid losses; the raw score otherwise."""
        return torch.sigmoid(scores) if self.loss.sigmoid else scores

    def d_step(self) -> dict[str, float]:
        """One discriminator update on a fresh real batch and a fresh fake batch."""
        real = self.real(self.batch_size)
        with torch.no_grad():
            fake = self.G(self.noise(self.batch_size))
        real_s, fake_s = self.D(real), self.D(fake)
        loss_d = self.loss.d(real_s, fake_s)
        if self.loss.penalty:
            loss_d = loss_d + self.loss.penalty * losses.gradient_penalty(self.D, real, fake, generator=self.rng)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        return {"loss_d": loss_d.item(), "d_real": self.prob(real_s).mean().item(),
                "d_fake": self.prob(fake_s).mean().item()}

    def g_step(self) -> dict[str, float]:
        """One generator update: minimise the loss's ``g`` on D's scores of fresh fakes."""
        fake_s = self.D(self.G(self.noise(self.batch_size)))
        loss_g = self.loss.g(fake_s)
        self.opt_g.zero_grad(set_to_none=True)
        self.D.requires_grad_(False)  # G's update needs no gradients for D's weights
        try:
            loss_g.backward()
        finally:
            self.D.requires_grad_(True)
        norm = grad_norm(self.G)
        self.opt_g.step()
        return {"loss_g": loss_g.item(), "g_grad_norm": norm}

    def step(self) -> dict[str, float]:
        """``d_steps`` D updates, then one G update; returns and records the numbers."""
        with one_thread():
            for _ in range(self.d_steps):
                out = self.d_step()
            out.update(self.g_step())
        for k, v in out.items():
            self.history.setdefault(k, []).append(v)
        self.steps += 1
        return out

    def train(self, steps: int, train_d: bool = True, train_g: bool = True) -> "ToyGAN":
        """``steps`` steps; ``train_d=False`` or ``train_g=False`` freezes that player."""
        if not isinstance(steps, int) or steps < 0:
            raise CourseError(f"steps must be a whole number >= 0; got {steps!r}.")
        with one_thread():
            self._train(steps, train_d, train_g)
        return self

    def _train(self, steps: int, train_d: bool, train_g: bool) -> None:
        for _ in range(steps):
            if train_d and train_g:
                self.step()
                continue
            out = {}
            if train_d:
                for _ in range(self.d_steps):
                    out = self.d_step()
            if train_g:
                out.update(self.g_step())
            for k, v in out.items():
                self.history.setdefault(k, []).append(v)
            self.steps += 1

    @torch.no_grad()
    def fakes(self, n: int = 1000) -> torch.Tensor:
        """G's points for the first ``n`` fixed noise vectors (the same z every call)."""
        if n > len(self.fixed_z):
            extra = torch.randn(n - len(self.fixed_z), self.nz, generator=torch.Generator().manual_seed(self.seed + 3))
            self.fixed_z = torch.cat([self.fixed_z, extra])
        return self.G(self.fixed_z[:n])

    def coverage(self, n: int = 1000) -> Coverage:
        return coverage(self.fakes(n), self.target)

    def scores(self, points: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.D(points)

    def point_gradients(self, points: torch.Tensor) -> torch.Tensor:
        """``-∇_x`` of G's loss for each point on its own: the direction in which G's update pushes it."""
        x = points.detach().clone().requires_grad_(True)
        per_point = self.loss.g(self.D(x)) * len(x)  # the losses average; undo it to get per-point gradients
        (grad,) = torch.autograd.grad(per_point, x)
        return -grad

    def g_gradient_norm(self, n: int = 256, loss: str | None = None) -> float:
        """The norm of G's parameter gradient for ``loss`` (default: this GAN's) on ``n`` fixed-noise fakes,
        without updating anything."""
        g_loss = losses.get_loss(loss).g if loss else self.loss.g
        self.G.zero_grad(set_to_none=True)
        self.D.requires_grad_(False)
        try:
            g_loss(self.D(self.G(self.fixed_z[:n]))).backward()
        finally:
            self.D.requires_grad_(True)
        norm = grad_norm(self.G)
        self.G.zero_grad(set_to_none=True)
        return norm


def check_settings(lr_d=None, lr_g=None, d_steps=None, target=None, loss=None, check_names=False) -> None:
    """Raise a :class:`CourseError` with one sentence for a setting the lab cannot train with."""
    for name, value in (("discriminator", lr_d), ("generator", lr_g)):
        if value is None:
            continue
        if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise CourseError(f"The {name} learning rate must be a positive number (try 0.001); got {value!r}.")
        if value > 1:
            raise CourseError(f"The {name} learning rate {value} is far too large for Adam; use a value below 1 (try 0.001).")
    if d_steps is not None and (not isinstance(d_steps, int) or d_steps < 1):
        raise CourseError(f"D steps per G step must be a whole number of at least 1; got {d_steps!r}.")
    if check_names:
        if not target:
            raise CourseError(f"Pick a target distribution ({', '.join(TARGETS)}).")
        if not loss:
            raise CourseError(f"Pick a generator loss ({', '.join(LAB_LOSSES)}).")


# --------------------------------------------------------------------------- static pictures
def field_style(loss: losses.GANLoss) -> tuple[str, tuple[float, float], str]:
    """Colour map, range and label for D's heatmap under ``loss``."""
    if loss.sigmoid:
        return "RdBu", (0.0, 1.0), "D(x): probability 'real'"
    if loss.name == "least-squares":
        return "RdBu", (-0.5, 1.5), "D's score (targets: real 1, fake 0)"
    return "RdBu", (-2.0, 2.0), "D's score (higher = more real)"


def arrow_vectors(g: torch.Tensor, gain: float = 0.25, cap: float = 0.8) -> torch.Tensor:
    """Arrow = gradient x ``gain`` (lengths compare across steps and runs), capped at ``cap`` data units."""
    length = g.norm(dim=1, keepdim=True)
    return g * gain * torch.clamp(cap / (gain * length + 1e-12), max=1.0)


def plot_state(ax, gan: "ToyGAN", title: str | None = None, n: int = 256, arrows: int = 64, grid: int = 64,
               colorbar: bool = False):
    """One picture of a toy GAN: D's heatmap, real (green) and fake (purple) points, and arrows
    ``-∇_x`` of G's loss on some fakes (where G's next update pushes them; short arrow = weak gradient)."""
    axis = torch.linspace(-LIMIT, LIMIT, grid)
    gy, gx = torch.meshgrid(axis, axis, indexing="ij")
    pts = torch.stack([gx.flatten(), gy.flatten()], 1)
    cmap, (vmin, vmax), label = field_style(gan.loss)
    img = ax.imshow(gan.prob(gan.scores(pts)).reshape(grid, grid).numpy(), extent=(-LIMIT, LIMIT, -LIMIT, LIMIT),
                    origin="lower", cmap=cmap, vmin=vmin, vmax=vmax, interpolation="bilinear", alpha=0.85)
    real = gan.target.sample(n, torch.Generator().manual_seed(gan.seed + 4))
    fake = gan.fakes(n)
    ax.scatter(real[:, 0], real[:, 1], s=4, c="#1b7837", zorder=3)
    ax.scatter(fake[:, 0].clamp(-LIMIT, LIMIT), fake[:, 1].clamp(-LIMIT, LIMIT), s=4, c="#762a83", zorder=4)
    if arrows:
        a = fake[:arrows]
        v = arrow_vectors(gan.point_gradients(a))
        ax.quiver(a[:, 0], a[:, 1], v[:, 0], v[:, 1], angles="xy", scale_units="xy", scale=1, width=0.006,
                  color="#40004b", alpha=0.8, zorder=5)
    ax.set_xlim(-LIMIT, LIMIT)
    ax.set_ylim(-LIMIT, LIMIT)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, fontsize=9)
    if colorbar:
        cb = ax.figure.colorbar(img, ax=ax, fraction=0.046, pad=0.02)
        cb.set_label(label, fontsize=8)
    return img


def show_source(*functions) -> None:
    """Show the source code of functions or methods as a highlighted block in the notebook."""
    import inspect
    import textwrap

    from IPython.display import Markdown, display

    code = "\n".join(textwrap.dedent(inspect.getsource(f)) for f in functions)
    display(Markdown(f"```python\n{code}```"))


# --------------------------------------------------------------------------- the Dirac GAN
def dirac_gan(steps: int, lr: float = 0.1, theta: float = 1.0, psi: float = 1.0, mode: str = "simultaneous",
              gamma: float = 0.0) -> np.ndarray:
    """Mescheder et al.'s Dirac GAN: real data is the point 0, G puts all mass on θ, D(x) = sigmoid(ψ·x).

    Trained with the non-saturating loss by gradient steps of size ``lr``, ``"simultaneous"`` (both
    players use the old values) or ``"alternating"`` (D first, then G sees the new D). ``gamma`` > 0
    adds the R1 penalty γ/2·ψ² (the squared gradient of D's score on real data, x = 0: ψ²).
    The only equilibrium is θ = ψ = 0. Returns the ``(steps + 1, 2)`` array of (θ, ψ).
    """
    if mode not in ("simultaneous", "alternating"):
        raise CourseError(f"mode must be 'simultaneous' or 'alternating'; got {mode!r}.")
    sig = lambda t: 1 / (1 + math.exp(-t))  # noqa: E731
    path = [(theta, psi)]
    for _ in range(steps):
        # D maximises log sigmoid(ψ·0) + log(1 - sigmoid(ψθ)) - γ/2 ψ²; its gradient ascent step:
        grad_psi = -sig(psi * theta) * theta - gamma * psi
        new_psi = psi + lr * grad_psi
        psi_for_g = new_psi if mode == "alternating" else psi
        # G minimises -log sigmoid(ψθ); gradient descent step:
        grad_theta = -(1 - sig(psi_for_g * theta)) * psi_for_g
        theta, psi = theta - lr * grad_theta, new_psi
        path.append((theta, psi))
    return np.asarray(path)


# --------------------------------------------------------------------------- the lab widget
@dataclass
class _View:
    fig: object
    ax_field: object
    ax_loss: object
    field_img: object
    real_pts: object
    fake_pts: object
    quiver: object = None
    lines: dict = field(default_factory=dict)


class GANLab:
    """An interactive 2-D GAN: pick a target, a generator loss, D steps per G step and learning rates,
    then play, pause, step or reset. The view shows real points (green) and G's points (purple) over
    D's heatmap, arrows on the fakes for the direction G's update moves them, and the loss curves.

    Programmatic use (also what a notebook run without a browser does): ``lab.run(steps)`` trains and
    draws the last state. The picture is an ``ipywidgets.Image`` holding PNG bytes, so a saved notebook
    or an HTML export keeps the last frame.
    """

    GRID = 64  # heatmap resolution
    SHOW = 256  # fake and real points drawn
    ARROWS = 96  # arrows drawn

    def __init__(self, target: str = "ring of 8 Gaussians", loss: str = "non-saturating", d_steps: int = 1,
                 lr_d: float = 1e-3, lr_g: float = 1e-3, steps_per_frame: int = 10, seed: int = 0,
                 width: int = 880):
        import ipywidgets as W

        self.gan = ToyGAN(target, loss, d_steps, lr_d, lr_g, seed=seed)
        self.seed = seed
        self.frame_seconds: list[float] = []
        self._playing = False
        self._task = None
        self._lock = threading.Lock()
        style = {"description_width": "initial"}
        narrow = W.Layout(width="190px")
        self.target_picker = W.Dropdown(options=list(TARGETS), value=target, description="target", layout=W.Layout(width="260px"))
        self.loss_picker = W.Dropdown(options=list(LAB_LOSSES), value=loss, description="G loss", layout=W.Layout(width="240px"))
        self.d_steps_slider = W.IntSlider(value=d_steps, min=1, max=10, description="D steps per G step", style=style,
                                          layout=W.Layout(width="300px"))
        self.lr_d_box = W.FloatText(value=lr_d, step=1e-4, description="D learning rate", style=style, layout=narrow)
        self.lr_g_box = W.FloatText(value=lr_g, step=1e-4, description="G learning rate", style=style, layout=narrow)
        self.speed_slider = W.IntSlider(value=steps_per_frame, min=1, max=100, description="steps per frame", style=style,
                                        layout=W.Layout(width="300px"))
        self.play_button = W.Button(description="play", icon="play", button_style="success", layout=W.Layout(width="90px"))
        self.pause_button = W.Button(description="pause", icon="pause", layout=W.Layout(width="90px"))
        self.step_button = W.Button(description="step", icon="step-forward", layout=W.Layout(width="90px"))
        self.reset_button = W.Button(description="reset", icon="refresh", button_style="warning", layout=W.Layout(width="90px"))
        self.status = W.HTML()
        self.message = W.HTML()
        self.image = W.Image(format="png", layout=W.Layout(width=f"{width}px"))
        self.play_button.on_click(lambda _: self.play())
        self.pause_button.on_click(lambda _: self.pause())
        self.step_button.on_click(lambda _: self.step())
        self.reset_button.on_click(lambda _: self.reset())
        for box in (self.target_picker, self.loss_picker):
            box.observe(self._on_model_change, names="value")
        for box in (self.lr_d_box, self.lr_g_box, self.d_steps_slider):
            box.observe(self._on_setting_change, names="value")
        self.widget = W.VBox([
            W.HBox([self.target_picker, self.loss_picker, self.d_steps_slider]),
            W.HBox([self.lr_d_box, self.lr_g_box, self.speed_slider]),
            W.HBox([self.play_button, self.pause_button, self.step_button, self.reset_button, self.status],
                   layout=W.Layout(align_items="center")),
            self.message,
            self.image,
        ])
        self._view: _View | None = None
        self.render()

    # ------------------------------------------------------------------ display
    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    # ------------------------------------------------------------------ settings
    def settings_error(self) -> str | None:
        """The message for the current settings, or None when the lab can train with them."""
        try:
            check_settings(lr_d=self.lr_d_box.value, lr_g=self.lr_g_box.value, d_steps=self.d_steps_slider.value,
                           target=self.target_picker.value, loss=self.loss_picker.value, check_names=True)
        except CourseError as err:
            return str(err)
        return None

    def _refuse(self, text: str) -> None:
        self.pause()
        self.message.value = f"<span style='color:#b00020'><b>Not trained:</b> {text}</span>"

    def _ready(self) -> bool:
        """Check the settings; show the problem and stop if they are bad; else apply them."""
        error = self.settings_error()
        if error:
            self._refuse(error)
            return False
        if (self.target_picker.value != self.gan.target.name) or (self.loss_picker.value != self.gan.loss.name):
            self._rebuild()
        self.gan.set_lr(self.lr_d_box.value, self.lr_g_box.value)
        self.gan.d_steps = self.d_steps_slider.value
        self.message.value = ""
        return True

    def _rebuild(self) -> None:
        self.gan = ToyGAN(self.target_picker.value, self.loss_picker.value, self.d_steps_slider.value,
                          self.lr_d_box.value, self.lr_g_box.value, seed=self.seed)
        self._view = None  # the heatmap's colour scale depends on the loss

    def _on_model_change(self, change) -> None:
        if self._ready():
            self.render()

    def _on_setting_change(self, change) -> None:
        self._ready()

    # ------------------------------------------------------------------ actions
    def step(self) -> None:
        """One training step (``D steps`` D updates and one G update), then redraw."""
        if self._ready():
            with self._lock:
                self.gan.step()
            self.render()

    def reset(self) -> None:
        """Pause, and start again from freshly initialised models (same seed)."""
        self.pause()
        if self.settings_error() is None:
            self._rebuild()
            self._ready()
        self.render()

    def run(self, steps: int, frames: int | None = None) -> "GANLab":
        """Train ``steps`` steps now. With a live front end, redraw every ``steps per frame`` steps
        (or ``frames`` times in all); otherwise draw once at the end."""
        from .display import live_frontend

        if not self._ready():
            raise CourseError(self.settings_error() or "The lab's settings are not valid.")
        if not isinstance(steps, int) or steps < 0:
            raise CourseError(f"steps must be a whole number >= 0; got {steps!r}.")
        live = live_frontend()
        every = max(1, steps // frames) if frames else self.speed_slider.value
        done = 0
        while done < steps:
            n = min(every if live else steps - done, steps - done)
            with self._lock:
                self.gan.train(n)
            done += n
            if live:
                self.render()
        if not live:
            self.render()
        return self

    def frame(self) -> None:
        """``steps per frame`` steps, then redraw: what play does repeatedly."""
        start = time.perf_counter()
        with self._lock:
            self.gan.train(self.speed_slider.value)
        self.render()
        self.frame_seconds.append(time.perf_counter() - start)

    def play(self) -> None:
        """Train and redraw frame after frame until pause (an asyncio task in the kernel's event loop,
        or a thread when there is no running loop)."""
        if self._playing or not self._ready():
            return
        self._playing = True
        self.play_button.disabled = True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            self._task = loop.create_task(self._play_async())
        else:
            self._task = threading.Thread(target=self._play_thread, daemon=True)
            self._task.start()

    async def _play_async(self) -> None:
        try:
            while self._playing:
                self.frame()
                await asyncio.sleep(0.02)  # let the kernel handle clicks (pause) between frames
        except Exception as err:  # show it in the widget rather than losing it in the event loop
            self._refuse(f"{type(err).__name__}: {err}")
        finally:
            self._stopped()

    def _play_thread(self) -> None:
        try:
            while self._playing:
                self.frame()
                time.sleep(0.02)
        except Exception as err:
            self._refuse(f"{type(err).__name__}: {err}")
        finally:
            self._stopped()

    def _stopped(self) -> None:
        self._playing = False
        self.play_button.disabled = False

    def pause(self) -> None:
        self._playing = False
        self.play_button.disabled = False

    @property
    def playing(self) -> bool:
        return self._playing

    # ------------------------------------------------------------------ drawing
    def _make_view(self) -> _View:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(11, 4.6), dpi=80)
        ax_f = fig.add_axes([0.02, 0.09, 0.42, 0.82])
        ax_l = fig.add_axes([0.55, 0.13, 0.43, 0.76])
        cmap, (vmin, vmax), label = field_style(self.gan.loss)
        img = ax_f.imshow(np.zeros((self.GRID, self.GRID)), extent=(-LIMIT, LIMIT, -LIMIT, LIMIT), origin="lower",
                          cmap=cmap, vmin=vmin, vmax=vmax, interpolation="bilinear", alpha=0.85)
        cbar = fig.colorbar(img, ax=ax_f, fraction=0.046, pad=0.02)
        cbar.set_label(label, fontsize=9)
        cbar.ax.tick_params(labelsize=8)
        real = ax_f.scatter([], [], s=7, c="#1b7837", label="real", zorder=3)
        fake = ax_f.scatter([], [], s=7, c="#762a83", label="fake (G)", zorder=4)
        ax_f.set_xlim(-LIMIT, LIMIT)
        ax_f.set_ylim(-LIMIT, LIMIT)
        ax_f.set_xticks([])
        ax_f.set_yticks([])
        ax_f.legend(loc="lower left", fontsize=8, framealpha=0.8)
        view = _View(fig, ax_f, ax_l, img, real, fake)
        for key, lbl, color in (("loss_d", "D loss", "tab:blue"), ("loss_g", "G loss", "tab:orange")):
            (view.lines[key],) = ax_l.plot([], [], lw=1.3, label=lbl, color=color)
        ax_l.set_xlabel("step")
        ax_l.set_ylabel("loss (moving average)")
        ax_l.grid(alpha=0.3)
        ax_l.legend(loc="upper right", fontsize=8)
        return view

    def render(self) -> bytes:
        """Draw the current state into the image widget; returns the PNG bytes."""
        with self._lock, one_thread():
            if self._view is None:
                self._view = self._make_view()
            v, gan = self._view, self.gan
            axis = torch.linspace(-LIMIT, LIMIT, self.GRID)
            gy, gx = torch.meshgrid(axis, axis, indexing="ij")
            grid = torch.stack([gx.flatten(), gy.flatten()], 1)
            v.field_img.set_data(gan.prob(gan.scores(grid)).reshape(self.GRID, self.GRID).numpy())
            real = gan.target.sample(self.SHOW, torch.Generator().manual_seed(self.seed + 4))
            fake = gan.fakes(self.SHOW)
            v.real_pts.set_offsets(real.numpy())
            v.fake_pts.set_offsets(fake.clamp(-LIMIT, LIMIT).numpy())
            arrows = fake[: self.ARROWS]
            g = arrow_vectors(gan.point_gradients(arrows))
            if v.quiver is not None:
                v.quiver.remove()
            v.quiver = v.ax_field.quiver(arrows[:, 0].numpy(), arrows[:, 1].numpy(), g[:, 0].numpy(), g[:, 1].numpy(),
                                         angles="xy", scale_units="xy", scale=1, width=0.004, color="#40004b",
                                         alpha=0.8, zorder=5)
            cov = coverage(gan.fakes(1000), gan.target)
            v.ax_field.set_title(f"{gan.target.name} · {gan.loss.name} · step {gan.steps}\n"
                                 f"{cov}", fontsize=10)
            h = gan.history
            n = len(h.get("loss_d", []))
            window = max(1, n // 50)
            for key, line in v.lines.items():
                y = smooth(h.get(key, []), window)
                line.set_data(np.arange(len(y)) + window, y)
            v.ax_loss.relim()
            v.ax_loss.autoscale_view()
            v.ax_loss.set_xlim(0, max(10, n))
            ld, lg = (h[k][-1] if h.get(k) else float("nan") for k in ("loss_d", "loss_g"))
            v.ax_loss.set_title(f"losses · last step: D {ld:.3f}, G {lg:.3f}", fontsize=10)
            from .plots import figure_png

            png = figure_png(v.fig, dpi=80)
        self.image.value = png
        self.status.value = (f"<span style='font-family:monospace'>step {gan.steps} · {cov.covered}/{cov.regions} modes"
                             f"{' · playing' if self._playing else ''}</span>")
        return png

    def close(self) -> None:
        self.pause()
        self.widget.close()
