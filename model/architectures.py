"""Text-to-video pipelines built in code with random weights, at full size or small: nothing is downloaded.

For each pipeline the built-in presets use, this module holds the configs of its components as the model
repos ship them (the `config.json` of each component folder: "full"), and the same classes at tiny widths
and depths ("small": a CPU renders the default clip's size in seconds). `build_pipeline` turns a preset into
such a pipeline, its weights random but materialised directly in the requested dtype on the requested device:
the modules are made on the meta device first, so a 14B transformer never needs a float32 copy anywhere.

The frames such a pipeline renders are noise. What it proves is the rest: that the real architecture fits a
GPU under each speed option, how fast it steps and how much memory it takes (model.selfcheck).
"""

from __future__ import annotations

import functools
import logging
import string
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal, get_args

import diffusers
import torch
from accelerate import init_empty_weights

# From their own modules: what the package's top level shows a type checker are its placeholder
# classes for a missing torch, not these.
from diffusers.configuration_utils import ConfigMixin
from diffusers.models.autoencoders.autoencoder_kl_cogvideox import AutoencoderKLCogVideoX
from diffusers.models.autoencoders.autoencoder_kl_ltx import AutoencoderKLLTXVideo
from diffusers.models.autoencoders.autoencoder_kl_wan import AutoencoderKLWan
from diffusers.models.modeling_utils import ModelMixin
from diffusers.models.transformers.cogvideox_transformer_3d import CogVideoXTransformer3DModel
from diffusers.models.transformers.transformer_ltx import LTXVideoTransformer3DModel
from diffusers.models.transformers.transformer_wan import WanTransformer3DModel
from diffusers.pipelines.pipeline_utils import DiffusionPipeline
from diffusers.schedulers.scheduling_ddim_cogvideox import CogVideoXDDIMScheduler
from diffusers.schedulers.scheduling_flow_match_euler_discrete import FlowMatchEulerDiscreteScheduler
from diffusers.schedulers.scheduling_unipc_multistep import UniPCMultistepScheduler
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
from transformers import (
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerFast,
    T5Config,
    T5EncoderModel,
    UMT5Config,
    UMT5EncoderModel,
)

from model.presets import Preset

log = logging.getLogger(__name__)

Size = Literal["full", "small"]
SIZES: tuple[Size, ...] = get_args(Size)
"""full: the architecture the preset's repo ships; small: the same classes, tiny, for a CPU."""

Family = Literal["wan", "ltx", "cogvideox"]

WEIGHTS_SEED = 20250101
"""Every build draws the same random weights (for a given size, dtype and drawing device)."""

PAD, EOS, UNK = "<pad>", "</s>", "<unk>"
SMALL_TEXT_VOCAB = 160
"""The small text encoders' vocabulary: a T5 sentencepiece model of 60 pieces plus T5's 100 extra ids."""


@dataclass(frozen=True, slots=True)
class Architecture:
    """One pipeline's components as configs: the keyword arguments of each component's class."""

    name: str
    family: Family
    text_encoder: Mapping[str, Any]
    transformer: Mapping[str, Any]
    vae: Mapping[str, Any]
    scheduler: Mapping[str, Any]
    max_prompt_tokens: int
    """The tokenizer's model_max_length in the repo (what the pipeline pads prompts to by default)."""


@dataclass(frozen=True, slots=True)
class _Classes:
    text_config: type[PretrainedConfig]
    text_encoder: type[PreTrainedModel]
    transformer: type[ModelMixin]
    vae: type[ModelMixin]
    scheduler: type[ConfigMixin]


_CLASSES: Mapping[Family, _Classes] = MappingProxyType(
    {
        "wan": _Classes(UMT5Config, UMT5EncoderModel, WanTransformer3DModel, AutoencoderKLWan, UniPCMultistepScheduler),
        "ltx": _Classes(
            T5Config, T5EncoderModel, LTXVideoTransformer3DModel, AutoencoderKLLTXVideo, FlowMatchEulerDiscreteScheduler
        ),
        "cogvideox": _Classes(
            T5Config, T5EncoderModel, CogVideoXTransformer3DModel, AutoencoderKLCogVideoX, CogVideoXDDIMScheduler
        ),
    }
)

