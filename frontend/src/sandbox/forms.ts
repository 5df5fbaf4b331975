// The frame is sandboxed without `allow-forms`, so a browser never submits a form there and never
// even fires "submit": a form could otherwise navigate the frame with a POST. Components still
// use `<form onSubmit>` (with preventDefault), so the runtime fires "submit" itself on the same
// gestures (a submit button's click, Enter in a field), without any navigation ever.

function fire(form: HTMLFormElement, submitter: HTMLElement | null): void {
  if (!form.noValidate && !form.reportValidity()) return;
  form.dispatchEvent(new SubmitEvent("submit", { bubbles: true, cancelable: true, submitter }));
}

const NO_IMPLICIT = new Set(["button", "checkbox", "radio", "file", "reset", "submit", "image", "color", "range", "hidden"]);

export function installFormSubmission(doc: Document): void {
  doc.addEventListener("click", (event) => {
    if (event.defaultPrevented || !(event.target instanceof Element)) return;
    const button = event.target.closest("button, input[type=submit], input[type=image]");
    if (!(button instanceof HTMLButtonElement || button instanceof HTMLInputElement)) return;
    if (button.type !== "submit" && button.type !== "image") return;
    if (!button.form || button.disabled) return;
    event.preventDefault();
    fire(button.form, button);
  });
  doc.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.defaultPrevented || event.isComposing) return;
    const field = event.target;
    if (!(field instanceof HTMLInputElement) || !field.form || NO_IMPLICIT.has(field.type)) return;
    event.preventDefault();
    const submitter = field.form.querySelector<HTMLElement>("button:not([type]), button[type=submit], input[type=submit]");
    if (submitter && (submitter as HTMLButtonElement).disabled) return;
    fire(field.form, submitter);
  });
}
