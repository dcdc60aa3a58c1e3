"""Generated from notebooks/04_conditional_gan.ipynb by `make lessons`; edit the notebook, not this file.

The notebook's saved cells (first line ``#@save``), in order, after the imports they use.
"""
import torch
from torch import nn
import helpers
from helpers.models import DCGANDiscriminator, DCGANGenerator, layer_table


dev = helpers.device()

STEPS = helpers.pick(quick=200, standard=4_000, full=40_000)        # the conditional run
ABL_STEPS = STEPS // 2                                              # the ablation, compared at the same step
N_EVAL = helpers.pick(quick=300, standard=2000, full=10_000)        # samples per measurement
EMA_DECAY = helpers.pick(quick=0.99, standard=0.999, full=0.9995)
NZ, BATCH, LR, BETAS, NGF, NDF = 100, 64, 1e-3, (0.5, 0.999), 32, 32   # notebook 03's recipe, with DCGAN's own D (no extra layer)
CLASSES = 10


def make_players(d_sees_y=True, seed=0):
    helpers.seed_everything(seed)
    G = DCGANGenerator(nz=NZ, ngf=NGF, num_classes=CLASSES).to(dev)
    D = DCGANDiscriminator(ndf=NDF, num_classes=CLASSES if d_sees_y else 0).to(dev)
    opt_G = torch.optim.Adam(G.parameters(), lr=LR, betas=BETAS)
    opt_D = torch.optim.Adam(D.parameters(), lr=LR, betas=BETAS)
    return G, D, opt_G, opt_D


bce = nn.BCEWithLogitsLoss()

def make_step(G, D, opt_G, opt_D, ema, d_sees_y=True):
    judge = (lambda x, y: D(x, y)) if d_sees_y else (lambda x, y: D(x))

    def step(real, labels):
        y_fake = torch.randint(0, CLASSES, (len(real),), device=dev)
        fake = G(torch.randn(len(real), NZ, device=dev), y_fake)
        # D: real pairs are (image, its label) -> 1, fake pairs (G(z, y), y) -> 0
        score_real, score_fake = judge(real, labels), judge(fake.detach(), y_fake)
        loss_d = bce(score_real, torch.ones_like(score_real)) + bce(score_fake, torch.zeros_like(score_fake))
        opt_D.zero_grad(); loss_d.backward(); opt_D.step()
        # G: make D accept (G(z, y), y), non-saturating
        score = judge(fake, y_fake)
        loss_g = bce(score, torch.ones_like(score))
        opt_G.zero_grad(); loss_g.backward(); opt_G.step()
        ema.update(G)
        return {"loss_d": loss_d, "loss_g": loss_g, "d_x": torch.sigmoid(score_real).mean(),
                "d_g_z1": torch.sigmoid(score_fake).mean(), "d_g_z2": torch.sigmoid(score).mean()}
    return step
