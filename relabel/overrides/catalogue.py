"""The catalogue of augmentations an override file may name: one static table, no torch.

Each :class:`Spec` gives an augmentation's stable name (the file's word for it), the classes
that implement it (torchvision ``transforms.v2`` and v1, timm), its parameters with their kinds
and ranges (:class:`Parameter`), and the constructor parameters that belong to the trainer and
never appear in a file (output size, interpolation, fill). The parameter names are the
torchvision constructor's own, so that an entry reads as the call it becomes.

The table is written out rather than read from torchvision at import time, because the format
imports no torch; ``tests/test_catalogue.py`` checks it against the installed torchvision with
:func:`inspect.signature` (every constructor parameter is either a file parameter or a trainer
parameter, the defaults agree, and every ``transforms.v2`` augmentation is either here or in
:data:`NOT_AUGMENTATIONS` with the reason).

Ranges are chosen so that no value can make a transform call hang or allocate without bound
(``num_ops`` at most 16, ``num_magnitude_bins`` at most 256, …), and wide enough for every
recipe we know.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Parameter", "Spec", "SPECS", "NOT_AUGMENTATIONS", "STAGES", "spec"]

KINDS = ("number", "integer", "boolean", "choice", "range", "pair", "odd_size")
"""Parameter kinds: a number, an integer, true/false, one of some words, ``[min, max]`` (min <= max),
a pair of numbers (``[x, y]``, unordered) and a kernel size (an odd integer, or ``[x, y]`` of odd integers)."""


@dataclass(frozen=True)
class Parameter:
    """One parameter of an augmentation as the file writes it.

    ``low``/``high`` bound each number (``low_open``/``high_open``: the bound itself is excluded);
    ``integer`` makes a range's ends integers; ``scalar`` says what one number given for a
    range means (``"symmetric"``: d → [-d, d]; ``"fixed"``: v → [v, v]); ``default`` is what the
    constructor uses when no one gives it (``REQUIRED`` when it has none: a transform relabel
    creates then needs it in the file); ``nullable``: ``null`` is a value (the constructor's
    "none of this", e.g. RandomAffine without translation); ``relabel_only``: not a
    constructor parameter (colour jitter's ``strength``, the ``p`` of a transform torchvision
    applies always, which relabel wraps in ``RandomApply``); ``implementations``: the
    implementations that take it, when not all of them do.
    """

    name: str
    kind: str
    default: Any
    description: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    integer: bool = False
    scalar: str | None = None
    choices: tuple[str, ...] = ()
    nullable: bool = False
    relabel_only: bool = False
    implementations: tuple[str, ...] = ()


REQUIRED: Any = "<required>"
"""The default of a parameter whose constructor has none."""

STAGES = ("image", "tensor")
"""Where in a pipeline an augmentation runs: on the image (before the tensor conversion) or on
the normalised tensor (after it: random erasing, Gaussian noise)."""


@dataclass(frozen=True)
class Spec:
    """One augmentation of the vocabulary.

    ``torchvision``: the class name in ``torchvision.transforms.v2`` (and in v1 where it exists);
    ``timm``: ``module:Class`` of timm classes that implement it; ``trainer_parameters``:
    constructor parameters that stay the trainer's; ``needs_size``: a transform relabel creates
    needs the output size; ``config``: the timm families read a timm config string
    (``rand-m9-mstd0.5-inc1``) as their entry; ``csv``: the prefix of its CSV columns.
    """

    name: str
    csv: str
    description: str
    parameters: tuple[Parameter, ...]
    torchvision: str | None = None
    timm: tuple[str, ...] = ()
    trainer_parameters: tuple[str, ...] = ()
    needs_size: bool = False
    stage: str = "image"
    config: str | None = None

    def parameter(self, name: str) -> Parameter:
        """The parameter called ``name`` (KeyError if it has none)."""
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        """Its parameter names, in table order."""
        return tuple(p.name for p in self.parameters)

    @property
    def defaults(self) -> dict[str, Any]:
        """The constructor's defaults of the parameters that have one (ranges as tuples)."""
        return {p.name: p.default for p in self.parameters if p.default is not REQUIRED and not (
            p.relabel_only and p.name == "strength")}


def _p(description: str = "probability the augmentation is applied", default: float = 0.5, *,
       relabel_only: bool = False) -> Parameter:
    return Parameter("p", "number", default, description, low=0, high=1, relabel_only=relabel_only)


def _wrap_p() -> Parameter:
    return _p("probability the augmentation is applied (torchvision applies it always: relabel wraps it in "
              "RandomApply([...], p))", 1.0, relabel_only=True)


_INTERP_FILL = ("interpolation", "fill")

