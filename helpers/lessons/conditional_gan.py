"""Generated from notebooks/04_conditional_gan.ipynb by `make lessons`; edit the notebook, not this file.

The notebook's saved cells (first line ``#@save``), in order, after the imports they use.
"""
import torch
from torch import nn
import helpers
from helpers.models import DCGANDiscriminator, DCGANGenerator, layer_table


dev = helpers.device()

STEPS = helpers.pick(quick=100, standard=3_200, full=40_000)        # the conditional run
ABL_STEPS = STEPS // 2                                              # the ablation, compared at the same step
N_EVAL = helpers.pick(quick=300, standard=2000, full=10_000)        # samples per measurement
EMA_DECAY = helpers.pick(quick=0.99, standard=0.999, full=0.9995)
NZ, BATCH, LR, BETAS, NGF, NDF = 100, 64, 1e-3, (0.5, 0.999), 32, 32   # notebook 03's recipe, with DCGAN's own D (no extra layer)
CLASSES = 10


def generator_input(z, labels):   # z: (n, NZ) noise; labels: (n,) digits 0-9, dtype long
    """What G's first layer reads: each noise vector with its one-hot label appended, (n, NZ + CLASSES)."""
    # Exercise 4.1 · generator_input (10 min): append the one-hot label (CLASSES numbers, in z's dtype) to each noise vector z; return the (n, NZ + CLASSES) tensor G's first layer reads
    ### BEGIN SOLUTION
    return torch.cat([z, nn.functional.one_hot(labels, CLASSES).to(z.dtype)], dim=1)
    ### END SOLUTION


def discriminator_input(x, labels):   # x: (n, 1, H, W) images; labels: (n,) digits 0-9, dtype long
    """What D's first layer reads: each image with CLASSES constant planes stacked after it, plane k all ones
    where the image's label is k and all zeros otherwise, (n, 1 + CLASSES, H, W)."""
    # Exercise 4.2 · discriminator_input (15 min): stack the one-hot label of each image on it as CLASSES constant planes of the image's size and dtype, after the image's own channel; return the (n, 1 + CLASSES, H, W) tensor D's first layer reads
    ### BEGIN SOLUTION
    planes = nn.functional.one_hot(labels, CLASSES).to(x.dtype)[:, :, None, None]
    return torch.cat([x, planes.expand(-1, -1, *x.shape[2:])], dim=1)
    ### END SOLUTION


class ConditionalGenerator(DCGANGenerator):
    """Notebook 03's DCGAN generator with 10 classes; its first layer reads generator_input(z, labels)."""

    def forward(self, z, labels):
        return self.net(generator_input(z, labels)[:, :, None, None])   # (n, NZ + CLASSES, 1, 1)


class ConditionalDiscriminator(DCGANDiscriminator):
    """DCGAN's discriminator with 10 classes; its first layer reads discriminator_input(x, labels)."""

    def forward(self, x, labels):
        return self.net(discriminator_input(x, labels)).flatten()   # one logit per pair (x, y)


def make_players(d_sees_y=True, seed=0):
    helpers.seed_everything(seed)
    G = ConditionalGenerator(nz=NZ, ngf=NGF, num_classes=CLASSES).to(dev)
    D = (ConditionalDiscriminator(ndf=NDF, num_classes=CLASSES) if d_sees_y else DCGANDiscriminator(ndf=NDF)).to(dev)
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


def draw_digit(G, digit, n, seed=0):   # G: a conditional generator; digit: 0-9; n: how many images; seed: fixes z
    """n images of the digit from G as a float CPU tensor (n, 1, 28, 28) in [0, 1], what G.sample(n, labels=digit,
    seed=seed) returns: z ~ N(0, I) is drawn on the CPU from a torch.Generator seeded with seed (the same z on every
    device), then moved to G's device."""
    # Exercise 4.3 · draw_digit (15 min): n labels equal to digit (dtype long) and G.nz-dimensional noise from torch.Generator().manual_seed(seed), both on G's device; G's images in eval mode under torch.no_grad(), G's mode restored afterwards; return them in [0, 1] on the CPU
    ### BEGIN SOLUTION
    labels = torch.full((n,), digit, dtype=torch.long, device=G.device)
    z = torch.randn(n, G.nz, generator=torch.Generator().manual_seed(seed)).to(G.device)
    was_training = G.training
    G.eval()
    with torch.no_grad():   # sampling only: no graph to keep
        x = G(z, labels)
    G.train(was_training)
    return ((x.float().cpu() + 1) / 2).clamp(0, 1)
    ### END SOLUTION
