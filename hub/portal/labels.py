"""The portal's Chinese words for the API's enum names (templates read `labels`)."""

from types import MappingProxyType
from typing import Any

from hub.districts import CURRENT_DISTRICT_CODES, WUXI_DISTRICTS
from hub.enums import GRADE_ZH, PENALTY_CATEGORY_ZH, Grade, RatingStatus, Scheme
from hub.export_files import LABELS

# 绿色、蓝色、黄色、红色、黑色 stand for these (domain.md §1.1, §1.2).
GRADE_MEANING = {
    Grade.GREEN: "环保诚信",
    Grade.BLUE: "环保良好",
    Grade.YELLOW: "环保警示",
    Grade.RED: "环保不良",
    Grade.BLACK: "环保严重失信",
}
# What a grade in public notice is to the public: not yet a decision.
STATUS_ZH = {
    RatingStatus.IN_PUBLIC_NOTICE: "公示中（初评结果，尚未生效）",
    RatingStatus.FINAL: "已发布",
    RatingStatus.REPAIRED: "已修复（已由新等级取代）",
}
# The statuses the public may filter the ratings list by, the default first.
PUBLIC_STATUSES = (
    RatingStatus.FINAL,
    RatingStatus.REPAIRED,
    RatingStatus.IN_PUBLIC_NOTICE,
)
DISTRICT_NAMES = {d.code: d.name for d in WUXI_DISTRICTS}
# The districts a visitor picks from: the current ones (the API folds the
# abolished codes into their successor).
DISTRICT_CHOICES = tuple(
    (code, DISTRICT_NAMES[code]) for code in CURRENT_DISTRICT_CODES
)


def _by_name(table: dict[Any, str]) -> MappingProxyType[str, str]:
    return MappingProxyType({member.name: text for member, text in table.items()})


# Keyed by the enum names GraphQL answers with, for the templates.
labels = MappingProxyType(
    {
        "grade": _by_name(GRADE_ZH),
        "meaning": _by_name(GRADE_MEANING),
        "scheme": _by_name({s: LABELS[s] for s in Scheme}),
        "status": _by_name(STATUS_ZH),
        "category": _by_name(PENALTY_CATEGORY_ZH),
        "penalty_status": MappingProxyType(
            {"EFFECTIVE": "有效", "CHANGED": "变更", "REVOKED": "撤销"}
        ),
        "category_of_supervision": MappingProxyType(
            {
                "NATIONAL_KEY": "国家重点监控",
                "PROVINCIAL_KEY": "省重点监控",
                "CITY_KEY": "市重点监控",
                "OTHER": "其他",
            }
        ),
        "operating": MappingProxyType(
            {"OPERATING": "在营", "SUSPENDED": "停产", "CLOSED": "关闭"}
        ),
        "districts": DISTRICT_CHOICES,
    }
)
