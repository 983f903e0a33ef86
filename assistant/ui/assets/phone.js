// On a phone the chat is part of the page, which scrolls as one (style.css): the chatbot no
// longer scrolls itself to its end. Instead each new question is brought to the top of the
// screen and kept there while its answer is written below it, until the reader scrolls, taps
// or types. Wider screens keep Gradio's own scrolling.
if (!window.__qaPhoneWired) {
  window.__qaPhoneWired = true;
  const narrow = window.matchMedia("(max-width: 640px)");
  let asked = 0;
  let pinned = -1; // the question kept at the top, by position
  for (const name of ["wheel", "touchmove", "keydown", "pointerdown"]) {
    window.addEventListener(name, () => (pinned = -1), { passive: true, capture: true });
  }
  new MutationObserver(() => {
    const questions = document.querySelectorAll("#qa-chat [data-testid=user]");
    if (questions.length > asked) pinned = questions.length - 1;
    asked = questions.length;
    if (pinned >= 0 && narrow.matches && questions[pinned]) {
      questions[pinned].scrollIntoView({ block: "start" });
    }
  }).observe(document.body, { subtree: true, childList: true });
}
