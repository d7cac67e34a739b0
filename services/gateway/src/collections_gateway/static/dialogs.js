// In-page dialogs on <dialog>, instead of the browser's blocking alert/confirm/prompt. Each is
// modal (focus stays inside, Escape cancels), labelled by its title and described by its
// message, returns focus to where it was, and resolves when it closes.
import { text } from "./dom.js";

let opened = 0;

function actionButton(label, className) {
  const element = text("button", label, className);
  element.type = "button";
  return element;
}

function build({ title, message, confirm, cancel, danger, field }) {
  const id = `dialog-${++opened}`;
  const dialog = document.createElement("dialog");
  dialog.className = "dialog";
  dialog.setAttribute("aria-labelledby", `${id}-title`);
  const form = document.createElement("form");
  form.method = "dialog";
  const heading = text("h2", title);
  heading.id = `${id}-title`;
  form.append(heading);
  if (message) {
    const body = text("p", message);
    body.id = `${id}-message`;
    dialog.setAttribute("aria-describedby", body.id);
    form.append(body);
  }
  if (field) form.append(field.label);
  const row = text("div", "", "actions");
  // Only the confirm button submits, so Enter in a field confirms and never cancels.
  const ok = text("button", confirm, danger ? "danger" : "");
  ok.type = "submit";
  ok.value = "ok";
  if (cancel) {
    const no = actionButton(cancel, "secondary");
    no.addEventListener("click", () => dialog.close("cancel"));
    row.append(no);
    (field ? field.input : danger ? no : ok).autofocus = true;
  } else {
    ok.autofocus = true;
  }
  row.append(ok);
  form.append(row);
  dialog.append(form);
  return dialog;
}

function run(options) {
  const returnTo = document.activeElement;
  const dialog = build(options);
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (returnTo instanceof HTMLElement && returnTo.isConnected) returnTo.focus();
      resolve(dialog.returnValue === "ok");
    });
    dialog.showModal();
  });
}

/** Resolves to true if the user confirms, false on cancel or Escape. */
export function confirmDialog({ title, message = "", confirm = "OK", cancel = "Cancel", danger = false }) {
  return run({ title, message, confirm, cancel, danger });
}

/** Resolves to the text entered, or null on cancel or Escape. */
export async function promptDialog({ title, message = "", label, value = "", confirm = "OK", maxLength = 200 }) {
  const input = document.createElement("input");
  input.value = value;
  input.maxLength = maxLength;
  input.required = true;
  const wrapper = text("label", label, "field");
  wrapper.append(input);
  const ok = await run({ title, message, confirm, cancel: "Cancel", field: { label: wrapper, input } });
  return ok ? input.value.trim() : null;
}

export async function alertDialog({ title, message = "", confirm = "OK" }) {
  await run({ title, message, confirm });
}

/**
 * A dialog around `body` (labelled controls the caller reads afterwards); resolves to true on
 * confirm. `focus` is the control that has focus first; without `cancel` only confirm closes it.
 */
export function formDialog({ title, message = "", body, focus, confirm = "OK", cancel = "Cancel" }) {
  return run({ title, message, confirm, cancel, field: { label: body, input: focus } });
}
