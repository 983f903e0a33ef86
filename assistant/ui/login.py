"""Gradio's login page, made ours: the product name on it and in the browser tab, and the user
name kept after a wrong password.

Gradio 6's login page is fixed: a "Login" heading, the `auth_message` (rendered as HTML), user
name and password boxes; its page has no `<title>` until the app itself loads, a failed try
empties both boxes, and a failure other than a wrong password (HTTP 400) shows nothing. The
product name goes into the message; the tab title, the kept name and other failures come from a
`<title>` and a small script added to the page's HTML by `LoginPage`. The script only watches
the page's own POST to Gradio's `/login`: after a 400 it puts the name it sent back into the
user name box; after any other failure (a 503: the user directory cannot be reached) it shows
the server's `detail` as an alert. Gradio's own form still does the signing in.
"""

from __future__ import annotations

from html import escape

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Runs after Gradio's form has emptied its boxes (a task after the response's microtasks),
# then tells the box's binding about the restored value.
_KEEP_USERNAME = """<script>
(() => {
  const send = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    const response = await send(input, init);
    const url = new URL(typeof input === "string" ? input : input.url, location.href);
    const body = init && init.body;
    const login = /\\/login\\/?$/.test(url.pathname) && body instanceof FormData;
    if (login) {
      const old = document.querySelector(".qa-login-error");
      if (old) old.remove();
    }
    if (login && response.status !== 400 && !response.ok) {
      // Not a wrong password (Gradio shows that): the server says what failed, e.g. the user
      // directory cannot be reached. Gradio's own form shows nothing for these.
      let detail = "Signing in failed (HTTP " + response.status + ").";
      try {
        const data = await response.clone().json();
        if (data && typeof data.detail === "string") detail = data.detail;
      } catch (error) {}
      const product = document.querySelector(".qa-login-product");
      const note = document.createElement("p");
      note.className = "qa-login-error";
      note.setAttribute("role", "alert");
      note.textContent = detail;
      if (product && product.parentElement) product.parentElement.after(note);
      else document.body.prepend(note);
    }
    if (login && response.status === 400) {
      const name = String(body.get("username") || "");
      setTimeout(() => {
        const boxes = document.querySelectorAll("input[data-testid=textbox]");
        const box = Array.from(boxes).find((b) => b.type !== "password");
        if (!box || box.value) return;
        box.value = name;
        box.dispatchEvent(new Event("input", { bubbles: true }));
        const password = Array.from(boxes).find((b) => b.type === "password");
        if (password) password.focus();
      }, 0);
    }
    return response;
  };
})();
</script>"""


def login_message(title: str) -> str:
    """The HTML Gradio shows on its login page, under its "Login" heading."""
    return (
        f'<strong class="qa-login-product">{escape(title)}</strong><br>'
        "Sign in with your user name and password."
    )


class LoginPage:
    """Add the tab title and the name-keeping script to the HTML of the page at `/`."""

    def __init__(self, app: ASGIApp, title: str) -> None:
        self.app = app
        self.addition = f"<title>{escape(title)}</title>{_KEEP_USERNAME}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Rewrite the page's HTML on its way out; pass everything else on untouched."""
        if scope["type"] != "http" or scope.get("method") != "GET" or scope.get("path") != "/":
            await self.app(scope, receive, send)
            return
        # Uncompressed, so the HTML can be edited (the page is small and served once a visit).
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"accept-encoding"]
        start: Message | None = None
        chunks: list[bytes] = []

        async def edit(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            await self._send_page(start, b"".join(chunks), send)

        await self.app({**scope, "headers": headers}, receive, edit)

    async def _send_page(self, start: Message, body: bytes, send: Send) -> None:
        headers = list(start.get("headers", []))
        html = any(
            name.lower() == b"content-type" and value.startswith(b"text/html")
            for name, value in headers
        )
        if html and b"</head>" in body:
            body = body.replace(b"</head>", self.addition + b"</head>", 1)
            headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})
