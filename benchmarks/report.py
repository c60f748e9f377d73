"""Render benchmarks/results.json as benchmarks/RESULTS.md (tables, with machine, date, command)."""
from __future__ import annotations

from pathlib import Path


def _meta(sec: dict) -> str:
    m = sec.get("_meta", {})
    return f"*Measured {m.get('date', '?')} on {m.get('machine', '?')}; `{m.get('command', '?')}` ({m.get('seconds', '?')} s).*"


def write_results_md(results: dict, path: Path) -> None:
    L = ["# Benchmark results", "",
         "Produced by `make bench` (`python -m benchmarks.run`); raw numbers in `results.json`. The `symphony eval -n 30 -o runs/eval_report` report (realism, style classifier, discriminator, with plots) is copied to [eval/report.md](eval/report.md).",
         "Definitions follow DESIGN.md: control is read back from the written files, likelihood is",
         "on the held-out test split next to 4-, 5- and 6-gram Kneser-Ney baselines on the same tokens.", ""]
    if "corpus" in results:
        c = results["corpus"]
        L += ["## Corpus and token round trip", "", _meta(c), "",
              "| style | pieces | train | valid | test | notes | bars |", "|---|---|---|---|---|---|---|"]
        for style, s in c["stats"].items():
            L.append(f"| {style} | {s.get('pieces', 0)} | {s.get('train', 0)} | {s.get('valid', 0)} | {s.get('test', 0)} | {s.get('notes', 0)} | {s.get('bars', 0)} |")
        L += ["", f"Exact round trip (decode(encode(score)) has every note, onset, duration and bar): "
              f"**monophonic {c['round_trip_mono']:.2%}** of {c['mono_pieces']} pieces, "
              f"polyphonic {c['round_trip_poly']:.2%} of {c['poly_pieces']}.", "",
              "| style / texture | exact | pieces | share |", "|---|---|---|---|"]
        for k, v in c["round_trip"].items():
            L.append(f"| {k} | {v['exact']} | {v['pieces']} | {v['share']:.2%} |")
        L.append("")
    if "likelihood" in results:
        r = results["likelihood"]
        styles = [k for k in r if not k.startswith("_")]
        orders = sorted(int(k[5:-13]) for k in r[styles[0]] if k.startswith("ngram") and k.endswith("_nll_per_note"))
        L += ["## Held-out likelihood (nats per note, lower is better)", "", _meta(r), "",
              "| style | test pieces | notes | model | " + " | ".join(f"{o}-gram KN" for o in orders) + " | "
              + " | ".join(f"model / {o}-gram" for o in orders) + " |",
              "|---|---|---|---|" + "---|" * (2 * len(orders))]
        for style in styles:
            v = r[style]
            L.append(f"| {style} | {v['pieces']} | {v['notes']} | {v['model_nll_per_note']:.3f} | "
                     + " | ".join(f"{v[f'ngram{o}_nll_per_note']:.3f}" for o in orders) + " | "
                     + " | ".join(f"**{v[f'ratio_vs_ngram{o}']:.1%}**" for o in orders) + " |")
        L += ["", "Target (issue 2): the model at most 85% of an n-gram of order 4 or more.", ""]
    if "control" in results:
        c = results["control"]
        L += ["## Control (analysing the output files)", "", _meta(c), "",
              f"{c['n']} generations with random style (chinese, german, celtic, chorale), tonic (12),",
              "mode (major/minor), meter (all 11 supported), bars (4-32) and tempo (50-180 bpm).", "",
              "| attribute | accuracy | how it is read back |", "|---|---|---|",
              f"| key (tonic and mode) | **{c['key_accuracy']:.0%}** | music21 `analyze('key')` on the MusicXML |",
              f"| key, first sample only | {c['key_accuracy_first_sample']:.0%} | same, before the resample-on-mismatch step |",
              f"| meter | **{c['meter_accuracy']:.0%}** | MusicXML time signature |",
              f"| bars | **{c['bars_accuracy']:.0%}** | MusicXML measure count |",
              f"| tempo | **{c['tempo_accuracy']:.0%}** | MIDI set_tempo, converted to the meter's beat |", ""]
    if "controls" in results:
        L += _controls_md(results["controls"])
    if "fusion" in results:
        L += _fusion_md(results["fusion"])
    if "editing" in results:
        L += _editing_md(results["editing"])
    if "speed" in results:
        s = results["speed"]
        L += ["## Speed (model time, batch 1)", "", _meta(s), "",
              "| case | median s | max s | notes/s | tokens/s |", "|---|---|---|---|---|"]
        for k, v in s.items():
            if isinstance(v, dict) and "median_model_s" in v:
                L.append(f"| {k} | **{v['median_model_s']:.3f}** | {v['max_model_s']:.3f} | {v['notes_per_s']:.0f} | {v['tokens_per_s']:.0f} |")
        L += ["", f"CLI cold start to all four files written (`symphony generate \"a lively Irish jig in D major\"`,"
              f" 16 bars, audio included): median **{s['cli_cold_start_s']['median']:.2f} s** "
              f"(runs: {', '.join(f'{x:.2f}' for x in s['cli_cold_start_s']['all'])}). Model load {s['model_load_s']:.2f} s.", ""]
    abl_md, abl_json = path.parent / "ablation.md", path.parent / "ablation.json"
    if abl_md.exists() and abl_json.exists():
        import json
        meta = json.loads(abl_json.read_text()).get("_meta", {})
        L += ["## Ablation: music-theory-aware modelling", "",
              f"*Measured {meta.get('date', '?')} on {meta.get('machine', '?')}; `{meta.get('command', '?')}` "
              f"({meta.get('seconds', '?')} s).*", "",
              "Small models (3 layers, 192 wide) trained from the same seed on the same number of notes, "
              "one component removed at a time. See the notes below for what this does and does not show.", "",
              abl_md.read_text().replace("### ", "#### "), ""]
    for name in ("eval_seeds", "infill", "variation", "transcription", "image", "prompts", "notation", "fourpart",
                 "melody_craft", "chords", "fusion", "engine", "blind_panel", "server", "studio", "collab"):  # standalone benchmarks (own commands)
        md = path.parent / f"{name}.md"
        if md.exists():
            L += ["#" + line if line.startswith("#") else line for line in md.read_text().splitlines()] + [""]
    extra = path.parent / "NOTES.md"
    if extra.exists():
        L += [extra.read_text()]
    path.write_text("\n".join(L) + "\n")


