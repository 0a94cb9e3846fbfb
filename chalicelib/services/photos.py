"""The photo function's work: one code path for every uploaded photo.

Sniff the real type from the bytes (JPEG, PNG, WebP, HEIC), refuse and delete what is not an
image or is larger than 10 MB (presigned-form limits are enforced by AWS but not by moto, so
this checks again), fix the orientation, drop every piece of metadata (EXIF GPS above all), write
a display size and a thumbnail as JPEG under `photos/<report>/<n>/` and delete the original.
Pillow (and pillow-heif for HEIC) is imported here, lazily: the API function never loads it.
"""
from __future__ import annotations

import io
import json
import logging
import re
import warnings
from typing import Any
from urllib.parse import unquote_plus

from ..aws import get_s3
from . import reports

log = logging.getLogger("informator.photos")
MAX_BYTES = reports.MAX_PHOTO_BYTES
DISPLAY_PX = 2048
THUMB_PX = 320
MAX_PIXELS = 60_000_000  # a decompression bomb is refused, not decoded
_KEY = re.compile(r"^uploads/([0-9a-f]{6,40})/([0-9])$")
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_PIL_FORMAT = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "heic": "HEIF"}


class Refused(Exception):
    """The upload is not a photo we accept; the reason is shown to the reporter."""


def sniff(head: bytes) -> str | None:
    """The image type the bytes really are (never the name or the declared Content-Type)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "heic"
    return None


def _open(data: bytes, kind: str) -> Any:
    from PIL import Image

    if kind == "heic":
        import pillow_heif

        pillow_heif.register_heif_opener()
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=[_PIL_FORMAT[kind]])
            im.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Refused("too_many_pixels") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise Refused("not_an_image") from None
    return im


def derivatives(data: bytes) -> dict[str, tuple[bytes, int, int]]:
    """`{"display": (jpeg, w, h), "thumb": (jpeg, w, h)}` without any metadata; or Refused."""
    if len(data) > MAX_BYTES:
        raise Refused("too_large")
    kind = sniff(data[:32])
    if kind is None:
        raise Refused("not_an_image")
    from PIL import Image, ImageOps

    im = _open(data, kind)
    im = ImageOps.exif_transpose(im)
    if im.mode in ("RGBA", "LA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
    else:
        flat = im.convert("RGB")
    # a fresh image carries pixels only: no EXIF, XMP, ICC, comments, text chunks
    clean = Image.new("RGB", flat.size)
    clean.paste(flat)
    out: dict[str, tuple[bytes, int, int]] = {}
    for name, px in (("display", DISPLAY_PX), ("thumb", THUMB_PX)):
        copy = clean.copy()
        copy.thumbnail((px, px), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        copy.save(buf, format="JPEG", quality=85, optimize=True)
        out[name] = (buf.getvalue(), copy.width, copy.height)
    return out


def process_upload(bucket: str, key: str) -> str:
    """Handle one object under uploads/: 'processed', 'refused:<why>' or 'ignored'."""
    s3 = get_s3()
    match = _KEY.match(key)
    if not match:
        s3.delete_object(Bucket=bucket, Key=key)
        log.warning("upload with an unexpected key deleted", extra={"key": key[:200]})
        return "refused:unexpected_key"
    report_id, n = match.group(1), int(match.group(2))
    if not reports.photo_wanted(report_id, n):
        s3.delete_object(Bucket=bucket, Key=key)
        return "ignored"
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return "ignored"  # a retry after the original was already handled
        raise
    try:
        if int(head.get("ContentLength", 0)) > MAX_BYTES:
            raise Refused("too_large")
        if int(head.get("ContentLength", 0)) == 0:
            raise Refused("empty")
        data = s3.get_object(Bucket=bucket, Key=key)["Body"].read(MAX_BYTES + 1)
        made = derivatives(data)
    except Refused as exc:
        s3.delete_object(Bucket=bucket, Key=key)
        reports.photo_refused(report_id, n, str(exc))
        log.info("photo refused", extra={"report_id": report_id, "n": n, "reason": str(exc)})
        return f"refused:{exc}"
    entry: dict[str, Any] = {"n": n}
    for name, (body, width, height) in made.items():
        out_key = f"photos/{report_id}/{n}/{name}.jpg"
        s3.put_object(Bucket=bucket, Key=out_key, Body=body, ContentType="image/jpeg",
                      CacheControl="private, max-age=86400")
        entry[name] = out_key
        if name == "display":
            entry["width"], entry["height"] = width, height
    reports.photo_processed(report_id, entry)
    s3.delete_object(Bucket=bucket, Key=key)
    return "processed"


def handle_notification(body: str) -> list[str]:
    """One SQS message body from S3 (an event with Records, or S3's test event)."""
    try:
        message = json.loads(body)
    except ValueError:
        log.warning("photo queue message is not JSON; dropped")
        return []
    results = []
    for record in (message.get("Records") or []) if isinstance(message, dict) else []:
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = record.get("s3") or {}
        bucket = (s3.get("bucket") or {}).get("name")
        key = unquote_plus((s3.get("object") or {}).get("key", ""))
        if bucket and key.startswith("uploads/"):
            results.append(process_upload(bucket, key))
    return results
