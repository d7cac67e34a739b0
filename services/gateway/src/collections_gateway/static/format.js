// How items read on screen, shared by the grid, the detail panel and chat.

export function caption(item) {
  return item.summary || item.analysis?.analysis?.summary || item.filename || "";
}

export function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

export function failureText(failure) {
  return `${failure.stage} failed: ${failure.message} (${failure.code})`;
}

const MONTH = new Intl.DateTimeFormat(undefined, { month: "long", year: "numeric", timeZone: "UTC" });

/** The month (UTC, as the timeline counts) an item was taken in, else uploaded in. */
export function monthOf(item) {
  const when = Date.parse(item.taken_at || item.created_at);
  return Number.isFinite(when) ? MONTH.format(when) : "Undated";
}
