// The analysis in the item panel: the schema v2 fields, a notice when a fallback provider made
// it (and why), the owner's corrections (PATCH /items/{id}/analysis) and the version history
// with what each version changed and a restore. Added through `addDetailSection`.
import * as api from "./api.js";
import { addDetailSection } from "./detail.js";
import { button, text } from "./dom.js";
import { handle, notify, reportError } from "./notices.js";
import { store } from "./state.js";

// Editable fields: [name, label, kind]. Lists are edited as comma-separated text.
const EDITABLE = [
  ["headline", "Headline", "line"],
  ["summary", "Summary", "line"],
  ["category", "Category", "category"],
  ["tags", "Tags", "list"],
  ["places", "Places", "list"],
  ["poster", "Posted by", "line"],
  ["accounts", "Accounts", "list"],
  ["hashtags", "Hashtags", "list"],
  ["text", "Text in image", "area"],
];
const CATEGORIES = [
  "people", "animals", "food", "nature", "landscape", "city", "architecture", "interior",
  "vehicles", "sports", "events", "art", "documents", "screenshots", "objects", "other",
];
const SHOWN = [
  ["headline", "Headline"], ["subcategories", "Kind"], ["places", "Places"],
  ["poster", "Posted by"], ["accounts", "Accounts"], ["hashtags", "Hashtags"],
  ["audio", "Audio"], ["themes", "Themes"], ["vibes", "Vibes"], ["emotions", "Emotions"],
  ["key_interest", "Key point"], ["likely_source", "Source"],
];

function row(list, label, value) {
  if (value == null || value === "" || (Array.isArray(value) && !value.length)) return;
  list.append(text("dt", label), text("dd", Array.isArray(value) ? value.join(", ") : String(value)));
}

function fallbackNotice(version) {
  if (!version.fallback?.length) return null;
  const reasons = version.fallback.map((failure) => `${failure.provider}: ${failure.code}`).join("; ");
  const notice = text("p", `Analyzed by ${version.provider} because a provider before it failed (${reasons}).`, "error fallback");
  notice.setAttribute("role", "note");
  return notice;
}

function screenshotFields(analysis) {
  const list = document.createElement("dl");
  for (const [name, label] of SHOWN) row(list, label, analysis[name]);
  return list.childElementCount ? list : null;
}

function input(name, label, kind, value) {
  const id = `edit-${name}`;
  const wrapper = text("div", "", "edit-field");
  const caption = text("label", label);
  caption.htmlFor = id;
  let control;
  if (kind === "category") {
    control = document.createElement("select");
    for (const category of CATEGORIES) {
      const option = text("option", category);
      option.value = category;
      control.append(option);
    }
  } else if (kind === "area") {
    control = document.createElement("textarea");
    control.rows = 3;
  } else {
    control = document.createElement("input");
    control.type = "text";
  }
  control.id = id;
  control.name = name;
  control.value = Array.isArray(value) ? value.join(", ") : (value ?? "");
  wrapper.append(caption, control);
  return wrapper;
}

// Only the fields the owner changed are sent, so the others stay the model's.
function changes(form, analysis) {
  const patch = {};
  for (const [name, , kind] of EDITABLE) {
    const control = form.elements.namedItem(name);
    if (!control) continue;
    const value = control.value;
    const before = analysis[name];
    if (kind === "list") {
      const list = value.split(",").map((term) => term.trim()).filter(Boolean);
      if (list.join(",") !== (before ?? []).join(",")) patch[name] = list;
    } else if (value !== (before ?? "")) {
      patch[name] = value;
    }
  }
  return patch;
}

function editor(item) {
  const analysis = item.analysis.analysis;
  const form = document.createElement("form");
  form.className = "analysis-edit";
  form.append(...EDITABLE.map(([name, label, kind]) => input(name, label, kind, analysis[name])));
  const save = text("button", "Save corrections");
  save.type = "submit";
  form.append(save);
  form.addEventListener("submit", handle(async (event) => {
    event.preventDefault();
    const patch = changes(form, analysis);
    if (!Object.keys(patch).length) {
      notify("Nothing changed.");
      return;
    }
    save.disabled = true;
    try {
      const version = await api.send("PATCH", `/items/${item.id}/analysis`, patch);
      notify(`Saved as version ${version.version}; it is searchable again in a moment.`);
    } finally {
      save.disabled = false;
    }
    store.emit("open-item", item.id);
  }));
  const details = document.createElement("details");
  details.append(text("summary", "Correct the analysis"), form);
  return details;
}

function versionRow(item, version, current) {
  const entry = document.createElement("li");
  const changed = version.changed?.length ? ` — changed ${version.changed.join(", ")}` : "";
  const restored = version.restored_from ? ` (restores v${version.restored_from})` : "";
  const when = new Date(version.created_at).toLocaleString();
  entry.append(text("span", `v${version.version} · ${version.provider} · ${when}${restored}${changed}`));
  if (version.version !== current) {
    entry.append(button("restore", handle(async () => {
      await api.post(`/items/${item.id}/analyses/${version.version}/restore`);
      notify(`Version ${version.version} is current again.`);
      store.emit("open-item", item.id);
    }), "link"));
  }
  return entry;
}

function history(item) {
  const details = document.createElement("details");
  const list = document.createElement("ol");
  list.className = "versions";
  details.append(text("summary", "Versions"), list);
  details.addEventListener("toggle", () => {
    if (!details.open) return;
    api.json(`/items/${item.id}/analyses`)
      .then((body) => {
        list.replaceChildren(...body.analyses.map((version) => versionRow(item, version, item.analysis.version)));
      })
      .catch(reportError);
  });
  if (item.analysis.user_fields?.length) {
    details.append(button("Analyze again, replacing my corrections", handle(async () => {
      await api.call(`/items/${item.id}/analyze?replace_user_fields=true`, { method: "POST" });
      notify("A new analysis was requested; your corrections will be replaced.");
    }), "link"));
  }
  return details;
}

function section(item) {
  if (!item.analysis) return null;
  const part = text("section", "", "analysis");
  const notice = fallbackNotice(item.analysis);
  if (notice) part.append(notice);
  const fields = screenshotFields(item.analysis.analysis);
  if (fields) part.append(fields);
  if (item.analysis.user_fields?.length) {
    part.append(text("p", `Corrected by you: ${item.analysis.user_fields.join(", ")}`, "muted small"));
  }
  part.append(editor(item), history(item));
  return part;
}

export function setupAnalysis() {
  addDetailSection(section);
}