PIPELINE_FAMILIES: Mapping[str, Family] = MappingProxyType(
    {
        "WanPipeline": "wan",
        "LTXPipeline": "ltx",
        "LTXConditionPipeline": "ltx",  # the same components as LTXPipeline
        "CogVideoXPipeline": "cogvideox",
    }
)
"""The diffusers pipeline classes this module builds, by the components they take."""


class ArchitectureError(LookupError):
    """No architecture is known for this preset at this size; the message says which are."""


# ---------------------------------------------------------------------------------------------------------
# Full size: the config.json of each component folder in the model repos (keys the repos leave out take the
# class defaults, as from_pretrained does). Parameter counts are in tests/model/test_selfcheck.py.

_T5_XXL_SHAPE: Mapping[str, Any] = MappingProxyType(
    {
        "d_model": 4096,
        "d_kv": 64,
        "d_ff": 10240,
        "num_layers": 24,
        "num_decoder_layers": 24,
        "num_heads": 64,
        "relative_attention_num_buckets": 32,
        "relative_attention_max_distance": 128,
        "dropout_rate": 0.1,
        "layer_norm_epsilon": 1e-6,
        "initializer_factor": 1.0,
        "feed_forward_proj": "gated-gelu",
        "is_encoder_decoder": True,
        "tie_word_embeddings": False,
        "pad_token_id": 0,
        "eos_token_id": 1,
        "decoder_start_token_id": 0,
    }
)

UMT5_XXL = MappingProxyType({**_T5_XXL_SHAPE, "vocab_size": 256384, "scalable_attention": True})
"""google/umt5-xxl, Wan's text_encoder/config.json: 5.68 B parameters in the encoder."""

T5_V1_1_XXL = MappingProxyType({**_T5_XXL_SHAPE, "vocab_size": 32128})
"""google/t5-v1_1-xxl, the text_encoder/config.json of CogVideoX and LTX-Video: 4.76 B in the encoder."""

_WAN_TRANSFORMER: Mapping[str, Any] = MappingProxyType(
    {
        "patch_size": (1, 2, 2),
        "attention_head_dim": 128,
        "in_channels": 16,
        "out_channels": 16,
        "text_dim": 4096,
        "freq_dim": 256,
        "cross_attn_norm": True,
        "qk_norm": "rms_norm_across_heads",
        "eps": 1e-6,
        "image_dim": None,
        "added_kv_proj_dim": None,
        "rope_max_seq_len": 1024,
    }
)

# fmt: off
WAN_LATENTS_MEAN = (
    -0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508,
    0.4134, -0.0715, 0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921,
)
WAN_LATENTS_STD = (
    2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743,
    3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.9160,
)
# fmt: on

WAN_VAE: Mapping[str, Any] = MappingProxyType(
    {
        "base_dim": 96,
        "z_dim": 16,
        "dim_mult": (1, 2, 4, 4),
        "num_res_blocks": 2,
        "attn_scales": (),
        "temperal_downsample": (False, True, True),
        "dropout": 0.0,
        "latents_mean": WAN_LATENTS_MEAN,
        "latents_std": WAN_LATENTS_STD,
    }
)
"""Wan 2.1's VAE (both sizes ship the same one): 0.127 B parameters."""

WAN_SCHEDULER: Mapping[str, Any] = MappingProxyType(
    {
        "num_train_timesteps": 1000,
        "prediction_type": "flow_prediction",
        "use_flow_sigmas": True,
        "flow_shift": 3.0,
        "solver_order": 2,
        "solver_type": "bh2",
        "final_sigmas_type": "zero",
    }
)
"""UniPC with flow sigmas, as Wan-AI's Diffusers repos ship it (the preset's flow_shift replaces 3.0)."""

WAN_1_3B = Architecture(
    name="Wan 2.1 T2V 1.3B",
    family="wan",
    text_encoder=UMT5_XXL,
    transformer=MappingProxyType({**_WAN_TRANSFORMER, "num_attention_heads": 12, "ffn_dim": 8960, "num_layers": 30}),
    vae=WAN_VAE,
    scheduler=WAN_SCHEDULER,
    max_prompt_tokens=512,
)
WAN_14B = Architecture(
    name="Wan 2.1 T2V 14B",
    family="wan",
    text_encoder=UMT5_XXL,
    transformer=MappingProxyType({**_WAN_TRANSFORMER, "num_attention_heads": 40, "ffn_dim": 13824, "num_layers": 40}),
    vae=WAN_VAE,
    scheduler=WAN_SCHEDULER,
    max_prompt_tokens=512,
)

