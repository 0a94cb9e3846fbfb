"""Small planar geometry for the city scale: points in polygons, areas touching districts."""
from __future__ import annotations

import math
from typing import Any

from .city import city

Point = tuple[float, float]  # (lon, lat), GeoJSON order
M_PER_DEG_LAT = 111_320.0


def point_in_ring(p: Point, ring: list[Point]) -> bool:
    x, y = p
    inside = False
    n = len(ring)
    for i in range(n - 1):
        x1, y1 = ring[i]
        x2, y2 = ring[i + 1]
        if (y1 > y) != (y2 > y):
            xin = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if x < xin:
                inside = not inside
    return inside


def _orient(a: Point, b: Point, c: Point) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def segments_cross(a: Point, b: Point, c: Point, d: Point) -> bool:
    """True when segments ab and cd properly intersect (touching ends do not count)."""
    o1, o2, o3, o4 = _orient(a, b, c), _orient(a, b, d), _orient(c, d, a), _orient(c, d, b)
    return (o1 * o2 < 0) and (o3 * o4 < 0)


def ring_errors(ring: Any) -> str | None:
    """Why a GeoJSON linear ring is unusable, or None when it is fine."""
    if not isinstance(ring, list) or len(ring) < 4:
        return "a polygon needs at least 4 positions (closed ring)"
    for pos in ring:
        if (not isinstance(pos, list | tuple) or len(pos) < 2
                or not all(isinstance(v, int | float) and not isinstance(v, bool)
                           and math.isfinite(v) for v in pos[:2])):
            return "each position must be [lon, lat] numbers"
    if list(ring[0][:2]) != list(ring[-1][:2]):
        return "the polygon is not closed (first position must equal the last)"
    pts = [(float(p[0]), float(p[1])) for p in ring]
    n = len(pts) - 1
    for i in range(n):
        for j in range(i + 1, n):
            if abs(i - j) <= 1 or (i == 0 and j == n - 1):
                continue
            if segments_cross(pts[i], pts[i + 1], pts[j], pts[j + 1]):
                return "the polygon intersects itself"
    if abs(_area(pts)) < 1e-12:
        return "the polygon has no area"
    return None


def _area(pts: list[Point]) -> float:
    return sum(pts[i][0] * pts[i + 1][1] - pts[i + 1][0] * pts[i][1] for i in range(len(pts) - 1)) / 2


def _ring(raw: list[list[float]]) -> list[Point]:
    return [(float(p[0]), float(p[1])) for p in raw]


def city_ring() -> list[Point]:
    return _ring(city()["boundary"])


def in_city(lon: float, lat: float) -> bool:
    return point_in_ring((lon, lat), city_ring())


def district_at(lon: float, lat: float) -> str | None:
    for d in city()["districts"]:
        if point_in_ring((lon, lat), _ring(d["polygon"])):
            return str(d["id"])
    return None


def rings_touch(a: list[Point], b: list[Point]) -> bool:
    if any(point_in_ring(p, b) for p in a) or any(point_in_ring(p, a) for p in b):
        return True
    return any(segments_cross(a[i], a[i + 1], b[j], b[j + 1])
               for i in range(len(a) - 1) for j in range(len(b) - 1))


def _dist_m(p: Point, q: Point) -> float:
    kx = M_PER_DEG_LAT * math.cos(math.radians((p[1] + q[1]) / 2))
    return math.hypot((p[0] - q[0]) * kx, (p[1] - q[1]) * M_PER_DEG_LAT)


def _dist_to_segment_m(p: Point, a: Point, b: Point) -> float:
    kx = M_PER_DEG_LAT * math.cos(math.radians(p[1]))
    ax, ay = (a[0] - p[0]) * kx, (a[1] - p[1]) * M_PER_DEG_LAT
    bx, by = (b[0] - p[0]) * kx, (b[1] - p[1]) * M_PER_DEG_LAT
    dx, dy = bx - ax, by - ay
    t = 0.0 if dx == dy == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / (dx * dx + dy * dy)))
    return math.hypot(ax + t * dx, ay + t * dy)


def circle_touches(center: Point, radius_m: float, ring: list[Point]) -> bool:
    if point_in_ring(center, ring):
        return True
    return any(_dist_to_segment_m(center, ring[i], ring[i + 1]) <= radius_m
               for i in range(len(ring) - 1))


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    return _dist_m((lon1, lat1), (lon2, lat2))


def validate_area(area: Any) -> tuple[dict[str, Any], str | None]:
    """Normalise a drawn area (GeoJSON Polygon or a circle); return (area, error)."""
    if not isinstance(area, dict):
        return {}, "area must be a GeoJSON Polygon or a Circle object"
    kind = area.get("type")
    if kind == "Polygon":
        coords = area.get("coordinates")
        if not isinstance(coords, list) or not coords:
            return {}, "coordinates must hold one ring"
        err = ring_errors(coords[0])
        if err:
            return {}, err
        ring = _ring(coords[0])
        if not rings_touch(ring, city_ring()):
            return {}, "the area lies outside the city"
        return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}, None
    if kind == "Circle":
        center, radius = area.get("center"), area.get("radius_m")
        if (not isinstance(center, list) or len(center) != 2
                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in center)):
            return {}, "center must be [lon, lat]"
        if not isinstance(radius, int | float) or isinstance(radius, bool) or not 1 <= radius <= 20_000:
            return {}, "radius_m must be a number between 1 and 20000"
        c = (float(center[0]), float(center[1]))
        if not circle_touches(c, float(radius), city_ring()):
            return {}, "the area lies outside the city"
        return {"type": "Circle", "center": list(c), "radius_m": float(radius)}, None
    return {}, "area type must be Polygon or Circle"


def districts_touched(area: dict[str, Any]) -> list[str]:
    out = []
    for d in city()["districts"]:
        ring = _ring(d["polygon"])
        if area["type"] == "Polygon":
            hit = rings_touch(_ring(area["coordinates"][0]), ring)
        else:
            hit = circle_touches((area["center"][0], area["center"][1]), area["radius_m"], ring)
        if hit:
            out.append(str(d["id"]))
    return out
