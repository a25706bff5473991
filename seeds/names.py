"""Chinese vocabulary for demo data: names, places, industries, authorities, insurers.

Static tables only; `seeds.generator` decides how they combine. Streets and
towns are real Wuxi places; enterprises, people and the authorities' and
insurers' credit-code bodies are invented (their check characters are real).
"""

from typing import NamedTuple

from hub.credit_code import complete_credit_code
from hub.districts import WUXI_DISTRICTS

# Most common first (the generator favours the front); Wuxi names like 过, 荣, 浦.
SURNAMES = (
    "王李张陈刘周徐吴朱孙杨沈顾钱华蒋陆黄胡高许邹秦尤薛马赵郭何林罗过荣浦缪惠强糜杭"
)
GIVEN_NAME_CHARS = (
    "伟强明军建国华平勇峰敏静丽芳娟霞红燕玲晓宇杰涛斌磊超鹏辉兵刚"
    "林新志文海东春荣洪忠福根良兴德仁家金耀雪琴英萍清亮俊永庆昌"
)
# A 字号 (trade name) is two distinct characters from this list.
TRADE_NAME_CHARS = (
    "恒通华新宏盛鑫宝金源泰达兴隆瑞丰祥和永昌顺利嘉信诚汇远博创科"
    "天佳晨益众海江阳东明光亿德安康荣锦润联合立正中协凯威力弘振洲"
    "澄锡惠滨蓉申苏吉星辰宇万"
)


class Industry(NamedTuple):
    """A GB/T 4754-2017 class of a polluting industry and the words names use."""

    code: str
    label: str
    name_words: tuple[str, ...]
    weight: int


INDUSTRIES = tuple(
    Industry(code, label, tuple(words.split()), weight)
    for code, label, words, weight in (
        ("C2614", "有机化学原料制造", "化工 化学 精细化工", 12),
        ("C2619", "其他基础化学原料制造", "化工 化学品", 6),
        ("C2651", "初级形态塑料及合成树脂制造", "新材料 塑胶 树脂", 7),
        ("C2710", "化学药品原料药制造", "制药 药业 医药化工", 5),
        ("C3120", "炼钢", "特钢 钢铁 冶金", 4),
        ("C3130", "钢压延加工", "钢管 金属制品 不锈钢", 9),
        ("C3360", "金属表面处理及热处理加工", "电镀 表面处理 热处理", 10),
        ("C2221", "机制纸及纸板制造", "纸业 造纸", 3),
        ("C1713", "棉印染精加工", "印染 纺织印染 染整", 8),
        ("C1752", "化纤织物染整精加工", "染整 化纤印染", 5),
        ("D4411", "火力发电", "发电 电力", 2),
        ("D4412", "热电联产", "热电 热能", 3),
        ("C3011", "水泥制造", "水泥 建材", 3),
        ("C3071", "建筑陶瓷制品制造", "陶瓷 建陶", 3),
        ("C3982", "电子电路制造", "电子 线路板", 8),
        ("N7721", "水污染治理", "水处理 环保工程", 3),
        ("D4620", "污水处理及其再生利用", "水务 污水处理", 3),
        ("N7724", "危险废物治理", "环保科技 固废处置", 3),
    )
)
# Local specialities: steel, chemicals and dyeing on the Yangtze, ceramics in Yixing.
DISTRICT_INDUSTRIES = {
    "320281": ("C3120", "C3130", "C2614", "C1713", "C1752"),
    "320282": ("C3071", "C3011", "N7721", "C2614"),
    "320214": ("C3982", "C3360", "C2710"),
    "320206": ("C3130", "C3360", "C1713"),
}

