"""A live preview of a clip while it renders: its middle frame, made from the current latents.

No VAE decode and nothing downloaded: each model family's latent channels map to RGB through a fixed linear
projection (three weights per channel and a bias), the cheap "latent to RGB" preview ComfyUI shows. The
numbers are published ones, and each table below says where it comes from and what was checked. They were
fitted on clean latents (ComfyUI's previewer is handed the sampler's prediction of the denoised sample, not
the sample itself), so a preview projects the clean middle frame the scheduler predicts after the step
(CleanMiddle), never the noisy latents the step leaves: with Wan's schedule those are still 92% noise after
10 of 50 steps.

Per preview the render thread does one latent frame's worth of GPU work: the clean frame is selected or
computed (a view, or a few element-wise operations on one frame), projected (one C→3 matmul over h×w latent
pixels), turned into bytes and copied to pinned CPU memory without waiting. Turning those few kilobytes into
a JPEG happens on a thread of its own, so the render never waits for it. A render takes at most one preview
every PREVIEW_INTERVAL_SECONDS, the first at the first step with a prediction (the first step for Wan's UniPC,
the second for the schedulers whose prediction takes two steps' latents); benchmarks/preview.py measures
what the previews slow a render. Only the families with a table (Wan 2.1, LTX-Video, CogVideoX) and a
scheduler CleanMiddle knows get previews; the `tiny` preset is a Wan architecture with Wan's 16 latent
channels and Wan's scheduler, so it has them.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import torch
from diffusers.pipelines.pipeline_utils import DiffusionPipeline
from diffusers.schedulers.scheduling_ddim_cogvideox import CogVideoXDDIMScheduler
from diffusers.schedulers.scheduling_flow_match_euler_discrete import FlowMatchEulerDiscreteScheduler
from diffusers.schedulers.scheduling_unipc_multistep import UniPCMultistepScheduler

from model.architectures import PIPELINE_FAMILIES, Family
from model.contract import ClipSpec
from model.encode import jpeg_bytes
from model.pipeline import execution_device

log = logging.getLogger(__name__)

PREVIEW_INTERVAL_SECONDS = 10.0
"""A render's previews are at least this far apart (the requester's status shows each one)."""
PREVIEW_LONG_SIDE = 256
"""Pixels on the preview's long side: the latent grid (1/8 or 1/32 of the clip's size) scaled to it."""
PREVIEW_QUANTISER = 8
"""MJPEG quantiser: ~15 KB for the noise of a first step at 256 px, a few KB once the picture forms."""

RGB = tuple[float, float, float]
CPU = torch.device("cpu")


@dataclass(frozen=True, slots=True)
class LatentProjection:
    """rgb = factors · latent + bias per pixel of a clean (denoised) latent, in [-1, 1] (ComfyUI's convention),
    for one family."""

    factors: tuple[RGB, ...]
    """One (R, G, B) row per latent channel."""
    bias: RGB
    fitted_scale: float | None = None
    """The VAE scaling factor of the latents the factors were fitted on, for a family whose pipelines multiply
    latents by their VAE's own factor (CogVideoX): latents scaled otherwise are rescaled first. None: the
    pipelines' latents are normalised per channel already (Wan, LTX)."""

    @property
    def channels(self) -> int:
        return len(self.factors)


# Wan 2.1: ComfyUI, comfy/latent_formats.py, class Wan21 (comfyanonymous/ComfyUI, read at commit 040a3243),
# latent_rgb_factors and latent_rgb_factors_bias. ComfyUI's previewer applies them to the sampler's predicted
# clean latent in the model's space, after its process_in, (latent - latents_mean) / latents_std with Wan's
# per-channel statistics, which are the WAN_LATENTS_MEAN and WAN_LATENTS_STD of model/architectures.py;
# diffusers' WanPipeline denoises latents normalised the same way (it undoes it before the VAE decodes), so
# they apply without rescaling to the clean latent its scheduler predicts (CleanMiddle), not to x_t.
WAN_2_1 = LatentProjection(
    factors=(
        (-0.1299, -0.1692, 0.2932),
        (0.0671, 0.0406, 0.0442),
        (0.3568, 0.2548, 0.1747),
        (0.0372, 0.2344, 0.1420),
        (0.0313, 0.0189, -0.0328),
        (0.0296, -0.0956, -0.0665),
        (-0.3477, -0.4059, -0.2925),
        (0.0166, 0.1902, 0.1975),
        (-0.0412, 0.0267, -0.1364),
        (-0.1293, 0.0740, 0.1636),
        (0.0680, 0.3019, 0.1128),
        (0.0032, 0.0581, 0.0639),
        (-0.1251, 0.0927, 0.1699),
        (0.0060, -0.0633, 0.0005),
        (0.3477, 0.2275, 0.2950),
        (0.1984, 0.0913, 0.1861),
    ),
    bias=(-0.1835, -0.0868, -0.3360),
)

# LTX-Video: ComfyUI, comfy/latent_formats.py, class LTXV (same file and commit), which ComfyUI uses for every
# LTX-Video release with the 128-channel VAE (0.9.x, ours is 0.9.5), and its previewer applies to the sampler's
# predicted clean latent. ComfyUI's LTXV latents are normalised by the VAE's per-channel statistics inside its VAE;
# diffusers' LTX pipelines denoise latents normalised by the same statistics (AutoencoderKLLTXVideo's latents_mean
# and latents_std, scaling factor 1.0), so they apply without rescaling to the clean latent the Euler step implies
# (CleanMiddle), not to x_t.
LTX_VIDEO = LatentProjection(
    factors=(
        (1.1202e-02, -6.3815e-04, -1.0021e-02),
        (8.6031e-02, 6.5813e-02, 9.5409e-04),
        (-1.2576e-02, -7.5734e-03, -4.0528e-03),
        (9.4063e-03, -2.1688e-03, 2.6093e-03),
        (3.7636e-03, 1.2765e-02, 9.1548e-03),
        (2.1024e-02, -5.2973e-03, 3.4373e-03),
        (-8.8896e-03, -1.9703e-02, -1.8761e-02),
        (-1.3160e-02, -1.0523e-02, 1.9709e-03),
        (-1.5152e-03, -6.9891e-03, -7.5810e-03),
        (-1.7247e-03, 4.6560e-04, -3.3839e-03),
        (1.3617e-02, 4.7077e-03, -2.0045e-03),
        (1.0256e-02, 7.7318e-03, 1.3948e-02),
        (-1.6108e-02, -6.2151e-03, 1.1561e-03),
        (7.3407e-03, 1.5628e-02, 4.4865e-04),
        (9.5357e-04, -2.9518e-03, -1.4760e-02),
        (1.9143e-02, 1.0868e-02, 1.2264e-02),
        (4.4575e-03, 3.6682e-05, -6.8508e-03),
        (-4.5681e-04, 3.2570e-03, 7.7929e-03),
        (3.3902e-02, 3.3405e-02, 3.7454e-02),
        (-2.3001e-02, -2.4877e-03, -3.1033e-03),
        (5.0265e-02, 3.8841e-02, 3.3539e-02),
        (-4.1018e-03, -1.1095e-03, 1.5859e-03),
        (-1.2689e-01, -1.3107e-01, -2.1005e-01),
        (2.6276e-02, 1.4189e-02, -3.5963e-03),
        (-4.8679e-03, 8.8486e-03, 7.8029e-03),
        (-1.6610e-03, -4.8597e-03, -5.2060e-03),
        (-2.1010e-03, 2.3610e-03, 9.3796e-03),
        (-2.2482e-02, -2.1305e-02, -1.5087e-02),
        (-1.5753e-02, -1.0646e-02, -6.5083e-03),
        (-4.6975e-03, 5.0288e-03, -6.7390e-03),
        (1.1951e-02, 2.0712e-02, 1.6191e-02),
        (-6.3704e-03, -8.4827e-03, -9.5483e-03),
        (7.2610e-03, -9.9326e-03, -2.2978e-02),
        (-9.1904e-04, 6.2882e-03, 9.5720e-03),
        (-3.7178e-02, -3.7123e-02, -5.6713e-02),
        (-1.3373e-01, -1.0720e-01, -5.3801e-02),
        (-5.3702e-03, 8.1256e-03, 8.8397e-03),
        (-1.5247e-01, -2.1437e-01, -2.1843e-01),
        (3.1441e-02, 7.0335e-03, -9.7541e-03),
        (2.1528e-03, -8.9817e-03, -2.1023e-02),
        (3.8461e-03, -5.8957e-03, -1.5014e-02),
        (-4.3470e-03, -1.2940e-02, -1.5972e-02),
        (-5.4781e-03, -1.0842e-02, -3.0204e-03),
        (-6.5347e-03, 3.0806e-03, -1.0163e-02),
        (-5.0414e-03, -7.1503e-03, -8.9686e-04),
        (-8.5851e-03, -2.4351e-03, 1.0674e-03),
        (-9.0016e-03, -9.6493e-03, 1.5692e-03),
        (5.0914e-03, 1.2099e-02, 1.9968e-02),
        (1.3758e-02, 1.1669e-02, 8.1958e-03),
        (-1.0518e-02, -1.1575e-02, -4.1307e-03),
        (-2.8410e-02, -3.1266e-02, -2.2149e-02),
        (2.9336e-03, 3.6511e-02, 1.8717e-02),
        (-1.6703e-02, -1.6696e-02, -4.4529e-03),
        (4.8818e-02, 4.0063e-02, 8.7410e-03),
        (-1.5066e-02, -5.7328e-04, 2.9785e-03),
        (-1.7613e-02, -8.1034e-03, 1.3086e-02),
        (-9.2633e-03, 1.0803e-02, -6.3489e-03),
        (3.0851e-03, 4.7750e-04, 1.2347e-02),
        (-2.2785e-02, -2.3043e-02, -2.6005e-02),
        (-2.4787e-02, -1.5389e-02, -2.2104e-02),
        (-2.3572e-02, 1.0544e-03, 1.2361e-02),
        (-7.8915e-03, -1.2271e-03, -6.0968e-03),
        (-1.1478e-02, -1.2543e-03, 6.2679e-03),
        (-5.4229e-02, 2.6644e-02, 6.3394e-03),
        (4.4216e-03, -7.3338e-03, -1.0464e-02),
        (-4.5013e-03, 1.6082e-03, 1.4420e-02),
        (1.3673e-02, 8.8877e-03, 4.1253e-03),
        (-1.0145e-02, 9.0072e-03, 1.5695e-02),
        (-5.6234e-03, 1.1847e-03, 8.1261e-03),
        (-3.7171e-03, -5.3538e-03, 1.2590e-03),
        (2.9476e-02, 2.1424e-02, 3.0424e-02),
        (-3.4925e-02, -2.4340e-02, -2.5316e-02),
        (-3.4127e-02, -2.2406e-02, -1.0589e-02),
        (-1.7342e-02, -1.3249e-02, -1.0719e-02),
        (-2.1478e-03, -8.6051e-03, -2.9878e-03),
        (1.2089e-03, -4.2391e-03, -6.8569e-03),
        (9.0411e-04, -6.6886e-03, -6.7547e-05),
        (1.6048e-02, -1.0057e-02, -2.8929e-02),
        (1.2290e-03, 1.0163e-02, 1.8861e-02),
        (1.7264e-02, 2.7257e-04, 1.3785e-02),
        (-1.3482e-02, -3.6427e-03, 6.7481e-04),
        (4.6782e-03, -5.2423e-03, 2.4467e-03),
        (-5.9113e-03, -6.2244e-03, -1.8162e-03),
        (1.5496e-02, 1.4582e-02, 1.9514e-03),
        (7.4958e-03, 1.5886e-03, -8.2305e-03),
        (1.9086e-02, 1.6360e-03, -3.9674e-03),
        (-5.7021e-03, -2.7307e-03, -4.1066e-03),
        (1.7450e-03, 1.4602e-02, 2.5794e-02),
        (-8.2788e-04, 2.2902e-03, 4.5161e-03),
        (1.1632e-02, 8.9193e-03, -7.2813e-03),
        (7.5721e-03, 2.6784e-03, 1.1393e-02),
        (5.1939e-03, 3.6903e-03, 1.4049e-02),
        (-1.8383e-02, -2.2529e-02, -2.4477e-02),
        (5.8842e-04, -5.7874e-03, -1.4770e-02),
        (-1.6125e-02, -8.6101e-03, -1.4533e-02),
        (2.0540e-02, 2.0729e-02, 6.4338e-03),
        (3.3587e-03, -1.1226e-02, -1.6444e-02),
        (-1.4742e-03, -1.0489e-02, 1.7097e-03),
        (2.8130e-02, 2.3546e-02, 3.2791e-02),
        (-1.8532e-02, -1.2842e-02, -8.7756e-03),
        (-8.0533e-03, -1.0771e-02, -1.7536e-02),
        (-3.9009e-03, 1.6150e-02, 3.3359e-02),
        (-7.4554e-03, -1.4154e-02, -6.1910e-03),
        (3.4734e-03, -1.1370e-02, -1.0581e-02),
        (1.1476e-02, 3.9281e-03, 2.8231e-03),
        (7.1639e-03, -1.4741e-03, -3.8066e-03),
        (2.2250e-03, -8.7552e-03, -9.5719e-03),
        (2.4146e-02, 2.1696e-02, 2.8056e-02),
        (-5.4365e-03, -2.4291e-02, -1.7802e-02),
        (7.4263e-03, 1.0510e-02, 1.2705e-02),
        (6.2669e-03, 6.2658e-03, 1.9211e-02),
        (1.6378e-02, 9.4933e-03, 6.6971e-03),
        (1.7173e-02, 2.3601e-02, 2.3296e-02),
        (-1.4568e-02, -9.8279e-03, -1.1556e-02),
        (1.4431e-02, 1.4430e-02, 6.6362e-03),
        (-6.8230e-03, 1.8863e-02, 1.4555e-02),
        (6.1156e-03, 3.4700e-03, -2.6662e-03),
        (-2.6983e-03, -5.9402e-03, -9.2276e-03),
        (1.0235e-02, 7.4173e-03, -7.6243e-03),
        (-1.3255e-02, 1.9322e-02, -9.2153e-04),
        (2.4222e-03, -4.8039e-03, -1.5759e-02),
        (2.6244e-02, 2.5951e-02, 2.0249e-02),
        (1.5711e-02, 1.8498e-02, 2.7407e-03),
        (-2.1714e-03, 4.7214e-03, -2.2443e-02),
        (-7.4747e-03, 7.4166e-03, 1.4430e-02),
        (-8.3906e-03, -7.9776e-03, 9.7927e-03),
        (3.8321e-02, 9.6622e-03, -1.9268e-02),
        (-1.4605e-02, -6.7032e-03, 3.9675e-03),
    ),
    bias=(-0.0571, -0.1657, -0.2512),
)

# CogVideoX: ComfyUI has none. kijai/ComfyUI-CogVideoXWrapper, pipeline_cogvideox.py at commit dbc63f62, class
# CogVideoXLatentFormat, whose sampler hands ComfyUI's previewer 5 × its predicted clean latent (its
# `callback_tensor * 5`, the tensor being sqrt(abar)·x_t - sqrt(1 - abar)·v): so the factors here are that
# file's times 5, its bias as it is, and they apply to the clean latent the DDIM step implies (CleanMiddle). Its
# latents are the VAE's times the VAE's scaling factor, as in diffusers' CogVideoXPipeline, and the class names
# 0.7, the factor of CogVideoX-5b's VAE, which we read as the scale the factors were fitted at: CogVideoX-2b's
# latents (1.15258426) are rescaled to it. (The wrapper's older latent_preview.py has an unbiased table of the
# same scale; we take the newer one.)
COGVIDEOX = LatentProjection(
    factors=tuple(
        (5 * r, 5 * g, 5 * b)
        for r, g, b in (
            (0.03197404301362048, 0.04091260743347359, 0.0015679806301828524),
            (0.005517101026578029, 0.0052348639043457755, -0.005613441650464035),
            (0.0012485338264583965, -0.016096744206117782, 0.025023940031635054),
            (0.01760126794276171, 0.0036818415416642893, -0.0006019202528157255),
            (0.000444954842288864, 0.006102128982092191, 0.0008457999272962447),
            (-0.010531904354560697, -0.0032275501924977175, -0.00886595780267917),
            (-0.0001454543946122991, 0.010199210750845965, -0.00012702234832386188),
            (0.02078497279904325, -0.001669617778939972, 0.006712703698951264),
            (0.005529571599763264, 0.009733929789086743, 0.001887302765339838),
            (0.012138415094654218, 0.024684961927224837, 0.037211249767461915),
            (0.0010364484570000384, 0.01983636315929172, 0.009864602025627755),
            (0.006802862648143341, -0.0010509255113510681, -0.007026003345126021),
            (0.0003532208468418043, 0.005351971582801936, -0.01845912126717106),
            (-0.009045079994694397, -0.01127941143183089, 0.0042294057970470806),
            (0.002548289972720752, 0.025224244654428216, -0.0006086130121693347),
            (-0.011135669222532816, 0.0018181308593668505, 0.02794541485349922),
        )
    ),
    bias=(-0.023, 0.0, -0.017),
    fitted_scale=0.7,
)

PROJECTIONS: Mapping[Family, LatentProjection] = MappingProxyType(
    {"wan": WAN_2_1, "ltx": LTX_VIDEO, "cogvideox": COGVIDEOX}
)


# ---------------------------------------------------------------------------------------------------------
# Where the middle frame is in each family's latents, as diffusers hands them to callback_on_step_end.


@dataclass(frozen=True, slots=True)
class PackedGrid:
    """How an LTX pipeline packed its latents into tokens: (B, F'·H'·W', C·pt·p·p), where F', H', W' are the
    latent frames, height and width divided by the transformer's temporal (pt) and spatial (p) patch sizes."""

    frames: int
    height: int
    width: int
    patch: int
    patch_t: int

    @property
    def tokens(self) -> int:
        return (self.frames // self.patch_t) * (self.height // self.patch) * (self.width // self.patch)


def middle_frame(family: Family, latents: torch.Tensor, grid: PackedGrid | None = None) -> torch.Tensor:
    """The middle latent frame of the first clip in latents, (C, H, W); a view where the layout allows.

    Wan: (B, C, F, H, W). CogVideoX: (B, F, C, H, W). LTX: packed tokens (see PackedGrid, required), the video's
    tokens last (conditioning tokens, when a pipeline adds any, come first).
    """
    if family == "wan":
        return latents[0, :, latents.shape[2] // 2]
    if family == "cogvideox":
        return latents[0, latents.shape[1] // 2]
    if grid is None:
        raise ValueError("LTX latents are packed: their grid is needed to unpack them")
    frames, height, width = grid.frames // grid.patch_t, grid.height // grid.patch, grid.width // grid.patch
    p = grid.patch
    tokens = latents[0, latents.shape[1] - grid.tokens :]
    # Each token's features are (C, pt, p, p), as diffusers' _pack_latents flattens them.
    patches = tokens.reshape(frames, height, width, -1, grid.patch_t, p, p)[frames // 2, :, :, :, 0]
    return patches.permute(2, 0, 3, 1, 4).reshape(-1, height * p, width * p)  # (C, H'·p, W'·p)


def packed_grid(pipe: DiffusionPipeline, clip: ClipSpec) -> PackedGrid:
    """The grid an LTX pipeline packs clip's latents into, from the same attributes it computes it with."""
    spatial = int(pipe.vae_spatial_compression_ratio)
    return PackedGrid(
        frames=(clip.frames - 1) // int(pipe.vae_temporal_compression_ratio) + 1,
        height=clip.height // spatial,
        width=clip.width // spatial,
        patch=int(pipe.transformer_spatial_patch_size),
        patch_t=int(pipe.transformer_temporal_patch_size),
    )


# ---------------------------------------------------------------------------------------------------------
# The clean middle frame the scheduler predicts after a step: what the factors apply to.


class CleanMiddle(ABC):
    """One render's prediction of its clean middle frame x0 after a step, (C, H, W) float32, from the model output
    of that step, as the render's scheduler computes or implies it; only asked on steps a preview is due."""

    def __init__(self, pipe: DiffusionPipeline, select: Callable[[torch.Tensor], torch.Tensor]) -> None:
        self._pipe = pipe
        self._select = select  # latents → their middle frame (Projector.middle)

    @abstractmethod
    def after(self, step: int, latents: torch.Tensor) -> torch.Tensor | None:
        """x0 after `step` (from 1), given the latents the step left; None when it cannot tell yet (it then keeps
        what it needs from this step, and tells after the next one)."""


class KeptByUniPC(CleanMiddle):
    """Wan's UniPCMultistepScheduler with predict_x0 keeps the clean sample it predicts from each model output:
    after a step, `scheduler.model_outputs[-1]` is x0 (diffusers' convert_model_output: x_t - sigma_t·v for flow
    prediction). So the first step has one, and it costs selecting a frame."""

    def after(self, step: int, latents: torch.Tensor) -> torch.Tensor:
        return self._select(self._pipe.scheduler.model_outputs[-1]).float()


class _ImpliedByTheStep(CleanMiddle):
    """A scheduler that keeps no prediction, whose step is linear in x0: x0 follows from the middle frame before
    and after the step. Each answer keeps this step's frame (one latent frame, copied on the device), so the first
    comes after step 2, and a preview due at step n is taken after step n + 1."""

    def __init__(self, pipe: DiffusionPipeline, select: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__(pipe, select)
        self._before: tuple[int, torch.Tensor] | None = None

    def after(self, step: int, latents: torch.Tensor) -> torch.Tensor | None:
        frame = self._select(latents).to(torch.float32, copy=True)
        before, self._before = self._before, (step, frame)
        if before is None or before[0] != step - 1:
            return None
        return self._solve(step, before[1], frame)

    @abstractmethod
    def _solve(self, step: int, before: torch.Tensor, after: torch.Tensor) -> torch.Tensor:
        """x0 from the middle frame before step `step` and after it."""


class ImpliedByEulerFlow(_ImpliedByTheStep):
    """LTX-Video's FlowMatchEulerDiscreteScheduler: x' = x + (σ' - σ)·v and x0 = x - σ·v, so
    x0 = x' - σ'·(x' - x) / (σ' - σ), with σ, σ' its sigmas before and after the step (0-d tensors: nothing waits)."""

    def _solve(self, step: int, before: torch.Tensor, after: torch.Tensor) -> torch.Tensor:
        scheduler = self._pipe.scheduler
        sigmas: torch.Tensor = scheduler.sigmas
        sigma, sigma_next = sigmas[scheduler.step_index - 1], sigmas[scheduler.step_index]
        return after - sigma_next * (after - before) / (sigma_next - sigma)


class ImpliedByDdim(_ImpliedByTheStep):
    """CogVideoX's CogVideoXDDIMScheduler, deterministic: x' = a·x + b·x0, with its step's a = sqrt((1 - ᾱ') /
    (1 - ᾱ)) and b = sqrt(ᾱ') - sqrt(ᾱ)·a from alphas_cumprod at the step's timestep and the next, so
    x0 = (x' - a·x) / b (the scheduler's own pred_original_sample, which the pipeline drops)."""

    def __init__(self, pipe: DiffusionPipeline, select: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__(pipe, select)
        self._timesteps: list[int] | None = None

    def _solve(self, step: int, before: torch.Tensor, after: torch.Tensor) -> torch.Tensor:
        scheduler = self._pipe.scheduler
        if self._timesteps is None:  # this render's, on the device: read once
            self._timesteps = [int(timestep) for timestep in scheduler.timesteps.tolist()]
        timestep = self._timesteps[step - 1]
        following = timestep - scheduler.config.num_train_timesteps // scheduler.num_inference_steps
        alpha = float(scheduler.alphas_cumprod[timestep])
        alpha_next = float(scheduler.alphas_cumprod[following] if following >= 0 else scheduler.final_alpha_cumprod)
        a = math.sqrt((1 - alpha_next) / (1 - alpha))
        b = math.sqrt(alpha_next) - math.sqrt(alpha) * a
        return (after - a * before) / b


def clean_middle_for(pipe: DiffusionPipeline, select: Callable[[torch.Tensor], torch.Tensor]) -> CleanMiddle | None:
    """The CleanMiddle for pipe's scheduler, or None for one it does not know (no preview then)."""
    scheduler = pipe.scheduler
    if isinstance(scheduler, UniPCMultistepScheduler) and scheduler.config.predict_x0:
        return KeptByUniPC(pipe, select)
    if isinstance(scheduler, FlowMatchEulerDiscreteScheduler) and not scheduler.config.stochastic_sampling:
        return ImpliedByEulerFlow(pipe, select)
    if isinstance(scheduler, CogVideoXDDIMScheduler):
        return ImpliedByDdim(pipe, select)
    return None


# ---------------------------------------------------------------------------------------------------------
# From a clean latent frame to a JPEG.


class Capture:
    """One preview's pixels on their way to the CPU: (3, h, w) uint8, copied without waiting for the GPU."""

    def __init__(self, step: int, pixels: torch.Tensor) -> None:
        self.step = step
        self._copied: torch.cuda.Event | None = None
        if pixels.device.type == "cuda":
            self._host = torch.empty(pixels.shape, dtype=torch.uint8, pin_memory=True)
            self._host.copy_(pixels, non_blocking=True)
            self._copied = torch.cuda.current_stream(pixels.device).record_event()
        else:
            self._host = pixels.cpu()

    def jpeg(self) -> bytes:
        """The JPEG, PREVIEW_LONG_SIDE on its long side (aspect kept, sides even); waits for the copy."""
        if self._copied is not None:
            self._copied.synchronize()
        rgb = self._host.permute(1, 2, 0).numpy()
        return jpeg_bytes(rgb, preview_size(rgb.shape[1], rgb.shape[0]), quantiser=PREVIEW_QUANTISER)


def preview_size(width: int, height: int) -> tuple[int, int]:
    """(width, height) scaled so the long side is PREVIEW_LONG_SIDE, both even (what the JPEG encoder takes)."""
    scale = PREVIEW_LONG_SIDE / max(width, height)
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


class Projector:
    """Finds the middle frame in one pipeline's latents for one clip, and turns a clean one into a Capture: one
    small matmul."""

    def __init__(
        self,
        family: Family,
        projection: LatentProjection,
        *,
        scale: float = 1.0,
        grid: PackedGrid | None,
        device: torch.device = CPU,
    ) -> None:
        self.family = family
        self._grid = grid
        # (3, C) with the rescale folded in, and the bias as (3, 1, 1), made where the latents are before the
        # render starts: a copy to the GPU inside a step would wait for it.
        self._weight = torch.tensor(projection.factors, dtype=torch.float32, device=device).T.contiguous() * scale
        self._bias = torch.tensor(projection.bias, dtype=torch.float32, device=device).view(3, 1, 1)

    def middle(self, latents: torch.Tensor) -> torch.Tensor:
        """The middle latent frame, (C, H, W), as the pipeline lays its latents out (a view where it can)."""
        return middle_frame(self.family, latents.detach(), self._grid)

    def capture(self, step: int, frame: torch.Tensor) -> Capture:
        """A clean middle frame (C, H, W) in RGB, on its way to the CPU."""
        rgb = torch.einsum("rc,chw->rhw", self._weight, frame.float()) + self._bias
        # ComfyUI's convention: [-1, 1] to [0, 255].
        pixels = ((rgb + 1) * 127.5).round_().clamp_(0, 255).to(torch.uint8)
        return Capture(step, pixels)


def projector_for(
    pipe: DiffusionPipeline, clip: ClipSpec, projections: Mapping[Family, LatentProjection] = PROJECTIONS
) -> Projector | None:
    """The Projector for pipe's family, or None when it has no table or its latents have other channels."""
    family = PIPELINE_FAMILIES.get(type(pipe).__name__)
    projection = None if family is None else projections.get(family)
    if family is None or projection is None:
        log.debug("no live preview for %s: no latent-to-RGB factors for it", type(pipe).__name__)
        return None
    vae_config = pipe.vae.config
    channels = int(vae_config.get("z_dim") or vae_config.get("latent_channels") or 0)
    if channels != projection.channels:
        log.info(
            "no live preview for %s: its latents have %d channels, the %s factors %d",
            type(pipe).__name__,
            channels,
            family,
            projection.channels,
        )
        return None
    scale = 1.0
    if projection.fitted_scale is not None:
        scale = projection.fitted_scale / float(vae_config.get("scaling_factor", projection.fitted_scale))
    grid = packed_grid(pipe, clip) if family == "ltx" else None
    return Projector(family, projection, scale=scale, grid=grid, device=execution_device(pipe))


# ---------------------------------------------------------------------------------------------------------
# One render's previews.


class LivePreview:
    """One render's previews: when the next is due, and a thread that makes each JPEG and hands it on.

    `offer` runs on the render thread after every step and returns at once unless a preview is due; a due one is
    taken as soon as `clean` (CleanMiddle.after) can tell the clean frame: that step, or the next. The newest
    capture waits in a one-place mailbox for the thread (an older one still waiting is dropped), so however slow
    the encoding, the render never waits. `close` lets the thread finish what was taken (one JPEG at most, a few
    milliseconds: so a render as short as tiny's shows its first one too); after it nothing more is emitted.
    """

    def __init__(
        self,
        projector: Projector,
        clean: Callable[[int, torch.Tensor], torch.Tensor | None],
        emit: Callable[[int, bytes], None],
        *,
        every: float = PREVIEW_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._projector = projector
        self._clean = clean
        self._emit = emit
        self._every = every
        self._clock = clock
        self._taken_at = -math.inf
        self._failed = False
        self._waiting: Capture | None = None
        self._closed = False
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def offer(self, step: int, latents: torch.Tensor) -> None:
        """The latents after `step` (from 1): taken as a preview if the last one was taken `every` seconds ago."""
        now = self._clock()
        if self._failed or self._closed or now - self._taken_at < self._every:
            return
        try:
            frame = self._clean(step, latents.detach())
            if frame is None:  # told after the next step, which is then due as well
                return
            capture = self._projector.capture(step, frame)
        except Exception:  # a preview is a courtesy: it never fails the render
            log.exception("could not take a preview of step %d; none more for this render", step)
            self._failed = True
            return
        self._taken_at = now
        with self._changed:
            self._waiting = capture
            self._changed.notify()
        if self._thread is None:
            self._thread = threading.Thread(target=self._encode_forever, name="render-preview", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Let the thread send what was taken, then stop it; offers after this are ignored."""
        with self._changed:
            self._closed = True
            self._changed.notify()
        if self._thread is not None:
            self._thread.join()

    def _encode_forever(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._waiting is not None or self._closed)
                if self._waiting is None:  # closed, and nothing left to send
                    return
                capture, self._waiting = self._waiting, None
            try:
                self._emit(capture.step, capture.jpeg())
            except Exception:  # lost, as a preview may be: the next one is taken all the same
                log.exception("could not send the preview of step %d", capture.step)


def live_preview(
    pipe: DiffusionPipeline,
    clip: ClipSpec,
    emit: Callable[[int, bytes], None],
    *,
    every: float = PREVIEW_INTERVAL_SECONDS,
) -> LivePreview | None:
    """Previews of clip as pipe renders it, emitted as (step, JPEG); None for a pipeline without a projection or
    whose scheduler's prediction of the clean sample CleanMiddle does not know."""
    projector = projector_for(pipe, clip)
    if projector is None:
        return None
    clean = clean_middle_for(pipe, projector.middle)
    if clean is None:
        log.info(
            "no live preview for %s: its scheduler %s is not one whose clean prediction the preview knows",
            type(pipe).__name__,
            type(pipe.scheduler).__name__,
        )
        return None
    return LivePreview(projector, clean.after, emit, every=every)
