// The signed-in session, kept in localStorage so a reload stays signed in.

const STORE = "collections.tokens";
// Refresh this long before the access token expires, so a large upload is not sent only to be
// refused with a 401 and sent again.
const EARLY_MS = 60_000;

/** `{access, refresh, email, expiresAt}` or null; anything malformed counts as signed out. */
export function current() {
  let value;
  try {
    value = JSON.parse(localStorage.getItem(STORE) || "null");
  } catch {
    return null;
  }
  if (!value || typeof value.access !== "string" || !value.access) return null;
  return value;
}

/** Store tokens from `/auth/login` or `/auth/refresh` (which returns no new refresh token). */
export function save(tokens, email) {
  const previous = current() || {};
  const lifetime = Number(tokens.expires_in);
  localStorage.setItem(
    STORE,
    JSON.stringify({
      access: tokens.access_token,
      refresh: tokens.refresh_token || previous.refresh || null,
      email: email || previous.email || "",
      expiresAt: Number.isFinite(lifetime) ? Date.now() + lifetime * 1000 : null,
    }),
  );
}

export function clear() {
  localStorage.removeItem(STORE);
}

export function expiresSoon(session) {
  return typeof session.expiresAt === "number" && session.expiresAt - EARLY_MS < Date.now();
}

/** Run `onChange` when another tab signs in or out. */
export function watchOtherTabs(onChange) {
  window.addEventListener("storage", (event) => {
    if (event.key === STORE || event.key === null) onChange(current());
  });
}
