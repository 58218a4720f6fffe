# SPDX-License-Identifier: Apache-2.0
"""Drives the hub's admin dashboard (/admin) in headless Chromium, as an operator would.

Usage:
  admin_browser.py --url http://127.0.0.1:PORT/admin --screenshot-dir DIR --key KEY --bot SELF_ID
                   --markup '<img src=x onerror=window.__hubXSS=1>' [--markup ...]

Steps: the key form is shown; a wrong key is refused with a message and the form stays; the right
key opens the dashboard, which shows the connected bot with its heartbeat, provider rows, the usage
chart (an SVG with at least one series, axes, a legend and a title per point), the lanes and an
error row; every --markup text shows literally and none of it became an element or ran; a reload
keeps the key for the tab; the dashboard fits a phone's width; "Forget key" shows the form again.
Screenshots: key-refused.png, dashboard.png (the whole page), chart.png, errors.png, and at a phone's
width mobile.png, mobile-chart.png and mobile-full.png.
Prints one JSON line of findings and exits 0; on a failed check prints what went wrong, saves
DIR/failure.png and DIR/console.log, and exits 1. A severe console message fails the run, except the
expected refusals (401/403) of /admin/* while the key is wrong.
"""
import argparse
import os
import sys
import time

from selenium.webdriver.common.by import By

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from web_browser import CheckFailed, Run, run_main  # noqa: E402