LTX_2B_TRANSFORMER: Mapping[str, Any] = MappingProxyType(
    {
        "in_channels": 128,
        "out_channels": 128,
        "patch_size": 1,
        "patch_size_t": 1,
        "num_attention_heads": 32,
        "attention_head_dim": 64,
        "cross_attention_dim": 2048,
        "num_layers": 28,
        "activation_fn": "gelu-approximate",
        "qk_norm": "rms_norm_across_heads",
        "norm_elementwise_affine": False,
        "norm_eps": 1e-6,
        "caption_channels": 4096,
        "attention_bias": True,
        "attention_out_bias": True,
    }
)
"""LTX-Video 2B (0.9.0 to 0.9.5 share it): 1.92 B parameters."""

LTX_0_9_0 = Architecture(
    name="LTX-Video 2B 0.9.0",
    family="ltx",
    text_encoder=T5_V1_1_XXL,
    transformer=LTX_2B_TRANSFORMER,
    vae=MappingProxyType(
        {
            "in_channels": 3,
            "out_channels": 3,
            "latent_channels": 128,
            "block_out_channels": (128, 256, 512, 512),
            "layers_per_block": (4, 3, 3, 3, 4),
            "spatio_temporal_scaling": (True, True, True, False),
            "patch_size": 4,
            "patch_size_t": 1,
            "resnet_norm_eps": 1e-6,
            "scaling_factor": 1.0,
            "encoder_causal": True,
            "decoder_causal": False,
        }
    ),
    scheduler=MappingProxyType(
        {
            "num_train_timesteps": 1000,
            "shift": 1.0,
            "use_dynamic_shifting": True,
            "base_shift": 0.95,
            "max_shift": 2.05,
            "base_image_seq_len": 1024,
            "max_image_seq_len": 4096,
            "shift_terminal": 0.1,
        }
    ),
    max_prompt_tokens=128,
)
LTX_0_9_5 = Architecture(
    name="LTX-Video 2B 0.9.5",
    family="ltx",
    text_encoder=T5_V1_1_XXL,
    transformer=LTX_2B_TRANSFORMER,
    # The timestep-conditioned VAE of 0.9.5: 1.25 B parameters, most of them in the encoder.
    vae=MappingProxyType(
        {
            "in_channels": 3,
            "out_channels": 3,
            "latent_channels": 128,
            "block_out_channels": (128, 256, 512, 1024, 2048),
            "down_block_types": ("LTXVideo095DownBlock3D",) * 4,
            "decoder_block_out_channels": (256, 512, 1024),
            "layers_per_block": (4, 6, 6, 2, 2),
            "decoder_layers_per_block": (5, 5, 5, 5),
            "spatio_temporal_scaling": (True, True, True, True),
            "decoder_spatio_temporal_scaling": (True, True, True),
            "decoder_inject_noise": (False, False, False, False),
            "downsample_type": ("spatial", "temporal", "spatiotemporal", "spatiotemporal"),
            "upsample_residual": (True, True, True),
            "upsample_factor": (2, 2, 2),
            "timestep_conditioning": True,
            "patch_size": 4,
            "patch_size_t": 1,
            "resnet_norm_eps": 1e-6,
            "scaling_factor": 1.0,
            "encoder_causal": True,
            "decoder_causal": False,
            "spatial_compression_ratio": 32,
            "temporal_compression_ratio": 8,
        }
    ),
    # 0.9.5 dropped the dynamic shift of 0.9.0/0.9.1: a plain flow-matching Euler schedule.
    scheduler=MappingProxyType({"num_train_timesteps": 1000, "shift": 1.0, "use_dynamic_shifting": False}),
    max_prompt_tokens=128,
)

