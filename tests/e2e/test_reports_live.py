"""A report with a photo over HTTP against the running local stack: the browser's multipart POST
to the presigned form lands in moto's S3, S3 notifies the photos queue, the local loop runs the
photo function, and the report lists a clean photo."""
from __future__ import annotations

import io
import time
from typing import Any

import pytest
import requests
from PIL import Image

from tests.conftest import LiveStack

pytestmark = pytest.mark.stack


def _photo() -> bytes:
    im = Image.new("RGB", (640, 480), (30, 120, 200))
    exif = Image.Exif()
    exif[0x0112] = 8  # rotate 90° counter-clockwise to view
    exif[0x8825] = {1: "N", 2: (52.0, 52.0, 52.0), 3: "E", 4: (20.0, 37.0, 12.0)}
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def test_a_photo_posted_to_the_presigned_form_is_processed(live_stack: LiveStack) -> None:
    body: dict[str, Any] = {"category": "street_lighting", "description": "Nie świeci latarnia przy przystanku.",
            "lat": 52.8805, "lon": 20.6195, "photos": 2}
    r = requests.post(f"{live_stack.api}/v1/reports", json=body, timeout=10)
    assert r.status_code == 201, r.text
    made = r.json()
    form = made["uploads"][0]
    up = requests.post(form["url"], data=form["fields"],
                       files={"file": ("latarnia.jpg", _photo(), "image/jpeg")}, timeout=10)
    assert up.status_code in (200, 201, 204), up.text
    bad = made["uploads"][1]
    up = requests.post(bad["url"], data=bad["fields"],
                       files={"file": ("notes.jpg", b"just some text, not a photo", "image/jpeg")},
                       timeout=10)
    assert up.status_code in (200, 201, 204), up.text

    view: dict = {}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        view = requests.get(f"{live_stack.api}/v1/reports/{made['id']}",
                            headers={"X-Secret": made["secret"]}, timeout=10).json()
        if view["photos"] and view["refused_photos"]:
            break
        time.sleep(0.5)
    assert [p["n"] for p in view["photos"]] == [0], view
    assert view["refused_photos"] == [{"n": 1, "reason": "not_an_image"}]
    display = requests.get(view["photos"][0]["display"], timeout=10)
    assert display.status_code == 200
    im = Image.open(io.BytesIO(display.content))
    assert im.size == (480, 640) and dict(im.getexif()) == {}
    thumb = Image.open(io.BytesIO(requests.get(view["photos"][0]["thumb"], timeout=10).content))
    assert max(thumb.size) == 320
    public = requests.get(f"{live_stack.api}/v1/reports/{made['id']}", timeout=10).json()
    assert len(public["photos"]) == 1 and "secret" not in public
