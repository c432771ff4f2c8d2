"""The seeds' load test: Locust users sending the items of the input file (weather tweets, or the
Black Friday sales of the second seed: the file's manifest names its domain and where its items go).

At start, the input file is pulled from the OCI registry as an artifact
(--artifact REF) or taken from a folder where it was pulled before
(--artifact-dir DIR, as the Kubernetes Job's init container leaves it), and
checked (artifact.verify): a file that is not what its manifest says, or a
registry that cannot be reached, stops the run with a message saying which.

Then the users (10 by default) take the file's items in order, each POSTed to
its resource (/tweets, /sales) once with its id as Idempotency-Key; a 503 is retried with the same
key (the API's contract: counted once), until the file is exhausted, and the
run ends by itself. What was accepted, retried and failed is written to
--results as JSON, for `npm run locust` to compare with GET /stats.

Run it with `npm run locust` (docs/loadtest.md); by hand:
  locust -f loadtest/locustfile.py --headless -u 10 -r 10 --host http://127.0.0.1:8080 \
         --artifact 127.0.0.1:15000/tweets/loadtest:10000-seed1 --plain-http
"""

import json
import logging
import os
import sys
import tempfile
import time

import gevent
from locust import HttpUser, constant, events, task
from locust.exception import StopUser

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import artifact  # noqa: E402

log = logging.getLogger("loadtest")

# The file's items (tweets, or Black Friday sales): (id, JSON body without the id), in order.
TWEETS = []
# Where they go: the dataset's resource (/tweets, /sales); /tweets for a dataset older than domains.
RESOURCE = {"path": "/tweets"}
DATASET = {}
STATE = {"next": 0, "in_flight": 0, "accepted": 0, "retried": 0, "failed": 0, "started": None, "ended": None, "statuses": {}}
# A 503 is retried, each time after a pause; past this many tries for one tweet, it counts as failed.
MAX_TRIES = 50


@events.init_command_line_parser.add_listener
def _options(parser):
    parser.add_argument("--artifact", env_var="LOADTEST_ARTIFACT", default="", help="the input file's OCI reference, pulled with oras at start")
    parser.add_argument("--artifact-dir", env_var="LOADTEST_DIR", default="", help="where the artifact is (or is pulled to)")
    parser.add_argument("--oras", env_var="LOADTEST_ORAS", default="oras", help="the oras binary")
    parser.add_argument("--registry-user", env_var="LOADTEST_REGISTRY_USER", default="")
    parser.add_argument("--registry-password", env_var="LOADTEST_REGISTRY_PASSWORD", default="", is_secret=True)
    parser.add_argument("--plain-http", env_var="LOADTEST_PLAIN_HTTP", action="store_true", default=False, help="the registry speaks HTTP (a loopback one)")
    parser.add_argument("--results", env_var="LOADTEST_RESULTS", default="", help="where to write accepted/retried/failed as JSON")
    parser.add_argument(
        "--id-prefix",
        env_var="LOADTEST_ID_PREFIX",
        default="",
        help="put before every id (a run's own name): the same file sent again within the dedup window counts again only with another prefix",
    )


@events.init.add_listener
def _load_input(environment, **_kwargs):
    o = environment.parsed_options
    if o is None:  # a library use without a command line
        return
    dest = o.artifact_dir or tempfile.mkdtemp(prefix="loadtest-")
    try:
        if o.artifact:
            artifact.pull(o.artifact, dest, oras=o.oras, user=o.registry_user, password=o.registry_password, plain_http=o.plain_http)
        dataset = artifact.verify(dest)
    except artifact.ArtifactError as e:
        sys.stderr.write(f"loadtest: refusing to start: {e}\n")
        sys.stderr.flush()
        os._exit(2)  # before any user starts; Locust's own shutdown would report an empty run
    DATASET.update(dataset)
    RESOURCE["path"] = dataset.get("resource", "/tweets")
    prefix = o.id_prefix
    with open(os.path.join(dest, artifact.FILE), "rb") as f:
        for line in f:
            t = json.loads(line)
            tid = prefix + t.pop("id")
            TWEETS.append((tid, json.dumps(t, separators=(",", ":"))))
    log.info(
        "input: %d %s items (seed %s, sha256 %s) from %s, to %s",
        len(TWEETS), dataset.get("domain", "weather"), dataset.get("seed"), dataset.get("sha256"), o.artifact or dest, RESOURCE["path"],
    )


def _finish_if_done(environment):
    if STATE["next"] >= len(TWEETS) and STATE["in_flight"] == 0 and STATE["ended"] is None:
        STATE["ended"] = time.time()
        if environment.runner is not None:
            gevent.spawn_later(0.1, environment.runner.quit)


@events.quitting.add_listener
def _write_results(environment, **_kwargs):
    o = environment.parsed_options
    ended = STATE["ended"] or time.time()
    results = {
        "count": len(TWEETS),
        "sent": STATE["next"],
        "accepted": STATE["accepted"],
        "retried": STATE["retried"],
        "failed": STATE["failed"],
        "statuses": STATE["statuses"],
        "seconds": round(ended - STATE["started"], 3) if STATE["started"] else 0,
        "dataset": DATASET,
    }
    if o is not None and o.results:
        with open(o.results, "w") as f:
            json.dump(results, f, indent=2)
    # one line, for whoever has only the log (a Job in a cluster: kubectl logs job/locust)
    log.info("results: %s", json.dumps(results, separators=(",", ":")))
    complete = results["accepted"] == results["count"] and results["failed"] == 0
    # 503s that were retried show as failures in Locust's table; the run passes when every tweet was accepted.
    environment.process_exit_code = 0 if complete else 1


class TweetUser(HttpUser):
    """Takes the next tweet of the file, sends it until it is accepted (retrying 503s), and so on."""

    wait_time = constant(0)

    @task
    def send_next(self):
        if STATE["next"] >= len(TWEETS):
            _finish_if_done(self.environment)
            raise StopUser()
        if STATE["started"] is None:
            STATE["started"] = time.time()
        tid, body = TWEETS[STATE["next"]]
        STATE["next"] += 1
        STATE["in_flight"] += 1
        try:
            self._send(tid, body)
        finally:
            STATE["in_flight"] -= 1
            _finish_if_done(self.environment)

    def _send(self, tid, body):
        headers = {"content-type": "application/json", "idempotency-key": tid}
        for attempt in range(1, MAX_TRIES + 1):
            path = RESOURCE["path"]
            with self.client.post(path, data=body, headers=headers, name=f"POST {path}", catch_response=True) as r:
                code = str(r.status_code)
                STATE["statuses"][code] = STATE["statuses"].get(code, 0) + 1
                if 200 <= r.status_code < 300:
                    r.success()
                    STATE["accepted"] += 1
                    return
                # 503: not (durably) accepted; 0: no answer at all. Either way the same key makes a retry safe.
                if r.status_code in (503, 0) and attempt < MAX_TRIES:
                    r.failure(f"{r.status_code}: retried with the same Idempotency-Key")
                    STATE["retried"] += 1
                    pause = r.headers.get("retry-after")
                    gevent.sleep(min(float(pause), 2.0) if pause and pause.isdigit() else 0.2)
                    continue
                r.failure(f"{r.status_code}: {r.text[:200]}")
                STATE["failed"] += 1
                return
