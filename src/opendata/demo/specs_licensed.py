"""The conditionally open and closed demo datasets, keyed by credit code or person."""

from __future__ import annotations

from datetime import date
from typing import Final

from .specs import (
    DatasetDef,
    F,
    ResourceDef,
    SYNTHETIC_NOTE,
    _credit_code,
    _enterprise_name,
)

LICENSED_DATASETS: Final = (
    DatasetDef(
        id="tax-credit-ratings",
        title_zh="企业纳税信用等级评价结果",
        title_en="Enterprise tax credit ratings",
        description_zh="广州市企业 2021—2023 年度纳税信用等级（A、B、M、C、D）及评价得分。" + SYNTHETIC_NOTE,
        description_en="Tax credit rating (A, B, M, C, D) and score of Guangzhou enterprises for 2021-2023. "
                       "Synthetic demo data.",
        domain="finance", publisher="gz-tax", open_level="conditional",
        tags=("纳税信用", "信用等级", "税务", "银税互动", "tax", "credit rating"),
        update_frequency="yearly", version="2023.1", issued=date(2022, 4, 30), modified=date(2024, 4, 30),
        temporal_start=date(2021, 1, 1), temporal_end=date(2023, 12, 31),
        source_system="金税三期税收管理系统", update_mechanism="每年 4 月发布上一年度评价结果",
        usage_notes="仅限经授权用于企业信贷（银税互动）等场景；M 级为新设立企业；D 级含直接判级。",
        resource=ResourceDef(
            id="ratings", title_zh="纳税信用等级表", title_en="Tax credit ratings",
            description_zh="每行一个企业一个评价年度。", format="csv", path="data/tax-credit-ratings.csv",
            subject_key="credit_code",
            fields=(
                _credit_code(), _enterprise_name(),
                F("year", "评价年度", "Year", "integer", "年"),
                F("rating", "纳税信用等级", "Rating", "string", description="A、B、M、C、D", sensitivity="L2"),
                F("score", "评价得分", "Score", "decimal", "分", sensitivity="L2"),
                F("tax_authority", "主管税务机关", "Tax office", "string"),
            ),
        ),
    ),
    DatasetDef(
        id="social-insurance-headcounts",
        title_zh="企业社会保险参保人数（月度）",
        title_en="Enterprise social-insurance headcount by month",
        description_zh="参保单位按月的社会保险参保人数和缴费总额（单位与个人合计）。" + SYNTHETIC_NOTE,
        description_en="Monthly insured headcount and total contributions (employer and employee) per "
                       "enterprise. Synthetic demo data.",
        domain="social_security", publisher="gz-hrss", open_level="conditional",
        tags=("社会保险", "参保人数", "就业", "社保", "social insurance", "employment"),
        update_frequency="monthly", version="2024.10", issued=date(2023, 12, 15), modified=date(2024, 11, 15),
        temporal_start=date(2023, 11, 1), temporal_end=date(2024, 10, 31),
        source_system="广东省社会保险信息系统", update_mechanism="每月 15 日发布上月数据",
        usage_notes="月份字段为当月 1 日；仅限经授权的普惠金融、就业监测场景使用，不得反推个人信息。",
        resource=ResourceDef(
            id="headcounts", title_zh="参保人数月度表", title_en="Monthly headcounts",
            description_zh="每行一个企业一个月。", format="csv", path="data/social-insurance-headcounts.csv",
            subject_key="credit_code",
            fields=(
                _credit_code(),
                F("month", "月份", "Month", "date", description="当月 1 日"),
                F("headcount", "参保人数", "Insured headcount", "integer", "人", sensitivity="L2"),
                F("contribution_total", "缴费总额", "Total contributions", "decimal", "元", sensitivity="L3"),
            ),
        ),
    ),
    DatasetDef(
        id="administrative-penalties",
        title_zh="市场监管行政处罚信息",
        title_en="Market-regulation administrative penalties",
        description_zh="市、区市场监督管理部门作出的行政处罚决定：文书号、当事人、处罚种类、罚没金额、处罚日期、"
                       "违法事实和处罚依据。" + SYNTHETIC_NOTE,
        description_en="Administrative penalty decisions of the city and district market-regulation "
                       "authorities: decision number, party, penalty, amount, date, facts and legal basis. "
                       "Synthetic demo data.",
        domain="credit", publisher="gz-market", open_level="conditional",
        tags=("行政处罚", "信用", "双公示", "市场监管", "penalty", "credit"),
        update_frequency="weekly", version="2.3.0",
        temporal_start=date(2022, 1, 1), temporal_end=date(2024, 10, 31),
        source_system="广东省市场监管行政执法办案系统", update_mechanism="处罚决定作出后 7 个工作日内推送",
        usage_notes="罚没金额单位为元，警告类处罚金额为 0；违法事实可能含多行文本和引号。",
        resource=ResourceDef(
            id="penalties", title_zh="行政处罚决定表", title_en="Penalty decisions",
            description_zh="每行一份行政处罚决定书。", format="csv", path="data/administrative-penalties.csv",
            primary_key="decision_no", subject_key="credit_code",
            fields=(
                F("decision_no", "处罚决定书文号", "Decision number", "string"),
                _credit_code(), _enterprise_name(),
                F("penalty_type", "处罚种类", "Penalty", "string"),
                F("amount", "罚没金额", "Amount", "decimal", "元"),
                F("decision_date", "处罚决定日期", "Decision date", "date"),
                F("reason", "违法事实", "Facts", "string"),
                F("legal_basis", "处罚依据", "Legal basis", "string"),
                F("authority", "处罚机关", "Authority", "string"),
            ),
        ),
    ),
    DatasetDef(
        id="personal-social-insurance",
        title_zh="个人社会保险缴费基数",
        title_en="Personal social-insurance contribution bases",
        description_zh="参保人按月的缴费基数、个人缴纳的养老和医疗保险费及参保单位。不予开放，仅通过密文核验"
                       "（如银行核验贷款申请人申报的缴费基数）提供服务。" + SYNTHETIC_NOTE,
        description_en="Monthly contribution base, personal pension and medical contributions and employer "
                       "of insured persons. Closed: only encrypted verification services (e.g. a bank "
                       "verifying an applicant's declared base) may use it. Synthetic demo data.",
        domain="social_security", publisher="gz-hrss", open_level="closed",
        tags=("社会保险", "缴费基数", "个人信息", "核验", "social insurance", "contribution base"),
        update_frequency="monthly", version="2024.10", issued=date(2023, 12, 15), modified=date(2024, 11, 15),
        temporal_start=date(2023, 11, 1), temporal_end=date(2024, 10, 31),
        source_system="广东省社会保险信息系统", update_mechanism="每月 15 日同步上月缴费明细",
        usage_notes="含个人敏感信息，原始数据不出域；基数上下限为演示用示意值。",
        resource=ResourceDef(
            id="bases", title_zh="个人缴费基数表", title_en="Contribution bases",
            description_zh="每行一名参保人一个月。", format="csv", path="data/personal-social-insurance.csv",
            subject_key="id_number",
            fields=(
                F("id_number", "公民身份号码", "ID number", "string", description="18 位（GB 11643）",
                  sensitivity="L4", mask="keep_first_last:6:4"),
                F("name", "姓名", "Name", "string", sensitivity="L3", mask="keep_first:1"),
                _credit_code("employer_credit_code", "参保单位统一社会信用代码", "Employer credit code", "L2"),
                F("employer_name", "参保单位名称", "Employer", "string", sensitivity="L2"),
                F("month", "费款所属期", "Month", "date", description="当月 1 日", sensitivity="L2"),
                F("contribution_base", "缴费基数", "Contribution base", "decimal", "元", sensitivity="L3"),
                F("pension_personal", "养老保险个人缴费", "Personal pension contribution", "decimal", "元",
                  description="缴费基数 × 8%", sensitivity="L3"),
                F("medical_personal", "医疗保险个人缴费", "Personal medical contribution", "decimal", "元",
                  description="缴费基数 × 2%", sensitivity="L3"),
                F("payment_status", "缴费状态", "Payment status", "string", description="正常 或 补缴",
                  sensitivity="L2"),
            ),
        ),
    ),
    DatasetDef(
        id="enterprise-tax-payments",
        title_zh="企业年度纳税情况",
        title_en="Annual enterprise tax payments",
        description_zh="企业 2022—2023 年度开票销售收入及增值税、企业所得税和其他税费实缴金额。不予开放，"
                       "仅用于密文核验和授权模型计算。" + SYNTHETIC_NOTE,
        description_en="Invoiced revenue and VAT, corporate income tax and other taxes paid per enterprise "
                       "for 2022-2023. Closed: used only for encrypted verification and authorised model "
                       "computations. Synthetic demo data.",
        domain="finance", publisher="gz-tax", open_level="closed",
        tags=("纳税", "税收", "开票收入", "企业经营", "tax", "revenue"),
        update_frequency="yearly", version="2023.1", issued=date(2023, 6, 30), modified=date(2024, 6, 30),
        temporal_start=date(2022, 1, 1), temporal_end=date(2023, 12, 31),
        source_system="金税三期税收管理系统", update_mechanism="每年汇算清缴结束后更新",
        usage_notes="涉及纳税人商业秘密，原始数据不出域。",
        resource=ResourceDef(
            id="payments", title_zh="年度纳税表", title_en="Annual tax payments",
            description_zh="每行一个企业一个年度。", format="csv", path="data/enterprise-tax-payments.csv",
            subject_key="credit_code",
            fields=(
                _credit_code(), _enterprise_name("L2"),
                F("year", "年度", "Year", "integer", "年", sensitivity="L2"),
                F("invoice_revenue", "开票销售收入", "Invoiced revenue", "decimal", "元", sensitivity="L3"),
                F("vat_paid", "增值税实缴", "VAT paid", "decimal", "元", sensitivity="L3"),
                F("cit_paid", "企业所得税实缴", "Corporate income tax paid", "decimal", "元", sensitivity="L3"),
                F("other_taxes_paid", "其他税费实缴", "Other taxes paid", "decimal", "元",
                  description="城市维护建设税、教育费附加、印花税等", sensitivity="L3"),
                F("total_tax_paid", "实缴税费合计", "Total taxes paid", "decimal", "元", sensitivity="L3"),
            ),
        ),
    ),
)