COGVIDEOX_2B = Architecture(
    name="CogVideoX-2b",
    family="cogvideox",
    text_encoder=T5_V1_1_XXL,
    transformer=MappingProxyType(
        {
            "num_attention_heads": 30,
            "attention_head_dim": 64,
            "in_channels": 16,
            "out_channels": 16,
            "flip_sin_to_cos": True,
            "freq_shift": 0,
            "time_embed_dim": 512,
            "text_embed_dim": 4096,
            "num_layers": 30,
            "dropout": 0.0,
            "attention_bias": True,
            "sample_width": 90,
            "sample_height": 60,
            "sample_frames": 49,
            "patch_size": 2,
            "temporal_compression_ratio": 4,
            "max_text_seq_length": 226,
            "activation_fn": "gelu-approximate",
            "timestep_activation_fn": "silu",
            "norm_elementwise_affine": True,
            "norm_eps": 1e-5,
            "spatial_interpolation_scale": 1.875,
            "temporal_interpolation_scale": 1.0,
            "use_rotary_positional_embeddings": False,
        }
    ),
    vae=MappingProxyType(
        {
            "in_channels": 3,
            "out_channels": 3,
            "down_block_types": ("CogVideoXDownBlock3D",) * 4,
            "up_block_types": ("CogVideoXUpBlock3D",) * 4,
            "block_out_channels": (128, 256, 256, 512),
            "latent_channels": 16,
            "layers_per_block": 3,
            "act_fn": "silu",
            "norm_eps": 1e-6,
            "norm_num_groups": 32,
            "temporal_compression_ratio": 4,
            "sample_height": 480,
            "sample_width": 720,
            "scaling_factor": 1.15258426,
            "force_upcast": True,
            "use_quant_conv": False,
            "use_post_quant_conv": False,
        }
    ),
    scheduler=MappingProxyType(
        {
            "num_train_timesteps": 1000,
            "beta_start": 0.00085,
            "beta_end": 0.012,
            "beta_schedule": "scaled_linear",
            "clip_sample": False,
            "set_alpha_to_one": True,
            "steps_offset": 0,
            "prediction_type": "v_prediction",
            "timestep_spacing": "trailing",
            "rescale_betas_zero_snr": True,
            "snr_shift_scale": 3.0,
        }
    ),
    max_prompt_tokens=226,
)

FULL: Mapping[str, Architecture] = MappingProxyType(
    {
        "Wan-AI/Wan2.1-T2V-1.3B-Diffusers": WAN_1_3B,
        "Wan-AI/Wan2.1-T2V-14B-Diffusers": WAN_14B,
        "Lightricks/LTX-Video": LTX_0_9_0,
        "Lightricks/LTX-Video-0.9.5": LTX_0_9_5,
        "THUDM/CogVideoX-2b": COGVIDEOX_2B,
    }
)
"""Full-size architectures by the repo whose weights they stand in for."""

# ---------------------------------------------------------------------------------------------------------
# Small: the same classes and compression factors, widths and depths cut to what a CPU renders in seconds.

_SMALL_TEXT: Mapping[str, Any] = MappingProxyType(
    {
        "vocab_size": SMALL_TEXT_VOCAB,
        "d_model": 32,
        "d_kv": 8,
        "d_ff": 64,
        "num_layers": 2,
        "num_decoder_layers": 2,
        "num_heads": 4,
        "relative_attention_num_buckets": 8,
        "relative_attention_max_distance": 32,
        "dropout_rate": 0.0,
        "feed_forward_proj": "gated-gelu",
        "is_encoder_decoder": True,
        "tie_word_embeddings": False,
        "pad_token_id": 0,
        "eos_token_id": 1,
        "decoder_start_token_id": 0,
    }
)

