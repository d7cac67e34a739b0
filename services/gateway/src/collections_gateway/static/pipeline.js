// The status view: the caller's items by status, what is in progress at which stage, what
// failed and why, with a retry. Backed by GET /items/summary; refreshed on each /events change.
// Every value from the API is rendered with textContent, never as HTML.
import * as api from "/static/api.js";

const $ = (selector) => document.querySelector(selector);
const STAGES = { upload: "waiting for the upload", ingest: "checking the file", analyze: "analyzing", embed: "indexing" };
let pending = null;

function text(tag, value, className) {
  const element = document.createElement(tag);
  element.textContent = value ?? "";
  if (className) element.className = className;
  return element;
}

function since(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

function counts(summary) {
  const row = text("div", "", "counts");
  for (const [status, n] of Object.entries(summary.by_status)) {
    const cell = text("span", `${status} ${n}`, `badge ${status}`);
    row.append(cell);
  }
  return row;
}

function progressRow(item) {
  const row = text("li", "");
  row.append(text("span", item.filename || item.id, "name"));
  row.append(text("span", `${STAGES[item.stage] || item.stage} · ${since(item.since)}`, "muted small"));
  return row;
}

function failedRow(item) {
  const row = text("li", "");
  row.append(text("span", item.filename || item.id, "name"));
  const reason = item.failure ? `${item.failure.stage}: ${item.failure.message} (${item.failure.code})` : "";
  row.append(text("span", reason, "error small"));
  const retry = text("button", "Retry");
  retry.type = "button";
  retry.addEventListener("click", async () => {
    retry.disabled = true;
    try {
      await api.call(`/items/${item.id}/reprocess`, { method: "POST" });
      await refresh();
    } catch (error) {
      retry.disabled = false;
      row.append(text("span", error.message, "error small"));
    }
  });
  row.append(retry);
  return row;
}

function section(title, items, render, empty) {
  const box = text("section", "");
  box.append(text("h3", `${title} (${items.length})`));
  if (!items.length) box.append(text("p", empty, "muted small"));
  const list = text("ul", "", "pipeline-list");
  for (const item of items) list.append(render(item));
  box.append(list);
  return box;
}

function render(summary) {
  const body = $("#pipeline-body");
  body.replaceChildren(
    text("p", `${summary.total} item(s)`, "muted"),
    counts(summary),
    section("In progress", summary.in_progress, progressRow, "nothing is being processed"),
    section("Failed", summary.failed, failedRow, "nothing failed"),
  );
}

async function refresh() {
  try {
    render(await api.json("/items/summary"));
  } catch (error) {
    $("#pipeline-body").replaceChildren(text("p", error.message, "error"));
  }
}

function visible() {
  return !$("#pipeline").classList.contains("hidden");
}

// Called for every status change from /events: refresh at most twice a second while open.
export function statusChanged() {
  if (!visible() || pending) return;
  pending = setTimeout(() => {
    pending = null;
    refresh();
  }, 500);
}

export function setupPipeline() {
  $("#pipeline-toggle").addEventListener("click", () => {
    $("#pipeline").classList.toggle("hidden");
    if (visible()) refresh();
  });
  $("#pipeline-close").addEventListener("click", () => $("#pipeline").classList.add("hidden"));
}
