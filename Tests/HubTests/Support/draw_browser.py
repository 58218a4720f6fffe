# SPDX-License-Identifier: Apache-2.0
"""Draws a picture on the hub's web chat page in headless Chromium, as a person would.

Usage:
  draw_browser.py --url http://127.0.0.1:PORT/ --screenshot-dir DIR --prompt 'a red kite' [--fail-prompt 'x']

Steps: connect, send `/draw PROMPT`, see the acknowledgement (it names the queue), then see the
picture arrive as an answer of its own and load (an <img> from /media/ with a natural size);
reload and find the picture in the history. With --fail-prompt, a second /draw whose job fails shows the failure as an error.
Prints one JSON line of findings and exits 0; on a failed check prints what went wrong, saves
DIR/failure.png and DIR/console.log, and exits 1.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from web_browser import CheckFailed, Run, run_main  # noqa: E402

PICTURES = """
return Array.from(document.querySelectorAll('#messages .message.assistant img.picture')).map(img => ({
  src: img.getAttribute('src'), alt: img.getAttribute('alt'), loaded: img.complete && img.naturalWidth > 0,
  width: img.naturalWidth, height: img.naturalHeight, message: img.closest('.message').dataset.id || null }))
"""


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True)
    ap.add_argument("--screenshot-dir", required=True)
    ap.add_argument("--prompt", required=True)
    ap.add_argument("--fail-prompt")
    ap.add_argument("--token")
    ap.add_argument("--allow-console-errors", action="store_true")
    return ap.parse_args()


class DrawRun(Run):
    def pictures(self):
        return self.js(PICTURES)

    def draw(self):
        self.open_page()
        self.wait_connected("after opening the page")
        self.wait_history("after opening the page")
        message_id = self.send("/draw " + self.args.prompt)
        text, _ = self.watch_answer(message_id)
        if "queue" not in text and "next in line" not in text:
            raise CheckFailed(f"the acknowledgement does not name the queue: {text!r}")
        self.found["acknowledgement"] = text
        self.wait("the picture to arrive and load", lambda: any(p["loaded"] for p in self.pictures()), timeout=30)
        picture = next(p for p in self.pictures() if p["loaded"])
        if not picture["src"].startswith("/media/"):
            raise CheckFailed(f"the picture is not the hub's own: {picture}")
        if picture["message"] != message_id + "-result":
            raise CheckFailed(f"the picture came as {picture['message']!r}, not as the answer {message_id}-result")
        self.found["picture"] = picture
        self.screenshot("drawn.png")
        self.check_console("the picture")

    def history(self):
        self.driver.refresh()
        self.wait_connected("after reloading")
        self.wait_history("after reloading")
        self.wait("the picture in the history", lambda: any(p["loaded"] for p in self.pictures()))
        self.found["history_pictures"] = len(self.pictures())
        users = [e.text for e in self.find("#messages .message.user")]
        self.found["history_has_draw"] = any(("/draw " + self.args.prompt) in u for u in users)
        self.screenshot("history.png")
        self.check_console("the history")

    def failure(self):
        message_id = self.send("/draw " + self.args.fail_prompt)
        self.watch_answer(message_id)
        self.wait("the failure note", lambda: self.error_notes(message_id + "-result"))
        self.found["failure"] = self.error_notes(message_id + "-result")[0]
        self.screenshot("failed-draw.png")

    def run(self):
        self.start()
        self.draw()
        self.history()
        if self.args.fail_prompt:
            self.failure()
        self.screenshot("final.png")
        self.check_console("the end")
        self.found["screenshots"] = self.screenshots
        return self.found


def main():
    return run_main(DrawRun(parse_args()), "draw_browser.py")


if __name__ == "__main__":
    sys.exit(main())
