"""Reading and writing photographs: the only imaging module that touches files.

Reading decodes JPEG, PNG and TIFF (8 and 16 bits per sample), HEIC (the HEVC-coded
HEIF that iPhones and many Android phones save by default, through libheif in the
``pi-heif`` wheel, LGPL, decoder only), and DICOM VL Photographic Images (8-bit, through
:mod:`dermatrack.interop.dicom.photo`), into float32 sRGB in [0, 1], applies the EXIF
orientation (in a HEIC, its rotation and mirror properties, which libheif applies), converts
an embedded ICC profile, or a HEIC's Display P3 or BT.2020 primaries, to sRGB, and
refuses, with an :class:`~dermatrack.errors.InputError` naming the file, anything that
is not one of those images, is truncated, or has more pixels than allowed. The pixel
count is read from the file header before any pixel data is decoded, so a
"decompression bomb" (a small file that claims a huge image) costs nothing.

Writing produces PNG and JPEG files with pixel data only: no EXIF (so no GPS position,
camera serial number or capture time), no ICC profile, no text chunks. Photographs of
patients must not carry identifying metadata into anything dermatrack writes.
"""

from __future__ import annotations

import hashlib
import io
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dermatrack.errors import InputError

__all__ = ["DEFAULT_MAX_PIXELS", "IMAGE_FORMATS", "IMAGE_SUFFIXES", "SAMPLE_FACES",
           "ANNOTATION_SUFFIXES", "LoadedImage", "read_annotation", "read_image",
           "sample_face", "write_jpeg", "write_png"]

DEFAULT_MAX_PIXELS = 100_000_000

_ORIENTATION_TAG = 0x0112  # EXIF / TIFF tag 274
_ICC_TAG = 34675  # TIFF InterColorProfile

#: The photograph formats :func:`read_image` decodes (besides DICOM), as users name them,
#: and the file suffixes that folders of photographs are searched for.
IMAGE_FORMATS = "JPEG, PNG, TIFF or HEIC"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".heic", ".heif")
#: The files :func:`read_annotation` reads: masks as drawing and labelling tools save them.
ANNOTATION_SUFFIXES = (".png", ".bmp", ".tif", ".tiff", ".jpg", ".jpeg")

# ISO base media file brands (ISO/IEC 23008-12): HEVC-coded HEIF, AV1-coded AVIF, and the
# generic image brands either can carry (libheif tells them apart by the coded image).
_HEVC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
_AV1_BRANDS = {b"avif", b"avis"}
_GENERIC_HEIF_BRANDS = {b"mif1", b"msf1", b"miaf"}
#: nclx colour primaries (ITU-T H.273 table 2) by their colour-science name; 1 (BT.709,
#: the primaries of sRGB) and 2 (unspecified) are taken as sRGB.
_NCLX_PRIMARIES = {1: "sRGB", 2: "sRGB", 9: "ITU-R BT.2020", 12: "Display P3"}
#: nclx transfer characteristics (H.273 table 3) of standard dynamic range, with the
#: colour-science decoding that inverts them; 2 (unspecified) is taken as sRGB's.
_NCLX_SDR_TRANSFER = {1: "ITU-R BT.709", 2: "sRGB", 6: "ITU-R BT.709", 13: "sRGB",
                      14: "ITU-R BT.709", 15: "ITU-R BT.709"}
_PIL_LOCK = threading.Lock()


@dataclass(frozen=True)
class LoadedImage:
    """A decoded photograph.

    Attributes
    ----------
    rgb:
        ``(H, W, 3)`` float32 sRGB in [0, 1], orientation applied.
    width, height:
        Size of ``rgb`` in pixels (after orientation).
    sha256:
        Hex SHA-256 of the file's bytes, to identify the original.
    bits_per_sample:
        8 or 16, as stored in the file.
    icc_converted:
        True when an embedded, non-sRGB ICC profile (or a HEIC's Display P3 or BT.2020
        primaries) was converted to sRGB.
    orientation_applied:
        True when an EXIF orientation other than 1 was applied (a HEIC's rotation and
        mirror properties are applied by libheif while decoding and not reported here).
    source_name:
        File name (without directories).
    reduced_from:
        ``(width, height)`` of the file when it was decoded reduced (``reduce_to_pixels``),
        else None.
    """

    rgb: np.ndarray
    width: int
    height: int
    sha256: str
    bits_per_sample: int
    icc_converted: bool
    orientation_applied: bool
    source_name: str
    reduced_from: tuple[int, int] | None = None


