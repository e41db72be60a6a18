#!/usr/bin/env python3
"""The dashboard in a real headless chromium (selenium WebDriver) against a
real `txflow run` daemon with a real schedule file.

usage: dashboard_browser_test.py TXFLOW_BINARY SCHEDULE_FILE SCREENSHOT_DIR

Exit 0: passed; 1: failed; 77: skipped (no chromium/chromedriver/selenium,
outside CI only: under CI=true a missing browser is a failure).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

SKIP = 77
TOKEN = "browser-test-token"
TIMEOUT = 20  # seconds, for every wait


def skip_or_fail(why):
    if os.environ.get("CI") == "true":
        print(f"FAIL (CI=true, cannot skip): {why}")
        sys.exit(1)
    print(f"SKIP: {why}")
    sys.exit(SKIP)


try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
except ImportError:
    # Debian's python3-selenium lives in /usr/bin/python3's path; a pyenv python lacks it.
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    skip_or_fail("python3-selenium is not installed")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(base, path, method="GET", token=TOKEN, csrf=None, body=None):
    req = urllib.request.Request(base + path, method=method, data=body)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if csrf:
        req.add_header("X-CSRF-Token", csrf)
    try:
        with urllib.request.urlopen(req, timeout=5) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def wait_for(what, predicate, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as e:  # a page still loading, a daemon still starting
            last = e
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"ok - {what}")


class Daemon:
    def __init__(self, binary, schedule, *flags):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([binary, "run", schedule, "--http", f"127.0.0.1:{self.port}",
                                      "--http-token", TOKEN, "--for", "120s", *flags],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        wait_for("the daemon's API", lambda: self.proc.poll() is None and request(self.base, "/api/v1/session")[0] == 200)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        skip_or_fail("chromium or chromedriver is not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(TIMEOUT)
    driver.set_script_timeout(TIMEOUT)
    return driver


def main():
    binary, schedule, shots = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(shots, exist_ok=True)
    driver = browser()
    daemons = []
    try:
        d = Daemon(binary, schedule)
        daemons.append(d)
        status, body = request(d.base, "/api/v1/jobs", token=None)
        check(status == 401 and "authentication" in body["error"], "a request without the token is refused (401)")
        check(request(d.base, "/api/v1/jobs", token="wrong")[0] == 401, "a wrong token is refused (401)")

        def shot(name):
            path = os.path.join(shots, f"dashboard_{name}.png")
            driver.save_screenshot(path)
            print(f"screenshot {path}")

        # Jobs page: every job with its next fires.
        driver.get(f"{d.base}/?token={TOKEN}#/jobs")
        nightly = 'tr[data-job="nightly-report"]'
        wait_for("five next fires", lambda: len(driver.find_element(By.CSS_SELECTOR, nightly + " td.fires").text.splitlines()) == 5)
        check(True, "the jobs page shows the next 5 fires")
        row_text = wait_for("the nightly-report row", lambda: driver.find_element(By.CSS_SELECTOR, nightly).text)
        check("At 02:30" in row_text and "Europe/Berlin" in row_text, "the jobs page describes the cron schedule and zone")
        names = wait_for("the job names", lambda: [e.text for e in driver.find_elements(By.CSS_SELECTOR, "a.job-name")])
        check(names == ["nightly-report", "order", "settle", "slow", "tick"], f"the jobs page lists the jobs: {names}")
        shot("jobs")

        # Pause from the page: the API sees it.
        wait_for("a click on pause", lambda: driver.find_element(By.ID, "pause-tick").click() or True)
        wait_for("tick paused in the API", lambda: request(d.base, "/api/v1/jobs/tick")[1]["paused"])
        check(True, "clicking pause changes the job's state in the API")
        wait_for("the resume button", lambda: driver.find_element(By.ID, "resume-tick"))

        # A saga that fails at its last step and compensates the others.
        csrf = request(d.base, "/api/v1/session")[1]["csrf_token"]
        check(request(d.base, "/api/v1/jobs/order/trigger", "POST", csrf=None, body=b"")[0] == 403,
              "an action without the CSRF token is refused (403)")
        check(request(d.base, "/api/v1/jobs/order/trigger", "POST", csrf=csrf, body=b"")[0] == 200, "trigger the saga job")
        saga = wait_for("a compensated saga",
                        lambda: request(d.base, "/api/v1/sagas?state=compensated")[1]["sagas"])[0]
        driver.get(f"{d.base}/#/sagas")
        wait_for("the saga link", lambda: driver.find_element(By.CSS_SELECTOR, "a.saga-id"))
        shot("sagas")
        wait_for("a click on the saga", lambda: driver.find_element(By.CSS_SELECTOR, "a.saga-id").click() or True)
        order = wait_for("the compensations", lambda: [li.text.split(" ")[0] for li in
                         driver.find_elements(By.CSS_SELECTOR, "#compensations li.compensation")])
        check(order == ["charge", "reserve"], f"the saga's steps are undone in reverse order: {order}")
        states = wait_for("the step states", lambda: [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#steps-table .step-state")])
        check(states == ["compensated", "compensated", "failed"], f"the step table shows each step's state: {states}")
        check(saga["id"] in wait_for("the title", lambda: driver.find_element(By.TAG_NAME, "h1").text), "the saga page names the saga")
        shot("saga")

        # Cancel one run from the job's page: the slow job's run ends `cancelled`.
        check(request(d.base, "/api/v1/jobs/slow/trigger", "POST", csrf=csrf, body=b"")[0] == 200, "trigger the slow job")
        driver.get(f"{d.base}/#/jobs/slow")
        cancel = wait_for("the run's cancel button",
                          lambda: driver.find_element(By.CSS_SELECTOR, 'button[id^="cancel-run-"]'))
        shot("job_running")
        cancel.click()
        wait_for("the run cancelled in the API",
                 lambda: request(d.base, "/api/v1/jobs/slow")[1]["runs"][0]["outcome"] == "cancelled")
        check(True, "clicking cancel on a running run cancels it (outcome cancelled in the API)")
        wait_for("the cancelled run on the page", lambda: driver.find_element(By.CSS_SELECTOR, "#runs-table td.cancelled"))
        shot("job_cancelled")

        # An atomic transaction whose second participant votes no: aborted, both participants told.
        check(request(d.base, "/api/v1/jobs/settle/trigger", "POST", csrf=csrf, body=b"")[0] == 200,
              "trigger the transaction job")
        wait_for("an aborted transaction", lambda: request(d.base, "/api/v1/transactions?state=aborted")[1]["transactions"])
        driver.get(f"{d.base}/#/transactions")
        wait_for("the transaction link", lambda: driver.find_element(By.CSS_SELECTOR, "a.txn-id"))
        shot("transactions")
        wait_for("a click on the transaction", lambda: driver.find_element(By.CSS_SELECTOR, "a.txn-id").click() or True)
        participants = wait_for("the participants", lambda: [
            (r.get_attribute("data-participant"), r.find_element(By.CSS_SELECTOR, ".participant-state").text)
            for r in driver.find_elements(By.CSS_SELECTOR, "#participants-table tr.participant")] or None)
        check([name for name, _ in participants] == ["bank-a", "bank-b"], f"the transaction page lists its participants: {participants}")
        wait_for("both participants aborted", lambda: all(
            e.text == "aborted" for e in driver.find_elements(By.CSS_SELECTOR, "#participants-table .participant-state")))
        check("aborted" in driver.find_element(By.ID, "txn-state-label").text, "the transaction shows aborted")
        shot("transaction")

        for page, marker in (("overview", "hour-chart"), ("timeline", "gantt"), ("queues", "queues-table"),
                             ("breakers", "breakers-table"), ("dead-letters", "dead-table"), ("cluster", "cluster-off")):
            driver.get(f"{d.base}/#/{page}")
            wait_for(f"the {page} page", lambda: driver.find_element(By.ID, marker))
            shot(page)
        check(True, "every page renders")
        d.stop()

        # Read-only: no action buttons, and the API refuses actions.
        ro = Daemon(binary, schedule, "--read-only")
        daemons.append(ro)
        driver.get(f"{ro.base}/?token={TOKEN}#/jobs")
        wait_for("the jobs table", lambda: driver.find_element(By.CSS_SELECTOR, 'tr[data-job="tick"]'))
        wait_for("the read-only label", lambda: driver.find_element(By.ID, "mode").text == "read-only")
        check(driver.find_elements(By.CSS_SELECTOR, "button.action") == [], "read-only mode hides the actions")
        csrf = request(ro.base, "/api/v1/session")[1]["csrf_token"]
        status, body = request(ro.base, "/api/v1/jobs/tick/pause", "POST", csrf=csrf, body=b"")
        check(status == 403 and "read-only" in body["error"], "read-only mode refuses actions (403)")
        check(not request(ro.base, "/api/v1/jobs/tick")[1]["paused"], "the job stayed active")
        shot("read_only")
    finally:
        driver.quit()
        for d in daemons:
            d.stop()
    print("PASS")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAIL: {e}")
        sys.exit(1)
