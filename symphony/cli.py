"""The ``symphony`` command line. Every user error prints one line on stderr and exits with 2."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from symphony.errors import SymphonyError
from symphony.tasks.limits import FILL_CANDIDATES, MAX_FILL_CANDIDATES, MAX_GUIDANCE

# Command implementations are imported inside each command: the CLI starts without loading
# torch, music21 or scikit-learn for a command that does not need them.

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Symphony: compose and edit music from a description.")
data_app = typer.Typer(no_args_is_help=True, help="The training corpus.")
app.add_typer(data_app, name="data")
accounts_app = typer.Typer(no_args_is_help=True, help="The studio's accounts (symphony serve --accounts).")
app.add_typer(accounts_app, name="accounts")


# Options every `symphony edit` command takes (one definition, shared by the commands).
SEED = typer.Option(0, "--seed", help="random seed (same seed, same result)")
OUT = typer.Option(..., "-o", "--out", help="output folder")
CHECKPOINT = typer.Option(None, "--checkpoint", help="model file (default: shipped model)")
NO_AUDIO = typer.Option(False, "--no-audio", help="skip the WAV file")
DETECTED_STYLE = typer.Option(None, "--style", help="default: the style the model finds likeliest")
CANDIDATES = typer.Option(FILL_CANDIDATES, "--candidates",
                          help=f"fills drawn; the one best joined to both sides is kept (1-{MAX_FILL_CANDIDATES}; 1 is fastest)")


def _err(msg: str) -> None:
    typer.echo(f"symphony: error: {msg}", err=True)
    raise typer.Exit(2)


@app.command()
def generate(
    prompt: str = typer.Argument("", help="what to compose, e.g. 'a lively Irish jig in D major'"),
    style: Optional[str] = typer.Option(None, "--style", help="chinese, german, celtic, chorale, or a blend: chinese:0.6,celtic:0.4"),
    key: Optional[str] = typer.Option(None, "--key", help="e.g. 'D major', 'Bb minor', 'A dorian'"),
    meter: Optional[str] = typer.Option(None, "--meter", help="e.g. 4/4, 3/4, 6/8"),
    tempo: Optional[float] = typer.Option(None, "--tempo", help="beats per minute of the meter's beat"),
    bars: Optional[int] = typer.Option(None, "--bars", help="length in bars (1-512, default 16)"),
    seed: Optional[int] = typer.Option(None, "--seed", help="random seed (same seed, same music)"),
    chords: Optional[str] = typer.Option(None, "--chords", help="chord progression, one chord per bar ('G C D G') or bars split by | ('G C | D G'); Roman numerals work too"),
    accompany: bool = typer.Option(False, "--accompany", help="add a piano accompaniment: the --chords, or chords planned for the melody"),
    form: Optional[str] = typer.Option(None, "--form", help="phrase form: AABB, ABA, AABA, AA'BA (' = varied repeat)"),
    range_: Optional[str] = typer.Option(None, "--range", help="melody range, e.g. 'C4-G5'"),
    density: Optional[float] = typer.Option(None, "--density", help="-1 (long notes, sparse) .. 1 (short notes, dense)"),
    emotion: Optional[str] = typer.Option(None, "--emotion", help="happy, sad, calm, tense, tender, 悲伤, 欢快, ..."),
    valence: Optional[float] = typer.Option(None, "--valence", help="-1 (negative) .. 1 (positive), with --arousal"),
    arousal: Optional[float] = typer.Option(None, "--arousal", help="-1 (calm) .. 1 (excited), with --valence"),
    image: Optional[Path] = typer.Option(None, "--image", help="a picture (PNG, JPEG, WebP): its brightness, colour and busyness set the mood (docs/image.md)"),
    melody: Optional[Path] = typer.Option(None, "--melody", help="a hummed, sung or played melody (WAV, FLAC, OGG, MP3; one line, at most 10 minutes) to use (docs/melody.md)"),
    melody_use: str = typer.Option("continue", "--melody-use", help="with --melody: continue (carry it on to --bars), harmonize, develop (the theme of a --form, default ABA)"),
    melody_harmony: Optional[str] = typer.Option(None, "--melody-harmony", help="with --melody-use harmonize: satb, chords (default; satb for chorales) or accompaniment"),
    no_tonic_ending: bool = typer.Option(False, "--no-tonic-ending", help="do not force the last note onto the tonic"),
    no_repeats: bool = typer.Option(False, "--no-repeats", help="without --form, do not repeat bars the way a real tune of the style does (docs/form.md)"),
    guidance: Optional[float] = typer.Option(None, "--guidance", help="style guidance 0 (off) .. 5: how hard the sampler leans towards what sets the style apart from the others (default: the style's, 0 for chinese and celtic, 1 for the others; each unit costs decoding time)"),
    count: int = typer.Option(1, "-n", help="how many pieces"),
    numerals: bool = typer.Option(False, "--numerals", help="with a chorale or --accompany: the Roman-numeral analysis under the bass staff"),
    out: Path = typer.Option(..., "-o", "--out", help="output folder"),
    checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", help="model file (default: shipped model)"),
    no_audio: bool = typer.Option(False, "--no-audio", help="skip the WAV file"),
):
    """Compose a new piece: writes music.mid, music.musicxml, music.wav, music.svg, music.pdf and music.json."""
    from symphony.formats.render import locked_out_dir, write_outputs
    from symphony.tasks.api import Options, run_many
    opts = Options(prompt, style, key, meter, tempo, bars, seed, chords, accompany, form, range_, density, emotion,
                   valence, arousal, image, melody, melody_use, melody_harmony, guidance, not no_repeats,
                   not no_tonic_ending, count, numerals=numerals)
    if count < 1 or count > 100:
        _err(f"-n must be between 1 and 100, got {count}")
    with locked_out_dir(out):
        with _progress("composing", count if count > 1 else 0) as hooks:
            results = run_many(opts, checkpoint, hooks)
        first = results[0]
        heard = [line for line in first.explanation if not line.startswith("structure:")]
        for line in heard:
            typer.echo(f"heard: {line}", err=True)
        for line in first.explanation:  # what the composing itself decided (the repetition plan)
            if line.startswith("structure:"):
                typer.echo(line, err=True)
        for f in write_outputs([(r.score, r.record) for r in results], out, audio=not no_audio):
            typer.echo(str(f))


class _progress:
    """Progress on stderr while the engine works: on a terminal, a bar (pieces of ``-n``, or bars
    of a long piece or an edit as they are sampled); elsewhere a line per finished piece of ``-n``
    (bar-by-bar lines would flood a log)."""

    def __init__(self, what: str, pieces: int = 0):
        self.what, self.pieces, self.bar, self.task = what, pieces, None, None
        self.tty = sys.stderr.isatty()

    def __enter__(self):
        from symphony.tasks.api import TaskHooks
        if self.tty:
            from rich.progress import Progress
            self.bar = Progress(transient=True)
            self.bar.start()
        return TaskHooks(progress=self._step)

    def _step(self, done: int, total: int) -> None:
        unit = "pieces" if self.pieces else "bars"
        if self.bar is not None:
            if self.task is None:
                self.task = self.bar.add_task(f"{self.what} ({unit})", total=total or None)
            self.bar.update(self.task, completed=done, total=total or None)
        elif self.pieces:
            typer.echo(f"{self.what}: {done}/{total} {unit}", err=True)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False


edit_app = typer.Typer(no_args_is_help=True, help="Edit your own score: continue, infill, bridge, harmonize, vary, restyle, transform.")
app.add_typer(edit_app, name="edit")


def _run_edit(out: Path, no_audio: bool, checkpoint, make_request, long: bool = False) -> None:
    """Check the output folder, build the typed request (reading the user's files), run it on
    the engine and write the result set (all files or none)."""
    from symphony.formats.render import locked_out_dir, write_outputs
    from symphony.tasks.api import run
    with locked_out_dir(out):  # one command at a time; removed again if it was new and this fails
        request = make_request()
        with _progress("composing", 0) as hooks:
            result = run(request, checkpoint, hooks)
        if result.score.provenance.get("note"):  # what the edit could not keep, in one line
            typer.echo("note: " + result.score.provenance["note"], err=True)
        for f in write_outputs([(result.score, result.record)], out, audio=not no_audio):
            typer.echo(str(f))


def _checkpoint_styles(checkpoint: Optional[Path]) -> None:
    """Make the checkpoint's own styles known by name before a request is checked (its
    metadata only: no weights, no torch)."""
    from symphony.model.checkpoint import read_checkpoint_meta
    from symphony.music.styles import register_styles
    meta = read_checkpoint_meta(checkpoint)
    defaults = meta.get("style_defaults") or {}
    register_styles({s: defaults.get(s) or {} for s in meta.get("tokenizer", {}).get("styles", [])})


def _read(path: Path):
    from symphony.tasks.common import load_input
    return load_input(path)


def _api():
    from symphony.tasks import api
    return api


@edit_app.command("continue")
def edit_continue(
    infile: Path = typer.Argument(..., help="MIDI, MusicXML, ABC or Humdrum file"),
    bars: int = typer.Option(8, "--bars", help="how many bars to add"),
    style: Optional[str] = DETECTED_STYLE,
    seed: int = SEED,
    out: Path = OUT,
    checkpoint: Optional[Path] = CHECKPOINT,
    no_audio: bool = NO_AUDIO,
):
    """Carry the piece on for --bars more bars in its style, key and meter (its notes stay as they are)."""
    _run_edit(out, no_audio, checkpoint, lambda: _api().ContinueRequest(_read(infile), bars, style, seed))


@edit_app.command("infill")
def edit_infill(
    infile: Path = typer.Argument(..., help="MIDI, MusicXML, ABC or Humdrum file"),
    bars: str = typer.Option(..., "--bars", help="the bars to regenerate as the score numbers them, e.g. '5-8' (a pickup is bar 0)"),
    part: Optional[int] = typer.Option(None, "--part", help="regenerate only this part (1 = top); default: all"),
    style: Optional[str] = DETECTED_STYLE,
    candidates: int = CANDIDATES,
    seed: int = SEED,
    out: Path = OUT,
    checkpoint: Optional[Path] = CHECKPOINT,
    no_audio: bool = NO_AUDIO,
):
    """Regenerate --bars (of --part) so that they join both neighbours; every other note stays."""
    _run_edit(out, no_audio, checkpoint, lambda: _api().InfillRequest(
        _read(infile), bars, None if part is None else part - 1, style, seed, candidates))


@edit_app.command("bridge")
def edit_bridge(
    first: Path = typer.Argument(..., help="piece A (the bridge starts where it ends)"),
    second: Path = typer.Argument(..., help="piece B (the bridge leads into its beginning)"),
    bars: int = typer.Option(4, "--bars", help="length of the bridge in bars (1-16)"),
    style: Optional[str] = DETECTED_STYLE,
    candidates: int = CANDIDATES,
    seed: int = SEED,
    out: Path = OUT,
    checkpoint: Optional[Path] = CHECKPOINT,
    no_audio: bool = NO_AUDIO,
):
    """Compose --bars bars leading from the end of A into the beginning of B; writes A + bridge + B."""
    _run_edit(out, no_audio, checkpoint, lambda: _api().BridgeRequest(
        _read(first), _read(second), bars, style, seed, candidates))


@edit_app.command("harmonize")
def edit_harmonize(
    infile: Path = typer.Argument(..., help="a melody: MIDI, MusicXML, ABC or Humdrum"),
    as_: str = typer.Option("satb", "--as", help="satb (four-part chorale), chords (symbols + bass), accompaniment"),
    style: Optional[str] = typer.Option(None, "--style"),
    part: int = typer.Option(1, "--part", help="which part holds the melody (1 = top)"),
    numerals: bool = typer.Option(False, "--numerals", help="print the Roman-numeral analysis under the bass staff"),
    seed: int = SEED,
    out: Path = OUT,
    checkpoint: Optional[Path] = CHECKPOINT,
    no_audio: bool = NO_AUDIO,
):
    """Harmonize a melody (never altered): four-part functional harmony, or chords and bass."""
    _run_edit(out, no_audio, checkpoint,
              lambda: _api().HarmonizeRequest(_read(infile), as_, style, part - 1, seed, numerals))


@edit_app.command("vary")
def edit_vary(
    infile: Path = typer.Argument(..., help="MIDI, MusicXML, ABC or Humdrum file"),
    amount: float = typer.Option(0.5, "--amount", help="0 (the original) .. 1 (every note re-composed)"),
    keep: Optional[str] = typer.Option(None, "--keep", help="rhythm (onsets and lengths stay) or contour (every step keeps its direction)"),
    part: int = typer.Option(1, "--part", help="which part to vary (1 = top); the others stay"),
    seed: int = SEED,
    out: Path = OUT,
    checkpoint: Optional[Path] = CHECKPOINT,
    no_audio: bool = NO_AUDIO,
):
    """A variation of a melody whose distance from it follows --amount (symphony/variation.py)."""
    from symphony.tasks.variation import check_vary
    check_vary(amount, keep)  # a bad --amount fails before the file is read
    _run_edit(out, no_audio, checkpoint, lambda: _api().VaryRequest(_read(infile), amount, keep, part - 1, seed))


@edit_app.command("restyle")
def edit_restyle(
    infile: Path = typer.Argument(..., help="a melody: MIDI, MusicXML, ABC or Humdrum"),
    style: str = typer.Option(..., "--style", help="the new tradition: chinese, german, celtic, chorale"),
    meter: Optional[str] = typer.Option(None, "--meter", help="new meter, e.g. 2/4 (default: the tune's; bar i stays bar i; a tune whose meter changes is recomposed in its first bar's meter)"),
    mode: Optional[str] = typer.Option(None, "--mode", help="new mode on the tune's tonic (gong, yu, dorian, ...) or a key ('A yu'); default: the tune's, pentatonic for chinese"),
    part: int = typer.Option(1, "--part", help="which part holds the tune (1 = top)"),
    seed: int = SEED,
    out: Path = OUT,
    checkpoint: Optional[Path] = CHECKPOINT,
    no_audio: bool = NO_AUDIO,
):
    """Keep the tune's skeleton (strong-beat notes, bars) and recompose it in another style."""
    from symphony.tasks.variation import check_restyle
    _checkpoint_styles(checkpoint)  # a style of the user's own model is a style to restyle into
    check_restyle(style, meter, mode)
    _run_edit(out, no_audio, checkpoint, lambda: _api().RestyleRequest(_read(infile), style, meter, mode, part - 1, seed))