def _sniff(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if head[4:8] == b"ftyp":
        # The file type box: major brand, minor version, then compatible brands.
        end = min(int.from_bytes(head[:4], "big"), len(head))
        brands = {head[8:12]} | {head[i:i + 4] for i in range(16, end - 3, 4)}
        if brands & _HEVC_BRANDS:
            return "HEIF"
        if brands & _AV1_BRANDS:
            return "AVIF"
        if brands & _GENERIC_HEIF_BRANDS:
            return "HEIF"
    return None


_HEIF_LOCK = threading.Lock()
_heif_registered = False


def _register_heif() -> None:
    """Teach Pillow to open HEIF through pi-heif, once. pi-heif applies the image's
    rotation and mirror properties and resets the EXIF orientation to 1 (HEIF's own
    properties define how it displays), so no turn is applied twice."""
    global _heif_registered
    with _HEIF_LOCK:
        if not _heif_registered:
            import pi_heif

            pi_heif.register_heif_opener(thumbnails=False, depth_images=False,
                                         aux_images=False)
            _heif_registered = True


def _nclx_space(nclx: dict, name: str) -> tuple[str, str] | None:
    """The colour-science RGB space and decoding of a HEIF's nclx colour description, or
    None when its pixels are sRGB already (BT.709 or unspecified primaries, an SDR
    transfer). Refuses HDR (PQ, HLG) and primaries it cannot convert."""
    primaries = int(nclx.get("color_primaries", 2))
    transfer = int(nclx.get("transfer_characteristics", 2))
    if transfer in (16, 18):
        raise InputError(
            f"{name}: a high dynamic range (HDR, {'PQ' if transfer == 16 else 'HLG'}) "
            "HEIF cannot be measured as it is (its tones would first need mapping to "
            "standard range); export it as a standard-range (SDR) JPEG or HEIC, or turn "
            "the camera's HDR (HLG/PQ) still mode off", field="image")
    if transfer not in _NCLX_SDR_TRANSFER:
        raise InputError(f"{name}: HEIF transfer characteristics {transfer} (ITU-T H.273) "
                         "are not supported", field="image")
    if primaries not in _NCLX_PRIMARIES:
        raise InputError(f"{name}: HEIF colour primaries {primaries} (ITU-T H.273) are not "
                         "supported (Display P3, BT.2020 and sRGB are)", field="image")
    space = (_NCLX_PRIMARIES[primaries], _NCLX_SDR_TRANSFER[transfer])
    return None if space == ("sRGB", "sRGB") else space


def _primaries_to_srgb(array: np.ndarray, bits: int, space: tuple[str, str]) -> np.ndarray:
    """Convert RGB code values in ``space`` (colour-science RGB space, decoding) to sRGB
    (float32, clipped to the sRGB gamut as the ICC conversion does)."""
    import colour

    encoded = array.astype(np.float64) / (255 if bits == 8 else 65535)
    linear = colour.cctf_decoding(encoded, function=space[1])
    converted = colour.RGB_to_RGB(linear, colour.RGB_COLOURSPACES[space[0]],
                                  colour.RGB_COLOURSPACES["sRGB"],
                                  apply_cctf_encoding=True)
    return np.clip(converted, 0.0, 1.0).astype(np.float32)


def _check_pixels(name: str, width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise InputError(f"{name}: the image header gives an empty size ({width}x{height})",
                         field="image")
    if width * height > max_pixels:
        raise InputError(
            f"{name}: {width}x{height} = {width * height:,} pixels exceeds the limit of "
            f"{max_pixels:,} (refused before decoding, as a possible decompression bomb)",
            field="image")


def _apply_orientation(array: np.ndarray, orientation: int) -> np.ndarray:
    """Turn an ``(H, W, ...)`` array upright according to an EXIF orientation code.

    Codes 1-8 as defined by EXIF 2.32 / TIFF 6.0 tag 274: the array is transformed so
    that it displays the way the camera intended.
    """
    if orientation == 2:
        return array[:, ::-1]
    if orientation == 3:
        return array[::-1, ::-1]
    if orientation == 4:
        return array[::-1]
    if orientation == 5:
        return np.swapaxes(array, 0, 1)
    if orientation == 6:
        return np.rot90(array, k=-1)
    if orientation == 7:
        return np.swapaxes(array[::-1, ::-1], 0, 1)
    if orientation == 8:
        return np.rot90(array, k=1)
    return array


def _is_srgb_profile(profile_bytes: bytes) -> bool:
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(io.BytesIO(profile_bytes))
    description = (ImageCms.getProfileDescription(profile) or "").lower()
    return "srgb" in description.replace(" ", "")


def _icc_to_srgb(array: np.ndarray, bits: int, profile_bytes: bytes, name: str) -> np.ndarray:
    """Convert an ``(H, W, 3)`` uint8/uint16 array from an ICC profile to sRGB (float32).

    8-bit data go through LittleCMS (Pillow's ImageCms) directly. LittleCMS in Pillow
    handles 8-bit RGB only, so 16-bit data are converted through a 3-D look-up table of
    the same transform (33 nodes per axis, trilinear interpolation), which keeps the
    16-bit precision of smooth gradients.
    """
    from PIL import Image, ImageCms

    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile_bytes))
        target = ImageCms.createProfile("sRGB")
        transform = ImageCms.buildTransform(source, target, "RGB", "RGB",
                                            renderingIntent=ImageCms.Intent.PERCEPTUAL)
    except (ImageCms.PyCMSError, OSError, ValueError) as exc:
        raise InputError(f"{name}: the embedded ICC profile cannot be used ({exc})",
                         field="icc_profile") from exc
    if bits == 8:
        converted = ImageCms.applyTransform(Image.fromarray(array, "RGB"), transform)
        return np.asarray(converted, dtype=np.float32) / np.float32(255)

    nodes = 33
    axis = np.linspace(0, 255, nodes)
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1)
    grid_image = Image.fromarray(np.round(grid.reshape(nodes, nodes * nodes, 3))
                                 .astype(np.uint8), "RGB")
    node_values = np.round(axis).astype(np.float64) / 255
    table = np.asarray(ImageCms.applyTransform(grid_image, transform), dtype=np.float32)
    table = table.reshape(nodes, nodes, nodes, 3) / np.float32(255)
    # Node positions were rounded to 8-bit codes; interpolate on their real positions.
    coords = array.astype(np.float32) / np.float32(65535)
    position = np.interp(coords.ravel(), node_values, np.arange(nodes, dtype=np.float64))
    position = position.astype(np.float32).reshape(coords.shape)
    lower = np.minimum(np.floor(position).astype(np.int32), nodes - 2)
    fraction = position - lower
    out = np.zeros(coords.shape, dtype=np.float32)
    for corner in range(8):
        offsets = [(corner >> bit) & 1 for bit in range(3)]
        weight = np.ones(coords.shape[:2], dtype=np.float32)
        for channel, offset in enumerate(offsets):
            weight *= fraction[..., channel] if offset else 1 - fraction[..., channel]
        out += weight[..., None] * table[lower[..., 0] + offsets[0], lower[..., 1] + offsets[1],
                                         lower[..., 2] + offsets[2]]
    return out


