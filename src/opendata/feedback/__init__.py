"""Ratings (评分), comments and problem reports on datasets, with publisher replies.

Any signed-in person rates a dataset 1–5 stars (one rating per person, changeable,
removable) and writes comments or problem reports (数据错误, 链接失效, 更新不及时, …).
Comments are published at once (post-moderation): administrators hide one with a
reason and may restore it. The dataset's publisher department (its publisher accounts)
and administrators reply, and set a problem report open or resolved.
"""
