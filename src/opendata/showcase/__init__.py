"""The reuse showcase (应用成果展示): apps, analyses and visualisations built on the data.

A signed-in person submits one (title, description, its URL, the datasets it uses,
optionally a screenshot's URL, shown as a link and never embedded); an administrator
approves or rejects it with a reason, and may take an approved one down again. Approved
showcases are listed at /showcase and /api/v1/showcases and on the page of every
dataset they use.
"""
