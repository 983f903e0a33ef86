// Runs when the source panel mounts (Gradio gr.HTML js_on_load provides `element`, `trigger`
// and `watch`). One capturing click listener on the document handles citation links anywhere
// in the chat, the panel's own links and the copy-answer links. The chat's sanitizer strips
// data attributes, so links carry what they name in the fragment:
//   #cite-<doc id>-<start>-<end>-<n>-<quote key>   (passage view; "#whole-..." whole document)
window.__qaTrigger = trigger;
if (!window.__qaWired) {
  window.__qaWired = true;
  const REF = /^#(cite|whole)-([0-9a-f]+)-(\d+)-(\d+)-(\d*)-([0-9a-f]*)$/;

  const answerText = (message) => {
    const body = message.querySelector(".qa-text");
    const clone = body ? body.cloneNode(true) : null;
    let text = "";
    if (clone) {
      // Blocks (headings, paragraphs, list items, code lines) each on a line of their own.
      clone.querySelectorAll(".qa-flag").forEach((flag) => flag.remove());
      clone.querySelectorAll("br").forEach((br) => br.replaceWith("\n"));
      clone.querySelectorAll("li").forEach((item) => item.prepend("- "));
      clone.querySelectorAll("h4, p, li, pre").forEach((block) => block.append("\n"));
      text = clone.textContent
        .split("\n")
        .map((line) => line.replace(/[ \t]+/g, " ").trim())
        .filter(Boolean)
        .join("\n");
    }
    const sources = [...message.querySelectorAll(".qa-source")].map((item) => {
      const part = (selector) => (item.querySelector(selector)?.textContent || "").trim();
      const where = part(".qa-source-where");
      return `${part(".qa-cite")} ${part(".qa-source-title")}${where ? " — " + where : ""}\n    ${part(".qa-source-quote")}`;
    });
    return sources.length ? `${text}\n\nSources:\n${sources.join("\n")}` : text;
  };

  const copyText = async (text, link) => {
    let done = false;
    try {
      await navigator.clipboard.writeText(text);
      done = true;
    } catch (error) {
      const area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      done = document.execCommand("copy");
      area.remove();
    }
    link.textContent = done ? "Copied" : "Copy failed";
    link.classList.add("qa-copied");
    setTimeout(() => {
      link.textContent = "Copy answer";
      link.classList.remove("qa-copied");
    }, 1600);
  };

  document.addEventListener(
    "click",
    (event) => {
      const target = event.target instanceof Element ? event.target : null;
      const link = target ? target.closest("a.qa-cite, a.qa-open, a.qa-copy") : null;
      if (!link) return;
      event.preventDefault();
      event.stopPropagation();
      if (link.matches("a.qa-copy")) {
        const message = link.closest(".qa-answer");
        if (message) copyText(answerText(message), link);
        return;
      }
      const match = REF.exec(link.getAttribute("href") || "");
      if (!match) return;
      document.querySelectorAll("a.qa-cite.qa-active").forEach((a) => a.classList.remove("qa-active"));
      if (link.matches("a.qa-cite")) link.classList.add("qa-active");
      show(match);
    },
    true,
  );

  // The chat redraws a message now and then (its last update, a conversation brought back):
  // a press on a link and its release on the redrawn copy make no click in the browser. Such
  // a release on the same link (same address) clicks it.
  let pressed = null;
  document.addEventListener(
    "pointerdown",
    (event) => {
      const target = event.target instanceof Element ? event.target : null;
      const link = target ? target.closest("a.qa-cite, a.qa-open") : null;
      pressed = link ? { link, href: link.getAttribute("href") } : null;
    },
    true,
  );
  document.addEventListener(
    "pointerup",
    (event) => {
      const was = pressed;
      pressed = null;
      if (!was || was.link.isConnected) return; // the browser's own click follows
      const target = event.target instanceof Element ? event.target : null;
      const link = target ? target.closest("a.qa-cite, a.qa-open") : null;
      if (link && link.getAttribute("href") === was.href) link.click();
    },
    true,
  );

  const show = (match) => {
    const [, view, doc, start, end, n, q] = match;
    window.__qaTrigger("cite", { doc, start, end, n, q, view: view === "whole" ? "document" : "passage" });
  };
  // A citation's address in the page's own URL (a link followed before this script ran, a
  // shared or bookmarked link): open it, then take it off the address. The server checks,
  // as for any click, that the reader may see the document.
  const fromAddress = () => {
    const match = REF.exec(window.location.hash);
    if (!match) return;
    history.replaceState(null, "", window.location.pathname + window.location.search);
    show(match);
  };
  window.addEventListener("hashchange", fromAddress);
  fromAddress();

  // Gradio's ChatInterface blanks the question box's placeholder while it answers and never
  // restores it; put it back whenever that happens.
  const hint = props.question_hint || "";
  new MutationObserver((changes) => {
    for (const change of changes) {
      const box = change.target;
      if (hint && box.matches("#qa-question textarea") && !box.getAttribute("placeholder")) {
        box.setAttribute("placeholder", hint);
      }
    }
  }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ["placeholder"] });
}
watch("value", () => {
  const mark = element.querySelector("mark.qa-quote");
  if (mark) mark.scrollIntoView({ block: "center" });
});
