"""The one error type services raise for problems the user can fix."""


class ServiceError(Exception):
    """A request that cannot be carried out; the message is shown to the user as is.

    `status` is the HTTP status pages and the API answer with (400 unless said otherwise);
    `field`, when given, names the input the message is about, so a form can show it there.
    """

    status = 400

    def __init__(self, message: str, *, status: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None:
            self.status = status