@edit_app.command("transform")
def edit_transform(
    infile: Path = typer.Argument(...),
    transpose: int = typer.Option(0, "--transpose", help="semitones up (negative: down)"),
    key: Optional[str] = typer.Option(None, "--key", help="move to this key or mode, e.g. 'A minor', 'D dorian'"),
    tempo: Optional[float] = typer.Option(None, "--tempo", help="new tempo (beats per minute)"),
    out: Path = OUT,
    no_audio: bool = NO_AUDIO,
):
    """Transpose, change key or mode (scale degrees kept), change tempo."""
    _run_edit(out, no_audio, None, lambda: _api().TransformRequest(_read(infile), transpose, key, tempo))


@app.command()
def styles(checkpoint: Optional[Path] = CHECKPOINT):
    """List the styles the model knows (the shipped one, or --checkpoint's), with their defaults."""
    from symphony.model.checkpoint import read_checkpoint_meta
    from symphony.music.styles import STYLES, style_from_defaults
    meta = read_checkpoint_meta(checkpoint)
    defaults = meta.get("style_defaults") or {}
    for name in meta.get("tokenizer", {}).get("styles", []):
        s = STYLES.get(name) or style_from_defaults(name, defaults.get(name))
        typer.echo(f"{s.name:12s} {s.default_meter:5s} {s.default_bpm:4d} bpm  {s.description}")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on (0.0.0.0: every interface)"),
    port: int = typer.Option(8000, "--port", help="port to listen on"),
    db: Optional[str] = typer.Option(None, "--db", help="database URL (default: SYMPHONY_DATABASE_URL or ~/.local/share/symphony/studio.db)"),
    workers: Optional[int] = typer.Option(None, "--workers", help="jobs composing at the same time (default 2)"),
    checkpoint: Optional[Path] = CHECKPOINT,
    accounts: bool = typer.Option(False, "--accounts", help="require accounts (sign-in, private pieces, sharing); "
                                  "always on when --host is not a loopback address"),
):
    """Start the studio and its HTTP API (docs at /docs) with uvicorn."""
    from symphony.server.app import serve as run_server
    from symphony.server.config import ServerSettings
    if workers is not None and workers < 1:
        _err(f"--workers must be at least 1, got {workers}")
    settings = ServerSettings.from_env(database_url=db, workers=workers, accounts=accounts or None,
                                       checkpoint=str(checkpoint) if checkpoint else None)
    run_server(settings, host, port,
               lambda url, mode: typer.echo(f"Symphony studio on {url} ({mode}; API docs: {url}docs)", err=True))


