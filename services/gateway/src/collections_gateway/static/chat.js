// The chat panel: streamed replies from POST /chat/stream, citations open the item.
import * as api from "/static/api.js";
import { openDetail } from "/static/app.js";

const $ = (selector) => document.querySelector(selector);
let sessionId = null;

function bubble(role, content) {
  const element = document.createElement("div");
  element.className = `bubble ${role}`;
  element.textContent = content;
  $("#chat-log").append(element);
  element.scrollIntoView({ block: "end" });
  return element;
}

function cite(target, citations) {
  if (!citations?.length) return;
  const list = document.createElement("div");
  list.className = "citations";
  for (const citation of citations) {
    const link = document.createElement("button");
    link.type = "button";
    link.className = "link";
    link.textContent = citation.summary || citation.item_id;
    link.addEventListener("click", () => openDetail(citation.item_id));
    list.append(link);
  }
  target.append(list);
}

async function send(message) {
  bubble("user", message);
  const reply = bubble("assistant", "");
  try {
    const response = await api.call("/chat/stream", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(sessionId ? { message, session_id: sessionId } : { message }),
    });
    for await (const event of api.events(response)) {
      const data = JSON.parse(event.data);
      if (event.event === "token") reply.textContent += data.text;
      else if (event.event === "citations") cite(reply, data.citations);
      else if (event.event === "done") sessionId = data.session_id;
      else if (event.event === "error") reply.textContent = data.message;
    }
  } catch (error) {
    reply.textContent = error.message;
    reply.classList.add("error");
  }
}

export function openChat() {
  $("#chat").classList.toggle("hidden");
  $("#chat-input").focus();
}

export function resetChat() {
  sessionId = null;
  $("#chat-log").replaceChildren();
}

$("#chat-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const message = $("#chat-input").value.trim();
  if (!message) return;
  $("#chat-input").value = "";
  send(message);
});
