"""Accounts, licence applications, licences, tokens, guards and quotas."""
