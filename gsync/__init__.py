"""gsync: leavers' destination data for schools and trusts on Google Workspace."""

__version__ = "0.1.0"
