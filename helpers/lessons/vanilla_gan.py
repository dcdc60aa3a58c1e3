"""Generated from notebooks/01_vanilla_gan.ipynb by `make lessons`; edit the notebook, not this file.

The notebook's saved cells (first line ``#@save``), in order, after the imports they use.
"""
import torch
from torch import nn
import helpers


dev = helpers.device()

# Every setting that depends on the run mode, in one place.
STEPS = helpers.pick(quick=300, standard=8_000, full=100_000)   # full mode: 100k iterations, a common budget
SHORT = STEPS // 5                                                # the short run of section 6: a fifth of it
BATCH, NZ, LR = 128, 64, 1e-3
N_EVAL = helpers.pick(quick=500, standard=2000, full=10_000)     # samples for the quality meter
EMA_DECAY = helpers.pick(quick=0.99, standard=0.999, full=0.9995)  # weight averaging, see section 4


def make_players(seed=0):
    helpers.seed_everything(seed)
    G = helpers.MLPGenerator(nz=NZ, hidden=(256, 512, 1024)).to(dev)
    D = helpers.MLPDiscriminator(hidden=(512, 256), dropout=0.15).to(dev)
    opt_G = torch.optim.Adam(G.parameters(), lr=LR, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=LR, betas=(0.5, 0.999))
    return G, D, opt_G, opt_D

def decay_schedule(opt):
    # constant learning rate for the first half of STEPS, then linearly down to 0
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, 2 * (1 - s / STEPS)))


bce = nn.BCEWithLogitsLoss()   # on D's scores (logits) a: bce(a, 1) = -log sigmoid(a), bce(a, 0) = -log(1 - sigmoid(a))

def update_D(D, opt_D, real, fake):
    # D's step: label 1 for real images, label 0 for fakes. detach(): this step must not change G.
    # Exercise 1.1 · update_D (15 min): one optimizer step of D on Loss_D = -log D(x) - log(1 - D(G(z))), the two batch means written with bce on D's scores of real and of fake (detached); return Loss_D, the mean D(x) and the mean D(G(z)) (probabilities).
    ### BEGIN SOLUTION
    score_real, score_fake = D(real), D(fake.detach())
    loss_d = bce(score_real, torch.ones_like(score_real)) + bce(score_fake, torch.zeros_like(score_fake))
    opt_D.zero_grad()
    loss_d.backward()
    opt_D.step()
    return loss_d, torch.sigmoid(score_real).mean(), torch.sigmoid(score_fake).mean()
    ### END SOLUTION


def update_G(G, D, opt_G, fake, saturating=False):
    # G's step, against the D that was just updated.
    # Exercise 1.2 · update_G (15 min): one optimizer step of G on Loss_G = -log D(G(z)) (non-saturating), or with saturating=True log(1 - D(G(z))), written with bce on D's scores of fake; return Loss_G, the mean D(G(z)) and the norm of G's gradient (nn.utils.clip_grad_norm_ with max_norm float("inf") measures it without clipping).
    ### BEGIN SOLUTION
    score = D(fake)
    if saturating:   # the minimax loss as written: minimize log(1 - D(G(z))) = -BCE(score, label 0)
        loss_g = -bce(score, torch.zeros_like(score))
    else:            # non-saturating: minimize -log D(G(z)) = BCE(score, label 1)
        loss_g = bce(score, torch.ones_like(score))
    opt_G.zero_grad()
    loss_g.backward()
    grad_norm = nn.utils.clip_grad_norm_(G.parameters(), float("inf"))  # measures, never clips
    opt_G.step()
    return loss_g, torch.sigmoid(score).mean(), grad_norm
    ### END SOLUTION


def make_step(G, D, opt_G, opt_D, saturating=False, ema=None):
    schedules = [decay_schedule(opt_G), decay_schedule(opt_D)]
    def step(real, labels):   # labels are not used: the vanilla GAN never sees them
        fake = G(torch.randn(len(real), NZ, device=dev))
        loss_d, d_x, d_g_z1 = update_D(D, opt_D, real, fake)
        loss_g, d_g_z2, g_grad_norm = update_G(G, D, opt_G, fake, saturating)
        for s in schedules:
            s.step()
        if ema is not None:
            ema.update(G)
        return {"loss_d": loss_d, "loss_g": loss_g, "d_x": d_x, "d_g_z1": d_g_z1, "d_g_z2": d_g_z2,
                "g_grad_norm": g_grad_norm}
    return step


def who_is_winning(d_x, d_g_z, margin=0.05):
    # d_x, d_g_z: the logged D(x) and D(G(z)) of the steps to read, e.g. history["d_x"][-100:] and history["d_g_z1"][-100:]
    # Exercise 1.3 · who_is_winning (10 min): from the means of D(x) and D(G(z)) over the steps given, return "D has won" (mean D(x) > 0.9 and mean D(G(z)) < 0.1), "even" (D scores real and fake alike: the two means within margin), "G leads" (the fakes scored higher by more than margin) or "D leads".
    ### BEGIN SOLUTION
    mean_real = torch.as_tensor(d_x, dtype=torch.float64).mean().item()
    mean_fake = torch.as_tensor(d_g_z, dtype=torch.float64).mean().item()
    if mean_real > 0.9 and mean_fake < 0.1:    # D tells nearly every fake from every real image
        return "D has won"
    if abs(mean_real - mean_fake) <= margin:   # real and fake scored alike, whatever the level
        return "even"
    return "G leads" if mean_fake > mean_real else "D leads"
    ### END SOLUTION
