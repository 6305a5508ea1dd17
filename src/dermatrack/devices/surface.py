"""Areal and profile texture parameters of skin height maps (profilometry).

A height map is a regular grid of heights in micrometres with ``NaN`` where the instrument
measured nothing. The pipeline follows the order of ISO 25178-2 and ISO 16610-61:

1. F-operator: form removal (``none``, a least-squares ``plane`` or a 2nd-order
   polynomial ``poly2``), fitted on the measured points only;
2. S-filter (nesting index ``ls_um``): a Gaussian low-pass that removes wavelengths shorter
   than ``ls_um``;
3. L-filter (nesting index ``lc_um``): the Gaussian low-pass at ``lc_um`` is the mean
   surface, and the scale-limited (roughness) surface is what remains after subtracting it;
4. parameters on the result: heights, gradients, material ratio and volumes (ISO 25178-2),
   profile parameters (ISO 21920-2) on lines across the dominant furrow direction, and furrow
   depth and volume below the mean plane.

Missing points are never invented: the filters are normalised convolutions (the Gaussian
weights of the missing neighbours are left out and the rest renormalised), points missing in
the input stay missing in every output, and each parameter is computed over the measured
points (or the grid cells whose four corners were measured, for the gradient parameters).

Everything here is array in, numbers out: no file access (see :mod:`dermatrack.devices.io`).

References
----------
ISO 25178-2:2021, Geometrical product specifications (GPS), Surface texture: Areal, Part 2:
terms, definitions and surface texture parameters.
ISO 16610-61:2015, Filtration, Part 61: linear areal filters, Gaussian filters.
ISO 16610-28:2016, Filtration, Part 28: profile filters, end effects.
ISO 13565-2:1996, Surfaces having stratified functional properties, Part 2: height
characterization using the linear material ratio curve.
ISO 21920-2:2021, Surface texture: Profile, Part 2: terms, definitions and parameters.
ISO 4288:1996, Rules and procedures for the assessment of surface texture (five sampling
lengths per evaluation length).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from dermatrack.errors import InputError

FormRemoval = Literal["none", "plane", "poly2"]
EdgeHandling = Literal["renormalise", "reflect"]
"""How the Gaussian filters treat the map's border (:func:`gaussian_lowpass`)."""
EdgeMode = Literal["renormalise", "reflect", "nan", "crop"]
"""End-effect handling offered by :func:`measure_surface` (ISO 16610-28; see there)."""
EDGE_MODES: tuple[str, ...] = ("renormalise", "reflect", "nan", "crop")

FORMS: tuple[str, ...] = ("none", "plane", "poly2")

#: ISO 16610-61 Gaussian weighting constant, alpha = sqrt(ln 2 / pi): the weighting function
#: s(x) = exp(-pi (x / (alpha lambda))^2) / (alpha lambda) passes 50 % of the amplitude of a
#: sine wave whose wavelength equals the nesting index lambda.
GAUSSIAN_ALPHA = math.sqrt(math.log(2.0) / math.pi)

#: Kernels are cut at this many standard deviations (about 0.75 nesting indexes), where the
#: Gaussian weight has fallen to exp(-8) = 3e-4 of its peak; the same cut as
#: ``scipy.ndimage.gaussian_filter``.
KERNEL_TRUNCATE_SIGMAS = 4.0

#: Kernels longer than this are applied through the FFT, shorter ones directly.
_DIRECT_KERNEL_MAX = 63

#: Default material ratios (in %) of the volume parameters, ISO 25178-2:2021 clause 4.4.
DEFAULT_P_PERCENT = 10.0
DEFAULT_Q_PERCENT = 80.0

#: Width of the secant that locates the core on the material ratio curve (ISO 13565-2).
EQUIVALENCE_WIDTH_PERCENT = 40.0

#: Number of parallel profile lines laid across the furrows (PRIMOS-style line roughness).
DEFAULT_PROFILE_LINES = 50

#: An evaluation length holds five sampling lengths (ISO 4288).
SAMPLING_LENGTHS_PER_EVALUATION = 5

#: A sampling length needs at least this many measured points to have a peak and a valley.
MIN_POINTS_PER_SAMPLING_LENGTH = 5


@dataclass(frozen=True)
class HeightMap:
    """A measured height map.

    Parameters
    ----------
    z_um:
        Heights in micrometres, float64, shape ``(ny, nx)``; ``NaN`` marks missing points.
        Row index grows with ``y``, column index with ``x``.
    dx_um, dy_um:
        Sampling intervals along ``x`` (columns) and ``y`` (rows), in micrometres.
    source_format:
        Where the map came from (``x3p``, ``sdf``, ``csv``, ``tiff``, ``npy`` or ``array``).
    metadata:
        Anything the file said about itself (instrument, units, comments), JSON-friendly.
    """

    z_um: NDArray[np.float64]
    dx_um: float
    dy_um: float
    source_format: str = "array"
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.z_um.shape[0]), int(self.z_um.shape[1]))

    @property
    def valid_fraction(self) -> float:
        """Share of grid points that were measured (0-1)."""
        return float(np.isfinite(self.z_um).mean())


