// Runs in the browser before an event that changes the chat's messages, with the event's
// inputs. An answer still on its way would finish after the change and put its own messages
// back on screen, so the event waits until the chat is done with it: the question box enabled
// again and the Stop button gone.
//
// SWITCH (New chat, a conversation picked from the list, a delete, its undo): the answer is
// stopped first (leaving for another chat is leaving the answer). Otherwise (marking an answer
// stopped by the Stop button): nothing is marked, all inputs sent as null, when a switch is
// under way or started meanwhile: the stopped answer's chat is no longer the one on screen.
async (...inputs) => {
  const SWITCH = true; // chat.settle_script sets it
  const box = () => document.querySelector("#qa-question textarea");
  const stop = () => document.querySelector("#qa-question .stop-button");
  const shown = (element) => element !== null && element.offsetParent !== null;
  const answering = () => (box() !== null && box().disabled) || shown(stop());
  // Polls every `step` ms while `condition()` holds, for at most `ms` ms.
  const waitWhile = async (condition, ms, step) => {
    const deadline = Date.now() + ms;
    while (condition() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, step));
    }
  };
  const switches = window.__qaSwitches || (window.__qaSwitches = { started: 0, running: 0 });
  const seen = switches.started;
  let stale = !SWITCH && switches.running > 0;
  if (SWITCH) {
    switches.started += 1;
    switches.running += 1;
  }
  try {
    if (SWITCH && shown(stop())) {
      // Stop only once the answer has reached the page (its first update, "Searching the
      // documents…"): before that the browser may not know the answer's event yet, and Gradio
      // then sends a cancel the server rejects (422), leaving the answer running all the same.
      const drawn = () => document.querySelector("#qa-chat .qa-streaming") !== null;
      await waitWhile(() => answering() && !drawn(), 5000, 20);
      if (shown(stop())) stop().click();
    }
    await waitWhile(answering, 60000, 50); // a server that never replies must not freeze the chat
  } finally {
    if (SWITCH) switches.running -= 1;
  }
  stale = stale || (!SWITCH && (switches.started !== seen || switches.running > 0));
  // Always an array: with one input Gradio would spread a list value into several inputs.
  return stale ? inputs.map(() => null) : inputs;
}
