"""Generated from notebooks/03_dcgan.ipynb by `make lessons`; edit the notebook, not this file.

The notebook's saved cells (first line ``#@save``), in order, after the imports they use.
"""
import torch
from torch import nn
import helpers
from helpers.models import DCGANDiscriminator, DCGANGenerator, MixtureDCGANGenerator, layer_table


dev = helpers.device()

# Every setting that depends on the run mode, in one place.
STEPS = helpers.pick(quick=64, standard=2_000, full=20_000)         # the main run
MILESTONES = [STEPS // 8, STEPS // 4, STEPS // 2, STEPS]              # the quality meter measures the main run here
SHORT = MILESTONES[1]                                                 # D's extra layer, and each latent-size run
AT = MILESTONES[2]                                                    # the two ablation runs (section 5)
MIX_STEPS = 3 * STEPS // 4                                            # the cluster-prior run (section 5)
N_EVAL = helpers.pick(quick=300, standard=2000, full=10_000)          # samples for the quality meter
EMA_DECAY = helpers.pick(quick=0.99, standard=0.999, full=0.9995)     # weight averaging, as in notebook 01
SAMPLE_EVERY = max(1, STEPS // 8)                                     # keep the fixed-noise grid this often
# DCGAN's published recipe, the one most course material uses: nz 100, batch 64, Adam betas (0.5, 0.999), lr 2e-4.
# We keep all of it but the learning rate: small networks on a CPU budget learn faster at 1e-3 (section 2).
NZ, BATCH, LR, BETAS = 100, 64, 1e-3, (0.5, 0.999)
NGF = NDF = 32   # filters: G's layers have 4, 2 and 1 times NGF; the PyTorch example uses 64 (section 2)
D_EXTRA = 1      # 3x3 layers D adds at 14x14; DCGAN has none (sections 1 and 2)
CLUSTERS = 50    # k-means clusters of the training digits: the bumps of section 5's prior


def out_size(i, k, s, p, transposed=False):   # one side of a square input: size i, kernel k, stride s, padding p
    # Exercise 3.1 · out_size (10 min): the output size of a convolution, or with transposed=True of a transposed convolution, from the two formulas above, as an int
    ### BEGIN SOLUTION
    if transposed:
        return (i - 1) * s - 2 * p + k
    return (i + 2 * p - k) // s + 1
    ### END SOLUTION

def out_conv(i, k, s, p):
    return out_size(i, k, s, p)

def out_transposed(i, k, s, p):
    return out_size(i, k, s, p, transposed=True)


def generator_stack(nz=NZ, ngf=NGF):   # z as an nz-channel 1x1 image -> a 1x28x28 image in [-1, 1]
    # Exercise 3.2 · generator_stack (15 min): G's layers as one nn.Sequential, in order: transposed convolutions nz -> 4 ngf (7x7), -> 2 ngf (14x14), -> ngf (28x28), each without bias and followed by BatchNorm and ReLU, then a 3x3 one to 1 channel (with bias) and Tanh; kernels, strides and paddings as in the text above
    ### BEGIN SOLUTION
    return nn.Sequential(
        nn.ConvTranspose2d(nz, 4 * ngf, 7, 1, 0, bias=False),         # 1x1 -> 7x7
        nn.BatchNorm2d(4 * ngf), nn.ReLU(True),
        nn.ConvTranspose2d(4 * ngf, 2 * ngf, 4, 2, 1, bias=False),    # 7x7 -> 14x14
        nn.BatchNorm2d(2 * ngf), nn.ReLU(True),
        nn.ConvTranspose2d(2 * ngf, ngf, 4, 2, 1, bias=False),        # 14x14 -> 28x28
        nn.BatchNorm2d(ngf), nn.ReLU(True),
        nn.ConvTranspose2d(ngf, 1, 3, 1, 1),                          # 28x28 -> 28x28, one channel
        nn.Tanh(),
    )
    ### END SOLUTION


def discriminator_stack(ndf=NDF, extra_layers=D_EXTRA):   # a 1x28x28 image -> one logit, shaped 1x1x1
    # Exercise 3.3 · discriminator_stack (15 min): D's layers as one nn.Sequential, in order: a 4x4 stride-2 convolution 1 -> ndf (28 -> 14) with LeakyReLU(0.2) and no BatchNorm, extra_layers 3x3 stride-1 ones ndf -> ndf with LeakyReLU (14 -> 14), a 4x4 stride-2 one ndf -> 2 ndf without bias, with BatchNorm and LeakyReLU (14 -> 7), then a 7x7 one to a single logit (no Sigmoid)
    ### BEGIN SOLUTION
    layers = [nn.Conv2d(1, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]                     # 28 -> 14
    for _ in range(extra_layers):
        layers += [nn.Conv2d(ndf, ndf, 3, 1, 1), nn.LeakyReLU(0.2, True)]               # 14 -> 14
    layers += [nn.Conv2d(ndf, 2 * ndf, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * ndf),  # 14 -> 7
               nn.LeakyReLU(0.2, True),
               nn.Conv2d(2 * ndf, 1, 7, 1, 0)]                                          # 7 -> 1: the logit
    return nn.Sequential(*layers)
    ### END SOLUTION


def init_weights(module):   # for model.apply(init_weights), which calls it on every layer of the model
    # Exercise 3.4 · init_weights (10 min): DCGAN's initialization of one layer, in place: a Conv2d's or ConvTranspose2d's weights from N(0, 0.02) and its bias (if any) 0; a BatchNorm2d's weights from N(1, 0.02) and its bias 0; any other module unchanged
    ### BEGIN SOLUTION
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
    ### END SOLUTION


def with_layers(cls, layers, **config):
    """helpers.models' class `cls` (sampling, checkpoints) holding `layers`, initialized by init_weights. The class
    builds the same layers itself: those are replaced, and their random draws do not count."""
    with torch.random.fork_rng(devices=[]):
        model = cls(**config)
    model.net = layers.apply(init_weights)
    return model

def make_players(nz=NZ, seed=0, d_extra=D_EXTRA, lr=LR, betas=BETAS):
    helpers.seed_everything(seed)
    G = with_layers(DCGANGenerator, generator_stack(nz, NGF), nz=nz, ngf=NGF).to(dev)    # Exercises 3.2 and 3.4
    D = with_layers(DCGANDiscriminator, discriminator_stack(NDF, d_extra), ndf=NDF, extra_layers=d_extra).to(dev)
    opt_G = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
    opt_D = torch.optim.Adam(D.parameters(), lr=lr, betas=betas)
    return G, D, opt_G, opt_D


bce = nn.BCEWithLogitsLoss()

def update_D(D, opt_D, real, fake, y_real=None, y_fake=None):   # y_*: what D is told about each image (section 5)
    score_real, score_fake = D(real, y_real), D(fake.detach(), y_fake)    # detach: D's step must not change G
    loss = bce(score_real, torch.ones_like(score_real)) + bce(score_fake, torch.zeros_like(score_fake))
    opt_D.zero_grad()
    loss.backward()
    opt_D.step()
    return loss, torch.sigmoid(score_real).mean(), torch.sigmoid(score_fake).mean()

def update_G(G, D, opt_G, fake, y_fake=None):
    with helpers.frozen(D):                               # D's weights are constants here: no gradient for them
        score = D(fake, y_fake)                           # against the D just updated
    loss = bce(score, torch.ones_like(score))             # non-saturating: -log D(G(z))
    opt_G.zero_grad()
    loss.backward()
    opt_G.step()
    return loss, torch.sigmoid(score).mean()

def make_step(G, D, opt_G, opt_D, ema):
    def step(real, labels):   # the labels are not used: DCGAN is unconditional
        fake = G(torch.randn(len(real), G.nz, device=dev))
        loss_d, d_x, d_g_z1 = update_D(D, opt_D, real, fake)
        loss_g, d_g_z2 = update_G(G, D, opt_G, fake)
        ema.update(G)
        return {"loss_d": loss_d, "loss_g": loss_g, "d_x": d_x, "d_g_z1": d_g_z1, "d_g_z2": d_g_z2}
    return step


def make_mixture_players(counts, seed=0, scale=3.0, tell_d=True):
    """scale: the means' starting distance from 0 (0: one N(0, I) bump at the start); tell_d=False: a plain D,
    DCGAN's, that is not told the cluster (the ablation at the end of this section)."""
    helpers.seed_everything(seed)
    G = MixtureDCGANGenerator(nz=NZ, ngf=NGF, components=CLUSTERS, scale=scale).to(dev)
    G.set_weights(counts)                                   # bump c is drawn with cluster c's share of the digits
    D = (DCGANDiscriminator(ndf=NDF, extra_layers=D_EXTRA, num_classes=CLUSTERS, projection=True) if tell_d
         else DCGANDiscriminator(ndf=NDF, extra_layers=D_EXTRA)).to(dev)   # a plain D ignores the clusters passed to it
    opt_G = torch.optim.Adam(G.parameters(), lr=LR, betas=BETAS)   # G's parameters include the means mu_c
    opt_D = torch.optim.Adam(D.parameters(), lr=LR, betas=BETAS)
    return G, D, opt_G, opt_D

def make_mixture_step(G, D, opt_G, opt_D, ema):
    def step(real, clusters):            # clusters: the k-means cluster of each real digit
        eps, c = G.draw(len(real))       # a bump per fake, and its noise
        fake = G(eps, c)                 # z = mu_c + eps
        loss_d, d_x, d_g_z1 = update_D(D, opt_D, real, fake, y_real=clusters, y_fake=c)
        loss_g, d_g_z2 = update_G(G, D, opt_G, fake, y_fake=c)
        ema.update(G)
        return {"loss_d": loss_d, "loss_g": loss_g, "d_x": d_x, "d_g_z1": d_g_z1, "d_g_z2": d_g_z2}
    return step
