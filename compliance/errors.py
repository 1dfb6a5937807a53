"""The one error of the compliance layer, importable by its models and services alike."""


class ComplianceError(Exception):
    """A change the law or the catalogue's lifecycle does not allow."""