@dataclass
class SurfaceResult:
    """Parameters of one height map, grouped as the ``measure surface`` JSON shows them."""

    areal: dict[str, float | None]
    profile: dict[str, float | None]
    furrows: dict[str, float | None]
    units: dict[str, str]
    settings: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """Plain dict: ``{"areal", "profile", "furrows", "units", "settings"}``."""
        return {
            "areal": dict(self.areal),
            "profile": dict(self.profile),
            "furrows": dict(self.furrows),
            "units": dict(self.units),
            "settings": dict(self.settings),
        }

    def values(self) -> dict[str, float | None]:
        """Every parameter in one flat mapping (names are unique across the groups)."""
        return {**self.areal, **self.profile, **self.furrows}


UNITS: dict[str, str] = {
    "Sa": "µm", "Sq": "µm", "Sp": "µm", "Sv": "µm", "Sz": "µm",
    "Ssk": "1", "Sku": "1", "Sdq": "1", "Sdr": "%",
    "Vmp": "µm³/µm²", "Vmc": "µm³/µm²", "Vvc": "µm³/µm²", "Vvv": "µm³/µm²",
    "Sk": "µm", "Spk": "µm", "Svk": "µm", "Smr1": "%", "Smr2": "%",
    "Ra": "µm", "Rq": "µm", "Rp": "µm", "Rv": "µm", "Rz": "µm", "Rt": "µm",
    "profile_angle_deg": "°", "furrow_angle_deg": "°", "orientation_coherence": "1",
    "n_profiles": "1", "evaluation_length_um": "µm", "sampling_length_um": "µm",
    "furrow_depth_um": "µm", "mean_valley_depth_um": "µm", "valley_area_percent": "%",
    "furrow_volume_um3_per_mm2": "µm³/mm²", "furrow_volume_mm3": "mm³",
    "n_valleys": "1",
}


# ---------------------------------------------------------------------------------------------
# F-operator: form removal
# ---------------------------------------------------------------------------------------------

def _monomial_powers(degree: int) -> list[tuple[int, int]]:
    """(power of x, power of y) of each term of a 2-D polynomial: 1, x, y, x², xy, y², ..."""
    return [(total - power_y, power_y) for total in range(degree + 1)
            for power_y in range(total + 1)]


def remove_form(z_um: NDArray[np.float64], dx_um: float, dy_um: float,
                form: FormRemoval = "plane") -> NDArray[np.float64]:
    """Subtract the least-squares form from a height map.

    Parameters
    ----------
    z_um:
        Heights in µm, shape ``(ny, nx)``, ``NaN`` for missing points.
    dx_um, dy_um:
        Sampling intervals in µm (the fit is done in physical coordinates, so an
        anisotropic grid is levelled correctly).
    form:
        ``"none"`` (returned unchanged), ``"plane"`` (z = a + b x + c y) or ``"poly2"``
        (adds x², xy, y²). Fitted on the measured points only (ISO 25178-2 F-operator).

    Returns
    -------
    numpy.ndarray
        The residual heights in µm; missing points stay ``NaN``.

    Notes
    -----
    Every monomial x^a y^b is separable on the grid, so each entry of the normal equations,
    sum over measured points of x^a y^b z (or of x^a y^b), is one vector-matrix-vector product
    with the heights (or the mask): no design matrix of N rows is built.
    """
    if form not in FORMS:
        raise InputError(f"form must be one of {', '.join(FORMS)}, not {form!r}", field="form")
    z = np.asarray(z_um, dtype=np.float64)
    if form == "none":
        return z.copy()
    degree = 1 if form == "plane" else 2
    valid = np.isfinite(z)
    powers = _monomial_powers(degree)
    if int(valid.sum()) < len(powers):
        raise InputError(f"form '{form}' needs at least {len(powers)} measured points",
                         field="form")
    ny, nx = z.shape
    # Centred coordinates scaled to [-1, 1] keep the normal equations well conditioned.
    x = (np.arange(nx) - (nx - 1) / 2.0) * dx_um
    y = (np.arange(ny) - (ny - 1) / 2.0) * dy_um
    x = x / max(abs(x[0]), 1e-12)
    y = y / max(abs(y[0]), 1e-12)
    x_pow = [x ** k for k in range(2 * degree + 1)]
    y_pow = [y ** k for k in range(2 * degree + 1)]
    heights = np.where(valid, z, 0.0)
    mask = valid.astype(np.float64)
    size = len(powers)
    gram = np.empty((size, size))
    rhs = np.empty(size)
    for row, (ax, ay) in enumerate(powers):
        rhs[row] = y_pow[ay] @ heights @ x_pow[ax]
        for col, (bx, by) in enumerate(powers):
            gram[row, col] = y_pow[ay + by] @ mask @ x_pow[ax + bx]
    coefficients = np.linalg.lstsq(gram, rhs, rcond=None)[0]
    trend = np.zeros_like(z)
    for coefficient, (ax, ay) in zip(coefficients, powers, strict=True):
        trend += coefficient * np.multiply.outer(y_pow[ay], x_pow[ax])
    return z - trend


# ---------------------------------------------------------------------------------------------
# ISO 16610-61 Gaussian filters
# ---------------------------------------------------------------------------------------------