@accounts_app.command("claim")
def accounts_claim(
    email: str = typer.Argument(..., help="the account that takes the pieces (sign up in the studio first)"),
    db: Optional[str] = typer.Option(None, "--db", help="database URL (default: SYMPHONY_DATABASE_URL or ~/.local/share/symphony/studio.db)"),
):
    """Give the pieces made without accounts (single-user mode) to one account: once
    `symphony serve --accounts` runs, a piece without an owner is no one's until claimed."""
    from symphony.server import accounts
    from symphony.server.app import open_store
    from symphony.server.config import ServerSettings
    store = open_store(ServerSettings.from_env(database_url=db).database_url)
    try:
        given = accounts.claim(store, email)
    except accounts.AccountError as e:
        _err(str(e))
    finally:
        store.close()
    pieces = "1 piece without an owner now belongs" if given == 1 else f"{given} pieces without an owner now belong"
    typer.echo(f"{pieces} to {email.strip().lower()}")


@data_app.command("stats")
def data_stats(workers: int = typer.Option(2, help="parallel parsers for the first run"),
               user_only: bool = typer.Option(False, "--user-only", help="only folders added with 'data add'")):
    """Count pieces, notes and bars per style and split (parses and caches the corpus once)."""
    from rich.console import Console
    from rich.table import Table

    from symphony.training.corpus import load_corpus, stats
    recs = load_corpus([] if user_only else None, workers=workers, progress=sys.stderr.isatty(),
                       log=lambda m: typer.echo(m, err=True))
    table = Table(title=f"Symphony corpus: {len(recs)} pieces after de-duplication")
    for col in ("style", "pieces", "train", "valid", "test", "notes", "bars"):
        table.add_column(col, justify="right" if col != "style" else "left")
    for style, c in stats(recs).items():
        table.add_row(style, *(str(c.get(k, 0)) for k in ("pieces", "train", "valid", "test", "notes", "bars")))
    Console().print(table)


