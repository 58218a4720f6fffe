# SPDX-License-Identifier: Apache-2.0
"""Draws a picture on the hub's web chat page in headless Chromium, as a person would.

Usage:
  draw_browser.py --url http://127.0.0.1:PORT/ --screenshot-dir DIR --prompt 'a red kite'
                  [--foreign-picture TEXT ...] [--fail-prompt 'x']

Steps: connect, send `/draw PROMPT`, see the acknowledgement (it names the queue), then see the
picture arrive as an answer of its own and load (an <img> from /media/ with a natural size).
With --foreign-picture (the upstream must echo the message), send one message of every TEXT (image
syntax or markup that is not the hub's own picture) plus, as controls, the drawn picture's own
Markdown and a Markdown link: the answer shows the picture as its one <img>, the link as a link
and every TEXT literally, nowhere in the transcript is another <img>, and no markup ran
(window.__hubXSS stays unset).
Then reload and find the picture in the history (and, with --foreign-picture, the same findings
again as the history renders them). With --fail-prompt, a second /draw whose job fails shows the
failure as an error note answering it, and no picture comes for it.
Prints one JSON line of findings and exits 0; on a failed check prints what went wrong, saves
DIR/failure.png and DIR/console.log, and exits 1.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from web_browser import CheckFailed, Run, run_main  # noqa: E402

TRANSCRIPT = r"""
const box = document.getElementById('messages');
const answer = arguments[0] ? box.querySelector('.message.assistant[data-id="' + CSS.escape(arguments[0]) + '"]') : null;
const srcs = el => Array.from(el.querySelectorAll('img')).map(img => img.getAttribute('src'));
const answers = Array.from(box.querySelectorAll('.message.assistant')).map(el => el.innerText).join('\n');
return { answers: answers, images: srcs(box), answer_text: answer ? answer.innerText : null, answer_images: answer ? srcs(answer) : null,
  answer_links: answer ? Array.from(answer.querySelectorAll('a')).map(a => [a.textContent, a.getAttribute('href')]) : null,
  control_loaded: answer ? Array.from(answer.querySelectorAll('img')).some(img => img.complete && img.naturalWidth > 0) : false };
"""

# An ordinary Markdown link, which the page makes a link: image syntax staying text must not undo it.
CONTROL_LINK = ("a link", "https://example.com/docs")

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
    ap.add_argument("--foreign-picture", action="append", default=[], help="text the answer must show literally, never as an image")
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

    def foreign_findings(self, transcript):
        """What the transcript shows of every --foreign-picture: literally as text, and the images
        in it besides the hub's own picture."""
        own = self.found["picture"]["src"]
        # The user's bubble shows its text as typed: only what the answers show counts.
        text = transcript["answer_text"] if transcript["answer_text"] is not None else transcript["answers"]
        return {
            "literal": {t: t in text for t in self.args.foreign_picture},
            "images": transcript["images"],
            "other_images": [src for src in transcript["images"] if src != own],
            "markup_ran": self.js("return window.__hubXSS ?? null"),
        }

    def check_foreign(self, step, findings):
        hidden = [t for t, shown in findings["literal"].items() if not shown]
        if hidden:
            raise CheckFailed(f"{step}: not shown literally: {hidden}")
        if findings["other_images"]:
            raise CheckFailed(f"{step}: images other than the hub's own picture: {findings['other_images']}")
        if findings["markup_ran"] is not None:
            raise CheckFailed(f"{step}: markup ran: window.__hubXSS is {findings['markup_ran']!r}")

    def foreign_pictures(self):
        own = self.found["picture"]["src"]
        lines = ["Show these:", *self.args.foreign_picture, f"![control]({own})", f"[{CONTROL_LINK[0]}]({CONTROL_LINK[1]})"]
        message_id = self.send("\n".join(lines))
        text, _ = self.watch_answer(message_id)
        # The control: the hub's own picture in the same answer is an image, so the page does make
        # images of this answer and the checks below look where one would be.
        self.wait("the control picture in the answer", lambda: self.js(TRANSCRIPT, message_id)["control_loaded"])
        transcript = self.js(TRANSCRIPT, message_id)
        if transcript["answer_images"] != [own]:
            raise CheckFailed(f"the answer's images are {transcript['answer_images']}, not just the control {own}")
        findings = self.foreign_findings(transcript)
        findings["answer_images"] = transcript["answer_images"]
        findings["answer_links"] = transcript["answer_links"]
        if list(CONTROL_LINK) not in transcript["answer_links"]:
            raise CheckFailed(f"the control link {CONTROL_LINK} is not a link in the answer: {transcript['answer_links']}")
        self.found["foreign"] = findings
        self.screenshot("foreign-pictures.png")
        self.check_foreign("the answer", findings)
        self.check_console("the foreign pictures")

    def history(self):
        self.driver.refresh()
        self.wait_connected("after reloading")
        self.wait_history("after reloading")
        self.wait("the picture in the history", lambda: any(p["loaded"] for p in self.pictures()))
        self.found["history_pictures"] = len(self.pictures())
        users = [e.text for e in self.find("#messages .message.user")]
        self.found["history_has_draw"] = any(("/draw " + self.args.prompt) in u for u in users)
        if self.args.foreign_picture:
            findings = self.foreign_findings(self.js(TRANSCRIPT, None))
            self.found["history_foreign"] = findings
            self.check_foreign("the history", findings)
        self.screenshot("history.png")
        self.check_console("the history")

    def failure(self):
        before = self.js(TRANSCRIPT, None)["images"]
        message_id = self.send("/draw " + self.args.fail_prompt)
        text, _ = self.watch_answer(message_id)
        self.found["failure_acknowledgement"] = text
        self.wait("the failure note", lambda: self.error_notes(message_id + "-result"))
        self.found["failure"] = self.error_notes(message_id + "-result")[0]
        # The note is the job's one result (a job is delivered once, picture or failure): a picture
        # would have been an answer of its own with the note's id, and an <img> in the transcript.
        self.found["failure_result_bubbles"] = len(self.find(f'#messages .message.assistant[data-id="{message_id}-result"]'))
        self.found["images_before_failure"] = before
        self.found["images_after_failure"] = self.js(TRANSCRIPT, None)["images"]
        self.screenshot("failed-draw.png")
        self.check_console("the failed draw")

    def run(self):
        self.start()
        self.draw()
        if self.args.foreign_picture:
            self.foreign_pictures()
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
