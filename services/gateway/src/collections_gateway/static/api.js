// The gateway's HTTP API as the browser sees it. Every authenticated request, uploads included,
// goes through `authorized`: the bearer token, a refresh shortly before it expires, and one
// refresh-and-retry on a 401. Failures are ApiError carrying the problem+json detail.
import * as tokens from "./tokens.js";

export class ApiError extends Error {
  constructor(status, problem, fallback) {
    super(problem?.detail || problem?.title || fallback || `request failed (${status})`);
    this.name = "ApiError";
    this.status = status;
    this.code = problem?.code || "";
  }
}

const UNREACHABLE = "The server cannot be reached: check your connection and try again.";
const SESSION_ENDED = { detail: "Your session has ended: log in again.", code: "session_ended" };
const sessions = new EventTarget();

/** Call `handler` when the session ends without the user logging out (refresh refused). */
export function onSessionEnd(handler) {
  sessions.addEventListener("end", () => handler());
}

function endSession() {
  tokens.clear();
  sessions.dispatchEvent(new Event("end"));
}

async function problem(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

async function failure(response) {
  if (response.status === 401 && !tokens.current()) return new ApiError(401, SESSION_ENDED);
  return new ApiError(response.status, await problem(response));
}

// A network failure becomes an ApiError with a readable message; an abort stays an abort.
async function reach(request) {
  try {
    return await request();
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    if (error instanceof ApiError) throw error;
    throw new ApiError(0, null, UNREACHABLE);
  }
}

function jsonRequest(method, body) {
  return { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

let refreshing = null;

/** New tokens from the refresh token, one request at a time; false once the session is over. */
function refreshTokens() {
  refreshing ??= renew().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

async function renew() {
  const session = tokens.current();
  if (!session?.refresh) {
    endSession();
    return false;
  }
  const body = { refresh_token: session.refresh };
  const response = await reach(() => fetch("/auth/refresh", jsonRequest("POST", body)));
  if (response.status === 400 || response.status === 401) {
    endSession();
    return false;
  }
  if (!response.ok) throw await failure(response);
  tokens.save(await response.json());
  return true;
}

/** `send(token)` resolves to a Response; it is sent again once after a refresh on a 401. */
async function authorized(send) {
  const session = tokens.current();
  if (session && tokens.expiresSoon(session)) await refreshTokens();
  const used = tokens.current()?.access;
  const response = await send(used);
  if (response.status !== 401 || !used) return response;
  // Another request may have refreshed already; refresh only if our token is still the latest.
  const renewed = tokens.current()?.access !== used || (await refreshTokens());
  const again = renewed ? tokens.current() : null;
  return again ? send(again.access) : response;
}

function withToken(options, token) {
  const headers = new Headers(options.headers);
  if (token) headers.set("authorization", `Bearer ${token}`);
  return { ...options, headers };
}

/** fetch with the session's token; resolves to the Response, rejects with ApiError. */
export async function call(path, options = {}) {
  const response = await authorized((token) => reach(() => fetch(path, withToken(options, token))));
  if (!response.ok) throw await failure(response);
  return response;
}

export async function json(path, options = {}) {
  const response = await call(path, options);
  return response.status === 204 ? null : response.json();
}

export function send(method, path, body) {
  return json(path, jsonRequest(method, body));
}

export function post(path, body) {
  return send("POST", path, body);
}

// --- uploads: XHR, the only browser API that reports upload progress ---------------------------

function asResponse(request) {
  const bodiless = request.status === 204 || request.status === 205 || request.status === 304;
  const type = request.getResponseHeader("content-type") || "text/plain";
  return new Response(bodiless ? null : request.responseText, {
    status: request.status,
    headers: { "content-type": type },
  });
}

function xhr(path, body, { token, headers = {}, onProgress, signal }) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new DOMException("upload cancelled", "AbortError"));
    const request = new XMLHttpRequest();
    request.open("POST", path);
    if (token) request.setRequestHeader("authorization", `Bearer ${token}`);
    for (const [name, value] of Object.entries(headers)) request.setRequestHeader(name, value);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress?.(event.loaded / event.total);
    });
    request.addEventListener("load", () => resolve(asResponse(request)));
    request.addEventListener("error", () => reject(new ApiError(0, null, UNREACHABLE)));
    request.addEventListener("abort", () => reject(new DOMException("upload cancelled", "AbortError")));
    signal?.addEventListener("abort", () => request.abort(), { once: true });
    request.send(body);
  });
}

// Printable ASCII only (the header's pattern): size and time first, so a cut keeps them.
function idempotencyKey(file) {
  return `${file.size}-${file.lastModified}-${encodeURIComponent(file.name)}`.slice(0, 200);
}

/** `POST /items` with one file; `onProgress(fraction)` while it is sent. Resolves to the item. */
export async function upload(file, { onProgress, signal } = {}) {
  const form = new FormData();
  form.append("file", file, file.name);
  const headers = { "idempotency-key": idempotencyKey(file) };
  const response = await authorized((token) => {
    onProgress?.(0);
    return xhr("/items", form, { token, headers, onProgress, signal });
  });
  if (!response.ok) throw await failure(response);
  return response.json();
}

// --- server-sent events over fetch (EventSource cannot send a token) ---------------------------

function timeout(promise, ms) {
  if (!ms) return promise;
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new ApiError(0, null, "the live feed went silent")), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

function parseBlock(block) {
  let event = "message";
  const data = [];
  const comments = [];
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith(":")) comments.push(line.slice(1).trim());
    else if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  if (data.length) return { event, data: data.join("\n") };
  return comments.length ? { event: "comment", data: comments.join("\n") } : null;
}

/** The events of a `text/event-stream` response; rejects if no byte arrives for `idleMs`. */
export async function* events(response, { idleMs = 0 } = {}) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await timeout(reader.read(), idleMs);
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let boundary;
      while ((boundary = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary).replace(/^\r?\n\r?\n/, "");
        const message = parseBlock(block);
        if (message) yield message;
      }
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

// --- account ---------------------------------------------------------------------------------

async function credentials(path, email, password) {
  const response = await reach(() => fetch(path, jsonRequest("POST", { email, password })));
  if (!response.ok) throw new ApiError(response.status, await problem(response));
  return response.json();
}

export async function login(email, password) {
  tokens.save(await credentials("/auth/login", email, password), email);
}

export async function signup(email, password) {
  const result = await credentials("/auth/signup", email, password);
  if (!result.confirmed) throw new ApiError(403, { detail: "Check your email for a confirmation code." });
  await login(email, password);
}

/** Sign out everywhere; signed out here even if the server cannot be told. */
export async function logout() {
  try {
    await call("/auth/logout", { method: "POST" });
  } finally {
    tokens.clear();
  }
}
