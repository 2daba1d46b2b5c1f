"""The test page (tests/browser/page) as a person uses it, through Playwright: fill in the
settings, attach an image, type and send a message, read what the page shows."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

DEFAULT_TOPIC = "New Conversation"
# The page's own title prompt (page/chat.js, TOPIC_PROMPT).
TOPIC_PROMPT = "Give this conversation a title of four or five words, without punctuation or quotes."
UNAUTHORIZED_HINT = "Unauthorized: check the API key in the settings."
# Long enough that the conversation (this and its echo) counts the 50 estimated tokens after
# which NextChat asks for a title; a short exchange gets none.
LONG_MESSAGE = (
    "Tell me about the weather in Paris this week, and whether I should bring an umbrella, "
    "a coat or sunglasses for the trip"
)


class ChatPage:
    def __init__(self, page: Page, url: str):
        self.page = page
        self.console: list[str] = []
        page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: self.console.append(f"pageerror: {error}"))
        page.goto(f"{url}/index.html")
        page.wait_for_selector("body[data-ready='true']", timeout=10_000)

    def configure(self, endpoint: str, api_key: str, model: str, vision_models: str = "") -> None:
        self.page.fill("#endpoint", endpoint)
        self.page.fill("#api-key", api_key)
        self.page.fill("#model", model)
        self.page.fill("#vision-models", vision_models)

    def attach(self, image: Path) -> None:
        self.page.set_input_files("#image", str(image))
        self.page.wait_for_selector("body[data-attachments='1']", timeout=10_000)

    def send(self, text: str) -> None:
        self.page.fill("#input", text)
        self.page.click("#send")

    def reply(self):
        return self.page.locator("article[data-role='assistant']").last

    def reply_text(self) -> str:
        return self.reply().locator(".content").inner_text()

    def reply_state(self) -> str:
        return self.reply().get_attribute("data-state") or ""

    def wait_for_reply(self, timeout_ms: int = 15_000) -> str:
        """Waits until the last reply stops streaming; returns its text."""
        self.page.wait_for_selector(
            "article[data-role='assistant']:last-of-type:not([data-state='streaming'])",
            timeout=timeout_ms,
        )
        return self.reply_text()

    def topic(self) -> str:
        return self.page.inner_text("#topic")

    def explain(self) -> str:
        """What the page showed and logged, for assertion messages."""
        return f"reply: {self.reply_text()!r}\nconsole:\n" + "\n".join(self.console[-20:])
