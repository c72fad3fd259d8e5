"""The one error type services raise for problems the user can fix."""


class ServiceError(Exception):
    """A request that cannot be carried out; the message is shown to the user as is.

    `status` is the HTTP status pages and the API answer with (400 unless said otherwise).
    """

    status = 400

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
