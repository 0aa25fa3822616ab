"""Sunrise and sunset in UTC from latitude and longitude: NOAA's solar calculator equations
(the spreadsheet of NOAA's Global Monitoring Laboratory), good to about a minute."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from math import acos, asin, cos, degrees, radians, sin, tan

_ZENITH = 90.833  # the sun's upper limb on the horizon, with refraction


# Asked for on every event a schedule rule sees (three days a site); once a day and place is
# enough: measured, the equations were half the rules worker's time under load.
@lru_cache(maxsize=1024)
def sun_times(day: date, latitude: float, longitude: float) -> tuple[datetime, datetime] | None:
    """(sunrise, sunset) in UTC for the local day `day` at the place; None when the sun does
    not rise or does not set that day (polar day or night). East longitudes are positive."""
    jd = day.toordinal() + 1721424.5 + 0.5 - longitude / 360.0  # local noon, as a Julian day
    jc = (jd - 2451545.0) / 36525.0
    mean_long = (280.46646 + jc * (36000.76983 + jc * 0.0003032)) % 360.0
    anomaly = 357.52911 + jc * (35999.05029 - 0.0001537 * jc)
    eccentricity = 0.016708634 - jc * (0.000042037 + 0.0000001267 * jc)
    centre = (sin(radians(anomaly)) * (1.914602 - jc * (0.004817 + 0.000014 * jc))
              + sin(radians(2 * anomaly)) * (0.019993 - 0.000101 * jc)
              + sin(radians(3 * anomaly)) * 0.000289)
    omega = radians(125.04 - 1934.136 * jc)
    apparent_long = mean_long + centre - 0.00569 - 0.00478 * sin(omega)
    mean_obliquity = 23 + (26 + (21.448 - jc * (46.815 + jc * (0.00059 - jc * 0.001813))) / 60) / 60
    obliquity = mean_obliquity + 0.00256 * cos(omega)
    declination = asin(sin(radians(obliquity)) * sin(radians(apparent_long)))
    y = tan(radians(obliquity / 2)) ** 2
    l0, m = radians(mean_long), radians(anomaly)
    equation_of_time = 4 * degrees(
        y * sin(2 * l0) - 2 * eccentricity * sin(m)
        + 4 * eccentricity * y * sin(m) * cos(2 * l0)
        - 0.5 * y * y * sin(4 * l0) - 1.25 * eccentricity ** 2 * sin(2 * m))
    phi = radians(latitude)
    cos_hour_angle = (cos(radians(_ZENITH)) / (cos(phi) * cos(declination))
                      - tan(phi) * tan(declination))
    if not -1.0 <= cos_hour_angle <= 1.0:
        return None
    hour_angle = degrees(acos(cos_hour_angle))
    noon = 720 - 4 * longitude - equation_of_time  # minutes after 00:00 UTC
    midnight = datetime.combine(day, time(), tzinfo=UTC)
    return (midnight + timedelta(minutes=noon - 4 * hour_angle),
            midnight + timedelta(minutes=noon + 4 * hour_angle))
