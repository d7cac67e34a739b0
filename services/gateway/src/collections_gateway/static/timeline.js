// The timeline: the order switch (newest uploads, or by date taken with a heading per month)
// and the date scrubber, one button per month with its count (GET /items/timeline), which
// jumps the grid to that month (`to` = the next month's start, newest first from there).
import * as api from "./api.js";
import { browse, browseParams, browsing } from "./browse.js";
import { $, button, show, text } from "./dom.js";
import { plural } from "./format.js";
import { reportError } from "./notices.js";
import { store } from "./state.js";

const MONTH = new Intl.DateTimeFormat(undefined, { month: "short", timeZone: "UTC" });
let drawn = 0;

function nextMonth(starts) {
  const date = new Date(starts);
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1)).toISOString();
}

function monthButton(month, current) {
  const label = `${MONTH.format(new Date(month.starts))} (${month.count})`;
  const jump = button(label, () => browse({ before: nextMonth(month.starts) }), "month");
  jump.setAttribute("aria-label", `${month.month}: ${plural(month.count, "item")}`);
  if (current) jump.setAttribute("aria-current", "true");
  return jump;
}

function years(months, before) {
  const groups = new Map();
  for (const month of months) {
    const year = month.month.slice(0, 4);
    if (!groups.has(year)) groups.set(year, []);
    groups.get(year).push(month);
  }
  return [...groups].map(([year, list]) => {
    const group = text("div", "", "year");
    group.append(text("span", year, "year-label"));
    for (const month of list) group.append(monthButton(month, before === nextMonth(month.starts)));
    return group;
  });
}

async function drawScrubber() {
  const ticket = ++drawn;
  const view = browsing();
  const scrubber = $("#scrubber");
  if (view.sort !== "taken" || !store.get("user")) {
    show(scrubber, false);
    return;
  }
  const timeline = await api.json(`/items/timeline?${browseParams(view)}`);
  if (ticket !== drawn) return;
  const newest = button("Newest", () => browse({ before: null }), "month");
  if (!view.before) newest.setAttribute("aria-current", "true");
  scrubber.replaceChildren(newest, ...years(timeline.months, view.before));
  show(scrubber, timeline.months.length > 0);
}

export function setupTimeline() {
  const sort = /** @type {HTMLSelectElement} */ ($("#sort"));
  sort.addEventListener("change", () => browse({ sort: sort.value === "taken" ? "taken" : "uploaded" }));
  store.on("browse", (view) => {
    sort.value = view.sort;
    drawScrubber().catch(reportError);
  });
  store.on("user", (user) => {
    if (!user) show($("#scrubber"), false);
  });
}
