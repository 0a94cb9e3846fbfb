"""Report photos: S3 upload → (moto's S3 notification) photos queue → the photo function."""
from __future__ import annotations

import io
import json
from typing import Any

from PIL import Image, PngImagePlugin

from tests.conftest import PREFIX, Stack

BUCKET = f"{PREFIX}-photos-123456789012"
GPS = {1: "N", 2: (52.0, 52.0, 52.0), 3: "E", 4: (20.0, 37.0, 12.0)}


def jpeg_with_gps(size: tuple[int, int] = (300, 200), orientation: int = 6) -> bytes:
    """A camera-like JPEG: GPS position, maker, and 'rotate 90° clockwise to view'."""
    im = Image.new("RGB", size, (200, 30, 30))
    im.paste((20, 20, 220), (0, 0, size[0] // 3, size[1]))  # a blue band on the left
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = GPS
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=exif, comment=b"taken at home")
    return buf.getvalue()


def png_with_text(size: tuple[int, int] = (3000, 1000)) -> bytes:
    im = Image.new("RGBA", size, (10, 150, 10, 255))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jan Kowalski, ul. Warszawska 1")
    buf = io.BytesIO()
    im.save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def new_report(client: Any, photos: int) -> dict[str, Any]:
    r = client.http.post("/v1/reports", headers={"Content-Type": "application/json"},
                         body=json.dumps({"category": "greenery", "description": "Złamane drzewo.",
                                          "lat": 52.881, "lon": 20.62, "photos": photos}))
    assert r.status_code == 201, r.body
    return dict(json.loads(r.body))


def upload(stack: Stack, made: dict[str, Any], n: int, body: bytes,
           content_type: str = "image/jpeg") -> None:
    """What the presigned form does; moto then notifies the photos queue as S3 would."""
    key = made["uploads"][n]["fields"]["key"]
    stack.session.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body,
                                          ContentType=content_type)


def run_photo_function(stack: Stack) -> int:
    from chalicelib.events import photos
    from infra.local import drain

    return drain(stack.session, "photos", photos.photo_worker, prefix=PREFIX, raise_errors=True)


def keys(stack: Stack) -> list[str]:
    objs = stack.session.client("s3").list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return sorted(o["Key"] for o in objs)


def fetch(stack: Stack, key: str) -> bytes:
    return bytes(stack.session.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read())


def reporter_view(client: Any, made: dict[str, Any]) -> dict[str, Any]:
    r = client.http.get(f"/v1/reports/{made['id']}", headers={"X-Secret": made["secret"]})
    return dict(json.loads(r.body))


def test_a_jpeg_with_gps_comes_out_clean_upright_and_in_two_sizes(stack: Stack,
                                                                  client: Any) -> None:
    made = new_report(client, photos=1)
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the input has GPS
    upload(stack, made, 0, original)
    assert run_photo_function(stack) >= 1  # (S3 also sends its test event once)
    rid = made["id"]
    assert keys(stack) == [f"photos/{rid}/0/display.jpg", f"photos/{rid}/0/thumb.jpg"]
    for name in ("display", "thumb"):
        data = fetch(stack, f"photos/{rid}/0/{name}.jpg")
        assert b"Exif" not in data[:4096] and b"PhoneMaker" not in data
        assert b"taken at home" not in data
        im = Image.open(io.BytesIO(data))
        assert im.format == "JPEG"
        assert dict(im.getexif()) == {} and "exif" not in im.info and "comment" not in im.info
    display = Image.open(io.BytesIO(fetch(stack, f"photos/{rid}/0/display.jpg")))
    assert display.size == (200, 300)  # orientation 6 applied: portrait now
    pixel = display.convert("RGB").getpixel((100, 10))  # the blue band is now on top
    assert isinstance(pixel, tuple)
    r, b = pixel[0], pixel[2]
    assert b > 150 and r < 100
    view = reporter_view(client, made)
    assert [p["n"] for p in view["photos"]] == [0] and view["refused_photos"] == []
    photo = view["photos"][0]
    assert f"photos/{rid}/0/display.jpg" in photo["display"]
    assert f"photos/{rid}/0/thumb.jpg" in photo["thumb"]
    assert "uploads/" not in json.dumps(view)
    public = json.loads(client.http.get(f"/v1/reports/{rid}").body)
    assert len(public["photos"]) == 1 and "uploads/" not in json.dumps(public)


