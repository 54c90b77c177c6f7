"""The SDK's version, sent as its User-Agent."""

__version__ = "0.1.0"
USER_AGENT = f"opendata-client/{__version__}"
