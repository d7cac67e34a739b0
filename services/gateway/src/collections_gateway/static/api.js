// The gateway's HTTP API as seen from the browser: tokens, refresh on 401, problem+json errors.

const STORE = "collections.tokens";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `request failed (${status})`);
    this.status = status;
    this.code = problem?.code || "";
  }
}

export function session() {
  try {
    return JSON.parse(localStorage.getItem(STORE) || "null");
  } catch {
    return null;
  }
}

function remember(tokens, email) {
  const previous = session() || {};
  localStorage.setItem(
    STORE,
    JSON.stringify({
      access: tokens.access_token,
      refresh: tokens.refresh_token || previous.refresh,
      email: email || previous.email,
    }),
  );
}

export function forget() {
  localStorage.removeItem(STORE);
}

async function problem(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

async function refresh() {
  const current = session();
  if (!current?.refresh) return false;
  const response = await fetch("/auth/refresh", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ refresh_token: current.refresh }),
  });
  if (!response.ok) return false;
  remember(await response.json());
  return true;
}

// fetch with the bearer token; one refresh-and-retry on 401.
export async function call(path, options = {}, retried = false) {
  const headers = new Headers(options.headers || {});
  const current = session();
  if (current?.access) headers.set("authorization", `Bearer ${current.access}`);
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401 && !retried && (await refresh())) return call(path, options, true);
  if (!response.ok) throw new ApiError(response.status, await problem(response));
  return response;
}

export async function json(path, options = {}) {
  const response = await call(path, options);
  return response.status === 204 ? null : response.json();
}

export function post(path, body) {
  return json(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

export async function login(email, password) {
  const response = await fetch("/auth/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  if (!response.ok) throw new ApiError(response.status, await problem(response));
  remember(await response.json(), email);
}

export async function signup(email, password) {
  const response = await fetch("/auth/signup", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  if (!response.ok) throw new ApiError(response.status, await problem(response));
  const result = await response.json();
  if (!result.confirmed) throw new ApiError(403, { detail: "Check your email for a confirmation code." });
  await login(email, password);
}

// Upload one file with progress (XHR is the only way to observe upload progress).
export function upload(file, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append("file", file, file.name);
    const request = new XMLHttpRequest();
    request.open("POST", "/items");
    request.setRequestHeader("authorization", `Bearer ${session()?.access || ""}`);
    request.setRequestHeader("idempotency-key", `${file.name}-${file.size}-${file.lastModified}`.slice(0, 200));
    request.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    request.onload = () => {
      let body = null;
      try {
        body = JSON.parse(request.responseText);
      } catch {
        body = null;
      }
      if (request.status >= 200 && request.status < 300) resolve(body);
      else reject(new ApiError(request.status, body));
    };
    request.onerror = () => reject(new ApiError(0, { detail: "network error" }));
    request.send(form);
  });
}

// Read a server-sent-event stream from a fetch response (EventSource cannot send a token).
export async function* events(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let boundary;
    while ((boundary = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary).replace(/^\r?\n\r?\n/, "");
      let event = "message";
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
      }
      if (data.length) yield { event, data: data.join("\n") };
    }
  }
}