# County-level cities name themselves; everything else is 无锡 + district.
CITY_PREFIX = {"320281": "江阴", "320282": "宜兴"}
ADDRESS_PREFIX = {"320281": "江苏省江阴市", "320282": "江苏省宜兴市"} | {
    d.code: f"江苏省无锡市{d.name}"
    for d in WUXI_DISTRICTS
    if d.code not in ("320200", "320281", "320282")
}
STREETS = {
    code: tuple(streets.split())
    for code, streets in {
        "320205": "东亭街道 安镇街道 厚桥街道 东北塘街道 羊尖镇 鹅湖镇 锡北镇 东港镇",
        "320206": "堰桥街道 长安街道 钱桥街道 前洲街道 玉祁街道 洛社镇 阳山镇",
        "320211": "河埒街道 荣巷街道 蠡湖街道 华庄街道 雪浪街道 胡埭镇 马山街道",
        "320213": "崇安寺街道 广益街道 黄巷街道 山北街道 扬名街道 金星街道",
        "320214": "旺庄街道 硕放街道 江溪街道 梅村街道 鸿山街道 新安街道",
        "320281": "澄江街道 南闸街道 云亭街道 周庄镇 华士镇 新桥镇 长泾镇 "
        "徐霞客镇 璜土镇 利港街道 申港街道 月城镇 青阳镇",
        "320282": "宜城街道 屺亭街道 新街街道 新庄街道 丁蜀镇 和桥镇 官林镇 "
        "高塍镇 徐舍镇 周铁镇 万石镇 杨巷镇",
        "320202": "崇安寺街道 广益街道 上马墩街道",
        "320203": "清名桥街道 金星街道 扬名街道",
        "320204": "北大街街道 黄巷街道 山北街道",
    }.items()
}
ROADS = tuple(
    [
        "春晖中路",
        "锡沪路",
        "人民路",
        "解放路",
        "中山路",
        "建设路",
        "工业路",
        "新华路",
        "友谊路",
        "长江路",
        "太湖大道",
        "锡东大道",
        "金城东路",
        "新韵路",
        "梁溪路",
        "凤翔路",
        "惠澄大道",
        "钱胡路",
        "堰新路",
        "蠡湖大道",
        "高浪路",
        "环湖路",
        "震泽路",
        "新洲路",
        "珠江路",
        "澄江中路",
        "虹桥北路",
        "芙蓉大道",
        "滨江路",
        "环科园路",
        "阳泉路",
        "团氿东路",
        "兴业路",
        "创业路",
        "发展路",
        "科技路",
        "工业园路",
        "华庄路",
        "锡山大道",
        "前洲路",
    ]
)


class Authority(NamedTuple):
    """A penalising and plan-filing authority, its decision-number prefix, its code."""

    name: str
    prefix: str
    code: str


def _authority(name: str, prefix: str, division: str, body: str) -> Authority:
    # 11: an organ of state (机关).
    return Authority(name, prefix, complete_credit_code(f"11{division}{body}"))


CITY_BUREAU = _authority("无锡市生态环境局", "锡环罚", "320200", "01401356")
DISTRICT_BUREAUS = {
    "320205": _authority("无锡市锡山生态环境局", "锡山环罚决", "320205", "01401471"),
    "320206": _authority("无锡市惠山生态环境局", "锡惠环罚决", "320206", "01401528"),
    "320211": _authority("无锡市滨湖生态环境局", "锡滨环罚决", "320211", "01401633"),
    "320213": _authority("无锡市梁溪生态环境局", "锡梁环罚决", "320213", "MB1C7642"),
    "320214": _authority("无锡市新吴生态环境局", "锡新环罚决", "320214", "MB1D2417"),
    "320281": _authority("无锡市江阴生态环境局", "锡澄环罚决", "320281", "01420885"),
    "320282": _authority("无锡市宜兴生态环境局", "锡宜环罚决", "320282", "01430917"),
}


class Insurer(NamedTuple):
    """A Wuxi branch of a property insurer; `tag` starts its policy numbers."""

    name: str
    tag: str
    code: str
    weight: int


def _insurer(name: str, tag: str, body: str, weight: int) -> Insurer:
    # Bodies start with 1, which enterprise codes never do (see generator).
    return Insurer(name, tag, complete_credit_code(f"91320200{body}"), weight)


INSURERS = (
    _insurer("中国人民财产保险股份有限公司无锡市分公司", "PICC", "13600421", 35),
    _insurer("中国平安财产保险股份有限公司无锡中心支公司", "PAIC", "13601872", 20),
    _insurer("中国太平洋财产保险股份有限公司无锡分公司", "CPIC", "13602265", 18),
    _insurer("中国人寿财产保险股份有限公司无锡市中心支公司", "CLPC", "13603547", 10),
    _insurer("中华联合财产保险股份有限公司无锡中心支公司", "CICS", "13604318", 7),
    _insurer("中国大地财产保险股份有限公司无锡中心支公司", "CCIC", "13605096", 6),
    _insurer("太平财产保险有限公司无锡中心支公司", "TPIC", "13606733", 4),
)


class Violation(NamedTuple):
    """A violation as published, with a short label for credit-score reasons.

    `facts` has {when} (inspection date) and {detail}, drawn from `details`.
    Fines (yuan) stay inside the article's range.
    """

    type: str
    label: str
    legal_basis: str
    facts: str
    details: tuple[str, ...]
    min_fine: int
    max_fine: int
    weight: int


