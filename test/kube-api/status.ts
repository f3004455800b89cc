// metav1.Status failures, shaped as the real API server sends them (reason, code, details),
// so clients' error handling (404 checks, 409 AlreadyExists/Conflict, 403 messages) is exercised.

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: { type?: string; message?: string; field?: string }[];
  retryAfterSeconds?: number;
}

export class KubeError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/** `pods "x"` or `pods.apps "x"`: how the real server names a resource in messages. */
function qualified(resource: string, group: string): string {
  return group === "" ? resource : `${resource}.${group}`;
}

export function notFound(resource: string, group: string, name: string): KubeError {
  return new KubeError(404, "NotFound", `${qualified(resource, group)} "${name}" not found`, { name, group, kind: resource });
}

export function alreadyExists(resource: string, group: string, name: string): KubeError {
  return new KubeError(409, "AlreadyExists", `${qualified(resource, group)} "${name}" already exists`, { name, group, kind: resource });
}

export function conflict(resource: string, group: string, name: string, why: string): KubeError {
  return new KubeError(409, "Conflict", `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": ${why}`, {
    name,
    group,
    kind: resource,
  });
}

export function invalid(kind: string, group: string, name: string, causes: { field: string; message: string }[]): KubeError {
  const summary = causes.map((c) => `${c.field}: ${c.message}`).join(", ");
  return new KubeError(422, "Invalid", `${kind}${group ? `.${group}` : ""} "${name}" is invalid: ${summary}`, {
    name,
    group,
    kind,
    causes: causes.map((c) => ({ type: "FieldValueInvalid", message: c.message, field: c.field })),
  });
}

export function badRequest(message: string): KubeError {
  return new KubeError(400, "BadRequest", message);
}

export function forbidden(opts: {
  user: string;
  verb: string;
  resource: string;
  subresource?: string;
  group: string;
  namespace?: string;
  name?: string;
}): KubeError {
  const full = opts.subresource ? `${opts.resource}/${opts.subresource}` : opts.resource;
  const subject = opts.name ? `${qualified(full, opts.group)} "${opts.name}"` : qualified(full, opts.group);
  const scope = opts.namespace ? `in the namespace "${opts.namespace}"` : "at the cluster scope";
  return new KubeError(
    403,
    "Forbidden",
    `${subject} is forbidden: User "${opts.user}" cannot ${opts.verb} resource "${full}" in API group "${opts.group}" ${scope}`,
    { ...(opts.name ? { name: opts.name } : {}), group: opts.group, kind: opts.resource },
  );
}

export function unauthorized(): KubeError {
  return new KubeError(401, "Unauthorized", "Unauthorized");
}

export function methodNotAllowed(message = "the server does not allow this method on the requested resource"): KubeError {
  return new KubeError(405, "MethodNotAllowed", message);
}

export function unsupportedMediaType(contentType: string, accepted: string[]): KubeError {
  return new KubeError(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")} (got ${contentType})`);
}

export function gone(message: string): KubeError {
  return new KubeError(410, "Expired", message);
}
