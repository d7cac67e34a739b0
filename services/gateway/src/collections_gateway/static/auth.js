// Signing in and out. The signed-in email lives in `store.user`; app.js turns it into screens.
import * as api from "./api.js";
import { $ } from "./dom.js";
import { handle, notify } from "./notices.js";
import { store } from "./state.js";
import * as tokens from "./tokens.js";

let signup = false;

// The store's user: the email, or a placeholder for a session stored without one.
function userOf(session) {
  return session ? session.email || "you" : null;
}

function switchMode() {
  signup = !signup;
  $("#auth-title").textContent = signup ? "Create an account" : "Log in";
  $("#auth-submit").textContent = signup ? "Sign up" : "Log in";
  $("#auth-switch").textContent = signup ? "Log in" : "Sign up";
  $("#auth-password").autocomplete = signup ? "new-password" : "current-password";
}

async function submit(event) {
  event.preventDefault();
  const error = $("#auth-error");
  const submitButton = $("#auth-submit");
  error.textContent = "";
  submitButton.disabled = true;
  const email = $("#auth-email").value.trim();
  const password = $("#auth-password").value;
  try {
    await (signup ? api.signup(email, password) : api.login(email, password));
    $("#auth-password").value = "";
    store.set("user", userOf(tokens.current()));
  } catch (failure) {
    error.textContent = failure instanceof Error ? failure.message : String(failure);
  } finally {
    submitButton.disabled = false;
  }
}

async function logout() {
  try {
    await api.logout();
  } catch {
    // Signed out here either way; the server-side revocation is best effort.
  }
  store.set("user", null);
}

export function setupAuth() {
  $("#auth-switch").addEventListener("click", switchMode);
  $("#auth-form").addEventListener("submit", handle(submit));
  $("#logout").addEventListener("click", handle(logout));
  api.onSessionEnd(() => {
    if (!store.get("user")) return;
    store.set("user", null);
    notify("Your session has ended: log in again.", { kind: "error" });
  });
  tokens.watchOtherTabs((session) => store.set("user", userOf(session)));
  store.set("user", userOf(tokens.current()));
}
