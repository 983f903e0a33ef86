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
    // The counter sits under the box, below the fold on a laptop's screen: a message that
    // holds a question back is brought into view.
    if ((over || blankTried) && out.getBoundingClientRect().bottom > window.innerHeight) {
      out.scrollIntoView({ block: "nearest" });
    }
  };

  // Control characters, bidi overrides and other invisible marks (as text.clean_lines removes
  // them from every question on the server) go before the question is sent, so that the chat
  // shows it as it will be read, not reversed or with a bell in it. Line breaks and tabs stay.
  const HIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
  // Half of a character (a lone surrogate: no keyboard types one): the server's reply that
  // echoes it could not be encoded (HTTP 500).
  const LONE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
  const scrub = (box) => {
    const clean = box.value.replace(HIDDEN, "").replace(LONE, "");
    if (clean === box.value) return;
    box.value = clean;
    box.dispatchEvent(new Event("input", { bubbles: true })); // Gradio reads the new value
  };

  // Whether the question may be sent; if not, say why. A question on its way leaves the box
  // (Gradio empties it), so the counter is cleared with it.
  const sendable = (box) => {
    scrub(box);
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
  // While an answer comes, Gradio disables the box, and the browser drops its focus on the
  // page: the next question typed went nowhere. When the box is enabled again and nothing else
  // took the focus meanwhile (a citation opened, a link followed), it gets the focus back. Not
  // on a touch screen, where a focused box opens the keyboard over the answer.
  const touch = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
  let asking = false;
  new MutationObserver((changes) => {
    for (const change of changes) {
      const box = change.target;
      if (!(box instanceof HTMLTextAreaElement) || !box.matches(BOX)) continue;
      if (box.disabled) {
        asking = asking || lost(); // sent from the box or its buttons
      } else if (asking) {
        asking = false;
        if (!touch && lost()) box.focus({ preventScroll: true });
      }
    }
  }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ["disabled"] });
  // Whether the focus is nowhere, or still in the question's own box or buttons.
  function lost() {
    const active = document.activeElement;
    if (active === null || active === document.body) return true;
    return active instanceof HTMLElement && active.matches(`${BOX}, #qa-question button`);
  }
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
