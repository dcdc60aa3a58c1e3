"""2-D toy GANs: target distributions and the coverage metric (:mod:`.targets`), tiny players, the
:class:`ToyGAN` trainer and the Dirac GAN (:mod:`.gan`), and the one picture of a toy GAN (:mod:`.plot`).

Points live in the square ``[-3, 3]²``::

    gan = ToyGAN("ring of 8 Gaussians", loss="non-saturating", seed=0)
    gan.train(2000)
    print(gan.coverage())          # e.g. "8/8 modes covered, 93% of points on target"

The interactive GAN lab that trains and draws these lives in :mod:`helpers.widgets.gan_lab`.
"""
from .gan import ToyDiscriminator, ToyGAN, ToyGenerator, check_settings, dirac_gan, grad_norm, one_thread
from .plot import arrow_vectors, field_style, plot_state, show_source
from .targets import LIMIT, TARGETS, Coverage, Target, coverage, get_target, sample_target

__all__ = [
    "ToyDiscriminator", "ToyGAN", "ToyGenerator", "check_settings", "dirac_gan", "grad_norm", "one_thread",
    "arrow_vectors", "field_style", "plot_state", "show_source",
    "LIMIT", "TARGETS", "Coverage", "Target", "coverage", "get_target", "sample_target",
]
