// The Collections web UI: sign in, upload, browse with live status, search, details, chat.
// Every value from the API is rendered with textContent, never as HTML.
import * as api from "/static/api.js";
import { openChat, resetChat } from "/static/chat.js";
import { setupPipeline, statusChanged } from "/static/pipeline.js";
import { loadPreferences, setupPreferences } from "/static/preferences.js";

const $ = (selector) => document.querySelector(selector);
const state = { cursor: null, searching: false, tiles: new Map(), signup: false, feed: null };

function show(element, visible) {
  element.classList.toggle("hidden", !visible);
}

function text(tag, value, className) {
  const element = document.createElement(tag);
  element.textContent = value ?? "";
  if (className) element.className = className;
  return element;
}

// --- auth ----------------------------------------------------------------------------------

function renderAuth() {
  const signedIn = Boolean(api.session()?.access);
  show($("#auth"), !signedIn);
  for (const id of ["#library", "#search-form", "#account"]) show($(id), signedIn);
  if (!signedIn) return;
  $("#who").textContent = api.session()?.email || "";
  loadItems(true);
  loadPreferences();
  follow();
}

function setupAuth() {
  $("#auth-switch").addEventListener("click", () => {
    state.signup = !state.signup;
    $("#auth-title").textContent = state.signup ? "Create an account" : "Log in";
    $("#auth-submit").textContent = state.signup ? "Sign up" : "Log in";
    $("#auth-switch").textContent = state.signup ? "Log in" : "Sign up";
  });
  $("#auth-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("#auth-error").textContent = "";
    const email = $("#auth-email").value.trim();
    const password = $("#auth-password").value;
    try {
      await (state.signup ? api.signup(email, password) : api.login(email, password));
      renderAuth();
    } catch (error) {
      $("#auth-error").textContent = error.message;
    }
  });
  $("#logout").addEventListener("click", async () => {
    try {
      await api.call("/auth/logout", { method: "POST" });
    } catch {
      /* signed out locally either way */
    }
    api.forget();
    state.feed?.abort();
    location.reload();
  });
}

// --- grid ------------------------------------------------------------------------------------

function tile(item, score) {
  const node = $("#tile").content.firstElementChild.cloneNode(true);
  node.dataset.id = item.id;
  updateTile(node, item, score);
  node.addEventListener("click", () => openDetail(item.id));
  return node;
}

function updateTile(node, item, score) {
  const image = node.querySelector("img");
  if (item.thumbnail_url) image.src = item.thumbnail_url;
  image.alt = item.summary || item.filename || "";
  const badge = node.querySelector(".badge");
  badge.textContent = score != null ? score.toFixed(2) : item.status;
  badge.className = `badge ${score != null ? "score" : item.status}`;
  node.querySelector(".caption").textContent = item.summary || item.filename || "";
  node.title = item.failure ? `${item.failure.code}: ${item.failure.message}` : item.filename || "";
}

async function loadItems(reset) {
  if (reset) {
    state.cursor = null;
    state.tiles.clear();
    $("#grid").replaceChildren();
    show($("#answer"), false);
    state.searching = false;
  }
  const params = new URLSearchParams({ limit: "48" });
  if (state.cursor) params.set("cursor", state.cursor);
  const status = $("#status-filter").value;
  if (status) params.set("status", status);
  const page = await api.json(`/items?${params}`);
  for (const item of page.items) {
    const node = tile(item);
    state.tiles.set(item.id, node);
    $("#grid").append(node);
  }
  state.cursor = page.next_cursor;
  show($("#more"), Boolean(state.cursor));
  $("#summary").textContent = `${state.tiles.size} item(s)${state.cursor ? "+" : ""}`;
}

// Live status: GET /events over fetch (it needs the Authorization header).
async function follow() {
  state.feed?.abort();
  state.feed = new AbortController();
  try {
    const response = await api.call("/events", { signal: state.feed.signal });
    for await (const message of api.events(response)) {
      if (message.event !== "status") continue;
      const change = JSON.parse(message.data);
      statusChanged();
      const node = state.tiles.get(change.item_id);
      if (node && !state.searching) updateTile(node, await api.json(`/items/${change.item_id}`));
    }
  } catch (error) {
    if (error.name !== "AbortError") setTimeout(follow, 3000);
  }
}

// --- uploads ---------------------------------------------------------------------------------

function setupUploads() {
  const drop = $("#drop");
  const send = (files) => [...files].forEach(uploadOne);
  $("#file-input").addEventListener("change", (event) => send(event.target.files));
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    send(event.dataTransfer.files);
  });
}

async function uploadOne(file) {
  const row = text("li", `${file.name}: 0%`);
  $("#uploads").prepend(row);
  try {
    const item = await api.upload(file, (fraction) => {
      row.textContent = `${file.name}: ${Math.round(fraction * 100)}%`;
    });
    row.textContent = `${file.name}: uploaded, processing…`;
    if (!state.tiles.has(item.id)) {
      const node = tile(item);
      state.tiles.set(item.id, node);
      $("#grid").prepend(node);
    }
    setTimeout(() => row.remove(), 4000);
  } catch (error) {
    row.textContent = `${file.name}: ${error.message}`;
    row.className = "error";
  }
}

