// Runs in the browser, with no request to the server, when step STEP of the chat's answer
// fails. When the server turned the step away because its queue was full ("This application is
// currently busy"; stream.js saw the 503), Gradio's page runs only the step's failure steps, so
// the chat's own steps that give the question box back never run: the box stayed disabled, or
// came back empty with the question lost and the unanswered question left in the chat. (A step
// that fails because the answer was stopped, by Stop or New chat, is left to those: nothing
// changes then.)
//
// This step gives the box back, enabled, with Ask shown (not Stop) and its hint; when the chat
// ends with the person's question (no answer came), the question goes back into the box and
// out of the chat, so that asking again is one press of Enter. The chat's server-side history
// never held that question (ChatInterface adds it there only with an answer).
// STEP, ASK and HINT are set by chat.give_back_script.
(history) => {
  const STEP = -1;
  const ASK = "Ask";
  const HINT = "";
  const unchanged = { __type__: "update" };
  if (!(window.__qaStream && window.__qaStream.turnedAway(STEP))) return [unchanged, unchanged];
  const messages = Array.isArray(history) ? history : [];
  const last = messages.length ? messages[messages.length - 1] : null;
  const box = { __type__: "update", interactive: true, submit_btn: ASK, stop_btn: false, placeholder: HINT };
  if (!last || last.role !== "user") return [box, unchanged];
  const parts = Array.isArray(last.content) ? last.content : [last.content];
  const text = parts
    .map((part) => (typeof part === "string" ? part : part && typeof part.text === "string" ? part.text : ""))
    .join("")
    .replace(/\\([!-\/:-@\[-`{-~])/g, "$1"); // drawn as typed (render.shown_question)
  return [{ ...box, value: text }, messages.slice(0, -1)];
}
