// The chat panel's earlier sessions (GET /chat/sessions): resume one (its messages come back and
// the next message continues it) or delete it. The list is read when it is opened and after
// each turn, so a new session appears in it.
import * as api from "./api.js";
import { currentSession, resetChat, resumeSession } from "./chat.js";
import { confirmDialog } from "./dialogs.js";
import { $, button, text } from "./dom.js";
import { plural } from "./format.js";
import { handle, reportError } from "./notices.js";
import { store } from "./state.js";

let reading = 0;

async function resume(session) {
  resumeSession(await api.json(`/chat/sessions/${encodeURIComponent(session.session_id)}`));
}

async function remove(session, trigger) {
  const sure = await confirmDialog({
    title: "Delete this chat?",
    message: `“${session.title}” and its messages are removed.`,
    confirm: "Delete",
    danger: true,
  });
  if (!sure) return;
  trigger.disabled = true;
  await api.call(`/chat/sessions/${encodeURIComponent(session.session_id)}`, { method: "DELETE" });
  if (currentSession() === session.session_id) resetChat();
  await loadSessions();
}

function line(session) {
  const entry = text("li", "", "session");
  const when = new Date(session.updated_at).toLocaleString();
  const label = text("span", `${session.title} · ${plural(session.message_count, "message")} · ${when}`);
  const open = button("Resume", handle(() => resume(session)), "link");
  open.setAttribute("aria-label", `Resume “${session.title}”`);
  const drop = button("Delete", handle(() => remove(session, drop)), "link");
  drop.setAttribute("aria-label", `Delete “${session.title}”`);
  if (currentSession() === session.session_id) entry.setAttribute("aria-current", "true");
  entry.append(label, " ", open, " ", drop);
  return entry;
}

/** Read the sessions again and redraw the list. */
export async function loadSessions() {
  const ticket = ++reading;
  const { sessions } = await api.json("/chat/sessions");
  if (ticket !== reading) return;
  const list = $("#chat-session-list");
  list.replaceChildren(...sessions.map(line));
  if (!sessions.length) list.append(text("li", "No earlier chats.", "muted"));
}

export function setupSessions() {
  const details = $("#chat-sessions");
  details.addEventListener("toggle", () => {
    if (details instanceof HTMLDetailsElement && details.open) loadSessions().catch(reportError);
  });
  store.on("chat-turn", () => {
    if (details instanceof HTMLDetailsElement && details.open) loadSessions().catch(reportError);
  });
  store.on("user", () => {
    $("#chat-session-list").replaceChildren();
    if (details instanceof HTMLDetailsElement) details.open = false;
  });
}