_SEEN = "{when}，我局执法人员对你单位进行现场检查，"
_AIR = "《中华人民共和国大气污染防治法》"
_WATER = "《中华人民共和国水污染防治法》"
VIOLATIONS = tuple(
    Violation(v[0], v[1], v[2], _SEEN + v[3], tuple(v[4].split()), *v[5:])
    for v in (
        (
            "超标排放大气污染物",
            "超标排放",
            _AIR + "第九十九条第二项",
            "经监测，你单位{detail}排放浓度超过《大气污染物综合排放标准》（DB32/4041-2021）规定的限值。",
            "废气排放口颗粒物 废气排放口二氧化硫 废气排放口氮氧化物 废气排放口非甲烷总烃",
            100_000,
            1_000_000,
            20,
        ),
        (
            "超标排放水污染物",
            "超标排放",
            _WATER + "第八十三条第二项",
            "经监测，你单位{detail}浓度超过《太湖地区城镇污水处理厂及重点工业行业主要水污染物排放限值》（DB32/1072-2018）。",
            "废水总排口化学需氧量 废水总排口氨氮 废水总排口总磷 废水总排口总氮",
            100_000,
            1_000_000,
            12,
        ),
        (
            "通过逃避监管的方式排放水污染物",
            "逃避监管排放",
            _WATER + "第八十三条第三项",
            "发现你单位私设暗管，将未经处理的生产废水排入{detail}。",
            "京杭运河 锡澄运河 九里河 伯渎港 北兴塘河",
            100_000,
            1_000_000,
            5,
        ),
        (
            "不正常运行大气污染防治设施",
            "治污设施不正常运行",
            _AIR + "第九十九条第三项",
            "发现你单位{detail}工序废气处理设施未正常运行，废气未经处理直接排放。",
            "喷涂 烘干 酸洗 烧结 定型",
            100_000,
            1_000_000,
            12,
        ),
        (
            "未采取措施减少挥发性有机物排放",
            "挥发性有机物未收集处理",
            _AIR + "第一百零八条第一项",
            "发现你单位{detail}工序含挥发性有机物废气的生产活动未在密闭空间中进行，废气无组织排放。",
            "喷涂 涂布 印刷 反应釜投料 调漆",
            20_000,
            200_000,
            15,
        ),
        (
            "建设项目未批先建",
            "未批先建",
            "《中华人民共和国环境影响评价法》第三十一条第一款",
            "发现你单位{detail}项目未依法报批环境影响评价文件，擅自开工建设。",
            "年产5万吨精细化学品 年产20万米印染布 年产3万吨不锈钢管 年产10万平方米线路板",
            50_000,
            1_000_000,
            8,
        ),
        (
            "环境保护设施未经验收投入生产",
            "未验先投",
            "《建设项目环境保护管理条例》第二十三条第一款",
            "发现你单位{detail}项目配套建设的环境保护设施未经验收，主体工程已投入生产。",
            "年产3万吨合成树脂 电镀生产线技改 年产50万平方米建筑陶瓷 热电联产扩建",
            200_000,
            1_000_000,
            8,
        ),
        (
            "未按规定贮存危险废物",
            "危险废物贮存不规范",
            "《中华人民共和国固体废物污染环境防治法》第一百一十二条第一款第六项",
            "发现你单位将{detail}露天堆放于厂区空地，未按照国家环境保护标准贮存。",
            "废矿物油 废活性炭 漆渣 含铜污泥 废包装桶 废酸",
            100_000,
            1_000_000,
            12,
        ),
        (
            "未取得排污许可证排放污染物",
            "无证排污",
            "《排污许可管理条例》第三十三条第一项",
            "发现你单位未取得排污许可证，{detail}生产线已投入生产并排放污染物。",
            "酸洗 电镀 印染 造纸",
            200_000,
            1_000_000,
            4,
        ),
        (
            "未按规定开展自行监测",
            "未开展自行监测",
            _WATER + "第八十二条第一项",
            "发现你单位未按照规定对{detail}排放的水污染物开展自行监测，未保存原始监测记录。",
            "废水总排口 雨水排放口 车间排放口",
            20_000,
            200_000,
            6,
        ),
        (
            "干扰自动监测设备",
            "干扰自动监测",
            _AIR + "第九十九条第三项",
            "发现你单位人为干扰{detail}在线监测设备采样，致使监测数据失真。",
            "废气排放口 废水总排口",
            100_000,
            1_000_000,
            2,
        ),
    )
)

ANNUAL_REASON = "{year}年度环保信用评价结果"
NATIONAL_REASON = "{year}年度企业环境信用评价结果（环发〔2013〕150号）"
