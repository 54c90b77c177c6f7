"""Synthetic catalogue metadata in bulk, for search and listing benchmarks.

``synthetic_catalogue(10_000)`` gives ten thousand [[datasets]] tables shaped like the
manifest's, with titles composed the way departments name datasets
("天河区药品零售企业名录", "2023年番禺区规模以上工业增加值月度统计"), their English
counterparts, descriptions, tags, data dictionaries of 3-8 fields, demo publishers, and a
realistic mix of domains and open levels. No data files: resources carry no ``path``.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Final

from .identifiers import DISTRICTS, DISTRICTS_EN
from .specs import PUBLISHERS

# Field templates: key -> (name, title_zh, title_en, type, unit)
_FIELDS: Final = {
    "name": ("name", "名称", "Name", "string", ""),
    "district": ("district", "所属区", "District", "string", ""),
    "street": ("street", "所属街镇", "Sub-district", "string", ""),
    "address": ("address", "地址", "Address", "string", ""),
    "phone": ("phone", "联系电话", "Telephone", "string", ""),
    "lon": ("longitude", "经度", "Longitude", "number", "度"),
    "lat": ("latitude", "纬度", "Latitude", "number", "度"),
    "credit_code": ("credit_code", "统一社会信用代码", "Unified social credit code", "string", ""),
    "org_name": ("org_name", "单位名称", "Organisation", "string", ""),
    "licence_no": ("licence_no", "许可证编号", "Licence number", "string", ""),
    "issue_date": ("issue_date", "发证日期", "Date issued", "date", ""),
    "valid_until": ("valid_until", "有效期至", "Valid until", "date", ""),
    "scope": ("business_scope", "许可范围", "Scope", "string", ""),
    "record_no": ("record_no", "记录编号", "Record number", "string", ""),
    "check_date": ("check_date", "检查日期", "Inspection date", "date", ""),
    "result": ("result", "结果", "Result", "string", ""),
    "month": ("stat_month", "统计月份", "Month", "date", ""),
    "year": ("stat_year", "统计年度", "Year", "integer", "年"),
    "indicator": ("indicator", "指标名称", "Indicator", "string", ""),
    "value": ("value", "指标值", "Value", "decimal", ""),
    "yoy": ("yoy_growth", "同比增长", "Year-on-year growth", "number", "%"),
    "count": ("quantity", "数量", "Quantity", "integer", "个"),
    "people": ("people", "人数", "People", "integer", "人"),
    "capacity": ("capacity", "容量", "Capacity", "integer", "个"),
    "area": ("area", "面积", "Area", "decimal", "平方米"),
    "amount": ("amount", "金额", "Amount", "decimal", "万元"),
    "price": ("price", "价格", "Price", "decimal", "元"),
    "open_hours": ("open_hours", "开放时间", "Opening hours", "string", ""),
    "level": ("level", "等级", "Grade", "string", ""),
    "category": ("category", "类别", "Category", "string", ""),
    "status": ("status", "状态", "Status", "string", ""),
    "updated_at": ("updated_at", "更新时间", "Updated at", "datetime", ""),
    "is_open": ("is_open", "是否开放", "Open", "boolean", ""),
    "person_name": ("contact_person", "联系人", "Contact person", "string", ""),
    "id_number": ("id_number", "公民身份号码", "ID number", "string", ""),
    "mobile": ("mobile", "手机号码", "Mobile number", "string", ""),
}
_PERSONAL: Final = {"person_name": ("L3", "keep_first:1"), "id_number": ("L4", "keep_first_last:6:4"),
                    "mobile": ("L3", "keep_first_last:3:4")}

# Kinds of dataset: (core fields, optional fields, zh suffixes, en suffixes).
_KINDS: Final = {
    "facility": (("name", "district", "address"), ("phone", "lon", "lat", "street", "open_hours",
                 "capacity", "area", "is_open", "category", "level", "person_name", "updated_at"),
                 ("名录", "分布信息", "信息", "一览表", "基本信息", "点位信息"),
                 ("directory", "locations", "information", "list", "basic information", "sites")),
    "licence": (("licence_no", "org_name", "credit_code"), ("issue_date", "valid_until", "scope",
                "address", "district", "status", "person_name", "mobile"),
                ("许可信息", "公示信息", "名单", "审批结果", "备案信息"),
                ("licences", "public notice", "list", "approvals", "filings")),
    "inspection": (("record_no", "org_name", "check_date"), ("credit_code", "result", "district",
                   "category", "amount", "address", "status", "person_name"),
                   ("检查结果", "抽查结果", "公示", "记录", "处理情况"),
                   ("inspection results", "spot-check results", "notices", "records", "outcomes")),
    "statistic": (("indicator", "value"), ("month", "year", "district", "yoy", "count", "people",
                  "amount", "category"),
                  ("统计", "月度统计", "年度统计数据", "情况", "统计数据"),
                  ("statistics", "monthly statistics", "annual statistics", "overview", "figures")),
}

# domain -> [(topic zh, topic en, slug, kind, tags)]
_TOPICS: Final = {
    "transport": [
        ("公交线路", "bus routes", "bus-routes", "facility", ("公交", "线路")),
        ("地铁站点客流", "metro station ridership", "metro-ridership", "statistic", ("地铁", "客流")),
        ("巡游出租车运营", "taxi operations", "taxi-operations", "statistic", ("出租车", "运营")),
        ("道路交通拥堵指数", "road congestion index", "congestion-index", "statistic", ("拥堵", "路况")),
        ("公共自行车租赁点", "public bicycle stations", "bike-stations", "facility", ("共享单车", "慢行")),
        ("新能源汽车充电站", "EV charging stations", "ev-charging", "facility", ("充电桩", "新能源")),
        ("道路客运班线", "intercity coach lines", "coach-lines", "licence", ("客运", "班线")),
        ("网络预约出租汽车经营许可", "ride-hailing operator licences", "ride-hailing", "licence", ("网约车", "许可")),
    ],
    "health": [
        ("药品零售企业", "pharmacies", "pharmacies", "facility", ("药店", "药品")),
        ("疫苗接种门诊", "vaccination clinics", "vaccination", "facility", ("疫苗", "接种")),
        ("家庭医生签约服务", "family-doctor contracts", "family-doctors", "statistic", ("家庭医生", "签约")),
        ("无偿献血点", "blood donation sites", "blood-donation", "facility", ("献血", "血站")),
        ("公共场所卫生监督检查", "public-place hygiene inspections", "hygiene-inspections", "inspection", ("卫生监督", "公共场所")),
        ("院前急救站点", "ambulance stations", "ambulance-stations", "facility", ("急救", "120")),
        ("托育服务机构", "childcare centres", "childcare", "licence", ("托育", "婴幼儿")),
        ("法定传染病报告", "notifiable disease reports", "disease-reports", "statistic", ("传染病", "疾控")),
    ],
    "education": [
        ("校外培训机构", "tutoring institutions", "tutoring", "licence", ("培训机构", "校外培训")),
        ("普通高等学校", "universities", "universities", "facility", ("高校", "高等教育")),
        ("义务教育学位供给", "compulsory-education places", "school-places", "statistic", ("学位", "招生")),
        ("学校体育场馆开放", "school sports venues open to the public", "school-sports", "facility", ("体育场馆", "开放")),
        ("中等职业学校招生计划", "vocational school enrolment plans", "vocational-enrolment", "statistic", ("职业教育", "招生")),
        ("民办学校年度检查", "private school annual inspections", "private-school-checks", "inspection", ("民办学校", "年检")),
    ],
    "environment": [
        ("河涌水质监测", "river water quality", "river-quality", "statistic", ("水质", "河长制")),
        ("区域环境噪声监测", "ambient noise monitoring", "noise", "statistic", ("噪声", "声环境")),
        ("排污许可证", "pollutant discharge permits", "discharge-permits", "licence", ("排污许可", "污染源")),
        ("生活垃圾分类投放点", "waste sorting points", "waste-sorting", "facility", ("垃圾分类", "环卫")),
        ("建设项目环境影响评价审批", "environmental impact approvals", "eia-approvals", "licence", ("环评", "审批")),
        ("重点排污单位监督性监测", "monitoring of key polluters", "polluter-monitoring", "inspection", ("重点排污单位", "监测")),
    ],
    "market": [
        ("食品经营许可", "food business licences", "food-licences", "licence", ("食品安全", "许可")),
        ("特种设备使用登记", "special equipment registrations", "special-equipment", "licence", ("特种设备", "电梯")),
        ("产品质量监督抽查", "product quality spot checks", "quality-checks", "inspection", ("产品质量", "抽查")),
        ("食品安全监督抽检", "food safety sampling", "food-sampling", "inspection", ("食品安全", "抽检")),
        ("消费投诉举报", "consumer complaints", "complaints", "statistic", ("消费维权", "12315")),
        ("农贸市场", "wet markets", "wet-markets", "facility", ("菜市场", "农贸")),
        ("计量器具强制检定", "mandatory metrology verification", "metrology", "inspection", ("计量", "检定")),
    ],
    "social_security": [
        ("养老机构", "elderly care homes", "care-homes", "facility", ("养老", "长者")),
        ("长者饭堂", "elderly canteens", "elderly-canteens", "facility", ("长者饭堂", "助餐")),
        ("公共就业服务机构", "public employment services", "employment-services", "facility", ("就业", "招聘")),
        ("最低生活保障", "minimum living allowance", "dibao", "statistic", ("低保", "救助")),
        ("人力资源服务许可", "HR service licences", "hr-licences", "licence", ("人力资源", "许可")),
        ("社保经办服务网点", "social insurance service points", "si-service-points", "facility", ("社保", "经办")),
        ("职业技能等级认定", "vocational skill certification", "skill-certification", "statistic", ("技能", "认定")),
    ],
    "finance": [
        ("政府采购合同", "government procurement contracts", "procurement", "licence", ("政府采购", "合同")),
        ("一般公共预算收支", "general public budget", "budget", "statistic", ("预算", "财政")),
        ("银行业金融机构网点", "bank branches", "bank-branches", "facility", ("银行", "网点")),
        ("税收收入", "tax revenue", "tax-revenue", "statistic", ("税收", "财政收入")),
        ("财政专项资金分配", "special fund allocations", "special-funds", "statistic", ("专项资金", "财政")),
    ],
    "urban": [
        ("城市更新项目", "urban renewal projects", "urban-renewal", "licence", ("城市更新", "旧改")),
        ("房屋租赁登记备案", "rental registrations", "rental-registrations", "statistic", ("租赁", "住房")),
        ("公共厕所", "public toilets", "public-toilets", "facility", ("公厕", "环卫")),
        ("商品房预售许可", "presale permits", "presale-permits", "licence", ("预售", "商品房")),
        ("城市道路路灯设施", "street lighting", "street-lights", "facility", ("路灯", "照明")),
        ("建设工程质量安全检查", "construction safety inspections", "site-inspections", "inspection", ("工程质量", "安全")),
    ],
    "culture_tourism": [
        ("A级旅游景区", "A-level scenic spots", "scenic-spots", "facility", ("景区", "旅游")),
        ("星级饭店", "star-rated hotels", "star-hotels", "facility", ("酒店", "住宿")),
        ("文物保护单位", "protected heritage sites", "heritage", "facility", ("文物", "历史建筑")),
        ("博物馆", "museums", "museums", "facility", ("博物馆", "展览")),
        ("旅行社", "travel agencies", "travel-agencies", "licence", ("旅行社", "旅游")),
        ("节假日旅游接待", "holiday tourism statistics", "holiday-tourism", "statistic", ("游客", "节假日")),
        ("营业性演出审批", "performance approvals", "performances", "licence", ("演出", "审批")),
    ],
    "public_safety": [
        ("应急避护场所", "emergency shelters", "shelters", "facility", ("应急", "避难")),
        ("消防救援站", "fire stations", "fire-stations", "facility", ("消防", "救援")),
        ("安全生产许可", "work-safety licences", "safety-licences", "licence", ("安全生产", "许可")),
        ("道路交通事故", "road traffic accidents", "traffic-accidents", "statistic", ("交通事故", "安全")),
        ("危险化学品经营许可", "hazardous chemicals licences", "hazchem", "licence", ("危化品", "许可")),
    ],
    "agriculture": [
        ("农业产业化龙头企业", "leading agribusinesses", "agribusiness", "licence", ("龙头企业", "农业")),
        ("农产品质量安全检测", "farm produce safety tests", "produce-tests", "inspection", ("农残", "检测")),
        ("高标准农田建设", "high-standard farmland", "farmland", "statistic", ("农田", "耕地")),
        ("农民专业合作社", "farmer cooperatives", "cooperatives", "facility", ("合作社", "农民")),
        ("渔业船舶登记", "fishing vessel registrations", "fishing-vessels", "licence", ("渔船", "渔业")),
        ("荔枝种植面积与产量", "lychee acreage and output", "lychee", "statistic", ("荔枝", "水果")),
    ],
    "economy": [
        ("规模以上工业增加值", "industrial value added above designated size", "industrial-output", "statistic", ("工业", "增加值")),
        ("重点建设项目", "key construction projects", "key-projects", "licence", ("重点项目", "投资")),
        ("高新技术企业", "high-tech enterprises", "high-tech", "licence", ("高企", "科技")),
        ("外贸进出口", "foreign trade", "foreign-trade", "statistic", ("外贸", "进出口")),
        ("社会消费品零售总额", "retail sales of consumer goods", "retail-sales", "statistic", ("消费", "零售")),
        ("产业园区", "industrial parks", "industrial-parks", "facility", ("园区", "产业")),
    ],
    "credit": [
        ("经营异常名录", "abnormal operations list", "abnormal-operations", "inspection", ("经营异常", "信用")),
        ("守信激励对象", "trustworthy entities", "trustworthy", "licence", ("红名单", "信用")),
        ("信用承诺", "credit commitments", "commitments", "licence", ("信用承诺", "告知承诺")),
        ("信用修复", "credit restoration", "credit-restoration", "inspection", ("信用修复", "信用")),
        ("行政许可双公示", "administrative licence notices", "licence-notices", "licence", ("双公示", "行政许可")),
    ],
    "geography": [
        ("标准地名", "standard place names", "place-names", "facility", ("地名", "地址")),
        ("门牌地址", "street addresses", "addresses", "facility", ("门牌", "地址")),
        ("行政区划", "administrative divisions", "divisions", "statistic", ("区划", "边界")),
        ("兴趣点", "points of interest", "poi", "facility", ("POI", "地图")),
        ("测绘成果目录", "surveying and mapping products", "mapping-products", "licence", ("测绘", "地图")),
    ],
}

_DOMAIN_PUBLISHERS: Final = {
    "transport": ("gz-transport",), "health": ("gz-health",), "education": ("gz-education",),
    "environment": ("gz-ecology",), "market": ("gz-market",), "social_security": ("gz-hrss",),
    "finance": ("gz-tax",), "urban": ("gz-housing",), "culture_tourism": ("gz-culture",),
    "public_safety": ("gz-housing", "gz-transport"), "agriculture": ("gz-agriculture",),
    "economy": ("gz-market", "gz-tax"), "credit": ("gz-market", "gz-tax"),
    "geography": ("gz-housing", "gz-transport"),
}
_DOMAIN_WEIGHTS: Final = {
    "transport": 9, "health": 9, "education": 8, "environment": 7, "market": 10, "social_security": 8,
    "finance": 6, "urban": 8, "culture_tourism": 7, "public_safety": 5, "agriculture": 6,
    "economy": 7, "credit": 5, "geography": 4,
}
_FREQUENCIES: Final = (("daily", 2), ("weekly", 1), ("monthly", 5), ("quarterly", 3), ("semiannual", 1),
                       ("yearly", 4), ("irregular", 2), ("realtime", 1), ("static", 1))
_FREQ_ZH: Final = {"daily": "每日", "weekly": "每周", "monthly": "每月", "quarterly": "每季度",
                   "semiannual": "每半年", "yearly": "每年", "irregular": "不定期", "realtime": "实时",
                   "static": "不再"}
_FREQ_EN: Final = {"daily": "daily", "weekly": "weekly", "monthly": "monthly", "quarterly": "quarterly",
                   "semiannual": "twice a year", "yearly": "yearly", "irregular": "irregularly",
                   "realtime": "in real time", "static": "no longer"}
_LEVEL_LICENCE: Final = {"unconditional": "gz-open-data-1.0", "conditional": "gz-conditional-data-1.0",
                         "closed": "gz-closed-data-1.0"}
_SOURCE_SYSTEMS: Final = ("业务审批系统", "行政执法办案系统", "统计直报系统", "政务服务一网通办平台",
                          "物联网感知平台", "业务管理信息系统", "数据共享交换平台")


def _scope(rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.45:
        return "广州市", "Guangzhou"
    code = rng.choice(sorted(DISTRICTS))
    return DISTRICTS[code], DISTRICTS_EN[DISTRICTS[code]]


def _field(key: str, open_level: str) -> dict:
    name, zh, en, kind, unit = _FIELDS[key]
    out = {"name": name, "title_zh": zh, "title_en": en, "type": kind}
    if unit:
        out["unit"] = unit
    sensitivity, mask = _PERSONAL.get(key, ("L1", None))
    if sensitivity == "L1" and open_level != "unconditional" and key in ("value", "amount", "result", "people"):
        sensitivity = "L2"
    out["sensitivity"] = sensitivity
    if mask:
        out["mask"] = mask
    return out


def synthetic_catalogue(n_datasets: int, seed: int = 7) -> list[dict]:
    """``n_datasets`` dataset tables in the manifest's [[datasets]] shape, deterministic in ``seed``."""
    if not isinstance(n_datasets, int) or n_datasets < 0:
        raise ValueError(f"n_datasets must be a non-negative int, got {n_datasets!r}")
    rng = random.Random(f"opendata-demo-synthetic:{seed}")
    publishers = {p["id"]: p for p in PUBLISHERS}
    domains = list(_DOMAIN_WEIGHTS)
    weights = [_DOMAIN_WEIGHTS[d] for d in domains]
    out = []
    for i in range(n_datasets):
        domain = rng.choices(domains, weights)[0]
        topic_zh, topic_en, slug, kind, topic_tags = rng.choice(_TOPICS[domain])
        core, optional, suffixes_zh, suffixes_en = _KINDS[kind]
        scope_zh, scope_en = _scope(rng)
        s = rng.randrange(len(suffixes_zh))
        year = ""
        if kind == "statistic" and rng.random() < 0.5:
            year = str(rng.randint(2019, 2024))
        title_zh = f"{year + '年' if year else ''}{scope_zh}{topic_zh}{suffixes_zh[s]}"
        title_en = f"{scope_en} {topic_en} {suffixes_en[s]}" + (f" {year}" if year else "")
        open_level = rng.choices(("unconditional", "conditional", "closed"), (70, 22, 8))[0]
        n_fields = rng.randint(3, 8)
        extra = rng.sample(optional, min(len(optional), max(0, n_fields - len(core))))
        keys = list(core) + extra
        if open_level == "unconditional":
            keys = [k for k in keys if k not in _PERSONAL] or list(core)
        fields = [_field(k, open_level) for k in keys[:8]]
        publisher = rng.choice(_DOMAIN_PUBLISHERS[domain])
        publisher_zh = publishers[publisher]["name_zh"]
        frequency = rng.choices([f for f, _ in _FREQUENCIES], [w for _, w in _FREQUENCIES])[0]
        issued = date(2018, 1, 1) + timedelta(days=rng.randint(0, 6 * 365))
        modified = min(date(2024, 11, 1), issued + timedelta(days=rng.randint(0, 5 * 365)))
        listed = "、".join(f["title_zh"] for f in fields[:4])
        listed_en = ", ".join(f["title_en"].lower() for f in fields[:4])
        dataset = {
            "id": f"{domain.replace('_', '-')}-{slug}-{i + 1:05d}",
            "title_zh": title_zh,
            "title_en": title_en[0].upper() + title_en[1:],
            "description_zh": (f"{scope_zh}{topic_zh}{suffixes_zh[s]}，包括{listed}等信息。数据由{publisher_zh}"
                               f"提供，{_FREQ_ZH[frequency]}更新。"),
            "description_en": (f"{topic_en[0].upper() + topic_en[1:]} in {scope_en}: {listed_en}. "
                               f"Updated {_FREQ_EN[frequency]}."),
            "domain": domain,
            "publisher": publisher,
            "open_level": open_level,
            "tags": list(dict.fromkeys([*topic_tags, scope_zh, topic_en.split()[-1]])),
            "update_frequency": frequency,
            "licence": _LEVEL_LICENCE[open_level],
            "spatial_coverage": scope_zh,
            "issued": issued,
            "modified": modified,
            "version": f"{rng.randint(1, 3)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}",
            "source_system": f"{publisher_zh.removeprefix('国家税务总局')}{rng.choice(_SOURCE_SYSTEMS)}",
            "update_mechanism": ("一次性发布，不再更新" if frequency == "static" else
                                 f"{_FREQ_ZH[frequency]}{rng.choice(('自动同步', '人工审核后发布', '批量导入'))}"),
            "quality_standard": rng.choice(("GB/T 36344-2018", "GB/T 38664.2-2020", "GB/T 38664.3-2020")),
            "resources": [{
                "id": slug,
                "title_zh": f"{topic_zh}{'表' if kind != 'statistic' else '统计表'}",
                "title_en": topic_en[0].upper() + topic_en[1:],
                "format": "csv",
                "fields": fields,
            }],
        }
        if year:
            dataset["temporal_start"] = date(int(year), 1, 1)
            dataset["temporal_end"] = date(int(year), 12, 31)
        out.append(dataset)
    return out