SMALL: Mapping[Family, Architecture] = MappingProxyType(
    {
        "wan": Architecture(
            name="Wan 2.1 T2V, small",
            family="wan",
            text_encoder=MappingProxyType({**_SMALL_TEXT, "scalable_attention": True}),
            transformer=MappingProxyType(
                {
                    **_WAN_TRANSFORMER,
                    "num_attention_heads": 2,
                    "attention_head_dim": 12,
                    "text_dim": 32,
                    "ffn_dim": 32,
                    "num_layers": 2,
                }
            ),
            vae=MappingProxyType({**WAN_VAE, "base_dim": 4, "dim_mult": (1, 1, 1, 1), "num_res_blocks": 1}),
            scheduler=WAN_SCHEDULER,
            max_prompt_tokens=512,
        ),
        "ltx": Architecture(
            name="LTX-Video 0.9.5, small",
            family="ltx",
            text_encoder=_SMALL_TEXT,
            transformer=MappingProxyType(
                {
                    **LTX_2B_TRANSFORMER,
                    "in_channels": 16,
                    "out_channels": 16,
                    "num_attention_heads": 2,
                    "attention_head_dim": 16,
                    "cross_attention_dim": 32,
                    "num_layers": 2,
                    "caption_channels": 32,
                }
            ),
            vae=MappingProxyType(
                {
                    **LTX_0_9_5.vae,
                    "latent_channels": 16,
                    "block_out_channels": (8, 16, 32, 64, 128),
                    "decoder_block_out_channels": (8, 16, 32),
                    "layers_per_block": (1, 1, 1, 1, 1),
                    "decoder_layers_per_block": (1, 1, 1, 1),
                }
            ),
            scheduler=LTX_0_9_5.scheduler,
            max_prompt_tokens=128,
        ),
        "cogvideox": Architecture(
            name="CogVideoX-2b, small",
            family="cogvideox",
            text_encoder=_SMALL_TEXT,
            transformer=MappingProxyType(
                {
                    **COGVIDEOX_2B.transformer,
                    "num_attention_heads": 2,
                    "attention_head_dim": 16,
                    "time_embed_dim": 32,
                    "text_embed_dim": 32,
                    "num_layers": 2,
                }
            ),
            vae=MappingProxyType(
                {
                    **COGVIDEOX_2B.vae,
                    "block_out_channels": (8, 8, 16, 16),
                    "layers_per_block": 1,
                    "norm_num_groups": 4,
                }
            ),
            scheduler=COGVIDEOX_2B.scheduler,
            max_prompt_tokens=226,
        ),
    }
)
"""Small architectures by family: any preset whose pipeline is one of PIPELINE_FAMILIES has one."""


def architecture_for(preset: Preset, size: Size) -> Architecture:
    """The preset's architecture at size; ArchitectureError when none is known."""
    family = PIPELINE_FAMILIES.get(preset.pipeline)
    if family is None:
        raise ArchitectureError(
            f"no architecture is known for {preset.pipeline} (preset {preset.id}); "
            f"this builds {', '.join(PIPELINE_FAMILIES)}"
        )
    if size == "small":
        return SMALL[family]
    architecture = FULL.get(preset.repo)
    if architecture is None:
        raise ArchitectureError(
            f"no full-size architecture is known for {preset.repo} (preset {preset.id}); "
            f"the known repos are {', '.join(FULL)}; --size small builds any {preset.pipeline}"
        )
    if architecture.family != family:
        raise ArchitectureError(
            f"preset {preset.id} names {preset.pipeline}, but {preset.repo} is {architecture.name} ({family} needed)"
        )
    return architecture


# ---------------------------------------------------------------------------------------------------------
# Building.