// --- search ----------------------------------------------------------------------------------

function setupSearch() {
  $("#search-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const query = $("#search-query").value.trim();
    if (!query) return loadItems(true);
    const mode = $("#search-mode").value;
    try {
      const found = await api.post("/search", { query, mode, limit: 48, answer: mode === "agentic" });
      state.searching = true;
      state.tiles.clear();
      $("#grid").replaceChildren(...found.results.map((result) => tile(result.item, result.score)));
      show($("#more"), false);
      $("#summary").textContent = `${found.results.length} result(s) in ${Math.round(found.took_ms)} ms`;
      const answer = $("#answer");
      answer.replaceChildren();
      if (found.answer) answer.append(text("p", found.answer));
      if (found.plan?.steps?.length) answer.append(text("p", found.plan.steps.join(" · "), "muted small"));
      show(answer, Boolean(found.answer || found.plan));
    } catch (error) {
      $("#summary").textContent = error.message;
    }
  });
  $("#search-clear").addEventListener("click", () => {
    $("#search-query").value = "";
    loadItems(true);
  });
  $("#status-filter").addEventListener("change", () => loadItems(true));
  $("#more").addEventListener("click", () => loadItems(false));
}

// --- detail ----------------------------------------------------------------------------------

function field(list, label, value) {
  if (value == null || value === "" || (Array.isArray(value) && !value.length)) return;
  list.append(text("dt", label), text("dd", Array.isArray(value) ? value.join(", ") : String(value)));
}

export async function openDetail(id) {
  const panel = $("#detail");
  const item = await api.json(`/items/${id}`);
  const analysis = item.analysis?.analysis;
  panel.replaceChildren();
  const head = document.createElement("div");
  head.className = "panel-head";
  head.append(text("h2", item.filename));
  const close = text("button", "close", "link");
  close.addEventListener("click", () => show(panel, false));
  head.append(close);
  panel.append(head);
  if (item.preview_url) {
    const image = document.createElement("img");
    image.src = item.preview_url;
    image.alt = analysis?.summary || item.filename;
    image.className = "preview";
    panel.append(image);
  }
  if (item.failure) panel.append(text("p", `${item.failure.stage} failed: ${item.failure.message} (${item.failure.code})`, "error"));
  const facts = document.createElement("dl");
  field(facts, "Status", item.status);
  field(facts, "Summary", analysis?.summary);
  field(facts, "Description", analysis?.description);
  field(facts, "Category", analysis?.category);
  field(facts, "Tags", analysis?.tags);
  field(facts, "Objects", analysis?.objects);
  field(facts, "Text in image", analysis?.text);
  field(facts, "Colours", analysis?.colors);
  field(facts, "Setting", analysis?.setting);
  field(facts, "Taken", item.exif?.taken_at);
  field(facts, "Camera", [item.exif?.camera_make, item.exif?.camera_model].filter(Boolean).join(" "));
  if (item.exif?.gps_latitude != null) {
    field(facts, "Location", `${item.exif.gps_latitude.toFixed(5)}, ${item.exif.gps_longitude.toFixed(5)}`);
  }
  field(facts, "Size", item.width ? `${item.width}×${item.height}` : null);
  if (item.analysis) field(facts, "Analysis", `v${item.analysis.version} · ${item.analysis.provider} · ${item.analysis.model}`);
  panel.append(facts);
  panel.append(actions(item));
  show(panel, true);
}

function actions(item) {
  const row = document.createElement("div");
  row.className = "actions";
  const button = (label, handler) => {
    const element = text("button", label);
    element.addEventListener("click", async () => {
      try {
        await handler();
      } catch (error) {
        alert(error.message);
      }
    });
    row.append(element);
  };
  button("Analyze again", async () => {
    await api.call(`/items/${item.id}/analyze`, { method: "POST" });
    openDetail(item.id);
  });
  button("Reprocess", async () => {
    await api.call(`/items/${item.id}/reprocess`, { method: "POST" });
    openDetail(item.id);
  });
  if (item.original_url) {
    const link = text("a", "Download original");
    link.href = item.original_url;
    link.rel = "noopener noreferrer";
    row.append(link);
  }
  button("Delete", async () => {
    if (!confirm("Delete this image and its analyses?")) return;
    await api.call(`/items/${item.id}`, { method: "DELETE" });
    state.tiles.get(item.id)?.remove();
    state.tiles.delete(item.id);
    show($("#detail"), false);
  });
  return row;
}

// --- start -----------------------------------------------------------------------------------

setupAuth();
setupUploads();
setupSearch();
setupPreferences();
setupPipeline();
$("#chat-toggle").addEventListener("click", () => openChat());
$("#chat-new").addEventListener("click", () => resetChat());
renderAuth();
