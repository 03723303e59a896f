"""Domain errors of the station stores; each carries the HTTP status it maps to.

`layers/` never imports Flask: the web layer turns these into the contract's JSON error form.
"""
from __future__ import annotations


class YizhanError(Exception):
    """Base of every error a client can cause or see; `status` is the HTTP status."""

    status = 400
    code = "invalid_request"

    def __init__(self, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.parameter = parameter
        self.headers: dict[str, str] = {}  # e.g. Retry-After for a 429

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.parameter:
            body["parameter"] = self.parameter
        return {"error": body}


class InvalidQuery(YizhanError):
    """A query parameter is missing, malformed or out of range."""

    status = 400
    code = "invalid_parameter"


class InvalidStation(YizhanError):
    """A station record fails validation; `parameter` names the field."""

    status = 400
    code = "invalid_station"


class StationNotFound(YizhanError):
    """No station with that id."""

    status = 404
    code = "not_found"


class Conflict(YizhanError):
    """The write conflicts with what is stored (for example the id exists already)."""

    status = 409
    code = "conflict"


class PreconditionFailed(YizhanError):
    """A conditional write's precondition (If-Match) does not hold for the stored station."""

    status = 412
    code = "precondition_failed"


class StoreUnavailable(YizhanError):
    """The store cannot be reached (database down, disk gone)."""

    status = 503
    code = "store_unavailable"
