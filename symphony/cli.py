"""The ``symphony`` command line. Every user error prints one line on stderr and exits with 2."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from .errors import SymphonyError
from .infill import CANDIDATES as FILL_CANDIDATES, MAX_CANDIDATES

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Symphony: compose and edit music from a description.")
data_app = typer.Typer(no_args_is_help=True, help="The training corpus.")
app.add_typer(data_app, name="data")


# Options every `symphony edit` command takes (one definition, shared by the commands).
SEED = typer.Option(0, "--seed", help="random seed (same seed, same result)")
OUT = typer.Option(..., "-o", "--out", help="output folder")
CHECKPOINT = typer.Option(None, "--checkpoint", help="model file (default: shipped model)")
NO_AUDIO = typer.Option(False, "--no-audio", help="skip the WAV file")
DETECTED_STYLE = typer.Option(None, "--style", help="default: the style the model finds likeliest")
CANDIDATES = typer.Option(FILL_CANDIDATES, "--candidates",
                          help=f"fills drawn; the one best joined to both sides is kept (1-{MAX_CANDIDATES}; 1 is fastest)")


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
    accompany: bool = typer.Option(False, "--accompany", help="add an accompaniment part that plays the --chords"),
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
    out: Path = typer.Option(..., "-o", "--out", help="output folder"),
    checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", help="model file (default: shipped model)"),
    no_audio: bool = typer.Option(False, "--no-audio", help="skip the WAV file"),
):
    """Compose a new piece: writes music.mid, music.musicxml, music.wav and music.json."""
    from .generation import describe, generate_request, require_request, resolve
    from .render import check_out_dir, write_outputs
    if count < 1 or count > 100:
        _err(f"-n must be between 1 and 100, got {count}")
    if melody is not None:  # the melody flow (symphony/transcribe.py); text and picture still count
        from .transcribe import generate_with_melody
        for f in generate_with_melody(
                melody, melody_use, prompt, out, style=style, key=key, meter=meter, tempo=tempo, bars=bars,
                seed=seed, form=form, harmony=melody_harmony, emotion=emotion, valence=valence,
                arousal=arousal, image=image, count=count, end_on_tonic=not no_tonic_ending,
                checkpoint=checkpoint, audio=not no_audio, chords=chords, accompany=accompany,
                range_=range_, density=density, log=lambda line: typer.echo(line, err=True)):
            typer.echo(str(f))
        return
    require_request(prompt, style=style, key=key, meter=meter, tempo=tempo, bars=bars, chords=chords, form=form,
                    range=range_, density=density, emotion=emotion, valence=valence, arousal=arousal, image=image)
    req, why = resolve(prompt, style, key, meter, tempo, bars, seed, chords=chords, accompany=accompany,
                       form=form, range=range_, density=density, emotion=emotion, valence=valence,
                       arousal=arousal, end_on_tonic=not no_tonic_ending, image=image, guidance=guidance,
                       repeats=not no_repeats)
    check_out_dir(out)
    items = []
    steps = range(count)
    if count > 1 and sys.stderr.isatty():
        from rich.progress import track
        steps = track(steps, description="composing", console=None, transient=True)
    for i in steps:
        req_i = req if i == 0 else type(req)(**{**req.__dict__, "seed": req.seed + i})
        score = generate_request(req_i, checkpoint, explanation=why)
        items.append((score, describe(score)))
    for line in why:
        typer.echo(f"heard: {line}", err=True)
    for score, _ in items[:1]:  # what the composing itself decided (the repetition plan)
        for line in score.meta["explanation"][len(why):]:
            typer.echo(line, err=True)
    files = write_outputs(items, out, audio=not no_audio)
    for f in files:
        typer.echo(str(f))


edit_app = typer.Typer(no_args_is_help=True, help="Edit your own score: continue, infill, bridge, harmonize, vary, restyle, transform.")
app.add_typer(edit_app, name="edit")


def _edit_outputs(score, out: Path, no_audio: bool) -> None:
    from .generation import describe
    from .render import write_outputs
    info = describe(score)
    info["edit"] = score.meta.get("edit")
    for f in write_outputs([(score, info)], out, audio=not no_audio):
        typer.echo(str(f))


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
    from .editing import continue_piece, load_input
    from .render import check_out_dir
    check_out_dir(out)
    score = continue_piece(load_input(infile), bars, style, seed, checkpoint)
    _edit_outputs(score, out, no_audio)


@edit_app.command("infill")
def edit_infill(
    infile: Path = typer.Argument(..., help="MIDI, MusicXML, ABC or Humdrum file"),
    bars: str = typer.Option(..., "--bars", help="the bars to regenerate, e.g. '5-8' (1 = first bar)"),
    part: Optional[int] = typer.Option(None, "--part", help="regenerate only this part (1 = top); default: all"),
    style: Optional[str] = DETECTED_STYLE,
    candidates: int = CANDIDATES,
    seed: int = SEED,
    out: Path = OUT,
    checkpoint: Optional[Path] = CHECKPOINT,
    no_audio: bool = NO_AUDIO,
):
    """Regenerate --bars (of --part) so that they join both neighbours; every other note stays."""
    from .editing import load_input
    from .infill import infill
    from .render import check_out_dir
    check_out_dir(out)
    score = infill(load_input(infile), bars, None if part is None else part - 1, style, seed, checkpoint,
                   candidates=candidates)
    _edit_outputs(score, out, no_audio)


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
    from .editing import load_input
    from .infill import bridge
    from .render import check_out_dir
    check_out_dir(out)
    score = bridge(load_input(first), load_input(second), bars, style, seed, checkpoint, candidates=candidates)
    _edit_outputs(score, out, no_audio)


@edit_app.command("harmonize")
def edit_harmonize(
    infile: Path = typer.Argument(..., help="a melody: MIDI, MusicXML, ABC or Humdrum"),
    as_: str = typer.Option("satb", "--as", help="satb (four-part chorale), chords (symbols + bass), accompaniment"),
    style: Optional[str] = typer.Option(None, "--style"),
    part: int = typer.Option(1, "--part", help="which part holds the melody (1 = top)"),
    seed: int = SEED,
    out: Path = OUT,
    checkpoint: Optional[Path] = CHECKPOINT,
    no_audio: bool = NO_AUDIO,
):
    """Harmonize a melody (never altered): four voices learned from Bach, or chords and bass."""
    from .editing import harmonize, load_input
    from .render import check_out_dir
    check_out_dir(out)
    score = harmonize(load_input(infile), as_, style, part - 1, seed, checkpoint)
    _edit_outputs(score, out, no_audio)


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
    from .editing import load_input
    from .render import check_out_dir
    from .variation import check_vary, vary
    check_out_dir(out)
    amount_, keep_ = check_vary(amount, keep)
    score = vary(load_input(infile), amount_, keep_, part - 1, seed, checkpoint)
    _edit_outputs(score, out, no_audio)


@edit_app.command("restyle")
def edit_restyle(
    infile: Path = typer.Argument(..., help="a melody: MIDI, MusicXML, ABC or Humdrum"),
    style: str = typer.Option(..., "--style", help="the new tradition: chinese, german, celtic, chorale"),
    meter: Optional[str] = typer.Option(None, "--meter", help="new meter, e.g. 2/4 (default: the tune's; bar i stays bar i)"),
    mode: Optional[str] = typer.Option(None, "--mode", help="new mode on the tune's tonic (gong, yu, dorian, ...) or a key ('A yu'); default: the tune's, pentatonic for chinese"),
    part: int = typer.Option(1, "--part", help="which part holds the tune (1 = top)"),
    seed: int = SEED,
    out: Path = OUT,
    checkpoint: Optional[Path] = CHECKPOINT,
    no_audio: bool = NO_AUDIO,
):
    """Keep the tune's skeleton (strong-beat notes, bars) and recompose it in another style."""
    from .editing import load_input
    from .render import check_out_dir
    from .variation import check_restyle, restyle
    check_out_dir(out)
    check_restyle(style, meter, mode)
    score = restyle(load_input(infile), style, meter, mode, part - 1, seed, checkpoint)
    _edit_outputs(score, out, no_audio)


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
    from .editing import load_input, transform
    from .render import check_out_dir
    check_out_dir(out)
    _edit_outputs(transform(load_input(infile), transpose, key, tempo), out, no_audio)