def build_pipeline(
    preset: Preset,
    size: Size,
    device: torch.device,
    dtype: torch.dtype,
    vae_dtype: torch.dtype | None = None,
    *,
    draw_on: torch.device | None = None,
    seed: int = WEIGHTS_SEED,
) -> DiffusionPipeline:
    """The preset's pipeline at size with random weights in dtype (the VAE in vae_dtype), resting on device.

    draw_on is where the random numbers are drawn (default: device). A CUDA GPU draws billions of them in
    a blink where a CPU takes minutes, so a pipeline that must rest in CPU memory (for offloading) can still
    be drawn on the GPU, a tensor at a time. Steps 2 to 8 of model.pipeline.load_pipeline are the caller's:
    this returns what step 1 would.
    """
    architecture = architecture_for(preset, size)
    classes = _CLASSES[architecture.family]
    generator = torch.Generator(draw_on or device).manual_seed(seed)
    log.info(
        "building %s with random weights in %s on %s",
        architecture.name,
        str(dtype).removeprefix("torch."),
        device,
    )

    # 1. Tokenizer: built in code over letters and digits, its vocabulary as large as the text encoder's.
    tokenizer = build_tokenizer(architecture.text_encoder["vocab_size"], architecture.max_prompt_tokens)

    # 2. The models, made on the meta device and given random weights where they will rest. Like
    #    from_pretrained, the layers each class names as precision-sensitive stay in float32.
    text_encoder = _text_encoder(classes, architecture)
    _random_weights(text_encoder, device, dtype, _text_encoder_fp32_modules(text_encoder, dtype), generator)
    transformer = _model(classes.transformer, architecture.transformer)
    _random_weights(transformer, device, dtype, transformer._keep_in_fp32_modules or (), generator)
    vae = _model(classes.vae, architecture.vae)
    _random_weights(vae, device, vae_dtype or dtype, vae._keep_in_fp32_modules or (), generator)

    # 3. The scheduler the repo ships.
    scheduler = classes.scheduler.from_config(dict(architecture.scheduler))

    # 4. The preset's pipeline class around them.
    pipeline_class: Callable[..., DiffusionPipeline] = getattr(diffusers, preset.pipeline)
    return pipeline_class(
        tokenizer=tokenizer, text_encoder=text_encoder, transformer=transformer, vae=vae, scheduler=scheduler
    )


def count_parameters(architecture: Architecture) -> dict[str, int]:
    """Parameters per component (text_encoder, transformer, vae), counted on the meta device: no memory."""
    classes = _CLASSES[architecture.family]
    with torch.device("meta"):
        made: dict[str, torch.nn.Module] = {
            "text_encoder": _text_encoder(classes, architecture),
            "transformer": _model(classes.transformer, architecture.transformer),
            "vae": _model(classes.vae, architecture.vae),
        }
    return {name: sum(parameter.numel() for parameter in module.parameters()) for name, module in made.items()}


@functools.lru_cache(maxsize=4)
def build_tokenizer(vocab_size: int, max_length: int) -> PreTrainedTokenizerFast:
    """A T5-shaped WordPiece tokenizer (pad 0, eos 1) over letters and digits, as model.tiny's, with unused
    `<extra_id_N>` entries up to vocab_size. Accents are stripped and anything else becomes <unk>.

    Cached: a 256k vocabulary takes seconds to build, and a tokenizer keeps no state between prompts.
    """
    symbols = list(string.ascii_lowercase + string.digits)
    vocabulary = [PAD, EOS, UNK, *symbols, *(f"##{s}" for s in symbols), *string.punctuation]
    if vocab_size < len(vocabulary):
        raise ValueError(f"a vocabulary of {vocab_size} is smaller than the {len(vocabulary)} symbols tokenized")
    vocabulary += [f"<extra_id_{n}>" for n in range(vocab_size - len(vocabulary))]
    tokenizer = Tokenizer(models.WordPiece(vocab={token: i for i, token in enumerate(vocabulary)}, unk_token=UNK))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.NFKD(), normalizers.StripAccents(), normalizers.Lowercase()]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.post_processor = processors.TemplateProcessing(single=f"$A {EOS}", special_tokens=[(EOS, 1)])
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token=PAD, eos_token=EOS, unk_token=UNK, model_max_length=max_length
    )


# diffusers' models and schedulers take their arguments through an untyped decorator (register_to_config),
# so each construction below is Any until it is named.


def _text_encoder(classes: _Classes, architecture: Architecture) -> PreTrainedModel:
    # All on the meta device: a T5 has no buffers to keep, and accelerate's init_empty_weights would re-wrap
    # the embedding the encoder shares with the model (tied in post_init) into a second parameter.
    config = classes.text_config(**architecture.text_encoder)
    with torch.device("meta"):
        text_encoder: PreTrainedModel = classes.text_encoder(config)
    return text_encoder


def _model(model_class: type[ModelMixin], config: Mapping[str, Any]) -> ModelMixin:
    with _empty_weights():
        model: ModelMixin = model_class(**{key: _as_json(value) for key, value in config.items()})
    return model


def _as_json(value: Any) -> Any:
    """Tuples as lists, as a config.json gives them: some classes concatenate them with lists."""
    return [_as_json(item) for item in value] if isinstance(value, tuple) else value