def test_a_large_png_is_shrunk_to_the_display_and_thumbnail_sizes(stack: Stack,
                                                                  client: Any) -> None:
    made = new_report(client, photos=1)
    upload(stack, made, 0, png_with_text(), "image/png")
    run_photo_function(stack)
    rid = made["id"]
    display = Image.open(io.BytesIO(fetch(stack, f"photos/{rid}/0/display.jpg")))
    thumb = Image.open(io.BytesIO(fetch(stack, f"photos/{rid}/0/thumb.jpg")))
    assert display.size == (2048, 683) and max(thumb.size) == 320
    assert b"Kowalski" not in fetch(stack, f"photos/{rid}/0/display.jpg")
    assert reporter_view(client, made)["photos"][0]["width"] == 2048


def test_a_text_file_posing_as_a_photo_is_deleted_and_refused(stack: Stack, client: Any) -> None:
    made = new_report(client, photos=2)
    upload(stack, made, 0, b"#!/bin/sh\necho this is not a photo\n" * 20)
    upload(stack, made, 1, b"\xff\xd8\xff\xe0" + b"broken jpeg body" * 50)  # JPEG magic, no image
    run_photo_function(stack)
    assert keys(stack) == []
    view = reporter_view(client, made)
    assert view["photos"] == []
    assert sorted((p["n"], p["reason"]) for p in view["refused_photos"]) == [
        (0, "not_an_image"), (1, "not_an_image")]


def test_an_upload_over_10_mb_is_deleted_and_refused(stack: Stack, client: Any) -> None:
    made = new_report(client, photos=1)
    big = jpeg_with_gps() + b"\0" * (11 * 1024 * 1024)  # moto does not enforce the form's limit
    upload(stack, made, 0, big)
    run_photo_function(stack)
    assert keys(stack) == []
    assert reporter_view(client, made)["refused_photos"] == [{"n": 0, "reason": "too_large"}]


def test_uploads_outside_an_offered_slot_are_deleted(stack: Stack, client: Any) -> None:
    made = new_report(client, photos=1)
    s3 = stack.session.client("s3")
    s3.put_object(Bucket=BUCKET, Key=f"uploads/{made['id']}/3", Body=jpeg_with_gps())
    s3.put_object(Bucket=BUCKET, Key="uploads/ffffffffffff/0", Body=jpeg_with_gps())
    s3.put_object(Bucket=BUCKET, Key="uploads/../../etc", Body=b"x")
    run_photo_function(stack)
    assert keys(stack) == []
    assert reporter_view(client, made)["photos"] == []


def test_a_redelivered_notification_processes_once(stack: Stack, client: Any) -> None:
    from chalicelib.services import photos

    made = new_report(client, photos=1)
    upload(stack, made, 0, jpeg_with_gps())
    run_photo_function(stack)
    event = json.dumps({"Records": [{"eventName": "ObjectCreated:Post", "s3": {
        "bucket": {"name": BUCKET}, "object": {"key": f"uploads/{made['id']}/0"}}}]})
    assert photos.handle_notification(event) == ["ignored"]
    assert photos.handle_notification(json.dumps({"Event": "s3:TestEvent"})) == []
    assert len(reporter_view(client, made)["photos"]) == 1


def test_sniffing_reads_the_bytes_not_the_name() -> None:
    from chalicelib.services.photos import sniff

    assert sniff(jpeg_with_gps()[:32]) == "jpeg"
    assert sniff(png_with_text((10, 10))[:32]) == "png"
    assert sniff(b"RIFF\x10\x00\x00\x00WEBPVP8 ") == "webp"
    assert sniff(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00") == "heic"
    assert sniff(b"GIF89a") is None and sniff(b"%PDF-1.7") is None and sniff(b"") is None


def heic_with_gps(size: tuple[int, int] = (640, 480)) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    im = Image.new("RGB", size, (20, 60, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (52.0, 52.0, 48.0), 3: "E", 4: (20.0, 37.0, 12.0)}
    buf = io.BytesIO()
    im.save(buf, format="HEIF", quality=80, exif=exif.tobytes())
    return buf.getvalue()


def test_a_heic_photo_from_a_phone_comes_out_as_a_clean_jpeg(stack: Stack, client: Any) -> None:
    made = new_report(client, photos=1)
    original = heic_with_gps()
    assert original[4:12] == b"ftypheic" and b"PhoneMaker" in original
    upload(stack, made, 0, original, "image/heic")
    run_photo_function(stack)
    rid = made["id"]
    assert keys(stack) == [f"photos/{rid}/0/display.jpg", f"photos/{rid}/0/thumb.jpg"]
    display = fetch(stack, f"photos/{rid}/0/display.jpg")
    assert b"PhoneMaker" not in display and b"Exif" not in display[:4096]
    im = Image.open(io.BytesIO(display))
    assert im.format == "JPEG" and im.size == (640, 480) and dict(im.getexif()) == {}
    assert reporter_view(client, made)["refused_photos"] == []
