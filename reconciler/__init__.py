"""itwin-access: declarative access-as-code for Bentley iTwin projects."""

__version__ = "0.1.0"