SPECS: tuple[Spec, ...] = (
    Spec("random_resized_crop", "rrc", "crop a random area and aspect ratio, resize to the output size", (
        Parameter("scale", "range", (0.08, 1.0), "[min, max] fraction of the image area", low=0, high=1,
                  low_open=True),
        Parameter("ratio", "range", (3 / 4, 4 / 3), "[min, max] aspect ratio (width / height)", low=0, high=100,
                  low_open=True),
    ), torchvision="RandomResizedCrop",
        timm=("timm.data.transforms:RandomResizedCropAndInterpolation",),
        trainer_parameters=("size", "interpolation", "antialias"), needs_size=True),
    Spec("random_crop", "crop", "crop at a random place, after optional padding", (
        Parameter("padding", "integer", None, "pixels of padding on every side before the crop", low=0, high=4096,
                  nullable=True),
    ), torchvision="RandomCrop", trainer_parameters=("size", "pad_if_needed", "fill", "padding_mode"), needs_size=True),
    Spec("horizontal_flip", "hflip", "mirror left-right", (_p(),), torchvision="RandomHorizontalFlip"),
    Spec("vertical_flip", "vflip", "mirror top-bottom", (_p(),), torchvision="RandomVerticalFlip"),
    Spec("random_rotation", "rot", "rotate by a random angle", (
        Parameter("degrees", "range", REQUIRED, "[min, max] angle in degrees (one number d: [-d, d])", low=-360,
                  high=360, scalar="symmetric"),
        _wrap_p(),
    ), torchvision="RandomRotation", trainer_parameters=("interpolation", "expand", "center", "fill")),
    Spec("random_affine", "affine", "random rotation, translation, scaling and shear", (
        Parameter("degrees", "range", REQUIRED, "[min, max] rotation in degrees (one number d: [-d, d])", low=-360,
                  high=360, scalar="symmetric"),
        Parameter("translate", "pair", None, "[a, b]: largest shift as a fraction of width and of height", low=0,
                  high=1, nullable=True),
        Parameter("scale", "range", None, "[min, max] scaling factor", low=0, high=10, low_open=True, nullable=True),
        Parameter("shear", "range", None, "[min, max] shear along x in degrees (one number s: [-s, s])", low=-90,
                  high=90, scalar="symmetric", nullable=True),
        _wrap_p(),
    ), torchvision="RandomAffine", trainer_parameters=("interpolation", "fill", "center")),
    Spec("random_perspective", "persp", "random perspective distortion", (
        Parameter("distortion_scale", "number", 0.5, "degree of distortion", low=0, high=1),
        _p(),
    ), torchvision="RandomPerspective", trainer_parameters=_INTERP_FILL),
    Spec("elastic_transform", "elastic", "elastic displacement of the pixels", (
        Parameter("alpha", "number", 50.0, "magnitude of the displacements", low=0, high=10000),
        Parameter("sigma", "number", 5.0, "smoothness of the displacements", low=0, high=1000, low_open=True),
        _wrap_p(),
    ), torchvision="ElasticTransform", trainer_parameters=_INTERP_FILL),
    Spec("color_jitter", "cj", "random brightness, contrast, saturation and hue", (
        Parameter("brightness", "number", 0.0, "factor uniform in [max(0, 1 - b), 1 + b]", low=0, high=10),
        Parameter("contrast", "number", 0.0, "factor uniform in [max(0, 1 - c), 1 + c]", low=0, high=10),
        Parameter("saturation", "number", 0.0, "factor uniform in [max(0, 1 - s), 1 + s]", low=0, high=10),
        Parameter("hue", "number", 0.0, "shift uniform in [-h, h]", low=0, high=0.5),
        Parameter("strength", "number", REQUIRED, "brightness = contrast = saturation = strength, hue = "
                  "min(0.5, strength / 4); explicit factors beside it win", low=0, high=10, relabel_only=True),
        _wrap_p(),
    ), torchvision="ColorJitter"),
    Spec("random_photometric_distort", "pd", "SSD-style random photometric distortion", (
        Parameter("brightness", "range", (0.875, 1.125), "[min, max] brightness factor", low=0, high=10),
        Parameter("contrast", "range", (0.5, 1.5), "[min, max] contrast factor", low=0, high=10),
        Parameter("saturation", "range", (0.5, 1.5), "[min, max] saturation factor", low=0, high=10),
        Parameter("hue", "range", (-0.05, 0.05), "[min, max] hue shift", low=-0.5, high=0.5),
        _p(),
    ), torchvision="RandomPhotometricDistort"),
    Spec("random_grayscale", "gray", "convert to grayscale", (_p(default=0.1),), torchvision="RandomGrayscale"),
    Spec("random_channel_permutation", "chperm", "shuffle the colour channels", (_wrap_p(),),
         torchvision="RandomChannelPermutation"),
    Spec("gaussian_blur", "blur", "blur with a Gaussian kernel of random sigma", (
        Parameter("kernel_size", "odd_size", REQUIRED, "odd kernel size, or [x, y]", low=1, high=255),
        Parameter("sigma", "range", (0.1, 2.0), "[min, max] standard deviation (one number: fixed)", low=0, high=100,
                  low_open=True, scalar="fixed"),
        _wrap_p(),
    ), torchvision="GaussianBlur"),
    Spec("gaussian_noise", "noise", "add Gaussian noise (float tensors)", (
        Parameter("mean", "number", 0.0, "mean of the noise", low=-10, high=10),
        Parameter("sigma", "number", 0.1, "standard deviation of the noise", low=0, high=10),
        Parameter("clip", "boolean", True, "clip the result to [0, 1]"),
        _wrap_p(),
    ), torchvision="GaussianNoise", stage="tensor"),
    Spec("random_adjust_sharpness", "sharp", "adjust sharpness by a fixed factor", (
        Parameter("sharpness_factor", "number", REQUIRED, "0 blurs, 1 keeps, 2 doubles the sharpness", low=0,
                  high=100),
        _p(),
    ), torchvision="RandomAdjustSharpness"),
    Spec("random_autocontrast", "autocontrast", "maximise the contrast", (_p(),), torchvision="RandomAutocontrast"),
    Spec("random_equalize", "equalize", "equalise the histogram", (_p(),), torchvision="RandomEqualize"),
    Spec("random_invert", "invert", "invert the colours", (_p(),), torchvision="RandomInvert"),
    Spec("random_posterize", "posterize", "keep fewer bits per channel", (
        Parameter("bits", "integer", REQUIRED, "bits kept per channel", low=0, high=8),
        _p(),
    ), torchvision="RandomPosterize"),
    Spec("random_solarize", "solarize", "invert the pixels above a threshold", (
        Parameter("threshold", "number", REQUIRED, "in the image's value range (0-255 for PIL and uint8, 0-1 for "
                  "float)", low=0, high=255),
        _p(),
    ), torchvision="RandomSolarize"),
    Spec("jpeg", "jpeg", "JPEG compression at a random quality", (
        Parameter("quality", "range", REQUIRED, "[min, max] quality 1-100 (one number: fixed)", low=1, high=100,
                  integer=True, scalar="fixed"),
        _wrap_p(),
    ), torchvision="JPEG"),
    Spec("random_zoom_out", "zoomout", "place the image on a larger canvas", (
        Parameter("side_range", "range", (1.0, 4.0), "[min, max] canvas side relative to the image", low=1, high=10),
        _p(),
    ), torchvision="RandomZoomOut", trainer_parameters=("fill",)),
    Spec("auto_augment", "aa", "torchvision AutoAugment with a learned policy", (
        Parameter("policy", "choice", "imagenet", "the policy", choices=("imagenet", "cifar10", "svhn")),
    ), torchvision="AutoAugment", trainer_parameters=_INTERP_FILL),
    Spec("rand_augment", "ra", "torchvision RandAugment", (
        Parameter("num_ops", "integer", 2, "operations per image", low=1, high=16),
        Parameter("magnitude", "integer", 9, "magnitude bin, below num_magnitude_bins", low=0, high=255),
        Parameter("num_magnitude_bins", "integer", 31, "number of magnitude bins", low=2, high=256),
    ), torchvision="RandAugment", trainer_parameters=_INTERP_FILL),
    Spec("trivial_augment", "ta", "torchvision TrivialAugmentWide", (
        Parameter("num_magnitude_bins", "integer", 31, "number of magnitude bins", low=2, high=256),
    ), torchvision="TrivialAugmentWide", trainer_parameters=_INTERP_FILL),
    Spec("aug_mix", "augmix", "torchvision AugMix", (
        Parameter("severity", "integer", 3, "severity of the base operations", low=1, high=10),
        Parameter("mixture_width", "integer", 3, "augmentation chains mixed", low=1, high=16),
        Parameter("chain_depth", "integer", -1, "operations per chain (-1: random 1-3)", low=-1, high=16),
        Parameter("alpha", "number", 1.0, "Dirichlet / Beta parameter of the mixing", low=0, high=100, low_open=True),
        Parameter("all_ops", "boolean", True, "use all operations (including brightness, contrast, …)"),
    ), torchvision="AugMix", trainer_parameters=_INTERP_FILL),
    Spec("random_erasing", "erase", "erase a random rectangle of the tensor", (
        _p(),
        Parameter("scale", "range", (0.02, 0.33), "[min, max] fraction of the area erased", low=0, high=1,
                  low_open=True),
        Parameter("ratio", "range", (0.3, 3.3), "[min, max] aspect ratio of the erased area", low=0, high=100,
                  low_open=True),
        Parameter("value", "number", 0.0, "fill value (torchvision)", low=-1000, high=1000,
                  implementations=("torchvision",)),
        Parameter("mode", "choice", "const", "fill: const (zeros), rand (random per channel), pixel (random per "
                  "pixel) (timm)", choices=("const", "rand", "pixel"), implementations=("timm",)),
        Parameter("count", "range", (1, 1), "[min, max] number of erased blocks (timm)", low=1, high=64, integer=True,
                  implementations=("timm",)),
    ), torchvision="RandomErasing", timm=("timm.data.random_erasing:RandomErasing",),
        trainer_parameters=("inplace",), stage="tensor"),
    Spec("timm_rand_augment", "timm_ra", "timm RandAugment (aa: rand-m9-mstd0.5-inc1)", (
        Parameter("magnitude", "integer", 10, "m: magnitude, 0 to magnitude_max", low=0, high=100),
        Parameter("num_ops", "integer", 2, "n: operations per image", low=1, high=16),
        Parameter("magnitude_std", "number", 0.0, "mstd: standard deviation of the magnitude noise (above 100: "
                  "uniform)", low=0, high=101),
        Parameter("magnitude_max", "integer", 10, "mmax: upper bound of the magnitude", low=1, high=100),
        Parameter("increasing", "boolean", False, "inc: operations that grow stronger with magnitude"),
        Parameter("p", "number", 0.5, "p: probability of each operation", low=0, high=1),
    ), timm=("timm.data.auto_augment:RandAugment",), config="rand"),
    Spec("timm_auto_augment", "timm_aa", "timm AutoAugment (aa: original, originalr, v0, v0r, 3a)", (
        Parameter("policy", "choice", "v0", "the policy", choices=("original", "originalr", "v0", "v0r", "3a")),
    ), timm=("timm.data.auto_augment:AutoAugment",), config="policy"),
    Spec("timm_aug_mix", "timm_augmix", "timm AugMix (aa: augmix-m3-w3-d-1)", (
        Parameter("severity", "integer", 3, "m: magnitude of the operations", low=1, high=10),
        Parameter("width", "integer", 3, "w: augmentation chains mixed", low=1, high=16),
        Parameter("depth", "integer", -1, "d: operations per chain (-1: random 1-3)", low=-1, high=16),
        Parameter("alpha", "number", 1.0, "a: Dirichlet / Beta parameter of the mixing", low=0, high=100,
                  low_open=True),
        Parameter("blended", "boolean", False, "b: blend the chains as in the paper's official code"),
    ), timm=("timm.data.auto_augment:AugMixAugment",), config="augmix"),
)
"""Every augmentation an override file may name, in the file's order."""

