"""The course's widgets, built on one base (:mod:`.base`: labelled controls, an error line, pictures
redrawn in place): the GAN lab (notebook 00), the latent explorer (01, 03), the digit picker (04) and the
restoration lab (05). Each works live in JupyterLab and keeps its last state in a saved or exported notebook."""
from .digit_picker import DigitPicker, digit_picker
from .gan_lab import GANLab, gan_lab
from .latent_explorer import LatentExplorer, latent_explorer
from .restoration_lab import RestorationLab, restoration_lab

__all__ = ["DigitPicker", "digit_picker", "GANLab", "gan_lab", "LatentExplorer", "latent_explorer",
           "RestorationLab", "restoration_lab"]
