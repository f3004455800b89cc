/** A client mistake in a request: the error handler answers 400 with the message. */
export class BadRequestError extends Error {
  readonly statusCode = 400;
}
