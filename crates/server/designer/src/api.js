// The backoffice's calls to the API, with the signed-in bearer token. Every failure becomes an
// ApiError carrying the server's JSON error (code, message, status).

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

let bearer = null;

export function setToken(token) {
  bearer = token;
}

export async function call(method, path, { body, type, raw } = {}) {
  const headers = {};
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = type || 'application/json';
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload, cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, 'NETWORK', 'the server cannot be reached: is idflow serve running?');
  }
  if (!response.ok) {
    let error = {};
    try {
      error = await response.json();
    } catch (e) {
      // Not JSON: keep the status.
    }
    throw new ApiError(response.status, error.code || 'HTTP_' + response.status, error.message || response.statusText, error);
  }
  if (raw) return response.text();
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

export const tenantPath = (tenant) => `/api/process-manager/tenants/${encodeURIComponent(tenant)}`;
