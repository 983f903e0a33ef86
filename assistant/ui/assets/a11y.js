// Accessibility fixes on top of Gradio's page (loaded with the question counter's js_on_load):
// chat messages labelled with their plain text (Gradio puts the message's raw HTML in its
// aria-label), the two sidebar arrows named for what they open, the example questions a group
// of buttons (not a list without items), each radio list one group (Gradio names its options
// apart), citations named for what they open, a text box with a send button named by its
// label alone, and Esc closing the source panel.
if (!window.__qaA11yWired) {
  window.__qaA11yWired = true;
  const LABEL_CHARS = 400;
  const ROLES = { user: "Question", bot: "Answer" };

  const plain = (element) => {
    const clone = element.cloneNode(true);
    clone.querySelectorAll(".qa-sources, .qa-actions, .qa-flag, [aria-hidden=true]").forEach((e) => e.remove());
    clone.querySelectorAll("br, p, li, h4, pre, div").forEach((e) => e.after(" "));
    const text = clone.textContent.replace(/\s+/g, " ").trim();
    return text.length > LABEL_CHARS ? text.slice(0, LABEL_CHARS - 1) + "…" : text;
  };

  const setAttribute = (element, name, value) => {
    if (element.getAttribute(name) !== value) element.setAttribute(name, value);
  };

  const fix = () => {
    document.querySelectorAll("#qa-chat [data-testid=user], #qa-chat [data-testid=bot]").forEach((message) => {
      const content = message.querySelector(".message-content") || message;
      const kind = message.getAttribute("data-testid");
      const refusal = content.querySelector(".qa-refusal") ? " (not found in the documents)" : "";
      const error = content.querySelector(".qa-error") ? "Error" : ROLES[kind];
      setAttribute(message, "aria-label", `${error}${refusal}: ${plain(content)}`);
    });
    const arrows = [
      ["#qa-history > .toggle-button", "Conversations"],
      ["#qa-sidebar > .toggle-button", "Source panel"],
    ];
    for (const [selector, name] of arrows) {
      const button = document.querySelector(selector);
      if (!button) continue;
      const open = button.parentElement.classList.contains("open");
      setAttribute(button, "aria-label", `${open ? "Close" : "Open"} ${name.toLowerCase()}`);
      setAttribute(button, "aria-expanded", open ? "true" : "false");
    }
    // Gradio names each option of a radio list apart ("radio-7", "radio-8"): every
    // conversation in the sidebar was a group of its own, a Tab stop each, deaf to the arrow
    // keys. The options of one list share one name, so that they are one group.
    const lists = new Set();
    document.querySelectorAll("label > input[type=radio]").forEach((option) => {
      lists.add(option.closest("label").parentElement);
    });
    [...lists].forEach((list, index) => {
      const name = `qa-radio-${index}`;
      list.querySelectorAll(":scope > label > input[type=radio]").forEach((option) => {
        setAttribute(option, "name", name);
      });
    });
    // A citation "[1]" is read aloud as what it opens, "Source [1]: <document> — <section>" (the
    // chat's sanitizer drops an aria-label written into the answer, so it is set here).
    document.querySelectorAll("#qa-chat a.qa-cite[title]").forEach((cite) => {
      const number = cite.textContent.match(/^\[(\d+)\]$/);
      if (number) setAttribute(cite, "aria-label", `Source [${number[1]}]: ${cite.title}`);
    });
    // A text box whose label also holds its send button ("Ask") is named by the label's
    // text alone, not "Question Ask".
    document.querySelectorAll("label:has(> [data-testid=block-info]) textarea").forEach((box) => {
      const label = box.closest("label");
      if (!label.querySelector("button")) return;
      const name = label.querySelector(":scope > [data-testid=block-info]").textContent.trim();
      if (name) setAttribute(box, "aria-label", name);
    });
    document.querySelectorAll("#qa-chat .examples[role=list]").forEach((examples) => {
      examples.setAttribute("role", "group");
      examples.setAttribute("aria-label", "Example questions");
    });
  };

  new MutationObserver(fix).observe(document.body, {
    subtree: true,
    childList: true,
    characterData: true,
    attributes: true,
    attributeFilter: ["class", "aria-label", "role", "name"],
  });
  fix();

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || event.defaultPrevented) return;
    const toggle = document.querySelector("#qa-sidebar.open > .toggle-button");
    if (!toggle) return;
    toggle.click();
    // Back to the citation (or the Documents tab's Preview) that opened the panel, so the
    // reader keeps their place.
    const opener = [...document.querySelectorAll("#qa-chat a.qa-cite.qa-active, #qa-documents button.qa-active")]
      .find((element) => element.offsetParent !== null); // on the tab shown
    if (opener) opener.focus();
  });
}