def _to_rgb_channels(array: np.ndarray, name: str) -> np.ndarray:
    """Grey -> RGB by repetition; alpha dropped (photographs are opaque)."""
    if array.ndim == 2:
        return np.repeat(array[..., None], 3, axis=2)
    if array.ndim == 3 and array.shape[2] == 2:
        return np.repeat(array[..., :1], 3, axis=2)
    if array.ndim == 3 and array.shape[2] in (3, 4):
        return array[..., :3]
    raise InputError(f"{name}: unsupported pixel layout {array.shape}", field="image")


def _reduced_size(width: int, height: int, reduce_to_pixels: int | None
                  ) -> tuple[int, int] | None:
    """The largest size of the same aspect within ``reduce_to_pixels``, or None when the
    image already fits."""
    if reduce_to_pixels is None or width * height <= reduce_to_pixels:
        return None
    scale = (reduce_to_pixels / (width * height)) ** 0.5
    return max(1, int(width * scale)), max(1, int(height * scale))


def _decode_pillow(data: bytes, name: str, max_pixels: int,
                   reduce_to_pixels: int | None = None, size_out: list[int] | None = None,
                   colour_out: list[dict] | None = None
                   ) -> tuple[np.ndarray, int, int, bytes | None]:
    """JPEG, 8-bit PNG and HEIF through Pillow; 16-bit PNG through OpenCV (Pillow would
    reduce it to 8 bits). Returns the array (uint8/uint16), bits, orientation and ICC
    bytes; a HEIF's nclx colour description, when it has one, is added to ``colour_out``."""
    from PIL import Image, ImageFile

    with _PIL_LOCK, warnings.catch_warnings():
        # The pixel limit is checked below, from the header; Pillow's own guard is set to
        # the same limit so that it can never decode more.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        previous = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = max_pixels
        # A truncated file is refused even where another library (weasyprint, imported
        # for PDF reports) has told Pillow, process-wide, to load truncated images.
        load_truncated = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            image: Image.Image = Image.open(io.BytesIO(data))
            _check_pixels(name, image.width, image.height, max_pixels)
            if size_out is not None:
                size_out.extend((image.width, image.height))
            orientation = int(image.getexif().get(_ORIENTATION_TAG, 1) or 1)
            icc = image.info.get("icc_profile") or None
            if colour_out is not None and isinstance(image.info.get("nclx_profile"), dict):
                colour_out.append(image.info["nclx_profile"])
            sixteen_bit = image.format == "PNG" and len(data) > 24 and data[24] == 16
            if sixteen_bit:
                array = _decode_png16(data, name)
                return array, 16, orientation, icc
            target = _reduced_size(image.width, image.height, reduce_to_pixels)
            if target is not None and image.format == "JPEG":
                # JPEG decodes at 1/2, 1/4 or 1/8 scale directly (DCT scaling): the full
                # image never exists in memory.
                image.draft("RGB", target)
            image.load()
            if target is not None and image.mode in ("RGB", "L", "RGBA", "LA") and (
                    image.width > target[0] or image.height > target[1]):
                # Reduced inside Pillow (BOX: area averaging) so the full-size pixels are
                # freed before any array copy of them is made.
                image = image.resize(target, Image.Resampling.BOX)
        except Image.DecompressionBombError as exc:
            # Pillow's guard fires at twice its limit, while reading the header.
            raise InputError(
                f"{name}: the header claims more than {2 * max_pixels:,} pixels, over the "
                f"limit of {max_pixels:,} (refused before decoding, as a possible "
                "decompression bomb)", field="image") from exc
        except (OSError, SyntaxError, ValueError, RuntimeError) as exc:
            # RuntimeError: libheif's errors, as pi-heif raises them.
            raise InputError(f"{name}: the image data cannot be decoded, the file is "
                             f"truncated or damaged ({str(exc).strip()})",
                             field="image") from exc
        finally:
            Image.MAX_IMAGE_PIXELS = previous
            ImageFile.LOAD_TRUNCATED_IMAGES = load_truncated

    if image.mode in ("RGB", "L"):
        array = np.asarray(image)
    elif image.mode in ("RGBA", "LA", "P", "PA", "1", "CMYK", "YCbCr", "I;16", "I;16B"):
        if image.mode == "CMYK":
            # A CMYK profile cannot be applied to the RGB result; Pillow's conversion is
            # a naive one, so say nothing was colour-managed.
            icc = None
        array = np.asarray(image.convert("RGB"))
    else:
        raise InputError(f"{name}: unsupported image mode {image.mode!r} (expected RGB "
                         "or greyscale, 8 or 16 bits)", field="image")
    return array, 8, orientation, icc


