// The page's event stream never ends while the page is open: a workaround for a race in the
// page client of Gradio 6 (seen as a question box that stays disabled after its answer).
//
// The page hears how its events run over one stream (GET .../queue/data). The server ends that
// stream with a "close_stream" message as soon as none of the page's events is pending, and the
// page's client takes the stream for open until that message arrives: it opens a new one only
// for an event it joins (POST .../queue/join) while it knows of no open stream. When the page
// joins an event just as its last pending one completes (the chat's answer ends and the next
// step of its chain starts), the join's reply can arrive before the close: the client sees an
// open stream and opens none, then reads the close, and nothing ever reads that event's
// messages. The question box, enabled again by the last step of the answer's chain, then stays
// disabled until a reload. A slow network makes that order likelier; on loopback it happened in
// about one chat in eight.
//
// So the client is handed one stream per page that hides "close_stream": when the server ends
// its stream after one, the next is opened at once and read on. Messages of events joined in
// between wait in the server's queue of the page's session and arrive on the next stream.
// Aborting it (the client's own close, leaving the page) ends it as before. When the server is
// lost instead (a restart), the events still waiting hear so, and the client is told the
// stream closed, so that its next event opens a new one. Every other request is untouched.
//
// `window.__qaStream.busy()` counts the page's events joined and not yet completed (with the
// joins on their way): an open stream no longer means that an event runs, and the browser
// tests wait on this count instead. `window.__qaStream.turnedAway(fn)` says whether the latest
// join of step `fn` was turned away by a full queue (503), and forgets it: the chat's give-back
// step (give_back.js) acts only then, not when an answer was stopped.
(() => {
  if (window.__qaStream) return;
  const fetchFirst = window.fetch.bind(window);
  const STREAM = /\/queue\/data\?/;
  const JOIN = /\/queue\/join\b/;
  const pending = new Set(); // ids of events joined and not completed
  const completed = new Set(); // the latest completed ids (a completion may beat its join's reply)
  const away = new Set(); // steps whose latest join a full queue turned away
  let joining = 0;
  window.__qaStream = { busy: () => joining + pending.size, turnedAway: (fn) => away.delete(fn) };
  const complete = (id) => {
    pending.delete(id);
    completed.add(id);
    if (completed.size > 500) completed.delete(completed.values().next().value);
  };

  const urlOf = (input) =>
    typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  const methodOf = (input, init) =>
    ((init && init.method) || (input instanceof Request ? input.method : "GET")).toUpperCase();
  const parsed = (message) => {
    const text = message.trim();
    if (!text.startsWith("data:")) return null;
    try {
      return JSON.parse(text.slice(5));
    } catch {
      return null;
    }
  };

  const stream = async (input, init) => {
    const first = new Request(input, init);
    const again = () =>
      new Request(first.url, {
        headers: first.headers,
        credentials: first.credentials,
        signal: first.signal,
        cache: "no-store",
      });
    let upstream = await fetchFirst(again());
    if (!upstream.ok || !upstream.body) return upstream;
    const { status, statusText, headers } = upstream;
    const encoder = new TextEncoder();
    let reader = null;
    const body = new ReadableStream({
      async start(controller) {
        const decoder = new TextDecoder();
        const send = (message) => controller.enqueue(encoder.encode(message));
        let rest = ""; // the start of a message whose end has not arrived yet
        try {
          for (;;) {
            reader = upstream.body.getReader();
            let closed = false;
            for (;;) {
              const { done, value } = await reader.read();
              if (done) break;
              rest += decoder.decode(value, { stream: true });
              let cut;
              while ((cut = rest.indexOf("\n\n")) >= 0) {
                const message = rest.slice(0, cut + 2);
                rest = rest.slice(cut + 2);
                const data = parsed(message);
                if (data && data.msg === "process_completed" && data.event_id) {
                  complete(data.event_id);
                }
                if (data && data.msg === "close_stream") closed = true;
                else send(message);
              }
            }
            if (!closed) throw new Error("the server ended the event stream");
            upstream = await fetchFirst(again());
            if (!upstream.ok || !upstream.body) {
              throw new Error(`the event stream could not be opened again (${upstream.status})`);
            }
          }
        } catch (error) {
          if (first.signal.aborted) {
            controller.error(error); // the client's own close, or the page going away
            return;
          }
          // A lost server (a restart, a network failure): every event still waiting hears of
          // it, as from Gradio's own stream, and then the close the client waits for, so that
          // its next event opens a new stream instead of waiting on this one.
          pending.forEach(complete);
          send(`data: ${JSON.stringify({ msg: "broken_connection", message: String(error) })}\n\n`);
          send(`data: ${JSON.stringify({ msg: "close_stream", event_id: null })}\n\n`);
          controller.close();
        }
      },
      cancel(reason) {
        if (reader) reader.cancel(reason);
      },
    });
    return new Response(body, { status, statusText, headers });
  };

  const stepOf = (init) => {
    try {
      const step = JSON.parse(init && typeof init.body === "string" ? init.body : "").fn_index;
      return Number.isInteger(step) ? step : null;
    } catch {
      return null;
    }
  };

  const join = async (input, init) => {
    joining += 1;
    const step = stepOf(init);
    let response;
    try {
      response = await fetchFirst(input, init);
    } catch (error) {
      joining -= 1;
      throw error;
    }
    if (step !== null) {
      if (response.status === 503) away.add(step);
      else away.delete(step);
    }
    response
      .clone()
      .json()
      .then((reply) => {
        const id = reply && reply.event_id;
        if (typeof id === "string" && !completed.has(id)) pending.add(id);
      })
      .catch(() => {})
      .finally(() => {
        joining -= 1;
      });
    return response;
  };

  window.fetch = (input, init) => {
    const method = methodOf(input, init);
    const url = urlOf(input);
    if (method === "GET" && STREAM.test(url)) return stream(input, init);
    if (method === "POST" && JOIN.test(url)) return join(input, init);
    return fetchFirst(input, init);
  };
})();
