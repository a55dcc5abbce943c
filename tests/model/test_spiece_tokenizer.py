"""A repo whose T5 tokenizer is a sentencepiece model only (`spiece.model`, no tokenizer.json), as LTX-Video's
and CogVideoX's are, loads through model.pipeline.load_pipeline.

transformers 5 converts such a tokenizer with sentencepiece and protobuf; without either it falls through to
a misleading "`tiktoken` is required" ValueError. Both are the project's dependencies for that reason.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import sentencepiece
import torch

from model.architectures import SMALL, build_pipeline
from model.pipeline import load_pipeline, render
from model.presets import PRESETS
from model.speed import SpeedOptions

CPU = torch.device("cpu")
T5_EXTRA_IDS = 100
"""<extra_id_0> to <extra_id_99>: T5's tokenizer adds them after the sentencepiece pieces."""

CORPUS = (
    "a red fox runs through deep snow at dusk",
    "waves crash on a rocky shore under a grey sky",
    "a small boat drifts past green hills in the morning light",
    "the camera pans over a quiet city street full of bicycles",
    "children fly bright kites above a windy beach",
    "an old train crosses a stone bridge over the river",
    "slow motion of rain drops falling on autumn leaves",
    "a chef slices fresh vegetables in a busy kitchen",
)


def train_spiece(folder: Path, pieces: int) -> Path:
    """A unigram sentencepiece model with T5's special ids (pad 0, eos 1, unk 2, no bos)."""
    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(CORPUS) + "\n")
    prefix = folder / "spiece"
    sentencepiece.SentencePieceTrainer.train(
        input=str(corpus),
        model_prefix=str(prefix),
        vocab_size=pieces,
        model_type="unigram",
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        minloglevel=2,
    )
    return prefix.with_suffix(".model")


# LTXConditionPipeline hands numpy a torch tensor (np.array(timesteps)); this torch's Tensor.__array__ takes no
# `copy` keyword, which numpy 2 warns about. Not ours to fix, and harmless: the values are the same.
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")
def test_a_spiece_only_t5_tokenizer_loads_and_renders(tmp_path: Path) -> None:
    ltx = PRESETS["ltx"]
    vocab = SMALL["ltx"].text_encoder["vocab_size"]
    spiece = train_spiece(tmp_path, pieces=vocab - T5_EXTRA_IDS)

    # A small LTX pipeline saved in diffusers' layout, its tokenizer then replaced by what the real repos ship.
    folder = tmp_path / "ltx-small"
    build_pipeline(ltx, "small", CPU, torch.float32).save_pretrained(folder)
    tokenizer_folder = folder / "tokenizer"
    for file in tokenizer_folder.iterdir():
        file.unlink()
    spiece.rename(tokenizer_folder / "spiece.model")
    (tokenizer_folder / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "T5Tokenizer",
                "extra_ids": T5_EXTRA_IDS,
                "model_max_length": 128,
                "pad_token": "<pad>",
                "eos_token": "</s>",
                "unk_token": "<unk>",
            }
        )
    )
    index_file = folder / "model_index.json"
    index = json.loads(index_file.read_text())
    index["tokenizer"] = ["transformers", "T5Tokenizer"]
    index_file.write_text(json.dumps(index))
    assert sorted(file.name for file in tokenizer_folder.iterdir()) == ["spiece.model", "tokenizer_config.json"]

    preset = dataclasses.replace(ltx, repo=str(folder))
    pipe = load_pipeline(preset, CPU, torch.float32, SpeedOptions(offload="none"))

    assert type(pipe.tokenizer).__name__ == "T5Tokenizer"
    assert len(pipe.tokenizer) == vocab == pipe.text_encoder.config.vocab_size
    ids = pipe.tokenizer("a red fox crosses the river").input_ids
    assert ids[-1] == 1 and 2 not in ids  # ends with </s>; every word in pieces, none unknown
    assert max(ids) < vocab

    clip = dataclasses.replace(ltx.default_clip("a red fox crosses the river"), frames=9, width=64, height=64, steps=1)
    frames = render(pipe, preset, clip, on_step=lambda *_: None, should_stop=lambda: False)
    assert frames.shape == (9, 64, 64, 3)
    assert np.isfinite(frames).all()
