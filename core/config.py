"""Configuration of one co-registration: a frozen dataclass with units in the names."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Optional, Tuple

from .errors import InputError

WARP_METHODS = ("affine", "poly2", "tps", "auto")   # auto: the best of the check points
WARP_CHOICES = ("none",) + WARP_METHODS           # what the dock and Processing offer ("none": no warp)
SAR_KINDS = ("auto", "amplitude", "power", "db")
PROVIDERS = ("auto", "cuda", "cpu")


@dataclass(frozen=True)
class CoregConfig:
    """Everything that decides the result of ``coregister`` (and nothing that does not).

    Sizes are in working-grid pixels; ``resolution_m`` is the working-grid pixel size in map
    units of the working CRS (metres for a projected CRS). ``None`` means "derive it".
    """

    matcher: str = "auto"
    window_px: int = 512
    template_px: int = 384
    spacing_px: Optional[int] = None           # default: template_px
    resolution_m: Optional[float] = None       # default: the coarser of the two pixel sizes
    optical_bands: Optional[Tuple[int, ...]] = None  # 1-based; default: the visible bands
    sar_band: int = 1
    sar_kind: str = "auto"                     # amplitude | power | db | auto
    max_nodata_fraction: float = 0.2           # skip a window above this share of nodata
    min_confidence: float = 0.25               # below: flagged "low_confidence"
    ransac_threshold_px: float = 4.0           # global-fit residual above: flagged "ransac"
    local_threshold_px: float = 2.0            # departure from the neighbours' median: "local"
    ransac_iterations: int = 2000
    seed: int = 0
    warp: Optional[str] = None                 # None | affine | poly2 | tps | auto
    provider: str = "auto"
    batch_size: int = 0                        # windows per model call (dcdm); 0 = 16 on a GPU, 1 on the CPU
    write_similarity: bool = True
    coarse_search: bool = True                 # coarse pre-alignment for offsets beyond the search radius
    workers: int = 0                           # threads for the window loop; 0 = cores

    def __post_init__(self) -> None:
        if self.window_px < 16:
            raise InputError(f"window {self.window_px} px is too small: use at least 16 px (default 512)")
        if not 8 <= self.template_px <= self.window_px:
            raise InputError(
                f"template {self.template_px} px must be between 8 px and the window "
                f"({self.window_px} px): choose a smaller --template or a larger --window")
        if (self.window_px - self.template_px) % 2:
            raise InputError(
                f"window {self.window_px} px minus template {self.template_px} px must be even "
                "so the template can be centred: change one of them by 1 px")
        if self.spacing_px is not None and self.spacing_px < 1:
            raise InputError(f"spacing {self.spacing_px} px must be at least 1 px")
        if self.resolution_m is not None and not self.resolution_m > 0:
            raise InputError(f"resolution {self.resolution_m} must be positive (map units per pixel)")
        if self.sar_kind not in SAR_KINDS:
            raise InputError(f"SAR kind {self.sar_kind!r} is unknown: use one of {', '.join(SAR_KINDS)}")
        if self.warp is not None and self.warp not in WARP_METHODS:
            raise InputError(f"warp {self.warp!r} is unknown: use one of {', '.join(WARP_METHODS)}")
        if self.provider not in PROVIDERS:
            raise InputError(f"provider {self.provider!r} is unknown: use one of {', '.join(PROVIDERS)}")
        if self.batch_size < 0:
            raise InputError(f"batch size {self.batch_size} must be 0 (auto) or more")
        if self.sar_band < 1:
            raise InputError(f"SAR band {self.sar_band} is invalid: bands are numbered from 1")
        if self.optical_bands is not None and any(b < 1 for b in self.optical_bands):
            raise InputError(f"optical bands {self.optical_bands} are invalid: bands are numbered from 1")
        if not 0 <= self.max_nodata_fraction < 1:
            raise InputError(f"max nodata fraction {self.max_nodata_fraction} must be in [0, 1)")

    @property
    def search_radius_px(self) -> int:
        return (self.window_px - self.template_px) // 2

    @property
    def effective_spacing_px(self) -> int:
        return self.spacing_px or self.template_px

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
