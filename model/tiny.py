"""The `tiny` preset: a genuine diffusers WanPipeline with random weights, built in code.

Nothing is downloaded. Every build draws its weights from the same seed, so every process
(the bot's worker, the CLI, the tests) renders the same noise for the same prompt and seed.
The frames are meaningless; what matters is that the real WanPipeline code path runs.
"""

from __future__ import annotations

import string

import torch

# From their own modules: what the package's top level shows a type checker are its placeholder
# classes for a missing torch, not these.
from diffusers.models.autoencoders.autoencoder_kl_wan import AutoencoderKLWan
from diffusers.models.transformers.transformer_wan import WanTransformer3DModel
from diffusers.pipelines.wan.pipeline_wan import WanPipeline
from diffusers.schedulers.scheduling_unipc_multistep import UniPCMultistepScheduler
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast, UMT5Config, UMT5EncoderModel

WEIGHTS_SEED = 20250101

PAD, EOS, UNK = "<pad>", "</s>", "<unk>"
TEXT_DIM = 32
LATENT_CHANNELS = 16
MAX_PROMPT_TOKENS = 512  # what WanPipeline pads every prompt to


def build_tiny_pipeline() -> WanPipeline:
    """The tiny WanPipeline on the CPU in float32; the caller moves it where it should run."""
    tokenizer = build_tokenizer()
    # fork_rng: seed the weights without disturbing anyone else's random stream.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(WEIGHTS_SEED)
        text_encoder = _text_encoder(vocab_size=len(tokenizer))
        transformer = _transformer()
        vae = _vae()
    return WanPipeline(
        # diffusers annotates AutoTokenizer, a factory: the tokenizers it makes are never instances of it.
        tokenizer=tokenizer,  # type: ignore[arg-type]
        text_encoder=text_encoder,
        vae=vae,
        # diffusers annotates FlowMatchEulerDiscreteScheduler; Wan's own repo ships this one.
        scheduler=_scheduler(),  # type: ignore[arg-type]
        transformer=transformer,
    )


def build_tokenizer() -> PreTrainedTokenizerFast:
    """A T5-shaped WordPiece tokenizer (pad 0, eos 1) over letters and digits.

    Accents are stripped and anything else (CJK, emoji) becomes <unk>, so every prompt tokenizes.
    """
    symbols = list(string.ascii_lowercase + string.digits)
    vocab_list = [PAD, EOS, UNK, *symbols, *(f"##{s}" for s in symbols), *string.punctuation]
    tokenizer = Tokenizer(models.WordPiece(vocab={t: i for i, t in enumerate(vocab_list)}, unk_token=UNK))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.NFKD(), normalizers.StripAccents(), normalizers.Lowercase()]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.post_processor = processors.TemplateProcessing(single=f"$A {EOS}", special_tokens=[(EOS, 1)])
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        pad_token=PAD,
        eos_token=EOS,
        unk_token=UNK,
        model_max_length=MAX_PROMPT_TOKENS,
    )


def _text_encoder(vocab_size: int) -> UMT5EncoderModel:
    config = UMT5Config(
        vocab_size=vocab_size,
        d_model=TEXT_DIM,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        relative_attention_max_distance=32,
        dropout_rate=0.0,
        is_encoder_decoder=False,
        use_cache=False,
    )
    text_encoder = UMT5EncoderModel(config)
    text_encoder.eval()  # in place; transformers leaves its return unannotated
    return text_encoder


# diffusers' models and schedulers take their arguments through an untyped decorator
# (register_to_config), so each construction below is Any until it is named.


def _transformer() -> WanTransformer3DModel:
    transformer: WanTransformer3DModel = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=LATENT_CHANNELS,
        out_channels=LATENT_CHANNELS,
        text_dim=TEXT_DIM,
        freq_dim=256,
        ffn_dim=32,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
    )
    return transformer.eval()


def _vae() -> AutoencoderKLWan:
    # Same 8x spatial / 4x temporal compression as the real Wan VAE, with 3 base channels.
    vae: AutoencoderKLWan = AutoencoderKLWan(
        base_dim=3,
        z_dim=LATENT_CHANNELS,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
    )
    return vae.eval()


def _scheduler() -> UniPCMultistepScheduler:
    """The scheduler Wan-AI/Wan2.1-T2V-1.3B-Diffusers ships: UniPC, flow prediction, shift 3."""
    scheduler: UniPCMultistepScheduler = UniPCMultistepScheduler(
        num_train_timesteps=1000,
        prediction_type="flow_prediction",
        use_flow_sigmas=True,
        flow_shift=3.0,
        solver_order=2,
        solver_type="bh2",
        final_sigmas_type="zero",
    )
    return scheduler
