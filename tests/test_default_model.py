"""The shipped default model: it loads, was trained on the corpus, and composes every style."""
import pytest

import symphony
from symphony.model.checkpoint import DEFAULT_CHECKPOINT, load_checkpoint


def test_default_checkpoint_is_shipped_and_trained():
    assert DEFAULT_CHECKPOINT.is_file()
    assert DEFAULT_CHECKPOINT.stat().st_size < 50 * 2**20
    model, tok, meta = load_checkpoint()
    assert set(tok.config.styles) >= {"chinese", "german", "celtic", "chorale"}
    last = meta["history"][-1]
    # a trained model, far below the uniform guess (ln of the vocabulary, about 6.6 nats)
    assert last["nll_per_token"] < 1.6


@pytest.mark.parametrize("style,key,meter,voices", [
    ("chinese", "D gong", "2/4", 1), ("german", "F major", "3/4", 1),
    ("celtic", "E minor", "6/8", 1), ("chorale", "G major", "4/4", 4),
])
def test_default_model_composes_each_style(style, key, meter, voices):
    s = symphony.generate(style=style, key=key, meter=meter, bars=8, seed=11)
    assert s.full_bars == 8 and str(s.meter) == meter and str(s.key) == key and len(s.parts) == voices
    assert s.n_notes >= 8 * voices


def test_style_blend_differs_from_both_styles():
    """With the shipped model the blend writes music that neither pure style writes."""
    import symphony
    notes = lambda x: [(n.pitch, n.onset) for n in x.parts[0].notes]
    kw = dict(key="D major", meter="2/4", bars=8, seed=0)
    blend = notes(symphony.generate(style="chinese:0.6,celtic:0.4", **kw))
    assert blend != notes(symphony.generate(style="chinese", **kw))
    assert blend != notes(symphony.generate(style="celtic", **kw))
