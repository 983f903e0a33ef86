// Runs when the conversations sidebar mounts (Gradio gr.HTML js_on_load). On a phone the
// sidebar would cover the whole chat: there it starts closed, and closes again once a
// conversation is picked or a new chat started (its arrow, top left, opens it).
if (!window.__qaHistoryWired) {
  window.__qaHistoryWired = true;
  const narrow = () => window.matchMedia("(max-width: 768px)").matches;
  const close = () => {
    const toggle = document.querySelector("#qa-history.open > .toggle-button");
    if (toggle) toggle.click();
  };
  if (narrow()) close();

  // Below this width the chat between two open sidebars would be a narrow strip: opening the
  // source panel closes the conversations (their arrow brings them back).
  const CROWDED = 1400;
  const watchPanel = (tries) => {
    const panel = document.querySelector("#qa-sidebar");
    if (!panel) {
      if (tries > 0) requestAnimationFrame(() => watchPanel(tries - 1));
      return;
    }
    let wasOpen = panel.classList.contains("open");
    new MutationObserver(() => {
      const open = panel.classList.contains("open");
      if (open && !wasOpen && window.innerWidth < CROWDED) close();
      wasOpen = open;
    }).observe(panel, { attributes: true, attributeFilter: ["class"] });
  };
  watchPanel(600);

  // A delete's confirmation and its undo note sit under the list: with a few conversations on
  // a laptop's screen they appeared below the fold. Each is brought into view when it appears.
  const APPEARING = ["#qa-confirm-row", "#qa-undo-row"];
  const shown = new Set();
  new MutationObserver(() => {
    for (const selector of APPEARING) {
      const row = document.querySelector(selector);
      const visible = row !== null && row.offsetParent !== null;
      if (visible && !shown.has(selector)) row.scrollIntoView({ block: "nearest" });
      if (visible) shown.add(selector);
      else shown.delete(selector);
    }
  }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ["class", "style"] });
  document.addEventListener(
    "click",
    (event) => {
      const target = event.target instanceof Element ? event.target : null;
      if (narrow() && target && target.closest("#qa-conversations label, #qa-new-chat")) {
        requestAnimationFrame(close); // after the click reached the list
      }
    },
    true,
  );
}