@data_app.command("attributes")
def data_attributes(workers: int = typer.Option(2, help="parallel parsers for the first run")):
    """Count the keys, meters and lengths of the real tunes of each style (the table a request
    draws the attributes it leaves open from) and write it next to the shipped model."""
    from symphony.training.attributes import rebuild
    from symphony.training.corpus import builtin_sources, load_corpus
    recs = load_corpus(builtin_sources(), workers=workers, progress=sys.stderr.isatty(), user=False,
                       log=lambda m: typer.echo(m, err=True))
    rebuild(recs, log=typer.echo)


@data_app.command("add")
def data_add(folder: Path, style: str = typer.Option(..., "--style", help="style label for these pieces")):
    """Add your own folder of MIDI / MusicXML / ABC files to the corpus under a style label."""
    from symphony.training.corpus import add_user_folder
    ok, bad = add_user_folder(folder, style)
    typer.echo(f"added {ok} pieces with style {style!r}" + (f"; {bad} could not be read" if bad else ""))


@app.command()
def train(
    out_dir: Path = typer.Option(Path("runs/default"), "--out", help="checkpoint folder"),
    max_iters: int = typer.Option(3000, help="optimizer steps (at least 1)"),
    batch_size: int = typer.Option(16, help="sequences a step (at least 1)"),
    block_size: int = typer.Option(512, help="context length in tokens (at least 64)"),
    n_layer: int = typer.Option(4),
    n_head: int = typer.Option(4, help="attention heads (--n-embd must be a multiple)"),
    n_embd: int = typer.Option(256),
    lr: float = typer.Option(1e-3, help="peak learning rate (positive)"),
    eval_interval: int = typer.Option(250),
    max_minutes: float = typer.Option(0.0, help="stop after this many minutes (0: no limit)"),
    styles: Optional[str] = typer.Option(None, help="styles to train on (default: chinese, german, celtic, "
                                                    "chorale and every style added with 'data add')"),
    no_user_data: bool = typer.Option(False, "--no-user-data", help="leave out the folders added with 'data add'"),
    seed: int = typer.Option(1337),
    resume: bool = typer.Option(False, help="continue from OUT/train_state.pt"),
    oversample: str = typer.Option("", help="sample some styles more often, e.g. 'chorale:4'"),
    workers: int = typer.Option(2, help="parallel corpus parsers for the first run"),
    infill_rate: float = typer.Option(0.0, help="share of fill-in-the-middle training sequences (infilling)"),
    init_from: Optional[Path] = typer.Option(None, help="start from this checkpoint's weights"),
    warmup_iters: int = typer.Option(100, help="learning-rate warm-up steps"),
    min_lr: float = typer.Option(1e-4, help="learning rate at the end of the cosine schedule"),
):
    """Train a model on the corpus and your added folders; checkpoints to OUT/model.safetensors."""
    import shutil

    from symphony.training.corpus import (
        BUILTIN_STYLES,
        builtin_sources,
        iter_split,
        load_corpus,
        user_sources,
    )
    from symphony.training.loop import TrainConfig, load_scores
    from symphony.training.loop import train as run
    users = [] if no_user_data else user_sources()
    user_styles = list(dict.fromkeys(s.style for s in users))
    if styles is None:
        style_list = list(BUILTIN_STYLES) + [s for s in user_styles if s not in BUILTIN_STYLES]
    else:
        style_list = list(dict.fromkeys(s.strip().lower() for s in styles.split(",") if s.strip()))
    if not style_list:
        _err("--styles is empty; name at least one style, e.g. --styles celtic")
    cfg = TrainConfig(out_dir=str(out_dir), max_iters=max_iters, batch_size=batch_size,
                      block_size=block_size, n_layer=n_layer, n_head=n_head, n_embd=n_embd, lr=lr,
                      eval_interval=eval_interval, max_minutes=max_minutes, styles=style_list, seed=seed,
                      oversample=_weights(oversample), infill_rate=infill_rate,
                      init_from=str(init_from) if init_from else "", warmup_iters=warmup_iters, min_lr=min_lr)
    cfg.check()
    if workers < 1:
        _err(f"--workers must be at least 1, got {workers}")
    known = set(BUILTIN_STYLES) | {"renaissance"} | set(user_styles)
    unknown = [s for s in style_list if s not in known]
    if unknown:
        added = f"; added with 'data add': {', '.join(user_styles)}" if user_styles else ""
        _err(f"no pieces of style {unknown[0]!r} to train on (built-in: {', '.join(BUILTIN_STYLES)}{added})")
    if out_dir.exists() and not out_dir.is_dir():
        _err(f"--out {str(out_dir)!r} is a file, not a folder")
    if resume and not (out_dir / "train_state.pt").is_file():
        _err(f"nothing to resume: {out_dir / 'train_state.pt'} does not exist (leave out --resume to start afresh)")
    if init_from is not None and not init_from.is_file():
        _err(f"--init-from {str(init_from)!r}: no such checkpoint file")
    from symphony.formats.render import check_out_dir
    check_out_dir(out_dir)
    sources = [src for src in builtin_sources() if src.style in style_list]  # parse only what is used
    recs = load_corpus(sources + [u for u in users if u.style in style_list], workers=workers,
                       progress=sys.stderr.isatty(), user=False, log=lambda m: typer.echo(m, err=True))
    train_recs = list(iter_split(recs, "train", style_list))
    tr = load_scores(train_recs)
    va = load_scores(list(iter_split(recs, "valid", style_list)))
    if not tr:
        _err(f"no training pieces for styles {', '.join(style_list)}")
    counts: dict[str, int] = {}
    for r in train_recs:
        counts[r["style"]] = counts.get(r["style"], 0) + 1
    missing = [s for s in style_list if s not in counts]
    typer.echo(f"training on {len(tr)} pieces ({', '.join(f'{s} {n}' for s, n in counts.items())}), "
               f"{len(va)} held out for validation" + (f"; no pieces of {', '.join(missing)}" if missing else ""),
               err=True)
    created = not out_dir.exists()
    try:
        history = run(cfg, tr, va, resume=resume, progress=sys.stderr.isatty(),
                      log=lambda m: typer.echo(m, err=True))
    except BaseException:
        if created and not (out_dir / "model.safetensors").exists():  # no empty folder left behind
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    typer.echo(str(out_dir / "model.safetensors"))
    if history:
        typer.echo(f"done: {history[-1]}", err=True)


