"""The one picture of a toy GAN (:func:`plot_state`), drawn by notebook 00 and by the GAN lab alike, and
:func:`show_source` to print a method's code in the notebook."""
from __future__ import annotations

import torch

from .. import losses
from .gan import ToyGAN
from .targets import LIMIT


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


def plot_state(ax, gan: ToyGAN, title: str | None = None, n: int = 256, arrows: int = 64, grid: int = 64,
               colorbar=False, legend: bool = False):
    """One picture of a toy GAN: D's heatmap, real (green) and fake (purple) points, and arrows
    ``-∇_x`` of G's loss on some fakes (where G's next update pushes them; short arrow = weak gradient).

    ``colorbar``: True adds one beside ``ax``; an Axes draws it there (what a picture redrawn in place
    needs: clear both axes, then call again). ``legend`` names the two kinds of points."""
    axis = torch.linspace(-LIMIT, LIMIT, grid)
    gy, gx = torch.meshgrid(axis, axis, indexing="ij")
    pts = torch.stack([gx.flatten(), gy.flatten()], 1)
    cmap, (vmin, vmax), label = field_style(gan.loss)
    img = ax.imshow(gan.prob(gan.scores(pts)).reshape(grid, grid).numpy(), extent=(-LIMIT, LIMIT, -LIMIT, LIMIT),
                    origin="lower", cmap=cmap, vmin=vmin, vmax=vmax, interpolation="bilinear", alpha=0.85)
    real = gan.target.sample(n, torch.Generator().manual_seed(gan.seed + 4))
    fake = gan.fakes(n)
    ax.scatter(real[:, 0], real[:, 1], s=4, c="#1b7837", zorder=3, label="real")
    ax.scatter(fake[:, 0].clamp(-LIMIT, LIMIT), fake[:, 1].clamp(-LIMIT, LIMIT), s=4, c="#762a83", zorder=4,
               label="fake (G)")
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
    if legend:
        ax.legend(loc="lower left", fontsize=8, framealpha=0.8, markerscale=2)
    if colorbar is not False:
        cb = (ax.figure.colorbar(img, ax=ax, fraction=0.046, pad=0.02) if colorbar is True
              else ax.figure.colorbar(img, cax=colorbar))
        cb.set_label(label, fontsize=8)
    return img


def show_source(*functions) -> None:
    """Show the source code of functions or methods as a highlighted block in the notebook."""
    import inspect
    import textwrap

    from IPython.display import Markdown, display

    code = "\n".join(textwrap.dedent(inspect.getsource(f)) for f in functions)
    display(Markdown(f"```python\n{code}```"))