def _decode_png16(data: bytes, name: str) -> np.ndarray:
    import cv2

    array = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if array is None:
        raise InputError(f"{name}: the 16-bit PNG data cannot be decoded (truncated or "
                         "damaged)", field="image")
    if array.ndim == 3:
        # OpenCV returns BGR(A).
        array = array[..., [2, 1, 0] + ([3] if array.shape[2] == 4 else [])]
    return array


def _decode_tiff(data: bytes, name: str, max_pixels: int
                 ) -> tuple[np.ndarray, int, int, bytes | None]:
    import tifffile

    try:
        with tifffile.TiffFile(io.BytesIO(data)) as tiff:
            page = tiff.pages.first
            _check_pixels(name, int(page.imagewidth), int(page.imagelength), max_pixels)
            bits = int(page.bitspersample)
            if bits not in (8, 16) or page.dtype is None or page.dtype.kind != "u":
                raise InputError(f"{name}: unsupported TIFF sample format ({bits}-bit "
                                 f"{page.dtype}); expected 8 or 16-bit unsigned integers",
                                 field="image")
            photometric = int(page.photometric)
            # 1: min-is-black grey, 2: RGB (TIFF 6.0 PhotometricInterpretation).
            if photometric not in (1, 2):
                raise InputError(f"{name}: unsupported TIFF colour model "
                                 f"(PhotometricInterpretation {photometric}); expected RGB "
                                 "or greyscale", field="image")
            orientation_tag = page.tags.get(_ORIENTATION_TAG)
            orientation = int(orientation_tag.value) if orientation_tag is not None else 1
            icc_tag = page.tags.get(_ICC_TAG)
            icc = bytes(icc_tag.value) if icc_tag is not None else None
            array = page.asarray()
    except InputError:
        raise
    except Exception as exc:  # tifffile raises many types for damaged files
        raise InputError(f"{name}: the TIFF data cannot be decoded, the file is truncated "
                         f"or damaged ({type(exc).__name__}: {exc})", field="image") from exc
    if array.ndim == 3 and array.shape[0] in (3, 4) and array.shape[2] not in (3, 4):
        array = np.moveaxis(array, 0, -1)  # planar configuration
    return array, bits, orientation, icc


