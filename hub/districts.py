"""Wuxi administrative divisions (GB/T 2260), with validity for abolished codes.

Reference data seeded by the first migration; domain.md section 4.4.
"""

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class District:
    code: str
    name: str
    name_en: str
    valid_from: date | None
    valid_to: date | None
    successor_code: str | None


WUXI_DISTRICTS: tuple[District, ...] = (
    District("320200", "无锡市", "Wuxi (city level)", None, None, None),
    District("320205", "锡山区", "Xishan District", date(2000, 12, 21), None, None),
    District("320206", "惠山区", "Huishan District", date(2000, 12, 21), None, None),
    District("320211", "滨湖区", "Binhu District", date(2000, 12, 21), None, None),
    District("320213", "梁溪区", "Liangxi District", date(2015, 10, 28), None, None),
    District("320214", "新吴区", "Xinwu District", date(2015, 10, 28), None, None),
    District("320281", "江阴市", "Jiangyin", None, None, None),
    District("320282", "宜兴市", "Yixing", None, None, None),
    District(
        "320202", "崇安区", "Chong'an District", None, date(2015, 10, 27), "320213"
    ),
    District(
        "320203", "南长区", "Nanchang District", None, date(2015, 10, 27), "320213"
    ),
    District(
        "320204", "北塘区", "Beitang District", None, date(2015, 10, 27), "320213"
    ),
)

CURRENT_DISTRICT_CODES: tuple[str, ...] = tuple(
    d.code for d in WUXI_DISTRICTS if d.valid_to is None and d.code != "320200"
)
