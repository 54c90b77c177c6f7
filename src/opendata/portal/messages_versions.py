"""The strings of versions and history (dataset page, history page, publisher roll-back,
subscriptions): key -> (中文, English). Merged into opendata.portal.messages.MESSAGES."""

from __future__ import annotations

VERSION_MESSAGES: dict[str, tuple[str, str]] = {
    "meta.version_number": ("数据版本", "Data version"),
    "history.heading": ("版本历史", "Version history"),
    "history.all": ("查看全部版本历史", "See the whole history"),
    "history.none": ("还没有数据版本。", "No version of the data yet."),
    "history.number": ("版本", "Version"),
    "history.time": ("时间", "Time"),
    "history.actor": ("更新者", "By"),
    "history.resource": ("数据表", "Table"),
    "history.rows": ("行数", "Rows"),
    "history.diff": ("变化", "Changes"),
    "history.digest": ("文件摘要（SHA-256）", "File digest (SHA-256)"),
    "history.added": ("新增", "added"),
    "history.removed": ("删除", "removed"),
    "history.changed": ("修改", "changed"),
    "history.added_keys": ("新增的主键（示例）", "Added keys (sample)"),
    "history.removed_keys": ("删除的主键（示例）", "Removed keys (sample)"),
    "history.changed_keys": ("修改的主键（示例）", "Changed keys (sample)"),
    "history.columns_added": ("新增字段", "Columns added"),
    "history.columns_removed": ("删除字段", "Columns removed"),
    "history.keys_hidden": ("该数据集的主键示例仅对数源部门可见。", "Sample keys of this dataset are shown to its publisher only."),
    "history.no_key": ("无主键：按整行比较", "No primary key: rows compared whole"),
    "history.origin.load": ("目录加载", "catalogue load"),
    "history.origin.upload": ("上传", "upload"),
    "history.origin.rollback": ("回滚", "roll-back"),
    "history.restored_from": ("恢复自版本 {n}", "restored from version {n}"),
    "history.lead": ("每次加载或上传数据都会生成一个版本，并按主键与上一版本比较。",
                     "Every load or upload of the data is a version, compared by primary key with the one before."),
}