NOT_AUGMENTATIONS: dict[str, str] = {
    **{name: "a container of other transforms: relabel looks inside it" for name in (
        "Compose", "RandomApply", "RandomChoice", "RandomOrder")},
    **{name: "converts or normalises the image; not an augmentation" for name in (
        "ToImage", "PILToTensor", "ToTensor", "ToPILImage", "ToPureTensor", "ToDtype", "ConvertImageDtype",
        "Normalize", "RGB", "Grayscale", "LinearTransformation", "Lambda", "Identity", "Transform")},
    **{name: "resizes or crops deterministically, or to the trainer's size; not an augmentation" for name in (
        "Resize", "CenterCrop", "Pad", "FiveCrop", "TenCrop")},
    **{name: "changes the output size per sample (multi-scale training for detection and segmentation); "
           "a class-conditional output size would break batching" for name in (
        "RandomResize", "RandomShortestSize", "ScaleJitter")},
    "MixUp": "mixes two samples and their labels per batch: no single class to condition on",
    "CutMix": "mixes two samples and their labels per batch: no single class to condition on",
    **{name: "bounding boxes, key points or video: not image classification" for name in (
        "RandomIoUCrop", "ClampBoundingBoxes", "SanitizeBoundingBoxes", "ConvertBoundingBoxFormat",
        "ClampKeyPoints", "SanitizeKeyPoints", "SetClampingMode", "UniformTemporalSubsample")},
}
"""``torchvision.transforms.v2`` transforms that are not in the vocabulary, with the reason."""

_BY_NAME = {s.name: s for s in SPECS}


def spec(name: str) -> Spec:
    """The :class:`Spec` of augmentation ``name`` (KeyError if none)."""
    return _BY_NAME[name]