def _reduce(array: np.ndarray, target: tuple[int, int]) -> np.ndarray:
    """Area-averaged downscaling of an ``(H, W[, C])`` uint8/uint16 array to ``target``
    ``(width, height)`` (OpenCV ``INTER_AREA``)."""
    import cv2

    if array.shape[1] <= target[0] and array.shape[0] <= target[1]:
        return array
    return cv2.resize(np.ascontiguousarray(array), target, interpolation=cv2.INTER_AREA)


def read_image(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS,
               reduce_to_pixels: int | None = None) -> LoadedImage:
    """Read a JPEG, PNG, TIFF or HEIC photograph, or a DICOM VL Photographic Image, as
    float32 sRGB (DICOM: :mod:`dermatrack.interop.dicom.photo`, which refuses any other SOP
    class).

    Parameters
    ----------
    path:
        File to read.
    max_pixels:
        Largest accepted width x height, checked from the header before decoding.
    reduce_to_pixels:
        When given and the image has more pixels, it is scaled down (area averaging, same
        aspect) to at most this many before it is turned into float32, so the memory of
        the result and of any analysis of it is bounded by this figure rather than by the
        file; JPEGs are decoded at reduced scale directly. ``reduced_from`` then holds the
        file's own size (scale lengths in pixels by ``width / reduced_from[0]``).

    Returns
    -------
    LoadedImage

    Raises
    ------
    InputError
        For a missing or empty file, a file that is not a JPEG, PNG, TIFF or HEIC
        (whatever its extension; AVIF is named as unsupported), a truncated or damaged
        file, too many pixels, an unsupported sample format or colour model, an unusable
        ICC profile, or a HEIC of high dynamic range or unknown primaries.
    """
    path = Path(path)
    name = path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file", field="image") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})",
                         field="image") from exc
    if not data:
        raise InputError(f"{name}: the file is empty", field="image")
    from dermatrack.interop.dicom.photo import decode_dicom, is_dicom

    if is_dicom(data):
        pixels, _ = decode_dicom(data, name, max_pixels)
        full = (int(pixels.shape[1]), int(pixels.shape[0]))
        target = _reduced_size(full[0], full[1], reduce_to_pixels)
        if target is not None:
            pixels = _reduce(pixels, target)
        rgb = np.ascontiguousarray(pixels.astype(np.float32) / np.float32(255))
        return LoadedImage(rgb=rgb, width=int(rgb.shape[1]), height=int(rgb.shape[0]),
                           sha256=hashlib.sha256(data).hexdigest(), bits_per_sample=8,
                           icc_converted=False, orientation_applied=False, source_name=name,
                           reduced_from=full if target is not None else None)
    kind = _sniff(data[:64])
    if kind is None:
        raise InputError(f"{name}: not a {IMAGE_FORMATS} image nor a DICOM photograph (the "
                         "file content does not start with any of their signatures)",
                         field="image")
    if kind == "AVIF":
        raise InputError(f"{name}: AVIF (AV1-coded HEIF) photographs are not supported; "
                         f"export it as {IMAGE_FORMATS}", field="image")

    nclx: list[dict] = []
    if kind == "TIFF":
        array, bits, orientation, icc = _decode_tiff(data, name, max_pixels)
    else:
        if kind == "HEIF":
            _register_heif()
        header_size: list[int] = []
        array, bits, orientation, icc = _decode_pillow(data, name, max_pixels,
                                                       reduce_to_pixels, header_size, nclx)
    # An ICC profile, when a HEIF has one, describes its colour; pi-heif reports the
    # nclx description only when there is none.
    primaries = _nclx_space(nclx[0], name) if nclx and icc is None else None
    array = np.asarray(array)
    reduced_from = None
    if array.ndim >= 2:
        width, height = int(array.shape[1]), int(array.shape[0])
        if kind != "TIFF" and len(header_size) == 2:
            width, height = header_size  # a JPEG may have been decoded at reduced scale
        target = _reduced_size(width, height, reduce_to_pixels)
        if target is not None:
            array = _reduce(array, target)
            reduced_from = (width, height)
    array = _to_rgb_channels(array, name)
    if bits == 8 and array.dtype != np.uint8:
        array = array.astype(np.uint8)

    icc_converted = False
    if icc is not None and not _is_srgb_profile_safe(icc):
        rgb = _icc_to_srgb(np.ascontiguousarray(array), bits, icc, name)
        icc_converted = True
    elif primaries is not None:
        rgb = _primaries_to_srgb(array, bits, primaries)
        icc_converted = True
    else:
        rgb = array.astype(np.float32) / np.float32(255 if bits == 8 else 65535)

    oriented = orientation in (2, 3, 4, 5, 6, 7, 8)
    if oriented:
        rgb = _apply_orientation(rgb, orientation)
    rgb = np.ascontiguousarray(rgb, dtype=np.float32)
    return LoadedImage(rgb=rgb, width=int(rgb.shape[1]), height=int(rgb.shape[0]),
                       sha256=hashlib.sha256(data).hexdigest(), bits_per_sample=bits,
                       icc_converted=icc_converted, orientation_applied=oriented,
                       source_name=name, reduced_from=reduced_from)


