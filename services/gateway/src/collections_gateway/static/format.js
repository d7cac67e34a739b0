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
