"""Surface parameters on analytic height maps whose values are known in closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from dermatrack.devices.surface import (
    HeightMap,
    furrow_direction,
    gaussian_lowpass,
    material_ratio_parameters,
    measure_surface,
    profile_parameters,
    remove_form,
)
from dermatrack.errors import InputError

AMPLITUDE = 7.5  # µm
WAVELENGTH = 100  # samples per period at dx = 1 µm


def sinusoid(ny: int = 40, periods: int = 5, amplitude: float = AMPLITUDE,
             wavelength: int = WAVELENGTH) -> np.ndarray:
    """Ridges parallel to y: z = A sin(2 pi x / lambda), whole periods along x."""
    x = np.arange(periods * wavelength, dtype=float)
    return np.tile(amplitude * np.sin(2 * np.pi * x / wavelength), (ny, 1))


def test_sinusoid_height_parameters_match_closed_form():
    result = measure_surface(HeightMap(sinusoid(), 1.0, 1.0), form="none")
    areal = result.areal
    # Discrete mean of |sin| over N samples per period: (1/N) cot(pi / (2N)), about 2/pi.
    assert areal["Sa"] == pytest.approx(2 * AMPLITUDE / math.pi, rel=1e-3)
    assert areal["Sq"] == pytest.approx(AMPLITUDE / math.sqrt(2), rel=1e-12)
    assert areal["Sp"] == pytest.approx(AMPLITUDE, rel=1e-12)
    assert areal["Sv"] == pytest.approx(AMPLITUDE, rel=1e-12)
    assert areal["Sz"] == pytest.approx(2 * AMPLITUDE, rel=1e-12)
    assert areal["Ssk"] == pytest.approx(0.0, abs=1e-12)
    assert areal["Sku"] == pytest.approx(1.5, rel=1e-12)  # mean sin^4 / (mean sin^2)^2


def test_sinusoid_profile_parameters_across_the_ridges():
    result = measure_surface(HeightMap(sinusoid(), 1.0, 1.0), form="none")
    profile = result.profile
    assert profile["furrow_angle_deg"] == pytest.approx(90.0, abs=1e-9)
    assert profile["profile_angle_deg"] == pytest.approx(0.0, abs=1e-9)
    assert profile["orientation_coherence"] == pytest.approx(1.0)
    assert profile["n_profiles"] > 10
    assert profile["Ra"] == pytest.approx(2 * AMPLITUDE / math.pi, rel=1e-3)
    assert profile["Rq"] == pytest.approx(AMPLITUDE / math.sqrt(2), rel=1e-6)
    assert profile["Rt"] == pytest.approx(2 * AMPLITUDE, rel=1e-6)
    # Five sampling lengths of one period each: every section holds a crest and a trough.
    assert profile["Rz"] == pytest.approx(2 * AMPLITUDE, rel=1e-6)


def test_oblique_ridges_are_found_and_crossed():
    angle = math.radians(30.0)
    y, x = np.mgrid[0:300, 0:300].astype(float)
    z = AMPLITUDE * np.sin(2 * np.pi * (x * math.cos(angle) + y * math.sin(angle)) / 80.0)
    furrow_angle, coherence = furrow_direction(z, 1.0, 1.0)
    assert furrow_angle == pytest.approx(120.0, abs=0.5)
    assert coherence > 0.95
    result = measure_surface(HeightMap(z, 1.0, 1.0), form="none")
    assert result.profile["profile_angle_deg"] == pytest.approx(30.0, abs=0.5)
    # Across the ridges the profile is the full sinusoid again (bilinear sampling between
    # grid points flattens the crests slightly).
    assert result.profile["Ra"] == pytest.approx(2 * AMPLITUDE / math.pi, rel=0.02)
    assert result.profile["Rq"] == pytest.approx(AMPLITUDE / math.sqrt(2), rel=0.02)


def test_plane_at_45_degrees_has_sdr_41_percent():
    y, x = np.mgrid[0:30, 0:50].astype(float)
    result = measure_surface(HeightMap(x * 2.0, 2.0, 2.0), form="none")
    assert result.areal["Sdr"] == pytest.approx((math.sqrt(2) - 1) * 100, rel=1e-12)
    assert result.areal["Sdq"] == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("form,trend", [
    ("plane", lambda x, y: 3.0 + 0.02 * x - 0.05 * y),
    ("poly2", lambda x, y: -1.0 + 0.01 * x + 0.002 * x * x - 0.003 * x * y + 0.004 * y * y),
])
def test_form_removal_recovers_zero(form, trend):
    y, x = np.mgrid[0:40, 0:60].astype(float) * 1.5
    z = trend(x, y)
    z[5, 7] = np.nan  # the fit ignores missing points
    residual = remove_form(z, 1.5, 1.5, form)
    assert np.isnan(residual[5, 7])
    assert np.nanmax(np.abs(residual)) < 1e-9
    result = measure_surface(HeightMap(z, 1.5, 1.5), form=form)
    assert result.areal["Sa"] < 1e-9
    assert result.areal["Sdr"] < 1e-12


def test_plane_removal_ignores_any_tilt():
    y, x = np.mgrid[0:40, 0:500].astype(float)
    rough = sinusoid() + np.random.default_rng(5).normal(0.0, 0.5, (40, 500))
    tilted = rough + 0.3 * x - 0.1 * y + 12.0
    levelled = measure_surface(HeightMap(tilted, 1.0, 1.0), form="plane").values()
    reference = measure_surface(HeightMap(rough, 1.0, 1.0), form="plane").values()
    for name in ("Sa", "Sq", "Sz", "Sdq", "Sdr", "Vmc", "Ra", "furrow_depth_um"):
        assert levelled[name] == pytest.approx(reference[name], rel=1e-9), name


def test_uniform_heights_give_linear_material_ratio_curve():
    # A ramp has heights spread uniformly over [-h, h]: Smc(mr) = h - 2 h mr, so
    # Vm(p) = h p^2 and Vv(q) = h (1 - q)^2, and the core is the whole height range.
    half_range = 5.0
    ramp = np.tile(np.linspace(-half_range, half_range, 20001), (3, 1))
    values = material_ratio_parameters(ramp)
    assert values["Vmp"] == pytest.approx(half_range * 0.1 ** 2, rel=1e-3)
    assert values["Vmc"] == pytest.approx(half_range * (0.8 ** 2 - 0.1 ** 2), rel=2e-3)
    assert values["Vvv"] == pytest.approx(half_range * 0.2 ** 2, rel=2e-3)
    assert values["Vvc"] == pytest.approx(half_range * (0.9 ** 2 - 0.2 ** 2), rel=2e-3)
    assert values["Sk"] == pytest.approx(2 * half_range, rel=1e-3)
    assert values["Spk"] == pytest.approx(0.0, abs=0.01)
    assert values["Svk"] == pytest.approx(0.0, abs=0.01)


def test_gaussian_furrows_depth_and_volume():
    depth, width, spacing_x = 40.0, 6.0, 120
    centres = (60, 180, 300)
    nx = 360
    x = np.arange(nx, dtype=float)

    def profile(xs):
        return -depth * sum(np.exp(-((xs - c) ** 2) / (2 * width ** 2)) for c in centres)

    z = np.tile(profile(x), (30, 1))
    result = measure_surface(HeightMap(z, 1.0, 1.0), form="none")
    furrows = result.furrows
    # Independent reference: the continuous profile integrated by quadrature.
    length = float(nx)
    mean_plane = integrate.quad(profile, -0.5, nx - 0.5, limit=200)[0] / length
    void = integrate.quad(lambda s: max(mean_plane - profile(s), 0.0), -0.5, nx - 0.5,
                          limit=400, points=centres)[0] / length
    assert furrows["n_valleys"] == len(centres)
    assert furrows["furrow_depth_um"] == pytest.approx(depth + mean_plane, rel=1e-3)
    assert furrows["furrow_volume_um3_per_mm2"] == pytest.approx(void * 1e6, rel=2e-3)
    area_mm2 = 30 * nx * 1e-6
    assert furrows["furrow_volume_mm3"] == pytest.approx(void * 1e6 * area_mm2 * 1e-9,
                                                          rel=2e-3)
    assert result.profile["furrow_angle_deg"] == pytest.approx(90.0, abs=1e-6)
    assert spacing_x == 120  # three furrows, one every 120 µm


@pytest.mark.parametrize("wavelength_ratio", [1.0, 0.5])
def test_gaussian_lowpass_transmission_is_iso_16610_61(wavelength_ratio):
    # A sine of wavelength lambda keeps exp(-pi (alpha lambda_s / lambda)^2) = 2^-(ls/l)^2.
    wavelength = 60.0
    x = np.arange(600, dtype=float)
    z = np.tile(np.sin(2 * np.pi * x / wavelength), (8, 1))
    nesting = wavelength * wavelength_ratio
    smooth = gaussian_lowpass(z, 1.0, 1.0, nesting)
    interior = smooth[:, 120:-120]
    expected = 2.0 ** (-(wavelength_ratio ** 2))
    assert np.abs(interior).max() == pytest.approx(expected, rel=2e-3)


def test_filter_renormalises_around_missing_points_and_edges():
    rng = np.random.default_rng(3)
    z = np.full((50, 70), 4.2)
    holes = rng.random(z.shape) < 0.2
    z[holes] = np.nan
    z[10:20, 10:20] = np.nan
    smooth = gaussian_lowpass(z, 1.0, 1.0, 25.0)
    assert np.isnan(smooth[holes]).all()
    assert np.allclose(smooth[~np.isnan(z)], 4.2, rtol=0, atol=1e-12)
    # Reflect mode also keeps a constant, the FFT path (long kernel) as well.
    long = gaussian_lowpass(np.full((40, 400), -3.0), 1.0, 1.0, 800.0, edge="reflect")
    assert np.allclose(long, -3.0, atol=1e-10)


def test_missing_points_are_left_out_of_every_parameter():
    z = sinusoid(ny=60)
    rng = np.random.default_rng(7)
    z[rng.random(z.shape) < 0.1] = np.nan
    result = measure_surface(HeightMap(z, 1.0, 1.0), form="plane", lc_um=250.0)
    values = result.values()
    for name in ("Sa", "Sq", "Sdq", "Sdr", "Vmp", "Sk", "Ra", "furrow_depth_um"):
        assert values[name] is not None and math.isfinite(values[name]), name
    # An L-filter at 2.5 wavelengths passes the sinusoid almost whole (1 - 2^-6.25).
    assert values["Sq"] == pytest.approx(AMPLITUDE / math.sqrt(2), rel=0.05)
    assert result.settings["valid_percent"] == pytest.approx(90.0, abs=1.5)


def test_l_filter_removes_long_waves():
    x = np.arange(800, dtype=float)
    short = 2.0 * np.sin(2 * np.pi * x / 20.0)
    long = 30.0 * np.sin(2 * np.pi * x / 400.0)
    z = np.tile(short + long, (40, 1))
    result = measure_surface(HeightMap(z, 1.0, 1.0), form="none", lc_um=80.0, edge="reflect")
    # 2^-(80/400)^2 of the long wave stays in the mean surface: its residue is about 3 %.
    assert result.areal["Sq"] < 0.2 * 30.0 / math.sqrt(2)
    assert result.settings["lc_um"] == 80.0


def test_profile_sampling_lengths():
    x = np.arange(1000, dtype=float)
    profile = np.sin(2 * np.pi * x / 50.0)
    profile[100] = 4.0  # one spike in the first of five sections
    values = profile_parameters(profile, 1.0, sampling_length_um=200.0)
    assert values["Rt"] == pytest.approx(4.0 + 1.0, abs=0.01)
    # Rz averages the five sections: one has the spike.
    assert values["Rz"] == pytest.approx((5.0 + 4 * 2.0) / 5, abs=0.01)
    whole = profile_parameters(profile[:30], 1.0, sampling_length_um=200.0)
    assert whole["Rz"] == pytest.approx(whole["Rt"])


def test_json_shape_and_units():
    data = measure_surface(HeightMap(sinusoid(ny=10), 1.0, 1.0)).to_json()
    assert set(data) >= {"areal", "profile", "furrows", "units", "settings"}
    for name in ("Sa", "Sq", "Sp", "Sv", "Sz", "Ssk", "Sku", "Sdq", "Sdr", "Vmp", "Vmc",
                 "Vvc", "Vvv", "Sk", "Spk", "Svk"):
        assert name in data["areal"] and data["units"][name]
    for name in ("Ra", "Rq", "Rp", "Rv", "Rz", "Rt"):
        assert name in data["profile"] and data["units"][name] == "µm"
    assert data["units"]["Sdr"] == "%"
    assert data["settings"]["form"] == "plane"


def test_flat_surface_has_undefined_shape_parameters():
    result = measure_surface(HeightMap(np.zeros((10, 10)), 1.0, 1.0), form="none")
    assert result.areal["Sq"] == 0.0
    assert result.areal["Ssk"] is None and result.areal["Sku"] is None


@pytest.mark.parametrize("kwargs,field", [
    ({"form": "cubic"}, "form"),
    ({"ls_um": -1.0}, "ls"),
    ({"ls_um": 50.0, "lc_um": 10.0}, "ls"),
])
def test_bad_settings_are_refused(kwargs, field):
    with pytest.raises(InputError) as error:
        measure_surface(HeightMap(sinusoid(ny=5), 1.0, 1.0), **kwargs)
    assert error.value.field == field


def test_all_missing_is_refused():
    with pytest.raises(InputError, match="all NaN"):
        measure_surface(HeightMap(np.full((5, 5), np.nan), 1.0, 1.0))
