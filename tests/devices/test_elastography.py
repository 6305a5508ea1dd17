"""Shear-wave elastography: synthetic maps with known speeds and moduli, the DICOM, CSV and
TIFF readers, ROIs, refusals and storage."""

from __future__ import annotations

import numpy as np
import pytest

from dermatrack.devices.elastography import (
    ElastographyMap,
    Roi,
    measure_elastography,
    parse_roi,
    speed_from_modulus,
    youngs_modulus_kpa,
)
from dermatrack.devices.elastography_io import read_elastography_map
from dermatrack.errors import InputError


def write_dicom(path, pixels, *, slope=1.0, intercept=0.0, unit="m/s", mapping="rwvm",
                spacing=(0.1, 0.1), regions_cm=None, samples=1, rows=None, columns=None,
                frames=None):
    """A minimal ultrasound DICOM object with the vendor-neutral attributes."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.6.1"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "US"
    data = np.asarray(pixels, dtype=np.uint16)
    ds.Rows = rows or data.shape[0]
    ds.Columns = columns or data.shape[1]
    if frames:
        ds.NumberOfFrames = frames
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = "MONOCHROME2" if samples == 1 else "RGB"
    if samples != 1:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.PixelData = data.tobytes()
    if spacing is not None:
        ds.PixelSpacing = [spacing[0], spacing[1]]
    if regions_cm is not None:
        region = Dataset()
        region.PhysicalUnitsXDirection = 3
        region.PhysicalUnitsYDirection = 3
        region.PhysicalDeltaX, region.PhysicalDeltaY = regions_cm
        ds.SequenceOfUltrasoundRegions = Sequence([region])
    if mapping == "rwvm":
        item = Dataset()
        item.RealWorldValueSlope = slope
        item.RealWorldValueIntercept = intercept
        code = Dataset()
        code.CodeValue = unit
        code.CodingSchemeDesignator = "UCUM"
        code.CodeMeaning = unit
        item.MeasurementUnitsCodeSequence = Sequence([code])
        ds.RealWorldValueMappingSequence = Sequence([item])
    elif mapping == "rescale":
        ds.RescaleSlope = slope
        ds.RescaleIntercept = intercept
        if unit:
            ds.RescaleType = unit
    ds.save_as(path, enforce_file_format=True)
    return path


def test_constant_speed_gives_the_textbook_modulus():
    """c = 2 m/s in tissue of 1000 kg/m³: E = 3 x 1000 x 4 Pa = 12 kPa, mu = 4 kPa."""
    emap = ElastographyMap(np.full((30, 40), 2.0), "speed", 0.1, 0.1)
    (result,) = measure_elastography(emap)
    p = result.parameters
    assert p["speed_median_m_s"] == 2.0 and p["speed_iqr_m_s"] == 0.0
    assert p["youngs_modulus_median_kpa"] == pytest.approx(12.0, rel=1e-12)
    assert p["shear_modulus_median_kpa"] == pytest.approx(4.0, rel=1e-12)
    assert p["roi_area_mm2"] == pytest.approx(3.0 * 4.0)
    assert p["n_pixels"] == 1200 and p["valid_percent"] == 100.0
    (dense,) = measure_elastography(emap, density_kg_m3=1100.0)
    assert dense.parameters["youngs_modulus_median_kpa"] == pytest.approx(13.2, rel=1e-12)


def test_modulus_maps_convert_back_to_the_speed():
    speed = np.random.default_rng(1).uniform(1.0, 5.0, (20, 20))
    young = youngs_modulus_kpa(speed)
    np.testing.assert_allclose(speed_from_modulus(young, "young"), speed, rtol=1e-12)
    np.testing.assert_allclose(speed_from_modulus(young / 3.0, "shear"), speed, rtol=1e-12)
    a = measure_elastography(ElastographyMap(speed, "speed", 0.2, 0.2))[0].parameters
    b = measure_elastography(ElastographyMap(young, "young", 0.2, 0.2))[0].parameters
    for key in a:
        assert b[key] == pytest.approx(a[key], rel=1e-9), key


def test_rois_separate_two_stiffnesses_and_ignore_unmeasured_pixels():
    """Left half 1.5 m/s, right half 3 m/s; percentiles of 1..n known exactly."""
    values = np.full((40, 60), 1.5)
    values[:, 30:] = 3.0
    values[0:5, 0:5] = np.nan  # shadow: unmeasured
    ramp = np.arange(1.0, 101.0).reshape(10, 10)  # a 1 mm x 1 mm block of 1..100 m/s
    values[20:30, 40:50] = ramp / 10.0
    emap = ElastographyMap(values, "speed", 0.1, 0.1)
    rois = [parse_roi("soft=0,0,3,4"), parse_roi("stiff=3,0,1,2"),
            parse_roi("ramp=4,2,1,1"), parse_roi("dot=circle:1.5,2,0.5")]
    soft, stiff, ramp_result, dot = measure_elastography(emap, rois)
    assert soft.parameters["speed_median_m_s"] == 1.5
    assert soft.parameters["valid_percent"] == pytest.approx(100 * (1 - 25 / 1200))
    assert stiff.parameters["youngs_modulus_median_kpa"] == pytest.approx(27.0)
    # numpy's linear percentiles of 0.1..10.0: median 5.05, IQR 7.525 - 2.575 = 4.95
    assert ramp_result.parameters["speed_median_m_s"] == pytest.approx(5.05)
    assert ramp_result.parameters["speed_iqr_m_s"] == pytest.approx(4.95)
    assert ramp_result.parameters["speed_iqr_over_median_pct"] == pytest.approx(
        100 * 4.95 / 5.05)
    # A 0.5 mm radius circle of 0.1 mm pixels: centres within the radius.
    ys, xs = (np.mgrid[0:40, 0:60] + 0.5) * 0.1
    expected = int((((xs - 1.5) ** 2 + (ys - 2.0) ** 2) <= 0.25).sum())
    assert dot.parameters["n_pixels"] == expected


@pytest.mark.parametrize("rois,density,values,words", [
    ([Roi("far", "rect", 50, 50, 1, 1)], 1000.0, None, "holds no pixel"),
    ([Roi("a", "rect", 0, 0, 1, 1), Roi("a", "rect", 1, 1, 1, 1)], 1000.0, None, "unique"),
    (None, 5000.0, None, "density"),
    (None, 1000.0, -1.0, "negative"),
    (None, 1000.0, 5000.0, "1000 m/s"),
    (None, 1000.0, np.nan, "measured pixels"),
])
def test_refusals(rois, density, values, words):
    data = np.full((10, 10), 2.0 if values is None else values)
    with pytest.raises(InputError, match=words):
        measure_elastography(ElastographyMap(data, "speed", 0.1, 0.1), rois,
                             density_kg_m3=density)


@pytest.mark.parametrize("text", ["bad", "x=1,2,3", "x=circle:1,2", "x=1,2,-3,4",
                                  "x=circle:1,1,0", "x=a,b,c,d"])
def test_bad_roi_text(text):
    with pytest.raises(InputError):
        parse_roi(text)


def test_dicom_real_world_value_mapping(tmp_path):
    counts = np.full((32, 48), 250, dtype=np.uint16)
    counts[:, 24:] = 400
    path = write_dicom(tmp_path / "swe.dcm", counts, slope=0.01, unit="m/s",
                       spacing=(0.2, 0.1))
    emap = read_elastography_map(path)
    assert emap.quantity == "speed" and (emap.dx_mm, emap.dy_mm) == (0.1, 0.2)
    results = measure_elastography(emap, [parse_roi("left=0,0,2.4,6.4"),
                                          parse_roi("right=2.4,0,2.4,6.4")])
    assert results[0].parameters["speed_median_m_s"] == pytest.approx(2.5)
    assert results[1].parameters["youngs_modulus_median_kpa"] == pytest.approx(48.0)
    assert emap.metadata["value_mapping"] == "Real World Value Mapping"


def test_dicom_rescale_kpa_and_ultrasound_regions(tmp_path):
    counts = np.full((16, 16), 120, dtype=np.uint16)
    path = write_dicom(tmp_path / "e", counts, slope=0.1, intercept=0.0, unit="kPa",
                       mapping="rescale", spacing=None, regions_cm=(0.01, 0.02))
    emap = read_elastography_map(path)  # no suffix: recognised by the DICM preamble
    assert emap.quantity == "young" and (emap.dx_mm, emap.dy_mm) == pytest.approx((0.1, 0.2))
    (result,) = measure_elastography(emap)
    assert result.parameters["youngs_modulus_median_kpa"] == pytest.approx(12.0)
    assert result.parameters["speed_median_m_s"] == pytest.approx(2.0)
    shear = read_elastography_map(path, quantity="shear")
    assert measure_elastography(shear)[0].parameters["speed_median_m_s"] == \
        pytest.approx(np.sqrt(12.0))


def test_dicom_refusals(tmp_path):
    rgb = write_dicom(tmp_path / "rgb.dcm", np.zeros((4, 4, 3)), samples=3)
    with pytest.raises(InputError, match="colour image"):
        read_elastography_map(rgb)
    huge = write_dicom(tmp_path / "huge.dcm", np.zeros((4, 4)), rows=60000, columns=60000)
    with pytest.raises(InputError, match="more than"):
        read_elastography_map(huge)
    no_unit = write_dicom(tmp_path / "nounit.dcm", np.ones((4, 4)), mapping="rescale",
                          unit=None)
    with pytest.raises(InputError, match="--unit"):
        read_elastography_map(no_unit)
    assert read_elastography_map(no_unit, unit="m/s").quantity == "speed"
    no_spacing = write_dicom(tmp_path / "nospace.dcm", np.ones((4, 4)), spacing=None)
    with pytest.raises(InputError, match="--spacing-mm"):
        read_elastography_map(no_spacing)
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not dicom at all" * 20)
    with pytest.raises(InputError, match="DICOM"):
        read_elastography_map(junk)


def test_csv_and_tiff_maps(tmp_path):
    import tifffile

    csv = tmp_path / "map.csv"
    csv.write_text("# unit: kPa\n# quantity: young\n# dx_mm: 0.1\n# dy_mm: 0.2\n"
                   "12,12,\n12,12,12\n")
    emap = read_elastography_map(csv)
    assert emap.quantity == "young" and np.isnan(emap.values[0, 2])
    assert (emap.dx_mm, emap.dy_mm) == (0.1, 0.2)
    assert measure_elastography(emap)[0].parameters["speed_median_m_s"] == pytest.approx(2.0)
    tif = tmp_path / "map.tif"
    tifffile.imwrite(tif, np.full((8, 8), 300.0, dtype=np.float32),
                     description="unit: cm/s\nspacing_mm: 0.05")
    emap = read_elastography_map(tif)
    assert emap.quantity == "speed" and emap.dx_mm == 0.05
    assert emap.values[0, 0] == pytest.approx(3.0)
    with pytest.raises(InputError, match="modulus, not a speed"):
        read_elastography_map(csv, quantity="speed")
    with pytest.raises(InputError, match="unknown elastography unit"):
        read_elastography_map(csv, unit="psi")


def test_cli_json_storage_and_exit_codes(cli, store, tmp_path):
    from dermatrack.services import patients
    from dermatrack.services.observations import list_observations

    path = tmp_path / "swe.csv"
    rows = ["# unit: m/s", "# spacing_mm: 0.1"] + [",".join(["2.0"] * 20)] * 20
    path.write_text("\n".join(rows) + "\n")
    result = cli("measure", "elastography", path, "--roi", "a=0,0,1,1", "--roi",
                 "b=circle:1.5,1.5,0.4", "--json")
    assert result.code == 0, result.stderr
    data = result.json()
    assert [d["roi"] for d in data] == ["a", "b"]
    assert data[0]["parameters"]["youngs_modulus_median_kpa"] == pytest.approx(12.0)
    assert data[0]["units"]["speed_median_m_s"] == "m/s"
    table = cli("measure", "elastography", path)
    assert table.code == 0 and "E median" in table.stdout

    patient = patients.add_patient(store, {"age": 45, "sex": "male", "fitzpatrick": "III"},
                                   actor="dr.test")
    stored = cli("measure", "elastography", path, "--patient", patient.id, "--region",
                 "cheeks", "--actor", "dr.test", "--device", "SWE 15 MHz", "--json")
    assert stored.code == 0, stored.stderr
    rows_ = list_observations(store, patient_id=patient.id, kind="elastography")
    by_metric = {o.metric: o for o in rows_}
    assert by_metric["youngs_modulus_median_kpa"].value == pytest.approx(12.0)
    assert by_metric["youngs_modulus_median_kpa"].unit == "kPa"
    assert by_metric["speed_median_m_s"].settings["density_kg_m3"] == 1000.0
    assert by_metric["speed_median_m_s"].device == "SWE 15 MHz"

    for args, words in ((("--roi", "oops"), "ROI"), (("--density", "50"), "density"),
                        (("--quantity", "bulk"), "--quantity")):
        bad = cli("measure", "elastography", path, *args, "--json")
        assert bad.code == 2 and words in bad.stderr and bad.stdout == ""
    missing = cli("measure", "elastography", tmp_path / "absent.dcm")
    assert missing.code == 2 and "absent.dcm" in missing.stderr