def _controls_md(c: dict) -> list[str]:
    L = ["## Controls beyond key, meter and length (analysing the output files)", "", _meta(c), ""]
    m = c.get("modes")
    if m:
        L += [f"**Modes.** {m['n']} pieces, the 12 modes in turn (church modes and the Chinese pentatonic "
              "gong shang jue zhi yu), random style, tonic and length. music21's analysis knows major and minor "
              "only, so a mode counts as right when the analysed tonic is its final and the analysed mode has "
              f"its third (dorian ~ minor, zhi ~ major): **{m['key_accuracy']:.0%}**; notes inside the mode's "
              f"scale: **{m['notes_in_mode_scale']:.1%}**.", "",
              "| " + " | ".join(m["per_mode"]) + " |", "|" + "---|" * len(m["per_mode"]),
              "| " + " | ".join(f"{v:.0%}" for v in m["per_mode"].values()) + " |"]
        if m.get("modal_per_mode"):
            L += ["| " + " | ".join(f"modal {m['modal_per_mode'].get(md, 0):.0%}" for md in m["per_mode"]) + " |"]
        if "final_on_tonic" in m:
            L += ["| " + " | ".join(f"final {v:.0%}" for v in m["final_on_tonic"].values()) + " |", ""]
        if m.get("modal_per_mode"):
            import json
            validation = Path(__file__).resolve().parent / "modal_analysis.json"
            val = json.loads(validation.read_text()).get("balanced", {}).get("modal_exact") if validation.exists() else None
            L += [f"Row 'modal': modal analysis (symphony.music.modes, validated on labelled real tunes: "
                  f"{'see modal_analysis.md' if val is None else f'{val:.0%} exact tonic and mode, mean over label classes'}), "
                  "which names tonic and mode among all 12 modes from the pitch collection and the final: "
                  f"**{m.get('modal_accuracy', 0):.0%}** exactly the requested tonic and mode, "
                  f"{m.get('modal_equivalent_accuracy', 0):.0%} with the same tonic and one scale inside the other "
                  "(G gong ~ G major). The sampler is asked to end on the final, so the tonic is close to trivially "
                  "right; the mode is named only when the piece sounds the mode's characteristic degree (a dorian "
                  "piece without its sixth fits minor as well and is named minor). It shows what the file carries, "
                  "not that a listener hears the mode.", ""]
        if m.get("chinese_collection_final_accuracy") is not None:
            L += ["", f"Chinese modes (gong shang jue zhi yu): music21's third rule above "
                  f"**{m['chinese_key_accuracy']:.0%}**; the check generation applies to them (the written "
                  "file ends on the mode's tonic and at least 75% of its duration lies in the five notes, "
                  "`tasks.generate.pentatonic_matches`, which accepts 96% of the corpus's real Chinese tunes "
                  f"and music21 41%): **{m['chinese_collection_final_accuracy']:.0%}** ("
                  + ", ".join(f"{md} {v:.0%}" for md, v in m["collection_final_per_mode"].items()) + ").", ""]
        if m.get("colour_sounded"):
            L += ["Church modes' characteristic note (dorian's major sixth, phrygian's minor second, lydian's "
                  "raised fourth, mixolydian's minor seventh, locrian's diminished fifth; `theory.CHARACTERISTIC`) "
                  "in the melody, at least twice: "
                  + ", ".join(f"{md} {v:.0%} (share of notes {m['colour_share'][md]:.1%})"
                              for md, v in m["colour_sounded"].items())
                  + ". Real tunes labelled in these modes (O'Neill's, Ryan's): dorian 90% (7.8%), mixolydian 83% "
                  "(9.3%), phrygian 5/5 (10%), lydian 6/6 (5.9%). Without the note a church mode is only the "
                  "major or minor scale with one degree avoided (`generation.MODAL_COLOUR`).", ""]
            L += ["Top row: music21's key analysis agrees; bottom row: the last melody note is the mode's final "
                  "(a Chinese tune in a major or minor key ends where the model takes it, `Style.free_final`). "
                  "Jue and locrian lack the perfect fifth above their final, which both of music21's profiles "
                  "expect, so their notes analyse as a major key a minor sixth above the final (E jue as C major, its gong; B locrian as G major) even with the final weighted six times "
                  "(benchmarks/NOTES.md). "
                  "Heard instead (music21's key on the requested scale's degrees): "
                  + "; ".join(f"{md}: {', '.join(sorted(set(h)))}" for md, h in m["heard_instead"].items()) + "."]
        L += [""]
    ch = c.get("chords")
    if ch:
        L += [f"**Chords.** {ch['n']} pieces with a random progression (Roman numerals, one or two chords a "
              f"bar): melody notes that start on a beat and are tones of the chord sounding there: "
              f"**{ch['chord_tone_rate']:.1%}** of {ch['beat_notes']} (target 85%); chord symbols written "
              f"into the file: {ch['symbols_written']:.0%} of pieces.", ""]
    f = c.get("form")
    if f:
        L += [f"**Form.** {f['n']} pieces, forms {', '.join(f['per_form'])}: repeated bars identical to "
              f"their first statement **{f['repeated_bars_identical']:.1%}** of {f['repeated_bars']} "
              f"(pieces with every repeat present: {f['pieces_with_all_repeats']:.0%}); last note on the "
              f"tonic **{f['ends_on_tonic']:.0%}**; sections ending on a note of the tonic triad (the "
              f"last on the tonic): {f['section_cadences']:.0%}.", ""]
    e = c.get("emotion")
    if e:
        L += [f"**Emotion.** {e['n_per_quadrant']} pieces per valence/arousal quadrant (|v|, |a| drawn in "
              "0.3-1, styles in turn), estimated back from the MIDI file by `symphony.emotion.estimate_emotion` "
              "(mode analysed by music21, register, notes per second, loudness; docs/emotion.md):", "",
              "| quadrant | landed there |", "|---|---|"]
        L += [f"| {q} | **{v:.0%}** |" for q, v in e["quadrant_hit"].items()]
        L += ["", "Per style: " + ", ".join(f"{s} {v:.0%}" for s, v in e["per_style"].items()) + ".", "",
              f"Response along each axis (other axis 0; {e.get('pieces_per_point', 16)} pieces per point, read back):"]
        for axis in ("valence", "arousal"):
            L += ["", f"| {axis} | bpm | major share | mean pitch | notes/s |", "|---|---|---|---|---|"]
            L += [f"| {r[axis]:+.1f} | {r['bpm']:.0f} | {r['major_share']:.0%} | {r['mean_pitch']:.1f} | {r['notes_per_s']:.2f} |"
                  for r in e[f"grid_{axis}"]]
        L += ["", "Monotone: " + ", ".join(f"{k.replace('_', ' ')} {'yes' if v else '**no**'}" for k, v in e["monotone"].items()) + ".", ""]
    d = c.get("density_range")
    if d:
        L += ["**Density and range.** Melody notes per beat against `--density`: "
              + ", ".join(f"{r['density']:+.1f} → {r['notes_per_beat']:.2f}" for r in d["density"])
              + f" (monotone: {'yes' if d['density_monotone'] else '**no**'}). `--range`: "
              f"**{d['range_notes_inside']:.1%}** of melody notes inside the requested range "
              f"({d['range_pieces']} pieces).", ""]
    return L


