"""The scoreboard: every generator the course trains, evaluated the same way (notebook 06, reports index).

``scoreboard(names=None, n=None, seed=0)`` loads each checkpoint, draws ``n`` samples with noise seed
``seed`` (a conditional model is asked for the digits 0-9 in turn) and measures them with
:mod:`helpers.metrics` against the same ``n`` held-out digits, so the numbers of different models can be
compared. A first row scores ``n`` real training digits the same way: what a perfect generator would
get at this N. A checkpoint that is missing gets a row that names the notebook producing it; one that
cannot be read gets a row with the reason. ``scoreboard_html()`` is the reports index's fragment.

The numbers depend on N (see notebook 06), so N is part of every row. Each row is cached in
``<checkpoints>/scoreboard-cache.json`` under a hash of the checkpoint file, N, the seed and the data
version: a row is computed again only when one of those changes.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import os
from dataclasses import asdict, dataclass, fields

import torch

from . import config
from .checkpoints import LABELS, PRODUCERS, checkpoint_path, load_generator
from .config import CourseError
from .data import load_mnist
from .digit_classifier import FORMAT as CLASSIFIER_FORMAT, classifier
from .meter import CONFIDENCE
from .metrics import MIN_FD, embed, frechet_distance_from, memorization_from, nearest_neighbours, scores_from

VERSION = 1        # bump when a number's definition changes: cached rows are then computed again
REAL = "real digits"
CACHE_FILE = "scoreboard-cache.json"


def default_n() -> int:
    """The sample size for the current mode, capped by the data: ``n`` held-out and ``2 n`` training digits."""
    data = load_mnist(quiet=True)
    return min(config.pick(quick=300, standard=2000, full=5000), len(data.heldout), len(data.train) // 2)


@dataclass
class Row:
    model: str
    notebook: str            # the notebook that produces the checkpoint ("" if none of the course's)
    status: str              # "ok", "reference" (the real digits), "missing" or "error"
    note: str = ""           # what to do for missing or unreadable checkpoints; how a model was sampled
    trained: str = ""        # run mode and steps of the checkpoint, from its metadata
    n: int | None = None
    confident: float | None = None    # share classified with probability > 0.9 (the quality meter's number)
    min_class: float | None = None    # share of the rarest predicted digit
    fd: float | None = None           # Fréchet distance to n held-out digits
    fd_train: float | None = None     # ... and to n training digits (train vs held-out: overfitting)
    kid: float | None = None
    inception_score: float | None = None
    precision: float | None = None
    recall: float | None = None
    density: float | None = None
    coverage: float | None = None
    memorized: float | None = None    # share closer to a training digit than 95% of held-out digits are
    nn_ratio: float | None = None     # median nearest-training distance, samples over held-out digits
    class_hist: list[float] | None = None

    @property
    def measured(self) -> bool:
        return self.status in ("ok", "reference")

    @property
    def label(self) -> str:
        """What the model is (``checkpoints.LABELS``, e.g. "DCGAN, cluster prior"), or its checkpoint name."""
        return LABELS.get(self.model, self.model)


# (attribute, column header, format) of the table; None shows as a dash
COLUMNS = [
    ("n", "N", "{:,}"), ("confident", "confident", "{:.0%}"), ("min_class", "rarest class", "{:.1%}"),
    ("fd", "FD ↓", "{:.1f}"), ("fd_train", "FD vs train", "{:.1f}"), ("kid", "KID ↓", "{:.1f}"),
    ("inception_score", "IS ↑", "{:.2f}"), ("precision", "precision", "{:.2f}"), ("recall", "recall", "{:.2f}"),
    ("density", "density", "{:.2f}"), ("coverage", "coverage", "{:.2f}"), ("memorized", "memorized", "{:.1%}"),
]


def _details(row: Row) -> str:
    """The checkpoint name (when the label is not it) and how the model was sampled, e.g. "cgan, labels 0-9 in turn"."""
    return ", ".join(([row.model] if row.label != row.model else []) + ([row.note] if row.measured and row.note else []))


def _name(row: Row) -> str:
    """The label and the details, e.g. "DCGAN, cluster prior (dcgan_clusters)"."""
    details = _details(row)
    return f"{row.label} ({details})" if details else row.label


def _cell(row: Row, attr: str, fmt: str) -> str:
    value = getattr(row, attr)
    return "–" if value is None else fmt.format(value)


@dataclass
class Scoreboard:
    rows: list[Row]
    n: int
    seed: int
    data: str                # the data source, e.g. "sample"

    def __getitem__(self, model: str) -> Row:
        for row in self.rows:
            if row.model == model:
                return row
        raise KeyError(model)

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def measured(self) -> list[Row]:
        """The real digits and every model that was evaluated."""
        return [r for r in self.rows if r.measured]

    @property
    def missing(self) -> list[Row]:
        """Models whose checkpoint is missing or unreadable, with what to do in ``note``."""
        return [r for r in self.rows if not r.measured]

    def caption(self) -> str:
        return (f"Each model: N = {self.n:,} samples (noise seed {self.seed}) against the same {self.n:,} held-out digits "
                f"({self.data} data), features of the course classifier; FD vs train uses {self.n:,} training digits instead. "
                f"The real digits row is {self.n:,} training digits scored the same way: what a perfect generator gets at this N.")

    def markdown(self) -> str:
        head = ["model", "notebook", "trained"] + [h for _, h, _ in COLUMNS]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in self.rows:
            cells = [_name(r), r.notebook.removeprefix("notebooks/") or "–", r.trained or "–"]
            if r.measured:
                cells += [_cell(r, attr, fmt) for attr, _, fmt in COLUMNS]
            else:  # the notebook column says which notebook to run; a long note would widen a metric column
                cells[2] = "**missing**" if r.status == "missing" else f"**{r.note}**"
                cells += [""] * len(COLUMNS)
            lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.markdown() + "\n\n" + self.caption()

    def html(self) -> str:
        esc = html.escape
        columns = [c for c in COLUMNS if c[0] != "n"]  # the same N for every row: the caption says it
        head = "".join(f"<th>{esc(h)}</th>" for h in ["model", "notebook", "trained"] + [h for _, h, _ in columns])
        body = []
        for r in self.rows:
            note = f"<br><small>{esc(_details(r))}</small>" if _details(r) else ""
            notebook = r.notebook.removeprefix("notebooks/").removesuffix(".ipynb") or "–"
            cells = f"<td>{esc(r.label)}{note}</td><td>{esc(notebook)}</td><td>{esc(r.trained or '–')}</td>"
            if r.measured:
                cells += "".join(f'<td class="num">{esc(_cell(r, attr, fmt))}</td>' for attr, _, fmt in columns)
            else:
                cells += f'<td colspan="{len(columns)}" class="failed">{esc(r.note)}</td>'
            body.append(f"<tr>{cells}</tr>")
        return (f'<div style="overflow-x:auto"><table style="font-size:.75rem"><thead><tr>{head}</tr></thead>'
                f"<tbody>{''.join(body)}</tbody></table></div>")

    def plot(self, fig=None):
        """One figure: FD per model (missing ones named), and precision against recall in the same colours."""
        if fig is None:
            import matplotlib.pyplot as plt

            fig = plt.figure(figsize=(13, 0.42 * len(self.rows) + 1.6))
        ax_fd, ax_pr = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.25, 1]})
        palette = [c for i, c in enumerate(f"C{i}" for i in range(10)) if i != 7]  # C7 (grey) is for real digits
        colours, k = {}, 0
        for r in self.measured:
            colours[r.model] = "black" if r.status == "reference" else palette[k % len(palette)]
            k += r.status != "reference"
        top = max([r.fd for r in self.measured] + [1.0])
        for y, r in enumerate(self.rows[::-1]):
            if r.measured:
                ax_fd.barh(y, r.fd, color=colours[r.model])
                ax_fd.text(r.fd, y, f" {r.fd:.1f}", va="center", fontsize=8)
            else:
                note = r.note if len(r.note) < 80 else r.note[:77] + "..."
                ax_fd.text(0.02, y, note, va="center", fontsize=8, color="tab:red", transform=ax_fd.get_yaxis_transform())
        ax_fd.set_yticks(range(len(self.rows)), [r.label for r in self.rows][::-1], fontsize=9)
        ax_fd.set_xlim(0, top * 1.2)
        ax_fd.set_xlabel(f"Fréchet distance to held-out digits (N = {self.n:,}), lower is better")
        for r in self.measured:
            real = r.status == "reference"
            ax_pr.scatter(r.recall, r.precision, color=colours[r.model], marker="*" if real else "o", s=160 if real else 45,
                          label=r.label, alpha=0.85)
        ax_pr.set_xlim(-0.03, 1.03)
        ax_pr.set_ylim(-0.03, 1.03)
        ax_pr.set_xlabel("recall: real digits the samples reach (diversity)")
        ax_pr.set_ylabel("precision: samples that look real")
        ax_pr.grid(alpha=0.3)
        if self.measured:
            ax_pr.legend(fontsize=8, loc="lower left", framealpha=0.9)
        fig.tight_layout()
        return fig


class Reference:
    """The fixed sets every model is measured against, for one ``n`` and ``seed``.

    * ``held01``: ``n`` held-out digits (the reference of every metric), ``held`` their embedding;
    * ``train_ref01``: ``n`` training digits, ``train_ref`` their embedding (FD vs train);
    * ``fresh01`` and ``fresh_labels``: ``n`` other training digits, the stand-in for a perfect generator
      (``train_rest01``: the training split without them);
    * ``train01``: the whole training split (memorization check); ``held_nn``: each held-out digit's
      pixel distance to its nearest training digit, the yardstick of the memorization check.
    """

    def __init__(self, n: int | None = None, seed: int = 0, device: str | None = None):
        data = load_mnist(device, quiet=True)
        n = default_n() if n is None else n
        if not MIN_FD <= n <= min(len(data.heldout), len(data.train) // 2):
            raise CourseError(f"n={n} must be between {MIN_FD} and {min(len(data.heldout), len(data.train) // 2):,} "
                              f"with this data ({len(data.heldout):,} held-out and {len(data.train):,} training digits).")
        self.n, self.seed = n, seed
        self.clf = classifier(device)
        gen = torch.Generator().manual_seed(seed)
        held_order = torch.randperm(len(data.heldout), generator=gen)
        self.train_order = torch.randperm(len(data.train), generator=gen)
        dev = data.train.images.device
        self.train01 = data.train.unit()
        self.held01 = data.heldout.unit()[held_order[:n].to(dev)]
        self.train_ref01 = self.train01[self.train_order[:n].to(dev)]
        self.fresh01 = self.train01[self.train_order[n:2 * n].to(dev)]
        self.fresh_labels = data.train.labels[self.train_order[n:2 * n].to(dev)].cpu()
        self.held, self.train_ref = embed(self.held01, self.clf), embed(self.train_ref01, self.clf)
        self._held_nn = None

    @property
    def train_rest01(self) -> torch.Tensor:
        """The training split without the ``fresh01`` digits: the training set of a generator whose
        samples are ``fresh01`` (notebook 06 checks memorization against it)."""
        keep = torch.ones(len(self.train01), dtype=torch.bool)
        keep[self.train_order[self.n:2 * self.n]] = False
        return self.train01[keep.to(self.train01.device)]

    @property
    def held_nn(self) -> torch.Tensor:
        if self._held_nn is None:
            self._held_nn = nearest_neighbours(self.held01, self.train01)[0][:, 0]
        return self._held_nn

    def score(self, x01: torch.Tensor, memorization: bool = True) -> dict:
        """Every number of a :class:`Row` for ``n`` images in [0, 1] (the memorization check: pixel
        distances to the whole training split, so leave it out for training digits)."""
        if len(x01) != self.n:
            raise CourseError(f"Score exactly n={self.n} samples (got {len(x01)}), so that every model is compared at the same N.")
        ex = embed(x01, self.clf)
        s = scores_from(ex, self.held, kid_subset_size=min(200, self.n), seed=self.seed)
        confident = (ex.logits.softmax(1).max(1).values > CONFIDENCE).double().mean().item()
        out = {"n": self.n, "confident": confident, "min_class": min(s.class_hist), "fd": s.fd,
               "fd_train": frechet_distance_from(ex.features, self.train_ref.features), "kid": s.kid,
               "inception_score": s.inception_score, "precision": s.precision, "recall": s.recall,
               "density": s.density, "coverage": s.coverage, "class_hist": s.class_hist}
        if memorization:
            dx = nearest_neighbours(x01, self.train01)[0][:, 0]
            out["memorized"], out["nn_ratio"] = memorization_from(dx, self.held_nn)
        return out


def _sample(G, n: int, seed: int) -> tuple[torch.Tensor, str]:
    if G.num_classes:
        return G.sample(n, labels=torch.arange(n) % G.num_classes, seed=seed), f"labels 0-{G.num_classes - 1} in turn"
    return G.sample(n, seed=seed), ""


def _trained(meta: dict) -> str:
    steps = meta.get("steps")
    return ", ".join(str(p) for p in (meta.get("mode"), f"{steps:,} steps" if isinstance(steps, int) else None) if p)


def _known(names: list[str] | None) -> list[str]:
    if names is None:
        return list(PRODUCERS)
    names = [names] if isinstance(names, str) else list(names)
    for name in names:
        if name not in PRODUCERS and not checkpoint_path(name).exists():
            raise CourseError(f"{name!r} is neither a checkpoint of the course nor a file in {config.checkpoint_dir()}; "
                              f"choose from {', '.join(PRODUCERS)} or a name from helpers.list_checkpoints().")
    return names


# --- the cache: one JSON file beside the checkpoints --------------------------------------------------

def _cache_path():
    return config.checkpoint_dir() / CACHE_FILE


def _read_cache() -> dict:
    try:
        cache = json.loads(_cache_path().read_text())
        return cache if isinstance(cache, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_cache(cache: dict) -> None:
    path = _cache_path()
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(cache))
        os.replace(tmp, path)
    except OSError:  # a read-only folder: the scoreboard still works, it is only computed again
        tmp.unlink(missing_ok=True)


def _key(name: str, n: int, seed: int, fingerprint: str) -> str | None:
    stamp = ""
    if name != REAL:
        try:
            stamp = hashlib.sha1(checkpoint_path(name).read_bytes()).hexdigest()[:16]  # a few ms per checkpoint
        except OSError:
            return None
    return f"v{VERSION}|c{CLASSIFIER_FORMAT}|{fingerprint}|n{n}|s{seed}|{name}|{stamp}"


def _row(name: str, values: dict) -> Row:
    allowed = {f.name for f in fields(Row)} - {"model"}
    return Row(model=name, **{k: v for k, v in values.items() if k in allowed})


def scoreboard(names: list[str] | None = None, n: int | None = None, seed: int = 0, real: bool = True,
               cache: bool = True, reference: Reference | None = None) -> Scoreboard:
    """The scoreboard of ``names`` (default: every checkpoint the course's notebooks produce), in that order.

    ``n``: samples per model and held-out digits (default: :func:`default_n`); ``seed``: the noise seed of
    every model's samples and of the reference sets; ``real``: add the real-digits row first; ``cache``:
    reuse rows computed before for the same checkpoint file, N, seed and data. ``reference``: a
    :class:`Reference` already built (its n and seed are then used). Missing or unreadable checkpoints
    get a row saying what to do; an unknown name raises :class:`CourseError`. With no checkpoint and
    ``real=False`` nothing is loaded: the rows only say what to run."""
    names = _known(names)
    if reference is not None:
        n, seed = reference.n, reference.seed
    present = [name for name in names if checkpoint_path(name).exists()]
    data = load_mnist(quiet=True) if present or real else None
    if data is not None and n is None:
        n = default_n()
    ref, stored, changed = reference, (_read_cache() if cache and data is not None else {}), False
    rows = []
    for name in ([REAL] if real else []) + names:
        notebook = "" if name == REAL else PRODUCERS.get(name, "")
        if name != REAL and name not in present:
            rows.append(Row(name, notebook, "missing", note=f"missing: run {notebook}" if notebook else "missing"))
            continue
        key = _key(name, n, seed, data.fingerprint)
        if key in stored:
            rows.append(_row(name, stored[key]))
            continue
        try:
            ref = ref or Reference(n, seed)
            if name == REAL:
                row = Row(REAL, "", "reference", note="training digits, not a model", trained="–",
                          **ref.score(ref.fresh01, memorization=False))
            else:
                G = load_generator(name)
                x, how = _sample(G, n, seed)
                row = Row(name, notebook, "ok", note=how, trained=_trained(G.meta), **ref.score(x))
        except CourseError as err:
            rows.append(Row(name, notebook, "error", note=str(err)))
            continue
        rows.append(row)
        if key is not None:
            stored[key] = asdict(row)
            changed = True
    if changed:
        _write_cache(stored)
    return Scoreboard(rows, n or 0, seed, data.source if data is not None else "")


def scoreboard_html(names: list[str] | None = None, n: int | None = None) -> str:
    """The scoreboard as an HTML fragment (heading, caption, table, figure), for the reports index.

    Quick when no checkpoint exists (nothing is loaded) and when the rows are cached. Never raises:
    if something fails, the fragment says what."""
    from matplotlib.figure import Figure

    from .plots import figure_png

    heading = ("<style>section.scoreboard th { white-space: normal; text-transform: none; letter-spacing: 0; font-size: .72rem; }\n"
               "section.scoreboard th, section.scoreboard td { padding: .3rem .35rem; }</style>\n"
               "<h2>Scoreboard: every checkpoint of the series</h2>")
    try:
        any_present = any(checkpoint_path(name).exists() for name in _known(names))
        board = scoreboard(names, n, real=any_present)
        parts = [heading]
        if board.measured:
            parts.append(f'<p class="meta">{html.escape(board.caption())} Notebook 06 explains each number.</p>')
        else:
            parts.append('<p class="meta">No checkpoint yet: the notebooks write them (<code>make reports</code>).</p>')
        parts.append(board.html())
        if board.measured:
            fig = Figure(figsize=(12, 0.42 * len(board) + 1.6))
            board.plot(fig)
            png = base64.b64encode(figure_png(fig, dpi=80)).decode()
            parts.append(f'<p><img alt="FD per model, and precision against recall" style="max-width:100%" '
                         f'src="data:image/png;base64,{png}"></p>')
    except Exception as err:  # the index must still be written
        return f'{heading}<p class="failed">The scoreboard could not be computed: {html.escape(str(err))}</p>'
    return "\n".join(parts)


__all__ = ["REAL", "Reference", "Row", "Scoreboard", "default_n", "scoreboard", "scoreboard_html"]
