# SPDX-License-Identifier: Apache-2.0
"""Drives the hub's web chat page in headless Chromium, as a person would.

Usage:
  web_browser.py --url http://127.0.0.1:PORT/ --screenshot-dir DIR --prompt TEXT --expect SUBSTRING
                 --xss-prompt TEXT2 --xss-marker '<script>window.__hubXSS=1</script>' [--token TOKEN]

Steps: (token form when --token is given), connect, send a prompt and watch the answer stream in,
reload and find it in the history, send a prompt whose answer carries markup and check that it
shows as text, start a new conversation and check that the history is gone. Every wait is at most
20 s. On success prints one JSON line of findings and exits 0; on a failed check prints what went
wrong to stderr, saves DIR/failure.png and DIR/console.log, and exits 1. A severe message in the
page's console (a script error, a CSP violation, a failed request) fails the run too.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 20.0
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


class CheckFailed(Exception):
    pass


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True)
    ap.add_argument("--screenshot-dir", required=True)
    ap.add_argument("--prompt", required=True)
    ap.add_argument("--expect", required=True)
    ap.add_argument("--xss-prompt", required=True)
    ap.add_argument("--xss-marker", required=True)
    ap.add_argument("--token")
    ap.add_argument(
        "--restart-file",
        help="after the history step, create FILE.ready, expect the hub to go away and come back (the caller restarts it), "
        "and check that the page reconnects by itself and shows the conversation again",
    )
    ap.add_argument("--allow-console-errors", action="store_true", help="do not fail on severe console messages")
    return ap.parse_args()


class Run:
    def __init__(self, args):
        self.args = args
        self.dir = args.screenshot_dir
        os.makedirs(self.dir, exist_ok=True)
        self.profile = tempfile.mkdtemp(prefix="hub-web-browser-")
        self.driver = None
        self.console = []
        self.screenshots = []
        self.found = {}

    # ------------------------------------------------------------------ browser

    def start(self, extra_flags=()):
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--window-size=1200,900",
            "--user-data-dir=" + self.profile,
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--lang=en-US",
            *extra_flags,
        ):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(WAIT)
        self.driver.set_script_timeout(WAIT)

    def stop(self):
        if self.driver is not None:
            try:
                self.driver.quit()
            except WebDriverException:
                pass
            self.driver = None
        shutil.rmtree(self.profile, ignore_errors=True)

    def collect_console(self):
        if self.driver is None:
            return
        try:
            entries = self.driver.get_log("browser")
        except WebDriverException:
            return
        self.console.extend(entries)

    def severe_console(self):
        """Severe console messages that are not an expected refusal of a missing or wrong token."""
        bad = []
        for entry in self.console:
            if entry.get("level") != "SEVERE":
                continue
            message = entry.get("message", "")
            if self.args.token and "api/v1/chat/models" in message and ("401" in message or "403" in message):
                continue
            bad.append(message)
        return bad

    def check_console(self, step):
        self.collect_console()
        if self.args.allow_console_errors:
            return
        bad = self.severe_console()
        if bad:
            raise CheckFailed(f"{step}: the page logged errors to the console:\n  " + "\n  ".join(bad))

    def screenshot(self, name):
        path = os.path.join(self.dir, name)
        self.driver.save_screenshot(path)
        self.screenshots.append(path)

    def save_failure(self):
        if self.driver is not None:
            try:
                self.driver.save_screenshot(os.path.join(self.dir, "failure.png"))
            except WebDriverException as error:
                print(f"(could not save failure.png: {error.msg})", file=sys.stderr)
            self.collect_console()
            try:
                html = self.driver.execute_script("return document.getElementById('messages')?.outerHTML ?? ''")
                with open(os.path.join(self.dir, "failure-messages.html"), "w", encoding="utf-8") as f:
                    f.write(html or "")
            except WebDriverException:
                pass
        with open(os.path.join(self.dir, "console.log"), "w", encoding="utf-8") as f:
            for entry in self.console:
                f.write(f"{entry.get('level')} {entry.get('message')}\n")

    # ------------------------------------------------------------------ waiting

    def wait(self, what, condition, timeout=WAIT):
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(lambda d: condition())
        except TimeoutException:
            state = self.js("const s = document.getElementById('connection-state'); return s ? s.dataset.state + ' / ' + s.textContent : 'no badge'")
            raise CheckFailed(f"timed out after {timeout:.0f} s waiting for {what} (connection state: {state})") from None

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def find(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def open_page(self):
        self.driver.get(self.args.url)

    def wait_connected(self, step):
        self.wait(f"{step}: #connection-state[data-state=connected]", lambda: self.find('#connection-state[data-state="connected"]'))

    def wait_history(self, step):
        self.wait(f"{step}: the history frame (#messages[data-history=loaded])", lambda: self.find('#messages[data-history="loaded"]'))

    # ------------------------------------------------------------------ steps

    def enter_token(self):
        self.open_page()
        self.wait("the token form to be shown (#token-form)", lambda: self.find("#token-form") and self.find("#token-form")[0].is_displayed())
        field = self.find("#token-input")[0]
        field.clear()
        field.send_keys(self.args.token)
        self.find("#token-submit")[0].click()
        self.wait_connected("after entering the token")
        if self.find("#token-form")[0].is_displayed():
            raise CheckFailed("the token form is still shown after connecting")
        self.found["token_form"] = True

    def send(self, text):
        """Types `text` and sends it; returns the id of the new user bubble."""
        self.wait("#send to be enabled", lambda: self.find("#send")[0].is_enabled())
        before = len(self.find("#messages .message.user"))
        field = self.find("#input")[0]
        field.clear()
        for index, line in enumerate(text.split("\n")):
            if index:
                field.send_keys(Keys.SHIFT, Keys.ENTER)
            field.send_keys(line)
        self.find("#send")[0].click()
        self.wait("the user's bubble", lambda: len(self.find("#messages .message.user")) > before)
        bubble = self.find("#messages .message.user")[-1]
        if text.strip() not in bubble.text:
            raise CheckFailed(f"the user's bubble shows {bubble.text!r}, not the prompt {text!r}")
        message_id = bubble.get_attribute("data-id")
        if not message_id:
            raise CheckFailed("the user's bubble has no data-id")
        return message_id

    def answer_state(self, message_id):
        """[text, data-done, data-error] of the assistant bubble answering `message_id`, or None."""
        return self.js(
            """
            const el = document.querySelector('#messages .message.assistant[data-id="' + CSS.escape(arguments[0]) + '"]');
            if (!el) return null;
            return [el.innerText, el.getAttribute('data-done'), el.getAttribute('data-error')];
            """,
            message_id,
        )

    def error_notes(self, message_id):
        return self.js(
            "return Array.from(document.querySelectorAll('#messages .message.error')).filter(e => !arguments[0] || e.dataset.id === arguments[0]).map(e => e.innerText)",
            message_id,
        )

    def watch_answer(self, message_id):
        """Samples the answer every ~20 ms until it is done; returns (final text, lengths seen while streaming)."""
        self.wait("the assistant's bubble", lambda: self.answer_state(message_id) is not None or self.error_notes(message_id))
        lengths = []
        deadline = time.monotonic() + WAIT
        while True:
            state = self.answer_state(message_id)
            errors = self.error_notes(message_id)
            if errors:
                raise CheckFailed(f"the answer to {message_id} failed: {errors}")
            if state is None:
                raise CheckFailed(f"the assistant's bubble for {message_id} disappeared")
            text, done, error = state
            if error == "true":
                raise CheckFailed(f"the answer to {message_id} is marked data-error: {text!r}")
            if done == "true":
                return text, lengths
            size = len(text.strip())
            if size and size not in lengths:
                lengths.append(size)
            if time.monotonic() > deadline:
                raise CheckFailed(f"timed out after {WAIT:.0f} s waiting for data-done on the answer to {message_id} (text so far {text!r})")
            time.sleep(0.02)

    def streamed_answer(self):
        self.open_page()
        self.wait_connected("after opening the page")
        self.wait_history("after opening the page")
        self.check_console("opening the page")
        message_id = self.send(self.args.prompt)
        text, lengths = self.watch_answer(message_id)
        if self.args.expect not in text:
            raise CheckFailed(f"the answer {text!r} does not contain {self.args.expect!r}")
        if len(lengths) < 2:
            raise CheckFailed(f"the answer did not stream: lengths seen before it was done were {lengths} (need 2 or more)")
        self.found["streamed_lengths"] = lengths
        self.found["answer"] = text
        self.screenshot("streamed.png")
        self.check_console("streaming an answer")

    def conversation_shown(self):
        """Whether the page shows the prompt and a finished answer containing the expected text."""
        prompt, expect = self.args.prompt.strip(), self.args.expect
        users = [e.text for e in self.find("#messages .message.user")]
        answers = [e.text for e in self.find('#messages .message.assistant[data-done="true"]')]
        return any(prompt in u for u in users) and any(expect in a for a in answers)

    def history(self):
        self.driver.refresh()
        self.wait_connected("after reloading")
        self.wait_history("after reloading")
        self.wait("the history to show the prompt and its answer", self.conversation_shown)
        self.found["history_messages"] = len(self.find("#messages .message.user, #messages .message.assistant"))
        self.screenshot("history.png")
        self.check_console("reloading")

    def reconnect(self):
        """The caller stops the hub once FILE.ready exists and starts it again on the same port."""
        with open(self.args.restart_file + ".ready", "w", encoding="utf-8") as f:
            f.write("ready\n")
        states = []

        def state():
            value = self.js("const s = document.getElementById('connection-state'); return s ? s.dataset.state : null")
            if value and (not states or states[-1] != value):
                states.append(value)
            return value

        self.wait("the page to notice that the hub went away", lambda: state() in ("reconnecting", "offline", "connecting"), timeout=40)
        self.screenshot("disconnected.png")
        self.wait("the page to reconnect by itself", lambda: state() == "connected", timeout=40)
        self.wait_history("after reconnecting")
        self.wait("the conversation to be shown again after reconnecting", self.conversation_shown)
        # The refused connections while the hub was away are expected console errors; nothing else is.
        self.collect_console()
        outage = ("ERR_CONNECTION_REFUSED", "WebSocket connection to", "ERR_CONNECTION_RESET", "ERR_EMPTY_RESPONSE")
        self.console = [e for e in self.console if not any(mark in e.get("message", "") for mark in outage)]
        self.found["reconnect_states"] = states
        self.screenshot("reconnected.png")
        self.check_console("reconnecting")

    def xss(self):
        marker = self.args.xss_marker
        message_id = self.send(self.args.xss_prompt)
        text, _ = self.watch_answer(message_id)
        if marker not in text:
            raise CheckFailed(f"the answer {text!r} does not show the marker {marker!r} literally")
        flag = self.js("return window.__hubXSS")
        if flag is not None:
            raise CheckFailed(f"markup in an answer ran: window.__hubXSS is {flag!r}")
        injected = self.find("#messages script, #messages img, #messages iframe, #messages object, #messages svg")
        if injected:
            raise CheckFailed(f"markup in an answer became {len(injected)} element(s): {[e.tag_name for e in injected]}")
        self.found["xss_shown_as_text"] = True
        self.screenshot("xss.png")
        # The same conversation at a phone's width.
        self.driver.set_window_size(390, 844)
        time.sleep(0.3)
        self.screenshot("mobile.png")
        self.driver.set_window_size(1200, 900)
        self.check_console("the markup answer")

    def new_conversation(self):
        self.wait("#new-conversation to be enabled", lambda: self.find("#new-conversation")[0].is_enabled())
        self.find("#new-conversation")[0].click()
        self.wait("a system note (.message.system) after New conversation", lambda: [e for e in self.find("#messages .message.system") if e.text.strip()])
        self.found["reset_note"] = self.find("#messages .message.system")[-1].text
        left = self.find("#messages .message.user, #messages .message.assistant")
        if left:
            raise CheckFailed(f"{len(left)} user/assistant bubble(s) remain after New conversation")
        self.driver.refresh()
        self.wait_connected("after reloading a new conversation")
        self.wait_history("after reloading a new conversation")
        left = self.find("#messages .message.user, #messages .message.assistant")
        if left:
            raise CheckFailed(f"the history after New conversation still has {len(left)} message(s): {[e.text for e in left]}")
        self.check_console("New conversation")

    def finish(self):
        self.screenshot("final.png")
        self.check_console("the end")

    def run(self):
        self.start()
        if self.args.token:
            self.enter_token()
        self.streamed_answer()
        self.history()
        if self.args.restart_file:
            self.reconnect()
        self.xss()
        self.new_conversation()
        self.finish()
        self.found["screenshots"] = self.screenshots
        self.found["console_messages"] = len(self.console)
        return self.found


def run_main(run, name, findings_file=False):
    """Runs `run` (a Run) to the end: its findings as one JSON line and exit status 0, or what went
    wrong on stderr with DIR/failure.png and DIR/console.log saved and exit status 1. Every
    browser script's main ends here. `findings_file` also writes DIR/findings.json."""
    try:
        found = run.run()
    except CheckFailed as failure:
        message = str(failure)
    except WebDriverException as error:
        message = f"the browser said: {error.msg}"
    except Exception as error:  # noqa: BLE001 - any other surprise is a failed run with a clear message
        message = f"{type(error).__name__}: {error}"
    else:
        run.stop()
        if findings_file:
            with open(os.path.join(run.dir, "findings.json"), "w", encoding="utf-8") as f:
                json.dump(found, f, indent=2)
        print(json.dumps(found))
        return 0
    run.save_failure()
    print(f"{name}: FAILED: {message}", file=sys.stderr)
    print(f"{name}: see {os.path.join(run.dir, 'failure.png')} and console.log", file=sys.stderr)
    run.stop()
    return 1


def main():
    return run_main(Run(parse_args()), "web_browser.py")


if __name__ == "__main__":
    sys.exit(main())
