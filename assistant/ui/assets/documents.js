// Runs when the Documents table mounts (gr.HTML js_on_load: `element`, `trigger`). A column
// heading sorts the table by that column (the "Sort by" choice follows). Its rows'
// buttons name a document by catalog id: Preview opens its text in the source panel, Delete
// asks for a confirmation (assistant/ui/documents.py). The last Preview clicked is marked, so
// that Esc, closing the panel, puts the focus back on it (assets/a11y.js).
element.addEventListener("click", (event) => {
  const heading = event.target instanceof Element ? event.target.closest("button[data-sort]") : null;
  if (heading && element.contains(heading)) {
    trigger("sort_documents", { sort: heading.getAttribute("data-sort") || "" });
    return;
  }
  const button = event.target instanceof Element ? event.target.closest("button[data-action]") : null;
  if (!button || !element.contains(button)) return;
  const doc = button.getAttribute("data-doc") || "";
  if (button.getAttribute("data-action") === "delete") {
    trigger("delete_document", { doc });
    return;
  }
  document.querySelectorAll("#qa-documents button.qa-active").forEach((b) => b.classList.remove("qa-active"));
  button.classList.add("qa-active");
  trigger("preview_document", { doc });
});