@app.command("eval")
def eval_(
    count: int = typer.Option(20, "-n", help="pieces generated per style"),
    styles: str = typer.Option("chinese,german,celtic,chorale", "--styles", help="styles to evaluate"),
    checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", help="model file (default: shipped model)"),
    max_real: int = typer.Option(200, "--max-real", help="held-out real pieces per style, at most"),
    seed: int = typer.Option(0, "--seed", help="random seed for requests, sampling and classifiers"),
    out: Path = typer.Option(..., "-o", "--out", help="report folder"),
    requests: str = typer.Option("corpus", "--requests",
                                 help="'corpus': keys, meters, lengths of real pieces; 'uniform': any"),
    source: list[str] = typer.Option([], "--source", hidden=True,
                                     help="STYLE=FILE: use these files instead of the corpus (tests)"),
    real_split: str = typer.Option("test", "--real-split", hidden=True, help="split of the real pieces"),
    classifier: str = typer.Option("auto", "--classifier", hidden=True, help="auto, hgb, rf or logreg"),
    no_repeats: bool = typer.Option(False, "--no-repeats", help="without --form, do not repeat bars the way a real tune of the style does (docs/form.md)"),
    guidance: Optional[float] = typer.Option(None, "--guidance", help="style guidance of the generated pieces (default: each style's own, as generate)"),
):
    """Measure generated music against held-out real music: writes report.md, report.json, plots."""
    from symphony.evaluation.classify import CLASSIFIERS
    if count < 1:
        _err(f"-n must be at least 1, got {count}")
    if max_real < 1:
        _err(f"--max-real must be at least 1, got {max_real}")
    if guidance is not None and not 0 <= guidance <= MAX_GUIDANCE:
        _err(f"--guidance must be between 0 (off) and {MAX_GUIDANCE:g}, got {guidance}")
    if real_split not in ("train", "valid", "test"):
        _err(f"unknown split {real_split!r}; choose train, valid or test")
    if classifier not in CLASSIFIERS + ("auto",):
        _err(f"unknown classifier {classifier!r}; choose auto, {', '.join(CLASSIFIERS)}")
    sources = None
    if source:
        from symphony.training.corpus import Source
        sources = []
        for item in source:
            name, sep, path = item.partition("=")
            if not sep or not Path(path).is_file():
                _err(f"--source wants STYLE=FILE with an existing file, got {item!r}")
            sources.append(Source(str(Path(path).resolve()), f"eval/{name}", name.strip()))
    style_list = [s.strip() for s in styles.split(",") if s.strip()]
    if not style_list:
        _err("--styles is empty; name at least one style, e.g. --styles celtic")
    from symphony.evaluation.run import run_eval
    try:
        res = run_eval(out, n=count, styles=style_list, checkpoint=checkpoint, max_real=max_real,
                       seed=seed, sources=sources, real_split=real_split, classifier=classifier,
                       requests=requests, log=lambda m: typer.echo(m, err=True), guidance=guidance)
    except SymphonyError as e:
        _err(str(e))
    typer.echo(str(out / "report.md"))
    sr = res["style_classifier"]
    if sr.get("hit_rate_overall") is not None and sr.get("real_test_accuracy") is not None:
        typer.echo(f"style hit rate {sr['hit_rate_overall']:.0%} (classifier on held-out real "
                   f"pieces {sr['real_test_accuracy']:.0%})", err=True)