def _is_srgb_profile_safe(profile_bytes: bytes) -> bool:
    """True for an sRGB profile; an unreadable profile is reported by the conversion."""
    try:
        return _is_srgb_profile(profile_bytes)
    except Exception:  # noqa: BLE001 - the conversion step raises the clear message
        return False


def _to_uint8(array: np.ndarray) -> np.ndarray:
    array = np.asarray(array)
    if array.dtype == bool:
        return array.astype(np.uint8) * np.uint8(255)
    if array.dtype == np.uint8:
        return array
    if np.issubdtype(array.dtype, np.floating):
        return (np.clip(array, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    raise ValueError(f"cannot write an array of dtype {array.dtype} as an 8-bit image")


def _save(path: str | Path, array: np.ndarray, format_name: str, **options) -> None:
    from PIL import Image

    pixels = _to_uint8(array)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[..., 0]
    if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] != 3):
        raise ValueError(f"expected an (H, W) or (H, W, 3) array, got {pixels.shape}")
    image = Image.fromarray(np.ascontiguousarray(pixels), "L" if pixels.ndim == 2 else "RGB")
    # A fresh image carries no info dict; pass no exif, icc_profile or pnginfo so the
    # file holds pixels only.
    image.save(Path(path), format=format_name, **options)


SAMPLE_FACES = ("astronaut", "grace_hopper")
"""Real face photographs that ship inside installed packages (nothing is downloaded)."""