def gaussian_sigma_samples(nesting_index_um: float, spacing_um: float) -> float:
    """Standard deviation, in samples, of the ISO 16610-61 Gaussian weighting function.

    Writing the weighting function exp(-pi (x / (alpha lambda))^2) as exp(-x^2 / (2 sigma^2))
    gives sigma = alpha lambda / sqrt(2 pi) = lambda sqrt(ln 2 / 2) / pi.
    """
    return GAUSSIAN_ALPHA * nesting_index_um / math.sqrt(2.0 * math.pi) / spacing_um


def gaussian_kernel(nesting_index_um: float, spacing_um: float) -> NDArray[np.float64]:
    """The sampled, unit-sum ISO 16610-61 Gaussian weighting function for one axis.

    Parameters
    ----------
    nesting_index_um:
        Cut-off wavelength (nesting index) in µm: a sine of this wavelength keeps 50 % of
        its amplitude in the low-pass output.
    spacing_um:
        Sampling interval along the axis in µm.

    Returns
    -------
    numpy.ndarray
        Odd-length weights, truncated at 4 standard deviations and normalised to sum 1.
    """
    sigma = gaussian_sigma_samples(nesting_index_um, spacing_um)
    radius = int(KERNEL_TRUNCATE_SIGMAS * sigma + 0.5)
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    weights = np.exp(-0.5 * (offsets / sigma) ** 2)
    return weights / weights.sum()


def _convolve_axis(array: NDArray[np.float64], kernel: NDArray[np.float64], axis: int,
                   edge: EdgeHandling) -> NDArray[np.float64]:
    """Convolve along one axis; outside the map is zero (renormalise) or mirrored (reflect)."""
    radius = (kernel.size - 1) // 2
    if kernel.size <= _DIRECT_KERNEL_MAX:
        from scipy import ndimage

        mode = "reflect" if edge == "reflect" else "constant"
        return ndimage.convolve1d(array, kernel, axis=axis, mode=mode, cval=0.0)
    from scipy import signal

    pad = [(0, 0), (0, 0)]
    pad[axis] = (radius, radius)
    padded = np.pad(array, pad, mode="symmetric" if edge == "reflect" else "constant")
    shaped = kernel[None, :] if axis == 1 else kernel[:, None]
    return signal.fftconvolve(padded, shaped, mode="valid", axes=axis)


def gaussian_lowpass(z_um: NDArray[np.float64], dx_um: float, dy_um: float,
                     nesting_index_um: float,
                     edge: EdgeHandling = "renormalise") -> NDArray[np.float64]:
    """ISO 16610-61 areal Gaussian low-pass filter that tolerates missing points.

    The filter is a normalised convolution: ``G * (z w) / G * w`` with ``w`` = 1 on
    measured points and 0 on missing ones, so each output is the Gaussian-weighted mean of
    the measured neighbours only. The Gaussian is separable and is applied row- then
    column-wise (directly for short kernels, by FFT for long ones).

    Parameters
    ----------
    z_um:
        Heights in µm, ``(ny, nx)``, ``NaN`` for missing points.
    dx_um, dy_um:
        Sampling intervals in µm.
    nesting_index_um:
        Cut-off wavelength in µm (50 % amplitude transmission).
    edge:
        ``"renormalise"`` (default) treats the outside of the map like missing points, which
        is the weighting-function correction of ISO 16610-28: no data is invented at the
        border, and a constant or a plane-free surface keeps its level up to the edge.
        ``"reflect"`` mirrors the map at its border (``d c b a | a b c d``), as
        ``scipy.ndimage.gaussian_filter`` and surfalize do.

    Returns
    -------
    numpy.ndarray
        The low-pass (mean) surface in µm; ``NaN`` where the input was missing.
    """
    if edge not in ("renormalise", "reflect"):
        raise InputError("edge must be 'renormalise' or 'reflect'", field="edge")
    if not nesting_index_um > 0:
        raise InputError("a filter nesting index must be a positive length in µm",
                         field="nesting_index_um")
    z = np.asarray(z_um, dtype=np.float64)
    valid = np.isfinite(z)
    kernel_x = gaussian_kernel(nesting_index_um, dx_um)
    kernel_y = gaussian_kernel(nesting_index_um, dy_um)
    weights = valid.astype(np.float64)
    numerator = _convolve_axis(_convolve_axis(np.where(valid, z, 0.0), kernel_x, 1, edge),
                               kernel_y, 0, edge)
    if valid.all():
        # The weight image is separable: one 1-D pass per axis instead of a full 2-D one.
        if edge == "reflect":
            return numerator
        ones_x = _convolve_axis(np.ones((1, z.shape[1])), kernel_x, 1, edge)
        ones_y = _convolve_axis(np.ones((z.shape[0], 1)), kernel_y, 0, edge)
        return numerator / (ones_y * ones_x)
    denominator = _convolve_axis(_convolve_axis(weights, kernel_x, 1, edge), kernel_y, 0, edge)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_surface = numerator / denominator
    mean_surface[~valid] = np.nan
    return mean_surface