INJECTED = "#dashboard img, #dashboard script, #dashboard iframe, #dashboard object, #dashboard embed, #dashboard foreignObject"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True)
    ap.add_argument("--screenshot-dir", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--bot", required=True, help="self_id of a bot that is connected and sent a heartbeat")
    ap.add_argument("--markup", action="append", default=[], help="text that must show literally somewhere on the dashboard")
    ap.add_argument("--allow-console-errors", action="store_true")
    return ap.parse_args()


class AdminRun(Run):
    def severe_console(self):
        bad = []
        for entry in self.console:
            if entry.get("level") != "SEVERE":
                continue
            message = entry.get("message", "")
            if "/admin/" in message and ("401" in message or "403" in message):
                continue  # the wrong key, on purpose
            bad.append(message)
        return bad

    def refreshes(self):
        return int(self.js("return Number(document.getElementById('dashboard').dataset.refreshes || 0)"))

    def wait_refresh(self, step, after=0):
        self.wait(f"{step}: the dashboard to refresh (#dashboard[data-refreshes] > {after})", lambda: self.refreshes() > after)

    def form_shown(self):
        form = self.find("#key-form")
        return bool(form) and form[0].is_displayed()

    def enter_key(self, key):
        field = self.find("#key-input")[0]
        field.clear()
        field.send_keys(key)
        self.find("#key-submit")[0].click()

    # ------------------------------------------------------------------ steps

    def refused_key(self):
        self.open_page()
        self.wait("the key form (#key-form)", self.form_shown)
        if self.find("#dashboard")[0].is_displayed():
            raise CheckFailed("the dashboard is shown before a key was given")
        self.enter_key("not-the-key")
        self.wait(
            "the refusal message in the key form",
            lambda: self.form_shown() and "refused" in self.find("#key-message")[0].text,
        )
        self.found["refusal"] = self.find("#key-message")[0].text
        if self.js("return sessionStorage.getItem('hub.admin_key')"):
            raise CheckFailed("a refused key was kept in sessionStorage")
        self.screenshot("key-refused.png")
        self.collect_console()

    def open_dashboard(self):
        self.enter_key(self.args.key)
        self.wait("the dashboard after the right key", lambda: self.find("#dashboard")[0].is_displayed())
        self.wait_refresh("after the key")
        if self.form_shown():
            raise CheckFailed("the key form is still shown with the right key")
        if self.js("return sessionStorage.getItem('hub.admin_key')") != self.args.key:
            raise CheckFailed("the key is not kept in sessionStorage for the tab")
        if self.js("return localStorage.getItem('hub.admin_key')"):
            raise CheckFailed("the key went to localStorage (it must stay in the tab)")
        self.found["status"] = self.find("#status")[0].text
        self.check_console("opening the dashboard")

    def bots(self):
        selector = f'#bots tbody tr[data-self-id="{self.args.bot}"][data-connected="true"]'
        self.wait(f"the connected bot {self.args.bot}", lambda: self.find(selector))
        self.wait("its heartbeat", lambda: self.find(selector + " td[data-heartbeat]") and self.find(selector + " td[data-heartbeat]")[0].get_attribute("data-heartbeat"))
        row = self.find(selector)[0]
        cells = [c.text for c in row.find_elements(By.CSS_SELECTOR, "td")]
        self.found["bot_row"] = cells
        if "universal" not in cells[1]:
            raise CheckFailed(f"the bot's connection kind is not shown: {cells}")
        if "connected" not in cells[1]:
            raise CheckFailed(f"the time the bot connected is not shown: {cells}")
        if "ago" not in cells[2] and "just now" not in cells[2]:
            raise CheckFailed(f"the bot's last heartbeat is not shown: {cells}")
        outboxes = self.js("return Array.from(document.querySelectorAll('#bots td[data-outbox]')).map(td => Number(td.dataset.outbox))")
        self.found["outbox_counts"] = outboxes

    def providers(self):
        self.wait("provider rows", lambda: self.find('#providers tbody tr[data-kind="llm"]'))
        rows = self.find("#providers tbody tr")
        self.found["provider_rows"] = len(rows)
        self.found["provider_kinds"] = sorted({r.get_attribute("data-kind") for r in rows})
        self.found["provider_breakers"] = [r.find_elements(By.CSS_SELECTOR, "td")[3].text for r in rows]

    def chart(self):
        self.wait("the usage chart with a series", lambda: self.find("#usage-chart svg g.series circle"))
        summary = self.js(
            """
            const svg = document.querySelector('#usage-chart svg');
            const series = Array.from(svg.querySelectorAll('g.series'));
            return {
              series: series.map(g => g.getAttribute('data-series')),
              points: svg.querySelectorAll('g.series circle').length,
              point_titles: Array.from(svg.querySelectorAll('g.series circle > title')).filter(t => t.textContent.includes('requests')).length,
              axis_labels: svg.querySelectorAll(':scope > text').length,
              legend: Array.from(document.querySelectorAll('#usage-legend li')).map(li => li.textContent),
              totals: document.querySelectorAll('#usage-totals tbody tr').length,
              width: svg.getBoundingClientRect().width,
            };
            """
        )
        if summary["points"] == 0 or summary["point_titles"] != summary["points"]:
            raise CheckFailed(f"the chart's points lack a title each: {summary}")
        if summary["axis_labels"] < 4:
            raise CheckFailed(f"the chart has no axes labels: {summary}")
        if len(summary["legend"]) != len(summary["series"]):
            raise CheckFailed(f"the legend does not name every series: {summary}")
        self.found["chart"] = summary
        # Another measure redraws from the same data.
        self.js("const m = document.getElementById('usage-metric'); m.value = 'tokens'; m.dispatchEvent(new Event('change'))")
        self.wait("the chart in tokens", lambda: "tokens" in (self.js("return document.querySelector('#usage-chart svg').getAttribute('aria-label')") or ""))
        self.js("const m = document.getElementById('usage-metric'); m.value = 'requests'; m.dispatchEvent(new Event('change'))")
        card = self.find("#usage-card")[0]
        self.driver.execute_script("arguments[0].scrollIntoView()", card)
        card.screenshot(os.path.join(self.dir, "chart.png"))
        self.screenshots.append(os.path.join(self.dir, "chart.png"))

    def lanes(self):
        self.wait("the realtime lane", lambda: self.find('#lanes tbody tr[data-lane="realtime"]'))
        self.found["lanes"] = [r.get_attribute("data-lane") for r in self.find("#lanes tbody tr")]
        self.found["queues"] = [e.text for e in self.find("#queues dt")]

    def errors(self):
        self.wait("an error row", lambda: self.find("#errors tbody tr"))
        rows = self.find("#errors tbody tr")
        self.found["error_rows"] = len(rows)
        self.found["error_levels"] = sorted({r.get_attribute("data-level") for r in rows})
        card = self.find("#errors-card")[0]
        self.driver.execute_script("arguments[0].scrollIntoView()", card)
        card.screenshot(os.path.join(self.dir, "errors.png"))
        self.screenshots.append(os.path.join(self.dir, "errors.png"))

    def xss(self):
        text = self.js("return document.getElementById('dashboard').innerText")
        shown = {}
        for marker in self.args.markup:
            # The wait gives the errors table and the chart time to include the latest traffic.
            self.wait(f"the markup {marker!r} shown as text", lambda: marker in self.js("return document.getElementById('dashboard').innerText"))
            shown[marker] = True
        flag = self.js("return window.__hubXSS")
        if flag is not None:
            raise CheckFailed(f"markup on the dashboard ran: window.__hubXSS is {flag!r}")
        injected = self.find(INJECTED)
        if injected:
            raise CheckFailed(f"markup became {len(injected)} element(s): {[e.tag_name for e in injected]}")
        self.found["xss_shown_as_text"] = all(shown.values()) and len(shown) == len(self.args.markup)
        self.found["dashboard_text_length"] = len(text)

    def whole_page(self):
        self.driver.execute_script("window.scrollTo(0, 0)")
        height = self.js("return Math.ceil(document.documentElement.scrollHeight)")
        self.driver.set_window_size(1280, min(max(900, height + 40), 4000))
        time.sleep(0.3)
        self.screenshot("dashboard.png")
        self.driver.set_window_size(1200, 900)

    def reload_keeps_key(self):
        before = self.refreshes()
        self.driver.refresh()
        self.wait("the dashboard after a reload", lambda: self.find("#dashboard")[0].is_displayed())
        if self.form_shown():
            raise CheckFailed("the key form came back after a reload: the key is not kept for the tab")
        self.wait_refresh("after the reload")
        self.found["reload_kept_key"] = True
        self.found["refreshes_before_reload"] = before
        # And it keeps refreshing by itself.
        count = self.refreshes()
        self.wait("an automatic refresh", lambda: self.refreshes() > count, timeout=15)
        self.check_console("reloading")

    def mobile(self):
        self.driver.set_window_size(390, 844)
        time.sleep(0.4)
        overflow = self.js("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        self.found["mobile_overflow_px"] = overflow
        if overflow > 2:
            raise CheckFailed(f"the dashboard is wider than a phone's screen by {overflow} px")
        chart_width = self.js("return document.querySelector('#usage-chart svg').getBoundingClientRect().width")
        if chart_width > 390:
            raise CheckFailed(f"the chart does not shrink to the screen: {chart_width} px")
        self.driver.execute_script("window.scrollTo(0, 0)")
        self.screenshot("mobile.png")
        card = self.find("#usage-card")[0]
        self.driver.execute_script("arguments[0].scrollIntoView()", card)
        time.sleep(0.2)
        card.screenshot(os.path.join(self.dir, "mobile-chart.png"))
        self.screenshots.append(os.path.join(self.dir, "mobile-chart.png"))
        # The whole page at that width.
        height = self.js("return Math.ceil(document.documentElement.scrollHeight)")
        self.driver.set_window_size(390, min(max(844, height + 40), 6000))
        time.sleep(0.3)
        self.screenshot("mobile-full.png")
        self.driver.set_window_size(1200, 900)

    def forget_key(self):
        self.find("#sign-out")[0].click()
        self.wait("the key form after Forget key", self.form_shown)
        if self.js("return sessionStorage.getItem('hub.admin_key')"):
            raise CheckFailed("Forget key left the key in sessionStorage")
        self.found["forgot_key"] = True

    def run(self):
        self.start()
        self.refused_key()
        self.open_dashboard()
        self.bots()
        self.providers()
        self.lanes()
        self.xss()
        self.chart()
        self.errors()
        self.whole_page()
        self.reload_keeps_key()
        self.mobile()
        self.forget_key()
        self.check_console("the end")
        self.found["screenshots"] = self.screenshots
        return self.found


def main():
    return run_main(AdminRun(parse_args()), "admin_browser.py")


if __name__ == "__main__":
    sys.exit(main())