def read_annotation(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS
                    ) -> np.ndarray:
    """An annotation mask as drawn (PNG, BMP, TIFF or JPEG; grey, palette or colour): its
    values as stored, 2-D (grey) or 3-D (channels), with no colour management, since
    they are labels rather than colours (:func:`dermatrack.imaging.annotations.
    annotation_mask` tells marked from unmarked).

    Raises
    ------
    InputError
        For a missing, empty or unreadable file, or too many pixels.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as opened:
            _check_pixels(path.name, opened.width, opened.height, max_pixels)
            image: Image.Image = opened
            if image.mode in ("P", "PA"):
                image = image.convert("RGBA" if image.mode == "PA"
                                      or "transparency" in image.info else "RGB")
            values = np.asarray(image)
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file", field="annotation") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InputError(f"{path.name}: not a readable annotation image ({exc})",
                         field="annotation") from exc
    if image.mode in ("LA", "RGBA"):
        # Strokes on a transparent layer are marked by their opacity; an opaque layer's
        # alpha says nothing.
        alpha = values[..., -1]
        values = alpha if (alpha < alpha.max()).any() else values[..., :-1]
    return values


def sample_face(name: str) -> np.ndarray:
    """A bundled real face photograph as float32 sRGB in [0, 1], shape (H, W, 3).

    ``astronaut`` is scikit-image's ``data.astronaut()`` (NASA, public domain);
    ``grace_hopper`` is matplotlib's sample ``grace_hopper.jpg``, read through
    :func:`read_image` like any photograph.
    """
    if name == "astronaut":
        from skimage import data

        return data.astronaut().astype(np.float32) / 255.0
    if name == "grace_hopper":
        from matplotlib import cbook

        return read_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).rgb
    raise ValueError(f"unknown sample face {name!r}; expected one of {SAMPLE_FACES}")


def write_png(path: str | Path, array: np.ndarray) -> None:
    """Write an 8-bit PNG with no metadata.

    Parameters
    ----------
    path:
        Destination file.
    array:
        ``(H, W)`` bool mask (written 0/255), ``(H, W)`` or ``(H, W, 3)`` float in
        [0, 1] (clipped, rounded to 8 bits) or uint8.
    """
    _save(path, array, "PNG", optimize=False)


def write_jpeg(path: str | Path, rgb: np.ndarray, quality: int = 92) -> None:
    """Write a baseline JPEG with no EXIF, ICC or comment segments.

    Parameters
    ----------
    path:
        Destination file.
    rgb:
        ``(H, W, 3)`` float sRGB in [0, 1] or uint8.
    quality:
        libjpeg quality, 1-95.
    """
    _save(path, rgb, "JPEG", quality=int(quality))
