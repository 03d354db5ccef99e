// The end-user API as the page uses it: start with a process token, read the instance, answer
// the current step, read the tenant's branding. No bearer token: what the user holds (the
// token, then the instance ID and the step ID) is what authorizes them.

const BASE = '/api/process-manager/process-instances';

/** An answer the server gave (status and its JSON error body). */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = (body && body.code) || 'HTTP_' + status;
  }
}

/** The server could not be reached, or answered with something that is not the API. */
export class NetworkError extends Error {
  constructor(cause) {
    super('network failure');
    this.name = 'NetworkError';
    this.cause = cause;
  }
}

/** Whether `error` is worth retrying with the very same request. */
export function isTransient(error) {
  return error instanceof NetworkError || (error instanceof ApiError && (error.status >= 500 || error.status === 429 || error.status === 408));
}

async function call(method, path, bodyText) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: bodyText === undefined ? { Accept: 'application/json' } : { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: bodyText,
      credentials: 'same-origin',
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
    });
  } catch (e) {
    throw new NetworkError(e);
  }
  let body = null;
  try {
    body = await response.json();
  } catch (e) {
    if (response.ok) throw new NetworkError(e);
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

/** Starts an instance with the process token. */
export function start(processToken) {
  return call('POST', BASE, JSON.stringify({ processToken }));
}

/** The instance as it is now: its current step, or its final status and outcome. */
export function read(instanceId) {
  return call('GET', `${BASE}/${encodeURIComponent(instanceId)}`);
}

/**
 * Answers step `stepId` with `bodyText` (the JSON text, kept by the caller so a retry sends the
 * very same bytes, which the server applies once).
 */
export function answer(instanceId, stepId, bodyText) {
  return call('POST', `${BASE}/${encodeURIComponent(instanceId)}/steps/${encodeURIComponent(stepId)}`, bodyText);
}

/** The branding of the instance's tenant. */
export function branding(instanceId) {
  return call('GET', `${BASE}/${encodeURIComponent(instanceId)}/branding`);
}
