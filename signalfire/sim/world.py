"""The simulated short-video service's world: where its users are, what it is made
of, what they complain about, and how busy they are by hour and weekday.

Pure data and arithmetic on NumPy arrays; no clock, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Country:
    code: str  # ISO 3166-1 alpha-2
    share: float  # share of the service's users
    utc_offset_h: int  # their clock, for the daily rhythm (no daylight saving)
    region: str  # the probe region whose failures they feel


# A short-video app's audience: the Americas, Europe and the Middle East, South-East
# and East Asia. Shares add up to 1.
COUNTRIES: tuple[Country, ...] = (
    Country("US", 0.20, -5, "us-east"), Country("CA", 0.03, -5, "us-east"),
    Country("MX", 0.06, -6, "us-east"), Country("BR", 0.11, -3, "sa-east"),
    Country("AR", 0.03, -3, "sa-east"), Country("GB", 0.07, 0, "eu-west"),
    Country("DE", 0.06, 1, "eu-west"), Country("FR", 0.06, 1, "eu-west"),
    Country("ES", 0.04, 1, "eu-west"), Country("TR", 0.05, 3, "eu-west"),
    Country("SA", 0.03, 3, "eu-west"), Country("ID", 0.10, 7, "ap-southeast"),
    Country("PH", 0.05, 8, "ap-southeast"), Country("VN", 0.04, 7, "ap-southeast"),
    Country("JP", 0.05, 9, "ap-northeast"), Country("KR", 0.02, 9, "ap-northeast"),
)
REGIONS: tuple[str, ...] = ("us-east", "sa-east", "eu-west", "ap-southeast", "ap-northeast")
COMPONENTS: tuple[str, ...] = ("Feed", "Video upload", "Login", "Messages", "Live")

# What users pick when they report, and its share on an ordinary day (people whose
# own phone or network is the problem). The app opens on the feed, so "App not
# loading" counts against the Feed component.
CATEGORIES: tuple[str, ...] = ("App not loading", "Feed", "Video upload", "Login", "Messages", "Live")
BASE_CATEGORY_MIX: tuple[float, ...] = (0.30, 0.22, 0.16, 0.14, 0.10, 0.08)
CATEGORY_COMPONENT: dict[str, str] = {
    "App not loading": "Feed", "Feed": "Feed", "Video upload": "Video upload",
    "Login": "Login", "Messages": "Messages", "Live": "Live",
}
APP_CATEGORY = "App not loading"

# Local weekday (Monday = 0) → how many more people use the app than on a Monday.
WEEKLY = np.array([1.0, 1.0, 1.0, 1.02, 1.08, 1.15, 1.12])

PROBE_BASE_LATENCY_MS: dict[str, float] = {
    "us-east": 90.0, "sa-east": 160.0, "eu-west": 110.0, "ap-southeast": 210.0, "ap-northeast": 180.0,
}
PROBE_TIMEOUT_MS = 10_000.0


def slug(name: str) -> str:
    """File-name form of a component, category or region: "Video upload" → "video-upload"."""
    return "-".join(name.lower().split())


def countries_in(regions: tuple[str, ...]) -> tuple[Country, ...]:
    """The countries whose users a set of probe regions stands for (empty: all)."""
    if not regions:
        return COUNTRIES
    return tuple(c for c in COUNTRIES if c.region in regions)


# Use of a social app by local hour (0–23), relative: lowest around 4 am, a
# morning climb, a flat afternoon, highest around 9 pm.
_HOURLY = np.array([0.75, 0.5, 0.35, 0.25, 0.2, 0.22, 0.35, 0.55, 0.7, 0.8, 0.85, 0.9,
                    0.95, 0.95, 0.9, 0.9, 0.95, 1.0, 1.1, 1.2, 1.3, 1.35, 1.2, 1.0])
_HOURLY = _HOURLY / _HOURLY.mean()


def daily_rhythm(local_hour: np.ndarray) -> np.ndarray:
    """Use by local hour of day (fractional, 0 ≤ h < 24), mean 1, interpolated
    linearly between the hours."""
    return np.interp(local_hour, np.arange(25), np.append(_HOURLY, _HOURLY[0]))


def usage(minutes: np.ndarray, *, start_weekday: int, utc_offset_h: int) -> np.ndarray:
    """Relative use, mean about 1, per minute since a UTC midnight that fell on
    ``start_weekday`` (Monday = 0), for users on the clock ``utc_offset_h``."""
    local = minutes + utc_offset_h * 60
    hour = (local / 60.0) % 24.0
    weekday = (start_weekday + np.floor_divide(local, 1440)) % 7
    return daily_rhythm(hour) * WEEKLY[weekday]
