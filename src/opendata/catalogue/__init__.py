"""Datasets, resources, fields, classification and grading, search and catalogue loading."""