def _empty_weights() -> Any:
    """Parameters on the meta device; buffers (rotary tables, positional embeddings) computed as usual, on the CPU
    unless an enclosing torch.device says meta."""
    return init_empty_weights(include_buffers=False)


def _text_encoder_fp32_modules(model: PreTrainedModel, dtype: torch.dtype) -> Collection[str]:
    """What transformers' from_pretrained keeps in float32: `_keep_in_fp32_modules` under float16 only (T5's
    feed-forward output, which overflows it), `_keep_in_fp32_modules_strict` under either half precision."""
    kept: set[str] = set()
    if dtype == torch.float16:
        kept.update(model._keep_in_fp32_modules or ())
    if dtype in (torch.float16, torch.bfloat16):
        kept.update(model._keep_in_fp32_modules_strict or ())
    return kept


def _random_weights(
    model: torch.nn.Module,
    device: torch.device,
    dtype: torch.dtype,
    keep_fp32: Collection[str],
    generator: torch.Generator,
) -> None:
    """Give model's meta parameters storage on device in dtype (float32 for those under a module named in
    keep_fp32, as diffusers' from_pretrained matches them) and fill it with random values; move its buffers
    to device (persistent ones in the same dtype, as a loaded state dict would be). In eval mode, frozen."""
    made: dict[int, tuple[torch.nn.Parameter, torch.nn.Parameter]] = {}  # tied parameters stay tied
    with torch.no_grad():
        for module_name, module in model.named_modules():
            for name, parameter in list(module._parameters.items()):
                if parameter is None:
                    continue
                if id(parameter) in made:
                    module._parameters[name] = made[id(parameter)][1]
                    continue
                full_name = f"{module_name}.{name}" if module_name else name
                tensor = torch.empty(parameter.shape, dtype=_dtype_for(full_name, dtype, keep_fp32), device=device)
                _fill(tensor, module, name, generator)
                replacement = torch.nn.Parameter(tensor, requires_grad=False)
                made[id(parameter)] = (parameter, replacement)
                module._parameters[name] = replacement
            for name, buffer in list(module._buffers.items()):
                if buffer is None:
                    continue
                if name in module._non_persistent_buffers_set or not buffer.is_floating_point():
                    module._buffers[name] = buffer.to(device)
                else:
                    full_name = f"{module_name}.{name}" if module_name else name
                    module._buffers[name] = buffer.to(device, _dtype_for(full_name, dtype, keep_fp32))
    model.eval()


def _dtype_for(full_name: str, dtype: torch.dtype, keep_fp32: Collection[str]) -> torch.dtype:
    return torch.float32 if any(part in keep_fp32 for part in full_name.split(".")) else dtype


def _fill(tensor: torch.Tensor, module: torch.nn.Module, name: str, generator: torch.Generator) -> None:
    """Values of the scale an initialiser gives: norms' gains one and biases zero; embeddings N(0, 1);
    other weights uniform in ±1/sqrt(fan-in), torch's default for linear and convolution layers. So
    activations stay finite through dozens of layers, also in float16 (checked at full size on a CPU: T5-XXL
    and CogVideoX-2b's transformer in float16, Wan 1.3B's in bfloat16)."""
    if name.endswith("bias") or name == "beta":
        tensor.zero_()
    elif "norm" in type(module).__name__.lower() or tensor.dim() <= 1:
        tensor.fill_(1.0)
    elif isinstance(module, torch.nn.Embedding):
        _draw(tensor, generator, lambda drawn: drawn.normal_(0.0, 1.0, generator=generator))
    else:
        bound = (tensor.numel() // tensor.shape[0]) ** -0.5
        _draw(tensor, generator, lambda drawn: drawn.uniform_(-bound, bound, generator=generator))


def _draw(tensor: torch.Tensor, generator: torch.Generator, sample: Callable[[torch.Tensor], object]) -> None:
    if tensor.device.type == generator.device.type:
        sample(tensor)
    else:  # drawn where the generator is, then copied over
        drawn = torch.empty(tensor.shape, dtype=tensor.dtype, device=generator.device)
        sample(drawn)
        tensor.copy_(drawn)
