"""Plumbing for the GANs-on-MNIST course: data, models, losses, training dashboard, checkpoints,
quality meter, plots and widgets. The notebooks hold the ideas; this package holds the rest."""
from .checkpoints import PRODUCERS, list_checkpoints, load_generator, read_checkpoint, save_generator
from .config import CourseError, device, mode, pick, precision, seed_everything, using_precision
from .data import MNIST, Split, batches, download_mnist, load_mnist, to_signed, to_unit
from .models import Generator, MLPDiscriminator, MLPGenerator, count_parameters, fold_batchnorm
from .plots import class_histogram, image_grid, plot_curves, show_grid, show_grids
from .digit_classifier import classifier
from .meter import Quality, quality
from .widgets import digit_picker, gan_lab, latent_explorer, restoration_lab
from .training import EMA, History, frozen, train
from .checks import check
from .probe import speed_probe
from .display import short_errors
from .exercises import check_exercise, exercise_errors

__all__ = [
    "PRODUCERS", "list_checkpoints", "load_generator", "read_checkpoint", "save_generator",
    "CourseError", "device", "mode", "pick", "precision", "seed_everything", "using_precision",
    "MNIST", "Split", "batches", "download_mnist", "load_mnist", "to_signed", "to_unit",
    "Generator", "MLPDiscriminator", "MLPGenerator", "count_parameters", "fold_batchnorm",
    "class_histogram", "image_grid", "plot_curves", "show_grid", "show_grids",
    "Quality", "classifier", "quality", "EMA", "History", "frozen", "train", "latent_explorer", "digit_picker", "restoration_lab",
    "gan_lab", "check", "speed_probe", "short_errors", "check_exercise", "exercise_errors",
]

