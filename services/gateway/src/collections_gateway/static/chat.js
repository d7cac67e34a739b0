// The chat panel: replies stream from POST /chat/stream; an item citation opens its item, a web
// citation is a link to the page (a new tab, no referrer).
import * as api from "./api.js";
import { $, button, link, show, text } from "./dom.js";
import { handle } from "./notices.js";
import { store } from "./state.js";

let sessionId = null;
let streaming = null;

function bubble(role, content) {
  const element = text("div", "", `bubble ${role}`);
  const words = text("span", content, "words");
  element.append(words);
  $("#chat-log").append(element);
  element.scrollIntoView({ block: "end" });
  return { element, words };
}

function cite(reply, citations) {
  if (!Array.isArray(citations) || !citations.length) return;
  const list = text("div", "", "citations");
  for (const citation of citations) {
    if (citation?.kind === "web" && typeof citation.url === "string") {
      const page = link(`${citation.title || citation.url} (web)`, citation.url, "link");
      if (page) list.append(page);
      continue;
    }
    if (typeof citation?.item_id !== "string") continue;
    const open = () => store.emit("open-item", citation.item_id);
    list.append(button(citation.summary || citation.item_id, open, "link"));
  }
  reply.element.append(list);
}

function parse(data) {
  try {
    return JSON.parse(data) ?? {};
  } catch {
    return {};
  }
}

function fail(reply, message) {
  reply.words.textContent = message;
  reply.element.classList.add("error");
}

async function read(response, reply) {
  for await (const message of api.events(response)) {
    const data = parse(message.data);
    if (message.event === "token" && typeof data.text === "string") reply.words.textContent += data.text;
    else if (message.event === "citations") cite(reply, data.citations);
    else if (message.event === "done") {
      sessionId = typeof data.session_id === "string" ? data.session_id : sessionId;
      if (typeof data.reply === "string" && data.reply) reply.words.textContent = data.reply;
      store.emit("chat-turn", sessionId);
    } else if (message.event === "error") fail(reply, data.message || "The assistant could not answer.");
  }
}

async function ask(message) {
  bubble("user", message);
  const reply = bubble("assistant", "");
  reply.element.setAttribute("aria-busy", "true");
  streaming = new AbortController();
  $("#chat-form button[type=submit]").disabled = true;
  try {
    const body = JSON.stringify(sessionId ? { message, session_id: sessionId } : { message });
    const response = await api.call("/chat/stream", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      signal: streaming.signal,
    });
    await read(response, reply);
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") reply.element.remove();
    else fail(reply, error instanceof Error ? error.message : String(error));
  } finally {
    reply.element.removeAttribute("aria-busy");
    streaming = null;
    $("#chat-form button[type=submit]").disabled = false;
  }
}

function toggle(open) {
  show($("#chat"), open);
  $("#chat-toggle").setAttribute("aria-expanded", String(open));
  if (open) $("#chat-input").focus();
  else $("#chat-toggle").focus();
}

/** The session the next message continues, or null for a new one. */
export function currentSession() {
  return sessionId;
}

/** Show an earlier session's messages (`GET /chat/sessions/{id}`); the next message continues it. */
export function resumeSession(session) {
  streaming?.abort();
  sessionId = session.session_id;
  $("#chat-log").replaceChildren();
  for (const message of Array.isArray(session.messages) ? session.messages : []) {
    const role = message.role === "user" ? "user" : "assistant";
    const shown = bubble(role, String(message.content ?? ""));
    if (role === "assistant") cite(shown, message.citations);
  }
  $("#chat-input").focus();
}

/** Forget the conversation (a new chat, or signing out). */
export function resetChat() {
  streaming?.abort();
  sessionId = null;
  $("#chat-log").replaceChildren();
}

export function closeChat() {
  show($("#chat"), false);
  $("#chat-toggle").setAttribute("aria-expanded", "false");
}

export function setupChat() {
  $("#chat-toggle").addEventListener("click", () => toggle($("#chat").classList.contains("hidden")));
  $("#chat-close").addEventListener("click", () => toggle(false));
  $("#chat-new").addEventListener("click", () => resetChat());
  $("#chat").addEventListener("keydown", (event) => {
    if (event.key === "Escape") toggle(false);
  });
  $("#chat-form").addEventListener(
    "submit",
    handle(async (event) => {
      event.preventDefault();
      const message = $("#chat-input").value.trim();
      if (!message || streaming) return;
      $("#chat-input").value = "";
      await ask(message);
    }),
  );
}
