"""Strings of the compute oversight pages and of the model output modes:
key -> (中文, English). Merged into opendata.portal.messages.MESSAGES."""

from __future__ import annotations

COMPUTE_MESSAGES: dict[str, tuple[str, str]] = {
    "admin.alerts": ("计算告警", "Compute alerts"),
    "alerts.lead": ("某一许可当天对同一主体计算次数、或对同一主体同一字段尝试的取值次数超过告警阈值时记录于此（主体以密钥摘要表示）。",
                    "A licence that computed on one subject, or tried values of one field of one subject, more often "
                    "in a day than the alert threshold (subjects appear as keyed digests)."),
    "policy.heading": ("许可 #{id} 的计算策略", "Compute policy of licence #{id}"),
    "policy.link": ("计算策略（可计算的主体）", "Compute policy (which subjects)"),
    "policy.lead": ("默认拒绝：未列出的主体一律不能计算。请只列出已书面授权的主体。",
                    "Deny by default: no subject that is not listed can be computed on. List only the subjects who consented."),
    "policy.none": ("当前没有任何授权主体：该许可不能对任何主体计算。", "No subject is authorised: this licence computes on nobody."),
    "policy.subjects": ("授权主体（每行一个标识）", "Authorised subjects (one key value per line)"),
    "policy.subjects_hint": ("当前已列出 {n} 个主体。", "{n} subject(s) listed now."),
    "policy.reveal": ("告知“查无此主体”（仅用于存在性核验的用途）", "Reveal \"not found\" (only for existence-check purposes)"),
    "policy.all": ("允许对所有主体计算（不推荐）", "Allow every subject (not recommended)"),
    "policy.all_hint": ("勾选后名单被忽略，持证方可对许可数据集中的任何主体计算。", "The list is then ignored: the licensee may compute on anyone in the licensed datasets."),
    "policy.all_warning": ("该许可可对许可数据集中的所有主体计算，而不仅是已授权的申请人。",
                           "This licence may compute on every subject of the licensed datasets, not only on applicants who consented."),
    "policy.save": ("保存策略", "Save policy"),
    "notice.policy_saved": ("计算策略已保存。", "Compute policy saved."),
    "compute.output_mode": ("输出方式", "Output mode"),
    "output_mode.reviewed": ("审阅权重（精确评分）", "Reviewed weights (exact scores)"),
    "output_mode.decision": ("仅判定（高于/低于阈值）", "Decision only (above/below the threshold)"),
    "output_mode.banded": ("仅分档", "Bands only"),
    "output_mode.none": ("未定（需重新登记）", "None (register again)"),
    "compute.proven": ("已证明", "Proven"),
    "compute.parameters": ("下载证明参数（JSON）", "Download the proof parameters (JSON)"),
    "compute.weight": ("明文权重", "Plaintext weight"),
    "compute.bias": ("偏置", "Bias"),
    "compute.bounds": ("已证明的界：|w| < 2^{w}，|b|、|t| < 2^{b}；阈值 {k} 个", "Proved bounds: |w| < 2^{w}, |b|, |t| < 2^{b}; {k} threshold(s)"),
    "compute.leakage": ("每次结果对每个主体至多泄露 {bits} 比特", "At most {bits} bits about each subject per result"),
    "compute.grants_mode": ("批准即授予该输出方式：", "Approving grants this output mode: "),
    "compute.unproven": ("未证明（不可用）", "Unproven (unusable)"),
}