def _weights(text: str) -> dict[str, float]:
    """'chorale:4,chinese:2' -> {'chorale': 4.0, 'chinese': 2.0}"""
    out = {}
    for item in filter(None, (x.strip() for x in text.split(","))):
        name, _, w = item.partition(":")
        try:
            out[name.strip()] = float(w or 1)
        except ValueError:
            raise SymphonyError(f"bad weight in {item!r}; write STYLE:NUMBER, e.g. chorale:4") from None
    return out


def main(argv: list[str] | None = None) -> None:
    """Entry point: every error, a usage error (an unknown option, ``--bars ten``) included,
    prints one line on stderr and exits with 2; a traceback is a bug."""
    import logging

    from typer._click import exceptions as click  # typer's own click (typer >= 0.26)
    notes = logging.StreamHandler(sys.stderr)  # the library's notes (a slow first step) as plain lines
    notes.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("symphony")
    logger.addHandler(notes)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        rv = app(args=argv, prog_name="symphony", standalone_mode=False)
    except SymphonyError as e:
        _one_line(str(e))
        sys.exit(2)
    except click.NoArgsIsHelpError as e:  # `symphony edit`: the help, as before
        typer.echo(e.ctx.get_help() if e.ctx else e.format_message(), err=True)
        sys.exit(2)
    except click.UsageError as e:
        where = e.ctx.command_path if e.ctx is not None else "symphony"
        _one_line(f"{e.format_message()} (see '{where} --help')")
        sys.exit(2)
    except click.ClickException as e:
        _one_line(e.format_message())
        sys.exit(e.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("symphony: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)


def _one_line(msg: str) -> None:
    typer.echo("symphony: error: " + " ".join(str(msg).split()), err=True)


if __name__ == "__main__":
    main()
