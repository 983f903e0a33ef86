// Feedback beside the answer it is about (loaded with the question counter's js_on_load).
// Gradio draws the comment box (#qa-comment-row) once, in the page's flow, hidden; a vote opens
// it (class qa-comment-open) and it is moved under the message voted on, and back to its place
// once put away or if the chat is redrawn without it. Error messages get no thumbs
// (style.css), and a refusal's thumbs say what they mean.
if (!window.__qaFeedbackWired) {
  window.__qaFeedbackWired = true;
  const THUMBS = "#qa-chat .message-row button[aria-label], #qa-chat .message-row button[title]";
  const REFUSAL_LABELS = {
    Like: "Rightly not answered",
    Dislike: "This should have been answered",
  };
  let voted = null; // the message row of the latest vote
  let box = null; // the comment box, and the marker of its own place
  let home = null;
  let focused = false;

  document.addEventListener(
    "click",
    (event) => {
      const target = event.target instanceof Element ? event.target : null;
      const button = target ? target.closest(THUMBS) : null;
      if (button && button.dataset.qaVote) {
        voted = button.closest(".message-row");
        focused = false;
      }
    },
    true,
  );

  const label = () => {
    document.querySelectorAll(THUMBS).forEach((button) => {
      const kind = button.dataset.qaVote || button.getAttribute("title");
      if (kind !== "Like" && kind !== "Dislike") return;
      button.dataset.qaVote = kind;
      const refusal = button.closest(".message-row")?.querySelector(".qa-refusal");
      const wanted = refusal ? REFUSAL_LABELS[kind] : kind;
      if (button.getAttribute("aria-label") !== wanted) button.setAttribute("aria-label", wanted);
      if (button.getAttribute("title") !== wanted) button.setAttribute("title", wanted);
    });
  };

  const place = () => {
    if (!box) {
      box = document.querySelector("#qa-comment-row");
      if (!box) return;
      home = document.createElement("span");
      home.hidden = true;
      box.before(home);
    }
    const open = box.classList.contains("qa-comment-open");
    if (open && voted && voted.isConnected) {
      if (voted.nextElementSibling !== box) voted.after(box);
      const text = box.querySelector("textarea");
      if (text && !focused) {
        focused = true;
        text.focus({ preventScroll: true });
        box.scrollIntoView({ block: "nearest" });
      }
    } else if (home.nextElementSibling !== box) {
      home.after(box);
    }
  };

  new MutationObserver(() => {
    label();
    place();
  }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["class"] });
  label();
  place();
}