@app.command()
def styles():
    """List the styles Symphony knows."""
    from .styles import STYLES
    for s in STYLES.values():
        typer.echo(f"{s.name:12s} {s.default_meter:5s} {s.default_bpm:4d} bpm  {s.description}")


@data_app.command("stats")
def data_stats(workers: int = typer.Option(2, help="parallel parsers for the first run"),
               user_only: bool = typer.Option(False, "--user-only", help="only folders added with 'data add'")):
    """Count pieces, notes and bars per style and split (parses and caches the corpus once)."""
    from rich.console import Console
    from rich.table import Table
    from .data import load_corpus, stats
    recs = load_corpus([] if user_only else None, workers=workers, progress=sys.stderr.isatty())
    table = Table(title=f"Symphony corpus: {len(recs)} pieces after de-duplication")
    for col in ("style", "pieces", "train", "valid", "test", "notes", "bars"):
        table.add_column(col, justify="right" if col != "style" else "left")
    for style, c in stats(recs).items():
        table.add_row(style, *(str(c.get(k, 0)) for k in ("pieces", "train", "valid", "test", "notes", "bars")))
    Console().print(table)


@data_app.command("add")
def data_add(folder: Path, style: str = typer.Option(..., "--style", help="style label for these pieces")):
    """Add your own folder of MIDI / MusicXML / ABC files to the corpus under a style label."""
    from .data import add_user_folder
    ok, bad = add_user_folder(folder, style)
    typer.echo(f"added {ok} pieces with style {style!r}" + (f"; {bad} files could not be read" if bad else ""))


