"""The quality report as an Excel workbook, for a publisher to keep or forward: the score
and components, then per table its fields, keys and rules (the /quality endpoint's data)."""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from opendata.quality.schemas import QualityReportOut

COMPONENTS = (("completeness", "完整性"), ("validity", "有效性"), ("uniqueness", "唯一性"),
              ("consistency", "一致性"), ("timeliness", "及时性"))


def _header(sheet: object, titles: list[str]) -> list[WriteOnlyCell]:
    cells = []
    for title in titles:
        cell = WriteOnlyCell(sheet, value=title)  # type: ignore[arg-type]
        cell.font = Font(bold=True)
        cells.append(cell)
    return cells


def quality_workbook(report: QualityReportOut) -> bytes:
    workbook = Workbook(write_only=True)
    summary = workbook.create_sheet("质量 Quality")
    summary.append(_header(summary, ["项 Item", "值 Value", "权重 Weight"]))
    summary.append(["数据集 Dataset", report.dataset])
    summary.append(["质量评分 Score (0–100)", report.score])
    for name, zh in COMPONENTS:
        summary.append([f"{zh} {name}", report.components[name], report.weights[name]])
    timely = report.timeliness
    summary.append(["及时性状态 Timeliness status", timely.status])
    summary.append(["更新频率 Update frequency", timely.frequency])
    summary.append(["最近更新 Last update", timely.last_update])
    summary.append(["应更新日期 Due", timely.due])
    summary.append(["逾期天数 Days overdue", timely.days_overdue])
    summary.append(["行数 Rows", report.rows])
    summary.append(["测量时间 Measured at (UTC)", report.measured_at.replace(tzinfo=None) if report.measured_at else None])
    summary.append(["规则与权重 Rules and weights", "docs/quality.md"])

    fields = workbook.create_sheet("字段 Fields")
    fields.append(_header(fields, ["资源 Resource", "字段 Field", "有值 Values", "缺失 Missing",
                                   "完整性 Completeness %", "有效性 Validity %"]))
    keys = workbook.create_sheet("键 Keys")
    keys.append(_header(keys, ["资源 Resource", "键 Key", "类型 Kind", "行数 Rows", "重复行 Duplicate rows",
                               "唯一性 Uniqueness %"]))
    rules = workbook.create_sheet("规则 Rules")
    rules.append(_header(rules, ["资源 Resource", "类型 Kind", "规则 Rule", "检查行数 Evaluated", "不符行数 Failed",
                                 "一致性 Consistency %", "不符行号 Failing rows (first)", "错误 Error"]))
    for resource in report.resources:
        for f in resource.fields:
            fields.append([resource.id, f.name, f.values, f.missing, f.completeness, f.validity])
        for k in resource.keys:
            keys.append([resource.id, "+".join(k.fields), k.kind, k.rows, k.duplicates, k.uniqueness])
        for r in resource.rules:
            rules.append([resource.id, r.kind, r.rule, r.evaluated, r.failed, r.consistency,
                          ", ".join(map(str, r.sample_rows)), r.error])
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()
