// Files dragged onto any part of the page are uploaded as if chosen with the Documents tab's
// "Upload documents" button (assistant/ui/documents.py): the Documents tab opens, to show the
// progress, and the files go to the button's own file input. A page without that button (the
// server takes no uploads, or the person may not upload) says nothing while files are dragged,
// and a dropped file is ignored there rather than opened by the browser in place of the chat.
if (!window.__qaDropWired) {
  window.__qaDropWired = true;
  const carriesFiles = (event) => Array.from(event.dataTransfer?.types || []).includes("Files");
  const documentsTab = () =>
    Array.from(document.querySelectorAll("[role=tab]")).find((t) => t.textContent.trim() === "Documents");
  const uploadInput = () => {
    const button = document.getElementById("qa-upload");
    const input = button?.parentElement?.querySelector("input[type=file]");
    return input && !button.closest(".hidden, [hidden]") ? input : null;
  };
  // Until the Documents tab has been opened once its button is not in the page: the drop
  // opens it and then looks again.
  const mayUpload = () => uploadInput() !== null || (documentsTab() !== undefined && !window.__qaDocumentsSeen);
  const seen = () => {
    if (document.getElementById("qa-doc-count")) window.__qaDocumentsSeen = true;
  };
  let depth = 0;
  const show = (on) => document.body.classList.toggle("qa-dropping", on && mayUpload());
  window.addEventListener("dragenter", (event) => {
    if (!carriesFiles(event)) return;
    seen();
    depth += 1;
    show(true);
  });
  window.addEventListener("dragleave", (event) => {
    if (!carriesFiles(event)) return;
    depth = Math.max(0, depth - 1);
    if (depth === 0) show(false);
  });
  window.addEventListener("dragover", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = mayUpload() ? "copy" : "none";
  });
  window.addEventListener("drop", async (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth = 0;
    show(false);
    const files = event.dataTransfer.files;
    const tab = documentsTab();
    if (!files.length || !tab) return;
    if (tab.getAttribute("aria-selected") !== "true") tab.click();
    let input = uploadInput();
    for (let waited = 0; !input && waited < 5000; waited += 100) {
      await new Promise((done) => setTimeout(done, 100));
      input = uploadInput();
    }
    seen();
    if (!input) return; // no upload here: the Documents tab says who may upload
    const transfer = new DataTransfer();
    for (const file of files) transfer.items.add(file);
    input.files = transfer.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });
}