@app.command()
def train(
    out_dir: Path = typer.Option(Path("runs/default"), "--out", help="checkpoint folder"),
    max_iters: int = typer.Option(3000, help="optimizer steps"),
    batch_size: int = typer.Option(16),
    block_size: int = typer.Option(512),
    n_layer: int = typer.Option(4),
    n_head: int = typer.Option(4),
    n_embd: int = typer.Option(256),
    lr: float = typer.Option(1e-3),
    eval_interval: int = typer.Option(250),
    max_minutes: float = typer.Option(0.0, help="stop after this many minutes (0: no limit)"),
    styles: str = typer.Option("chinese,german,celtic,chorale", help="styles to train on"),
    seed: int = typer.Option(1337),
    resume: bool = typer.Option(False, help="continue from OUT/train_state.pt"),
    oversample: str = typer.Option("", help="sample some styles more often, e.g. 'chorale:4'"),
    workers: int = typer.Option(2, help="parallel corpus parsers for the first run"),
    infill_rate: float = typer.Option(0.0, help="share of fill-in-the-middle training sequences (infilling)"),
    init_from: Optional[Path] = typer.Option(None, help="start from this checkpoint's weights"),
    warmup_iters: int = typer.Option(100, help="learning-rate warm-up steps"),
    min_lr: float = typer.Option(1e-4, help="learning rate at the end of the cosine schedule"),
):
    """Train a model on the corpus (and your added folders); checkpoints to OUT/model.safetensors."""
    from .data import builtin_sources, iter_split, load_corpus
    from .train import TrainConfig, load_scores, train as run
    style_list = [s.strip() for s in styles.split(",") if s.strip()]
    cfg = TrainConfig(out_dir=str(out_dir), max_iters=max_iters, batch_size=batch_size,
                      block_size=block_size, n_layer=n_layer, n_head=n_head, n_embd=n_embd, lr=lr,
                      eval_interval=eval_interval, max_minutes=max_minutes, styles=style_list, seed=seed,
                      oversample=_weights(oversample), infill_rate=infill_rate,
                      init_from=str(init_from) if init_from else "", warmup_iters=warmup_iters, min_lr=min_lr)
    sources = [src for src in builtin_sources() if src.style in style_list]  # parse only what is used
    recs = load_corpus(sources, workers=workers, progress=sys.stderr.isatty())
    tr = load_scores(list(iter_split(recs, "train", style_list)))
    va = load_scores(list(iter_split(recs, "valid", style_list)))
    if not tr:
        _err(f"no training pieces for styles {styles!r}")
    history = run(cfg, tr, va, resume=resume)
    typer.echo(f"done: {history[-1] if history else {}}")


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
    from .evaluation.classify import CLASSIFIERS
    if count < 1:
        _err(f"-n must be at least 1, got {count}")
    if max_real < 1:
        _err(f"--max-real must be at least 1, got {max_real}")
    from .generation import MAX_GUIDANCE
    if guidance is not None and not 0 <= guidance <= MAX_GUIDANCE:
        _err(f"--guidance must be between 0 (off) and {MAX_GUIDANCE:g}, got {guidance}")
    if real_split not in ("train", "valid", "test"):
        _err(f"unknown split {real_split!r}; choose train, valid or test")
    if classifier not in CLASSIFIERS + ("auto",):
        _err(f"unknown classifier {classifier!r}; choose auto, {', '.join(CLASSIFIERS)}")
    sources = None
    if source:
        from .data import Source
        sources = []
        for item in source:
            name, sep, path = item.partition("=")
            if not sep or not Path(path).is_file():
                _err(f"--source wants STYLE=FILE with an existing file, got {item!r}")
            sources.append(Source(str(Path(path).resolve()), f"eval/{name}", name.strip()))
    style_list = [s.strip() for s in styles.split(",") if s.strip()]
    if not style_list:
        _err("--styles is empty; name at least one style, e.g. --styles celtic")
    from .evaluation.run import run_eval
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


def main() -> None:
    """Entry point: typer handles usage errors (exit 2); our errors print one line, exit 2."""
    try:
        app()
    except SymphonyError as e:
        typer.echo(f"symphony: error: {e}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
