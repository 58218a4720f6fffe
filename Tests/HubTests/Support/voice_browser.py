# SPDX-License-Identifier: Apache-2.0
"""Talks to the hub through the chat page's microphone in headless Chromium, as a person would.

Chromium's fake microphone plays a WAV file (`--use-file-for-fake-audio-capture=WAV%noloop`: from
its start each time the page opens the microphone, once, then silence), and its fake permission
prompt says yes.

Usage:
  voice_browser.py --url http://127.0.0.1:PORT/ --screenshot-dir DIR --wav FILE --wav-seconds S
                   --transcript TEXT --answer TEXT --prompt TEXT [--token TOKEN]
  voice_browser.py --url … --screenshot-dir DIR --wav FILE --wav-seconds S --refusal

The conversation (default): hold the microphone button for the WAV's length and check that the
transcript shows as the user's message, the answer's text as the assistant's, and that answer
audio was scheduled; click to start and click to send, then press again while that answer plays
(barge-in: the playback stops at once, the answer is marked interrupted) and send a third
utterance with two clicks; turn the speaker on, type PROMPT and check that the typed answer was
read aloud.

--refusal: the microphone permission denied (a notice), then granted while the hub's voice door
wants a token the page does not have (a notice that the connection was refused).

Every wait is at most 20 s. On success prints one JSON line of findings (also kept in
DIR/findings.json) and exits 0; on a failed check prints what went wrong and the page's console
to stderr, saves DIR/failure.png and DIR/console.log, and exits 1.
"""
import argparse
import os
import sys
import time

from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.action_chains import ActionChains

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from web_browser import WAIT, CheckFailed, Run, run_main  # noqa: E402


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True)
    ap.add_argument("--screenshot-dir", required=True)
    ap.add_argument("--wav", required=True, help="what the fake microphone says")
    ap.add_argument("--wav-seconds", type=float, required=True)
    ap.add_argument("--transcript", help="what the hub should hear")
    ap.add_argument("--answer", help="text the answer should contain")
    ap.add_argument("--prompt", help="a typed message whose answer is read aloud")
    ap.add_argument("--token")
    ap.add_argument("--refusal", action="store_true", help="check the notices for a denied microphone and a refused connection")
    ap.add_argument("--allow-console-errors", action="store_true")
    args = ap.parse_args()
    if not args.refusal and not (args.transcript and args.answer and args.prompt):
        ap.error("--transcript, --answer and --prompt are required without --refusal")
    return args


