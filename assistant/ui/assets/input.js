// Runs when the question counter mounts (Gradio gr.HTML js_on_load: `element`, `props`). The
// question box has no maxlength (a browser would cut a pasted question without a word), so
// the limit is said here: a counter from 80 % of `props.limit` on, a message when over it, and
// a question that is blank or over the limit is not sent (Enter and "Ask" are held back).
if (!window.__qaInputWired) {
  window.__qaInputWired = true;
  const limit = Number(props.limit) || 2000;
  const BOX = "#qa-question textarea";
  const counter = () => document.querySelector("#qa-counter .qa-counter");
  const format = (n) => n.toLocaleString("en-US");

  const show = (box, blankTried) => {
    const out = counter();
    if (!out || !box) return;
    const length = box.value.length;
    const over = length > limit;
    box.setAttribute("aria-invalid", over ? "true" : "false");
    out.classList.toggle("qa-over", over);
    if (over) {
      out.textContent =
        `Too long: ${format(length)} of ${format(limit)} characters. ` +
        `Shorten the question by ${format(length - limit)} to send it.`;
    } else if (blankTried) {
      out.textContent = "Type a question first.";
    } else if (length >= limit * 0.8) {
      out.textContent = `${format(length)} of ${format(limit)} characters`;
    } else {
      out.textContent = "";
    }
  };

  // Whether the question may be sent; if not, say why. A question on its way leaves the box
  // (Gradio empties it), so the counter is cleared with it.
  const sendable = (box) => {
    const blank = !box.value.trim();
    const over = box.value.length > limit;
    show(box, blank);
    if (!blank && !over && counter()) counter().textContent = "";
    return !blank && !over;
  };

  document.addEventListener(
    "input",
    (event) => {
      const box = event.target instanceof Element ? event.target.closest(BOX) : null;
      if (box) show(box, false);
    },
    true,
  );
  // Capturing listeners on the document run before the text box's own: a held-back question
  // never reaches Gradio.
  document.addEventListener(
    "keydown",
    (event) => {
      const box = event.target instanceof Element ? event.target.closest(BOX) : null;
      if (!box || event.key !== "Enter" || event.shiftKey || event.isComposing) return;
      if (!sendable(box)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true,
  );
  document.addEventListener(
    "click",
    (event) => {
      const target = event.target instanceof Element ? event.target : null;
      const button = target ? target.closest("#qa-question .submit-button") : null;
      const box = document.querySelector(BOX);
      if (button && box && !sendable(box)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true,
  );
}