def _fusion_md(f: dict) -> list[str]:
    L = ["## Style fusion", "", _meta(f), "",
         f"`--style a:w,b:1-w` for w = 0 ... 1, key and meter fixed per pair, {f['n_per_point']} 16-bar pieces per "
         f"point, read back from MIDI and judged by the style classifier trained on real pieces ({f['classifier']}). "
         "Mean probability of style a, and the share of pieces classified as a / as b:", ""]
    for p in f["pairs"]:
        L += [f"**{p['a']} × {p['b']}** ({p['key']}, {p['meter']}): monotone in w: "
              f"{'yes' if p['monotone_p_a'] else '**no**'}", "",
              "| w(" + p["a"] + ") | P(" + p["a"] + ") | classified " + p["a"] + " | classified " + p["b"] + " |",
              "|---|---|---|---|"]
        L += [f"| {r['weight_a']:.2f} | {r['p_a']:.2f} | {r['share_a']:.0%} | {r['share_b']:.0%} |" for r in p["rows"]]
        L.append("")
    return L


def _editing_md(e: dict) -> list[str]:
    L = ["## Editing: harmonize, continue (held-out music)", "", _meta(e), ""]
    a = e.get("satb")
    if a:
        g, b = a["generated"], a["bach"]
        t = a["model_s_per_16_bars"]
        L += [f"**SATB harmonization** of the soprano lines of {a['n']} held-out Bach chorales (test split): "
              "the model writes alto, tenor and bass under the given soprano; the same measures on Bach's own "
              "four parts for the same chorales (`symphony/evaluation/voiceleading.py`: slices at every onset, "
              "parallels = both voices move the same way with a fifth or an octave/unison, mod 12, before and after).", "",
              "| | parallel 5ths / 100 transitions | parallel 8ves / 100 | all parallels / 100 | crossings / 100 slices "
              "| range violations / 100 notes | transitions |", "|---|---|---|---|---|---|---|"]
        for label, r in (("generated", g), ("Bach", b)):
            L.append(f"| {label} | {r['parallel_fifths_per_100']:.2f} | {r['parallel_octaves_per_100']:.2f} | "
                     f"**{r['parallels_per_100']:.2f}** | **{r['crossings_per_100_slices']:.1f}** | "
                     f"{r['range_violations_per_100_notes']:.2f} | {r['transitions']} |")
        if t.get("median") is not None:
            L += ["", f"Model time per 16 bars of four-part harmonization: median **{t['median']:.2f} s** "
                  f"(max {t['max']:.2f} s; target ≤ {t['target']:.0f} s)."]
        L.append("")
    lk = e.get("atb_likelihood")
    if lk:
        orders = sorted(int(k[5:-len("_nll_per_atb_note")]) for k in lk if k.startswith("ngram") and k.endswith("_nll_per_atb_note"))
        L += [f"**Alto, tenor and bass given the soprano** (held-out likelihood, nats per A/T/B note, lower is "
              f"better): the note tokens of voices 1-3 of {lk['pieces']} test chorales ({lk['atb_notes']} notes); in "
              "the tokens each bar's soprano comes first, so every lower-voice note is predicted knowing the soprano "
              f"up to the end of its bar. Kneser-Ney baselines trained on the {lk['train_pieces']} chorales of the "
              "train split, scored on the same tokens.", "",
              "| model | " + " | ".join(f"{o}-gram KN" for o in orders) + " | "
              + " | ".join(f"model / {o}-gram" for o in orders) + " |",
              "|---|" + "---|" * (2 * len(orders)),
              f"| {lk['model_nll_per_atb_note']:.3f} | "
              + " | ".join(f"{lk[f'ngram{o}_nll_per_atb_note']:.3f}" for o in orders) + " | "
              + " | ".join(f"**{lk[f'ratio_vs_ngram{o}']:.1%}**" for o in orders) + " |", ""]
    c = e.get("chords")
    if c:
        L += [f"**Chord harmonization** (`edit harmonize --as chords`) of held-out folk melodies ({c['n_per_style']} "
              f"per style, monophonic, test split): melody notes struck on a beat (beats of the bars as written) that "
              f"are tones of the chosen chord: **{c['chord_tone_rate']:.1%}** of {c['beat_notes']} "
              f"(target {c['target']:.0%}).", "",
              "| style | pieces | beat notes | chord tones | chords per bar | median s |", "|---|---|---|---|---|---|"]
        for st, v in c["per_style"].items():
            ms = f"{v['median_seconds']:.3f}" if v.get("median_seconds") is not None else "-"
            L.append(f"| {st} | {v['pieces']} | {v['beat_notes']} | **{v['chord_tone_rate']:.1%}** | "
                     f"{v['chords_per_bar']:.2f} | {ms} |")
        L.append("")
    k = e.get("continue")
    if k:
        parts = [f"{label} ({v['pieces']}): median **{v['median_model_s']:.2f} s** (max {v['max_model_s']:.2f} s, "
                 f"{v['notes_per_s']:.0f} notes/s)" for label, v in (("melodies", k.get("melody")), ("chorales", k.get("chorale"))) if v]
        L += [f"**Continue** {k['bars_added']} bars after held-out pieces, model time: " + "; ".join(parts) + ".", ""]
    return L