class VoiceRun(Run):
    STATS = "return Object.assign({}, window.__hubVoice)"

    def start(self):
        flags = [
            "--use-fake-device-for-media-stream",
            "--use-file-for-fake-audio-capture=" + self.args.wav + "%noloop",
            "--autoplay-policy=no-user-gesture-required",
        ]
        # The fake prompt says yes to everything, even to a permission set to denied; the refusal
        # run sets the permission itself instead.
        if not self.args.refusal:
            flags.append("--use-fake-ui-for-media-stream")
        super().start(flags)

    def severe_console(self):
        bad = super().severe_console()
        if self.args.refusal:
            # The refused upgrade of the voice socket is what this run provokes.
            bad = [m for m in bad if not ("ws/voice" in m and "WebSocket connection" in m)]
        return bad

    def save_failure(self):
        super().save_failure()
        # Failures print the page's console, not only save it.
        print("voice_browser.py: the page's console:", file=sys.stderr)
        for entry in self.console:
            print(f"  {entry.get('level')} {entry.get('message')}", file=sys.stderr)
        try:
            print(f"  window.__hubVoice = {self.stats()}", file=sys.stderr)
        except WebDriverException:
            pass

    # ------------------------------------------------------------------ helpers

    def stats(self):
        return self.js(self.STATS) or {}

    def mic(self):
        return self.find("#mic")[0]

    def mic_state(self):
        return self.js("const m = document.getElementById('mic'); return m ? [m.dataset.state, m.dataset.mode, m.dataset.playing] : null")

    def wait_mic(self, state, step):
        self.wait(f"{step}: #mic[data-state={state}]", lambda: (self.mic_state() or [None])[0] == state)

    def voice_messages(self, role):
        return [e.text for e in self.find(f"#messages .message.{role}.voice")]

    def banner(self):
        return self.js("const b = document.getElementById('banner'); return b && !b.hidden ? b.innerText : ''")

    def wait_turn(self, count, step):
        """Waits for the `count`-th voice turn: its transcript and its finished answer."""
        transcript = self.args.transcript
        self.wait(f"{step}: voice user message #{count}", lambda: len(self.voice_messages("user")) >= count or self.error_text())
        errors = self.error_text()
        if errors:
            raise CheckFailed(f"{step}: the page shows errors: {errors}")
        heard = self.voice_messages("user")[count - 1]
        if transcript not in heard:
            raise CheckFailed(f"{step}: the page shows the transcript {heard!r}, not {transcript!r}")
        return heard

    def wait_answer_done(self, count, step):
        """Waits for the `count`-th finished voice answer to contain the expected answer."""
        answer = self.args.answer

        def done():
            answers = self.find('#messages .message.assistant.voice[data-done="true"]')
            return len(answers) >= count and answer in answers[count - 1].text

        self.wait(f"{step}: voice answer #{count} containing {answer!r}, done", done)
        return self.find('#messages .message.assistant.voice[data-done="true"]')[count - 1].text

    def error_text(self):
        return [e.text for e in self.find("#messages .message.error")]

    def wait_listening_then_speak(self, step, screenshot=None):
        """Waits until the page listens, then for the rest of the WAV (it starts with the capture)."""
        pressed = time.monotonic()
        self.wait_mic("listening", step)
        if screenshot:
            self.screenshot(screenshot)
        remaining = self.args.wav_seconds + 0.3 - (time.monotonic() - pressed)
        if remaining > 0:
            time.sleep(remaining)

    # ------------------------------------------------------------------ steps

    def open_and_connect(self):
        if self.args.token:
            self.enter_token()
        else:
            self.open_page()
            self.wait_connected("after opening the page")
        self.wait_history("after opening the page")
        self.wait("#mic to be enabled", lambda: self.mic().is_enabled())
        self.check_console("opening the page")

    def hold_to_talk(self):
        mic = self.mic()
        before = self.stats()
        ActionChains(self.driver).click_and_hold(mic).perform()
        self.wait_listening_then_speak("holding the microphone", screenshot="listening.png")
        state = self.mic_state()
        if state[1] != "hold":
            raise CheckFailed(f"holding the button should be push-to-talk, the button says mode {state[1]!r}")
        ActionChains(self.driver).release().perform()
        self.found["hold_transcript"] = self.wait_turn(1, "after releasing the microphone")
        self.found["hold_answer"] = self.wait_answer_done(1, "after releasing the microphone")
        self.wait("answer audio to be played", lambda: self.stats().get("framesPlayed", 0) > before.get("framesPlayed", 0))
        after = self.stats()
        self.found["hold_frames_sent"] = after["framesSent"] - before.get("framesSent", 0)
        self.found["hold_frames_played"] = after["framesPlayed"] - before.get("framesPlayed", 0)
        # At 60 ms a frame, the frames sent cover most of the time the button was held.
        if self.found["hold_frames_sent"] < int(self.args.wav_seconds / 0.06 * 0.8):
            raise CheckFailed(f"only {self.found['hold_frames_sent']} frames were sent for {self.args.wav_seconds:.1f} s of holding")
        self.wait_mic("idle", "after the answer")
        # Played out: the next press is not a barge-in.
        self.wait("the answer to finish playing", lambda: (self.mic_state() or [None, None, None])[2] == "false")
        self.screenshot("hold.png")
        self.check_console("push-to-talk")

    def toggle_and_barge_in(self):
        # Click to start, click to send.
        self.mic().click()
        self.wait_listening_then_speak("after clicking the microphone")
        state = self.mic_state()
        if state[1] != "toggle":
            raise CheckFailed(f"a click should toggle listening, the button says mode {state[1]!r}")
        played = self.stats()["framesPlayed"]
        self.mic().click()
        self.found["toggle_transcript"] = self.wait_turn(2, "after the second click")
        # Speak over the answer once its audio plays.
        self.wait("the second answer's audio to play", lambda: self.stats()["framesPlayed"] >= played + 3)
        aborts = self.stats()["aborts"]
        self.mic().click()
        state = self.mic_state()
        if state[2] != "false":
            raise CheckFailed(f"the answer still plays right after the barge-in click (#mic data-playing={state[2]!r})")
        self.wait("the barge-in to be counted", lambda: self.stats()["aborts"] > aborts)
        self.wait("the second answer to be marked interrupted", lambda: self.find('#messages .message.assistant.voice[data-interrupted="true"]'))
        # The interrupted answer is the latest one begun; its count of played frames must stay put,
        # even while the next utterance is heard and answered (auto listening ends it by itself).
        interrupted = len(self.stats()["answerFrames"]) - 1
        frozen = self.stats()["answerFrames"][interrupted]
        played_before = self.stats()["framesPlayed"]
        self.wait_listening_then_speak("listening after the barge-in")
        if self.stats()["answerFrames"][interrupted] != frozen:
            raise CheckFailed("frames of the interrupted answer were still played after the barge-in")
        self.mic().click()
        self.found["barge_in_transcript"] = self.wait_turn(3, "after the utterance that interrupted the answer")
        # The interrupted answer counts as the second (it is done, and marked interrupted).
        self.found["barge_in_answer"] = self.wait_answer_done(3, "after the utterance that interrupted the answer")
        self.wait("the third answer's audio to play", lambda: self.stats()["framesPlayed"] > played_before)
        self.found["voice_user_messages"] = len(self.voice_messages("user"))
        self.found["interrupted_answers"] = len(self.find('#messages .message.assistant.voice[data-interrupted="true"]'))
        self.screenshot("voice.png")
        self.check_console("toggle and barge-in")

    def speaker(self):
        button = self.find("#speaker")[0]
        if not button.is_displayed():
            raise CheckFailed("the speaker toggle is not shown")
        button.click()
        self.wait("#speaker[aria-pressed=true]", lambda: self.find('#speaker[aria-pressed="true"]'))
        clips = self.stats().get("clipsPlayed", 0)
        message_id = self.send(self.args.prompt)
        text, _ = self.watch_answer(message_id)
        self.found["typed_answer"] = text
        self.wait("the typed answer to be read aloud (a clip played)", lambda: self.stats().get("clipsPlayed", 0) > clips or self.error_text())
        if self.stats().get("clipsPlayed", 0) <= clips:
            raise CheckFailed(f"the typed answer was not read aloud: {self.error_text()}")
        self.found["clips_played"] = self.stats()["clipsPlayed"] - clips
        self.screenshot("speaker.png")
        self.check_console("the speaker")

    def refusals(self):
        self.open_page()
        self.wait_connected("after opening the page")
        self.wait("#mic to be enabled", lambda: self.mic().is_enabled())
        origin = self.args.url.split("/", 3)
        origin = origin[0] + "//" + origin[2]
        # No microphone permission.
        self.driver.execute_cdp_cmd("Browser.setPermission", {"origin": origin, "permission": {"name": "microphone"}, "setting": "denied"})
        self.mic().click()
        self.wait("a notice that the microphone is blocked", lambda: "microphone is blocked" in self.banner())
        self.found["denied_notice"] = self.banner()
        self.wait_mic("idle", "after the refused microphone")
        self.screenshot("denied.png")
        # The microphone allowed; the voice door wants a token the page does not have.
        self.driver.execute_cdp_cmd("Browser.setPermission", {"origin": origin, "permission": {"name": "microphone"}, "setting": "granted"})
        self.mic().click()
        self.wait("a notice that the voice connection was refused", lambda: "refused the voice connection" in self.banner())
        self.found["refused_notice"] = self.banner()
        self.wait_mic("idle", "after the refused connection")
        self.screenshot("refused.png")
        self.check_console("the refusals")

    def run(self):
        self.start()
        if self.args.refusal:
            self.refusals()
        else:
            self.open_and_connect()
            self.hold_to_talk()
            self.toggle_and_barge_in()
            self.speaker()
        self.found["stats"] = self.stats()
        self.found["screenshots"] = self.screenshots
        self.collect_console()
        self.found["console"] = [f"{e.get('level')} {e.get('message')}" for e in self.console]
        return self.found


def main():
    return run_main(VoiceRun(parse_args()), "voice_browser.py", findings_file=True)


if __name__ == "__main__":
    sys.exit(main())
