"""Coordinates of a location without typing them: from a pasted 高德 (Amap) or 百度 (Baidu)
map link, or from the address through a geocoder.

Coordinates are stored as GCJ-02 (what 高德, Tencent and WeChat's location use in China).
A 百度 link carries BD-09, which `bd09_to_gcj02` converts (Baidu's published inverse of
its offset, accurate to a few metres).

The geocoder is a seam: `Geocoder` is the interface, `geocoder()` picks the implementation.
- `FakeGeocoder` (dev, demo and tests): knows the centres of the districts it is given and
  answers with a point near the centre of the district named in the address, moved a little
  by a hash of the address, so that two addresses land apart and the same one lands
  in the same place. No network.
- `AmapGeocoder` (production): 高德 Web 服务 "地理编码" API,
  GET https://restapi.amap.com/v3/geocode/geo?key=<key>&address=<address>&city=<city>
  → {"status": "1", "geocodes": [{"location": "116.480881,39.989410", ...}]} (lng,lat in
  GCJ-02). Chosen when the environment variable AMAP_WEB_KEY is set; never called in tests.
"""

import hashlib
import math
import os
import re
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from marketplace.core.errors import Invalid

# Mainland China, roughly (the same bounds as providers.services.LATITUDE / LONGITUDE).
LATITUDE = (18.0, 54.0)
LONGITUDE = (73.0, 135.5)


@dataclass(frozen=True)
class Point:
    latitude: float
    longitude: float


def in_china(point: Point) -> bool:
    return LATITUDE[0] <= point.latitude <= LATITUDE[1] and LONGITUDE[0] <= point.longitude <= LONGITUDE[1]


# Map links ------------------------------------------------------------------------------------

_NUMBER = r"-?\d{1,3}(?:\.\d+)?"
_PAIR = re.compile(rf"({_NUMBER})\s*[,，]\s*({_NUMBER})")
_X_PI = math.pi * 3000.0 / 180.0


def bd09_to_gcj02(latitude: float, longitude: float) -> Point:
    """百度 BD-09 → GCJ-02."""
    x, y = longitude - 0.0065, latitude - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return Point(round(z * math.sin(theta), 6), round(z * math.cos(theta), 6))


def _pair(text: str, lat_first: bool) -> Point | None:
    found = _PAIR.search(text)
    if not found:
        return None
    first, second = float(found.group(1)), float(found.group(2))
    return Point(first, second) if lat_first else Point(second, first)


def point_from_link(text: str) -> Point | None:
    """The point of a pasted 高德 or 百度 map link (or of a bare "纬度,经度" pair); None when
    the text holds no coordinates. Short links (surl.amap.com, j.map.baidu.com) hold none:
    they need the full link, which the map app shows under "复制链接" → open in the browser."""
    text = unquote(text.strip())
    if not text:
        return None
    parts = urlsplit(text if "://" in text else "https://x/?" + text)
    host = parts.netloc.lower()
    query = {key.lower(): values[0] for key, values in parse_qs(parts.query).items()}
    baidu = "baidu" in host or parts.scheme == "baidumap"
    if "amap" in host or parts.scheme in ("amapuri", "iosamap", "androidamap"):
        # uri.amap.com/marker?position=lng,lat · ditu.amap.com/regeo?lng=..&lat=.. · amap.com/...?p=id,lat,lng
        if "position" in query:
            return _pair(query["position"], lat_first=False)
        if "lat" in query and ("lng" in query or "lon" in query):
            return _pair(f"{query['lat']},{query.get('lng') or query.get('lon')}", lat_first=True)
        if "p" in query:
            numbers = query["p"].split(",")
            if len(numbers) >= 3:
                return _pair(f"{numbers[1]},{numbers[2]}", lat_first=True)
        return None
    if baidu:
        # api.map.baidu.com/marker?location=lat,lng · map.baidu.com/?latlng=lat,lng
        for key in ("location", "latlng"):
            if key in query:
                point = _pair(query[key], lat_first=True)
                return bd09_to_gcj02(point.latitude, point.longitude) if point else None
        return None
    if "://" not in text:
        return _pair(text, lat_first=True)  # "39.9087, 116.3975" typed or copied
    return None


# Geocoders ------------------------------------------------------------------------------------


class Geocoder(Protocol):
    async def locate(self, address: str) -> Point | None:
        """The address's point (GCJ-02), or None when it cannot be found."""


class FakeGeocoder:
    """Dev and tests: a point near the centre of the district the address names."""

    # District centres of the demo city (Beijing), GCJ-02.
    CENTRES = {
        "东城区": Point(39.9288, 116.4160),
        "西城区": Point(39.9123, 116.3660),
        "朝阳区": Point(39.9215, 116.4434),
        "海淀区": Point(39.9599, 116.2982),
        "丰台区": Point(39.8585, 116.2867),
        "石景山区": Point(39.9056, 116.2229),
        "通州区": Point(39.9096, 116.6566),
        "顺义区": Point(40.1301, 116.6546),
        "昌平区": Point(40.2207, 116.2312),
        "大兴区": Point(39.7267, 116.3415),
        "房山区": Point(39.7480, 116.1434),
        "门头沟区": Point(39.9405, 116.1020),
        "怀柔区": Point(40.3163, 116.6317),
        "平谷区": Point(40.1406, 117.1212),
        "密云区": Point(40.3770, 116.8434),
        "延庆区": Point(40.4566, 115.9750),
        "长安区": Point(38.0366, 114.5394),
        "桥西区": Point(38.0045, 114.4612),
    }

    async def locate(self, address: str) -> Point | None:
        centre = next((point for name, point in self.CENTRES.items() if name in address), None)
        if centre is None:
            return None
        digest = hashlib.sha256(address.encode()).digest()
        # Within about ±1.5 km of the centre.
        return Point(
            round(centre.latitude + (digest[0] - 128) / 128 * 0.013, 6),
            round(centre.longitude + (digest[1] - 128) / 128 * 0.017, 6),
        )


class AmapGeocoder:
    """Production: 高德's geocoding web service (see the module's docstring)."""

    URL = "https://restapi.amap.com/v3/geocode/geo"

    def __init__(self, key: str, city: str = ""):
        self.key, self.city = key, city

    async def locate(self, address: str) -> Point | None:
        import httpx

        async with httpx.AsyncClient(timeout=5) as client:
            answer = (
                await client.get(self.URL, params={"key": self.key, "address": address, "city": self.city})
            ).json()
        found = (answer.get("geocodes") or []) if answer.get("status") == "1" else []
        if not found or not found[0].get("location"):
            return None
        longitude, latitude = (float(part) for part in found[0]["location"].split(","))
        return Point(latitude, longitude)


def geocoder() -> Geocoder:
    key = os.environ.get("AMAP_WEB_KEY", "").strip()
    return AmapGeocoder(key) if key else FakeGeocoder()


async def locate(map_link: str, address: str, prefix: str = "") -> Point:
    """Coordinates for a location form: from the map link when one is pasted, else from the
    address. Invalid naming the field (after `prefix`) when neither gives a point in China."""
    if map_link.strip():
        point = point_from_link(map_link)
        if point is None:
            raise Invalid(
                "This link has no position in it: in the map app, share the place, copy the full "
                "link and paste it here.",
                field=prefix + "map_link",
            )
        if not in_china(point):
            raise Invalid("This position is outside mainland China; check the link.", field=prefix + "map_link")
        return point
    point = await geocoder().locate(address) if address.strip() else None
    if point is None or not in_china(point):
        raise Invalid(
            "This address could not be found on the map: paste a map link, or give the district and street.",
            field=prefix + "address",
        )
    return point
