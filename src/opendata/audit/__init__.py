"""The hash-chained, append-only audit trail (全流程监管).

Services call this package; it calls none of them.
"""