def scale_limit(z_um: NDArray[np.float64], dx_um: float, dy_um: float, *,
                ls_um: float | None = None, lc_um: float | None = None,
                edge: EdgeHandling = "renormalise") -> NDArray[np.float64]:
    """Apply the S-filter (``ls_um``) and then the L-filter (``lc_um``); either may be off.

    The S-filter keeps the Gaussian low-pass at ``ls_um``; the L-filter subtracts the
    Gaussian low-pass at ``lc_um`` (the mean surface), leaving the S-L (roughness) surface.
    """
    if ls_um is not None and lc_um is not None and ls_um >= lc_um:
        raise InputError("the S-filter nesting index (--ls) must be shorter than the L-filter's "
                         "(--lc)", field="ls")
    surface = np.asarray(z_um, dtype=np.float64)
    if ls_um is not None:
        surface = gaussian_lowpass(surface, dx_um, dy_um, ls_um, edge)
    if lc_um is not None:
        surface = surface - gaussian_lowpass(surface, dx_um, dy_um, lc_um, edge)
    return surface


def edge_margin_samples(nesting_indexes_um: list[float], dx_um: float,
                        dy_um: float) -> tuple[int, int]:
    """Half-width (rows, columns) of the widest Gaussian weighting function used.

    It is the radius of the truncated kernel (:func:`gaussian_kernel`, 4 sigma, about 0.75
    of the nesting index): a point at least this far from the border has its whole weighting
    function on the map, so the filter's end effects do not reach it.
    """
    if not nesting_indexes_um:
        return 0, 0
    widest = max(nesting_indexes_um)
    return ((gaussian_kernel(widest, dy_um).size - 1) // 2,
            (gaussian_kernel(widest, dx_um).size - 1) // 2)


def trim_edges(surface: NDArray[np.float64], margin: tuple[int, int], *,
               crop: bool) -> NDArray[np.float64]:
    """Mark as missing (``crop=False``) or cut away (``crop=True``) a border strip.

    Raises
    ------
    InputError
        The strip leaves fewer than 2 rows or columns.
    """
    rows, cols = margin
    ny, nx = surface.shape
    if ny - 2 * rows < 2 or nx - 2 * cols < 2:
        raise InputError(f"the filter's half-width ({rows} x {cols} samples on each side) leaves "
                         f"nothing of a {ny} x {nx} map; use a shorter nesting index or "
                         "--edge renormalise or reflect", field="edge")
    if crop:
        return surface[rows:ny - rows, cols:nx - cols].copy()
    trimmed = surface.copy()
    trimmed[:rows, :] = np.nan
    trimmed[ny - rows:, :] = np.nan
    trimmed[:, :cols] = np.nan
    trimmed[:, nx - cols:] = np.nan
    return trimmed


# ---------------------------------------------------------------------------------------------
# Areal parameters (ISO 25178-2)
# ---------------------------------------------------------------------------------------------

def _safe_ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator > 0 else math.nan


def height_parameters(z_um: NDArray[np.float64]) -> dict[str, float]:
    """Sa, Sq, Sp, Sv, Sz, Ssk, Sku of a scale-limited surface (ISO 25178-2:2021, 4.1).

    Heights are taken from the mean plane of the measured points, z' = z - mean(z):
    Sa = mean|z'|, Sq = sqrt(mean z'^2), Sp = max z', Sv = -min z', Sz = Sp + Sv,
    Ssk = mean z'^3 / Sq^3, Sku = mean z'^4 / Sq^4. Missing points are left out.
    Ssk and Sku are NaN for a perfectly flat surface (Sq = 0).
    """
    values = np.asarray(z_um, dtype=np.float64)
    values = values[np.isfinite(values)]
    centred = values - values.mean()
    squared = centred * centred
    sa = float(np.abs(centred).mean())
    sq = math.sqrt(float(squared.mean()))
    sp = float(centred.max())
    sv = float(-centred.min())
    return {
        "Sa": sa,
        "Sq": sq,
        "Sp": sp,
        "Sv": sv,
        "Sz": sp + sv,
        "Ssk": _safe_ratio(float((squared * centred).mean()), sq ** 3),
        "Sku": _safe_ratio(float((squared * squared).mean()), sq ** 4),
    }


def gradient_parameters(z_um: NDArray[np.float64], dx_um: float,
                        dy_um: float) -> dict[str, float]:
    """Sdq and Sdr from forward differences on the grid (ISO 25178-2:2021, 4.3).

    Gradient scheme
    ---------------
    Sdq = sqrt(mean((z[i, j+1] - z[i, j]) / dx)^2 + mean((z[i+1, j] - z[i, j]) / dy)^2), each
    mean over the differences along its own axis whose two points were measured.

    Sdr = (A_developed / A_projected - 1) x 100 %, where each grid cell ABCD is split into two
    triangles along both diagonals and the two triangulated areas are averaged
    (ISO 25178-2:2021, annex D.3, eq. D.15). Only cells with all four corners measured count,
    in both areas. The same scheme as surfalize 0.19; central differences give a smaller Sdr on
    noisy data, so the scheme is part of the parameter's definition.
    """
    z = np.asarray(z_um, dtype=np.float64)
    dzx = np.diff(z, axis=1)
    dzy = np.diff(z, axis=0)
    gx = dzx[np.isfinite(dzx)] / dx_um
    gy = dzy[np.isfinite(dzy)] / dy_um
    sdq = math.sqrt((float(np.mean(gx * gx)) if gx.size else 0.0)
                    + (float(np.mean(gy * gy)) if gy.size else 0.0))
    if gx.size == 0 and gy.size == 0:
        sdq = math.nan

    bottom, top = dzx[:-1, :], dzx[1:, :]
    left, right = dzy[:, :-1], dzy[:, 1:]
    cross_z = (dx_um * dy_um) ** 2
    bottom2, top2 = (dy_um * bottom) ** 2, (dy_um * top) ** 2
    left2, right2 = (dx_um * left) ** 2, (dx_um * right) ** 2
    cells = 0.25 * (np.sqrt(bottom2 + left2 + cross_z) + np.sqrt(bottom2 + right2 + cross_z)
                    + np.sqrt(top2 + right2 + cross_z) + np.sqrt(top2 + left2 + cross_z))
    measured = np.isfinite(cells)
    projected = float(measured.sum()) * dx_um * dy_um
    sdr = (float(cells[measured].sum()) / projected - 1.0) * 100.0 if projected else math.nan
    return {"Sdq": sdq, "Sdr": sdr}


def material_ratio_parameters(z_um: NDArray[np.float64], *, p_percent: float = DEFAULT_P_PERCENT,
                              q_percent: float = DEFAULT_Q_PERCENT) -> dict[str, float]:
    """Volume (Vmp, Vmc, Vvc, Vvv) and core (Sk, Spk, Svk, Smr1, Smr2) parameters.

    The areal material ratio curve Smc(mr) is the height above which the fraction ``mr`` of
    the measured points lies: the (1 - mr) quantile of the heights, computed from one sort.
    Volumes are per unit area (µm³/µm², equal to mL/m²), exact sums over the points:
    Vm(p) = mean(max(z - Smc(p), 0)) and Vv(p) = mean(max(Smc(p) - z, 0)), and
    Vmp = Vm(p), Vmc = Vm(q) - Vm(p), Vvc = Vv(p) - Vv(q), Vvv = Vv(q)
    (ISO 25178-2:2021, 4.4; defaults p = 10 %, q = 80 %).

    Sk: the 40 % wide secant of the material ratio curve with the smallest height drop is the
    equivalent straight line (ISO 13565-2:1996, 4.2 secant method, sampled at 0.05 % steps of
    material ratio); Sk is the height between its intercepts at 0 % and 100 %. Smr1 and Smr2
    are the material ratios at those two heights; Spk = 2 A1 / Smr1 and Svk = 2 A2 / (1 - Smr2),
    with A1 the peak area above the upper core height and A2 the dale area below the lower one.
    """
    values = np.asarray(z_um, dtype=np.float64)
    values = np.sort(values[np.isfinite(values)])
    values -= values.mean()
    n = values.size

    def smc(ratio: NDArray[np.float64] | float) -> Any:
        # Fraction `ratio` of the points is at or above the returned height.
        return np.interp(1.0 - np.asarray(ratio), np.linspace(0.0, 1.0, n), values)

    def smr(height: float) -> float:
        return float(n - np.searchsorted(values, height, side="left")) / n

    def volume_above(height: float) -> float:
        start = np.searchsorted(values, height, side="right")
        return float((values[start:] - height).sum()) / n

    def volume_below(height: float) -> float:
        stop = np.searchsorted(values, height, side="left")
        return float((height - values[:stop]).sum()) / n

    p, q = p_percent / 100.0, q_percent / 100.0
    c_p, c_q = float(smc(p)), float(smc(q))
    vm_p, vm_q = volume_above(c_p), volume_above(c_q)
    vv_p, vv_q = volume_below(c_p), volume_below(c_q)

    step = 0.0005
    ratios = np.arange(0.0, 1.0 + step / 2, step)
    curve = smc(ratios)
    width = int(round(EQUIVALENCE_WIDTH_PERCENT / 100.0 / step))
    drops = curve[:-width] - curve[width:]
    start = int(np.argmin(drops))  # the first of equal minima, as ISO 13565-2 asks
    slope = (curve[start + width] - curve[start]) / (EQUIVALENCE_WIDTH_PERCENT / 100.0)
    upper = float(curve[start] - slope * ratios[start])
    lower = float(upper + slope * 1.0)
    smr1, smr2 = smr(upper), smr(lower)
    peak_area, dale_area = volume_above(upper), volume_below(lower)
    return {
        "Vmp": vm_p,
        "Vmc": vm_q - vm_p,
        "Vvc": vv_p - vv_q,
        "Vvv": vv_q,
        "Sk": upper - lower,
        "Spk": 2.0 * peak_area / smr1 if smr1 > 0 else 0.0,
        "Svk": 2.0 * dale_area / (1.0 - smr2) if smr2 < 1 else 0.0,
        "Smr1": smr1 * 100.0,
        "Smr2": smr2 * 100.0,
    }


# ---------------------------------------------------------------------------------------------
# Furrow direction and profile parameters (ISO 21920-2)
# ---------------------------------------------------------------------------------------------

def furrow_direction(z_um: NDArray[np.float64], dx_um: float,
                     dy_um: float) -> tuple[float, float]:
    """Dominant furrow direction from the gradient structure tensor.

    The tensor J = mean([gx², gx gy], [gx gy, gy²]) over all measured forward differences has
    its main eigenvector along the dominant gradient; furrows run at right angles to it.

    Returns
    -------
    (angle_deg, coherence)
        ``angle_deg`` in [0, 180): direction in which the furrows run, measured from the x
        axis (columns) towards the y axis (rows). ``coherence`` in [0, 1]:
        (l1 - l2) / (l1 + l2) of the eigenvalues; near 0 the surface has no dominant
        direction and the angle means little.
    """
    z = np.asarray(z_um, dtype=np.float64)
    gx = np.diff(z, axis=1)[:-1, :] / dx_um
    gy = np.diff(z, axis=0)[:, :-1] / dy_um
    both = np.isfinite(gx) & np.isfinite(gy)
    gx, gy = gx[both], gy[both]
    if gx.size == 0:
        return math.nan, 0.0
    jxx, jyy, jxy = float(np.mean(gx * gx)), float(np.mean(gy * gy)), float(np.mean(gx * gy))
    trace = jxx + jyy
    if trace <= 0:
        return math.nan, 0.0
    gradient_angle = 0.5 * math.atan2(2.0 * jxy, jxx - jyy)
    coherence = math.hypot(jxx - jyy, 2.0 * jxy) / trace
    furrow_angle = math.degrees(gradient_angle) + 90.0
    return furrow_angle % 180.0, coherence


def extract_profiles(z_um: NDArray[np.float64], dx_um: float, dy_um: float, angle_deg: float,
                     n_lines: int = DEFAULT_PROFILE_LINES) -> tuple[list[NDArray], float]:
    """Sample parallel straight profiles running at ``angle_deg`` across the map.

    Lines are spread evenly (at the centres of ``n_lines`` equal bands) across the map's width
    perpendicular to the direction, clipped to the map, and sampled every min(dx, dy) µm by
    bilinear interpolation. A sample is missing (NaN) unless all grid points it leans on
    were measured.

    Returns
    -------
    (profiles, spacing_um)
        The height profiles in µm (each at least 2 samples long) and their sample spacing.
    """
    from scipy import ndimage

    z = np.asarray(z_um, dtype=np.float64)
    ny, nx = z.shape
    spacing = min(dx_um, dy_um)
    theta = math.radians(angle_deg)
    ux, uy = math.cos(theta), math.sin(theta)
    nxv, nyv = -uy, ux
    width_x, width_y = (nx - 1) * dx_um, (ny - 1) * dy_um
    cx, cy = width_x / 2.0, width_y / 2.0
    corners = np.array([[0, 0], [width_x, 0], [0, width_y], [width_x, width_y]], dtype=float)
    across = (corners[:, 0] - cx) * nxv + (corners[:, 1] - cy) * nyv
    valid = np.isfinite(z)
    filled = np.where(valid, z, 0.0)
    weights = valid.astype(np.float64)
    tolerance = 1e-9 * max(width_x, width_y, spacing)
    profiles: list[NDArray] = []
    for band in range(n_lines):
        offset = across.min() + (band + 0.5) / n_lines * (across.max() - across.min())
        px, py = cx + offset * nxv, cy + offset * nyv
        # Parameter range along the line that stays inside the rectangle.
        t_lo, t_hi = -math.inf, math.inf
        for origin, direction, size in ((px, ux, width_x), (py, uy, width_y)):
            if abs(direction) < 1e-12:
                if origin < -tolerance or origin > size + tolerance:
                    t_lo, t_hi = 1.0, 0.0
                continue
            a, b = (0.0 - origin) / direction, (size - origin) / direction
            t_lo, t_hi = max(t_lo, min(a, b)), min(t_hi, max(a, b))
        if not t_hi > t_lo:
            continue
        count = int(math.floor((t_hi - t_lo) / spacing + 1e-9)) + 1
        if count < 2:
            continue
        t = t_lo + spacing * np.arange(count)
        cols = np.clip((px + t * ux) / dx_um, 0, nx - 1)
        rows = np.clip((py + t * uy) / dy_um, 0, ny - 1)
        coords = np.vstack([rows, cols])
        heights = ndimage.map_coordinates(filled, coords, order=1, mode="nearest")
        support = ndimage.map_coordinates(weights, coords, order=1, mode="nearest")
        # Interpolating the mask: 1 only when every neighbour with weight was measured.
        heights = np.where(support > 1.0 - 1e-9, heights, np.nan)
        profiles.append(heights)
    return profiles, spacing


def profile_parameters(profile_um: NDArray[np.float64], spacing_um: float,
                       sampling_length_um: float | None = None) -> dict[str, float]:
    """Ra, Rq, Rp, Rv, Rz, Rt of one profile (ISO 21920-2), heights from its mean line.

    The mean line is the mean of the measured samples (the areal form was removed before).
    Ra = mean|z|, Rq = sqrt(mean z²) and Rt = max z - min z over the evaluation length.
    Rp, Rv (the highest peak, the deepest valley) and Rz = Rp + Rv are means over
    sampling lengths: ``sampling_length_um`` (the L-filter nesting index) when given, otherwise
    the evaluation length divided into five (ISO 4288); when fewer than one complete sampling
    length, or fewer than 5 measured points per section, is available, the whole profile is one
    section.
    """
    z = np.asarray(profile_um, dtype=np.float64)
    measured = np.isfinite(z)
    if measured.sum() < 2:
        return {}
    centred = z - z[measured].mean()
    values = centred[measured]
    n = z.size
    if sampling_length_um is not None:
        per_section = int(round(sampling_length_um / spacing_um))
        sections = min(n // per_section, SAMPLING_LENGTHS_PER_EVALUATION) if per_section else 0
    else:
        sections = SAMPLING_LENGTHS_PER_EVALUATION
        per_section = n // sections
    peaks, valleys = [], []
    if sections >= 1 and per_section >= MIN_POINTS_PER_SAMPLING_LENGTH:
        for index in range(sections):
            part = centred[index * per_section:(index + 1) * per_section]
            part = part[np.isfinite(part)]
            if part.size < MIN_POINTS_PER_SAMPLING_LENGTH:
                continue
            peaks.append(float(part.max()))
            valleys.append(float(-part.min()))
    if not peaks:
        peaks, valleys = [float(values.max())], [float(-values.min())]
    rp, rv = float(np.mean(peaks)), float(np.mean(valleys))
    return {
        "Ra": float(np.abs(values).mean()),
        "Rq": math.sqrt(float((values * values).mean())),
        "Rp": rp,
        "Rv": rv,
        "Rz": rp + rv,
        "Rt": float(values.max() - values.min()),
        "evaluation_length_um": (n - 1) * spacing_um,
    }


def line_roughness(z_um: NDArray[np.float64], dx_um: float, dy_um: float, *,
                   lc_um: float | None = None,
                   n_lines: int = DEFAULT_PROFILE_LINES) -> dict[str, float | None]:
    """Profile parameters averaged over lines perpendicular to the dominant furrows.

    Replica and optical profilometry of skin depend on the scan direction relative to the
    furrows (see docs/devices.md), so the direction is found from the data
    (:func:`furrow_direction`) and the profiles cross it at right angles. When the surface
    has no measurable slope at all the profiles run along x. Each parameter is the mean over
    the lines weighted by their evaluation length (so is ``evaluation_length_um``).
    """
    furrow_angle, coherence = furrow_direction(z_um, dx_um, dy_um)
    profile_angle = 0.0 if math.isnan(furrow_angle) else (furrow_angle + 90.0) % 180.0
    profiles, spacing = extract_profiles(z_um, dx_um, dy_um, profile_angle, n_lines)
    rows = [profile_parameters(p, spacing, lc_um) for p in profiles]
    rows = [row for row in rows if row]
    names = ("Ra", "Rq", "Rp", "Rv", "Rz", "Rt", "evaluation_length_um")
    # Lines near the corners of an oblique map are short: weight each by its length.
    lengths = [row["evaluation_length_um"] for row in rows]
    result: dict[str, float | None] = {
        name: (float(np.average([row[name] for row in rows], weights=lengths)) if rows
               else None) for name in names
    }
    result.update({
        "n_profiles": len(rows),
        "profile_angle_deg": profile_angle,
        "furrow_angle_deg": None if math.isnan(furrow_angle) else furrow_angle,
        "orientation_coherence": coherence,
        "sampling_length_um": lc_um,
    })
    return result


# ---------------------------------------------------------------------------------------------
# Furrows below the mean plane
# ---------------------------------------------------------------------------------------------

def furrow_parameters(z_um: NDArray[np.float64], dx_um: float,
                      dy_um: float) -> dict[str, float | None]:
    """Depth and volume of the valleys below the mean plane of the measured points.

    A valley is a 4-connected region of measured points below the mean plane.

    Returns
    -------
    dict
        ``furrow_depth_um``: the deepest point of each valley below the mean plane, averaged
        over the valleys weighted by their area (so that specks of noise count little);
        ``mean_valley_depth_um``: mean depth of all points below the mean plane;
        ``valley_area_percent``: share of the measured area below the mean plane;
        ``furrow_volume_um3_per_mm2``: void volume between the mean plane and the surface per
        mm² of measured (projected) area, i.e. 10^6 x mean(max(-z, 0)) in µm;
        ``furrow_volume_mm3``: that void volume over the whole measured area, in mm³;
        ``n_valleys``: the number of valleys.
    """
    from scipy import ndimage

    z = np.asarray(z_um, dtype=np.float64)
    measured = np.isfinite(z)
    heights = z - z[measured].mean()
    below = measured & (heights < 0)
    depth = np.where(below, -heights, 0.0)
    labels, count = ndimage.label(below)
    if count:
        flat_labels = labels.ravel()
        deepest = np.zeros(count + 1)
        np.maximum.at(deepest, flat_labels, depth.ravel())
        areas = np.bincount(flat_labels, minlength=count + 1)
        furrow_depth = float(np.average(deepest[1:], weights=areas[1:]))
        mean_depth = float(depth[below].mean())
    else:
        furrow_depth = mean_depth = 0.0
    n_measured = int(measured.sum())
    void_per_area_um = float(depth.sum()) / n_measured
    measured_area_um2 = n_measured * dx_um * dy_um
    return {
        "furrow_depth_um": furrow_depth,
        "mean_valley_depth_um": mean_depth,
        "valley_area_percent": 100.0 * float(below.sum()) / n_measured,
        "furrow_volume_um3_per_mm2": void_per_area_um * 1e6,
        "furrow_volume_mm3": void_per_area_um * measured_area_um2 * 1e-9,
        "n_valleys": int(count),
    }


# ---------------------------------------------------------------------------------------------
# The whole measurement
# ---------------------------------------------------------------------------------------------

def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def measure_surface(heightmap: HeightMap, form: FormRemoval = "plane",
                    ls_um: float | None = None, lc_um: float | None = None, *,
                    edge: EdgeMode = "renormalise",
                    p_percent: float = DEFAULT_P_PERCENT,
                    q_percent: float = DEFAULT_Q_PERCENT,
                    n_lines: int = DEFAULT_PROFILE_LINES) -> SurfaceResult:
    """Form removal, S- and L-filtering, then every areal, profile and furrow parameter.

    Parameters
    ----------
    heightmap:
        The height map (µm, NaN for missing points).
    form:
        ``none``, ``plane`` (default) or ``poly2`` (see :func:`remove_form`).
    ls_um, lc_um:
        S-filter and L-filter nesting indexes in µm; ``None`` leaves the filter off.
    edge:
        End effects of the S- and L-filters (ISO 16610-28 lists these remedies):

        * ``"renormalise"`` (default): the weighting function is cut at the border and
          renormalised to unit sum, so every point is kept and no data is invented
          (the "weighting function correction");
        * ``"reflect"``: the map is extended by its mirror image (symmetric extension), as
          surfalize and ``scipy.ndimage`` do;
        * ``"nan"``: filter as ``renormalise``, then mark as missing every point closer to
          the border than the filter's half-width (the truncated support of the widest
          Gaussian used, 4 sigma = 0.75 x its nesting index): only points whose whole
          weighting function lies on the map are evaluated; the grid keeps its size;
        * ``"crop"``: as ``nan``, but the border strip is cut away, so the evaluation area
          shrinks by the half-width on each side.

        Without a filter the four are the same.
    p_percent, q_percent:
        Material ratios of the volume parameters.
    n_lines:
        Number of profile lines.

    Returns
    -------
    SurfaceResult
        Parameters (NaN results become ``None``), their units and the settings used.
    """
    z = np.asarray(heightmap.z_um, dtype=np.float64)
    if z.ndim != 2 or min(z.shape) < 2:
        raise InputError("a height map must be a 2-D grid of at least 2 x 2 points",
                         field="z_um")
    if not (heightmap.dx_um > 0 and heightmap.dy_um > 0):
        raise InputError("the sampling interval must be a positive length in µm",
                         field="spacing_um")
    if not np.isfinite(z).any():
        raise InputError("the height map has no measured point (all NaN)", field="z_um")
    for name, value in (("ls", ls_um), ("lc", lc_um)):
        if value is not None and not value > 0:
            raise InputError(f"--{name} must be a positive length in µm", field=name)
    if not 0 < p_percent < q_percent < 100:
        raise InputError("volume material ratios need 0 < p < q < 100 %", field="p_percent")
    dx, dy = float(heightmap.dx_um), float(heightmap.dy_um)
    surface = remove_form(z, dx, dy, form)
    if edge not in EDGE_MODES:
        raise InputError(f"edge must be one of {', '.join(EDGE_MODES)}, not {edge!r}",
                         field="edge")
    surface = scale_limit(surface, dx, dy, ls_um=ls_um, lc_um=lc_um,
                          edge="reflect" if edge == "reflect" else "renormalise")
    margin = edge_margin_samples([v for v in (ls_um, lc_um) if v is not None], dx, dy)
    if edge in ("nan", "crop") and any(margin):
        surface = trim_edges(surface, margin, crop=edge == "crop")
    if np.count_nonzero(np.isfinite(surface)) < 4:
        raise InputError("fewer than 4 measured points remain after filtering", field="z_um")

    areal: dict[str, Any] = {}
    areal.update(height_parameters(surface))
    areal.update(gradient_parameters(surface, dx, dy))
    areal.update(material_ratio_parameters(surface, p_percent=p_percent, q_percent=q_percent))
    profile = line_roughness(surface, dx, dy, lc_um=lc_um, n_lines=n_lines)
    furrows = furrow_parameters(surface, dx, dy)
    ny, nx = z.shape
    settings = {
        "form": form,
        "ls_um": ls_um,
        "lc_um": lc_um,
        "filter": "ISO 16610-61 Gaussian, normalised convolution",
        "edge": edge,
        "edge_margin_samples": list(margin) if edge in ("nan", "crop") else [0, 0],
        "gradient_scheme": "forward differences; Sdr by ISO 25178-2 D.15 triangulation",
        "p_percent": p_percent,
        "q_percent": q_percent,
        "dx_um": dx,
        "dy_um": dy,
        "shape": [ny, nx],
        "valid_percent": 100.0 * float(np.isfinite(surface).sum()) / surface.size,
        "evaluated_shape": list(surface.shape),
        "source_format": heightmap.source_format,
    }
    return SurfaceResult(
        areal={k: _finite_or_none(v) for k, v in areal.items()},
        profile={k: _finite_or_none(v) for k, v in profile.items()},
        furrows={k: _finite_or_none(v) for k, v in furrows.items()},
        units={k: v for k, v in UNITS.items()},
        settings=settings,
    )
