"""`make soak`: twenty members read and post at once for five minutes against
gunicorn on PostgreSQL, and nothing may go wrong.

A fresh database (grassroots_soak_<pid>, dropped at the end) is seeded with
load_seeds, generate_demo_data (SOAK_POSTS, 5,000 posts in 200 threads, one of them
hot) and one member per client. Gunicorn serves it under production settings
(bench/soak_settings.py lifts only the per-person rate limits) with 2 sync workers
on 127.0.0.1. Each client logs in through the login form, then loops: about 80% GETs
of the main pages (a tenth of them as a visitor, without cookies) and 20% writes
through the real forms, four replies to each new thread.

It fails (exit status 1) unless:
- every response is 2xx or 3xx, every page read is a 200 and every write a 302 to
  the new post (4xx and 5xx are counted separately in the summary);
- the posts in the database are exactly the initial ones plus the acknowledged
  writes: same count, and every acknowledged post is there with its text;
- worker memory is flat: no worker grew by more than SOAK_MAX_GROWTH_MB (20) over
  the second half of the run, none went over SOAK_MAX_RSS_MB (150), and no worker
  was replaced. Each worker's bounded caches (posts' fragments, query shapes,
  headers) fill over its first ten thousand or so requests: on a machine serving 67
  requests a second, that took 150 to 210 of the 300 s, so growth from 20% of the
  run on counted their filling (26 MB for code that then stayed flat for 90 s).

SOAK_SECONDS (300), SOAK_CLIENTS (20), SOAK_POSTS (5000), SOAK_POSTGRES_URL (postgres://postgres@127.0.0.1:5432)
and REDIS_URL (the cache, optional) change the run. A summary is printed and
written as JSON to bench/results/soak-<date>.json.
"""

import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import PYTHON, ROOT, environment, log, wait_for_port, worker_rss  # noqa: E402

PASSWORD = "soak-password-not-secret-1234"
WRITE_SHARE = 0.2
THREAD_SHARE = 0.2  # of the writes; the rest are replies
VISITOR_SHARE = 0.1  # of the reads
SAMPLE_SECONDS = 2
WORDS = (
    "allotment compost council budget library cycling lane river meadow orchard bakery "
    "market festival volunteer rota harvest bridge repair footpath school choir"
).split()
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
REPLY_LOCATION = re.compile(r"^/t/(\d+)/r/(\d+)/$")
THREAD_LOCATION = re.compile(r"^/t/(\d+)/([\w-]+)/$")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Config:
    seconds: int = int(os.environ.get("SOAK_SECONDS", "300"))
    clients: int = int(os.environ.get("SOAK_CLIENTS", "20"))
    posts: int = int(os.environ.get("SOAK_POSTS", "5000"))
    postgres: str = os.environ.get("SOAK_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
    redis: str = os.environ.get("REDIS_URL", "")
    max_growth_mb: float = float(os.environ.get("SOAK_MAX_GROWTH_MB", "20"))
    max_rss_mb: float = float(os.environ.get("SOAK_MAX_RSS_MB", "150"))
    port: int = int(os.environ.get("SOAK_PORT", "0")) or free_port()
    database: str = f"grassroots_soak_{os.getpid()}"


# --- the site under test ------------------------------------------------------


def site_environment(config: Config, static_root: str) -> dict:
    return environment(
        SimpleNamespace(database="postgres", posts=0, redis=config.redis),
        DATABASE_URL=f"{config.postgres}/{config.database}",
        DJANGO_SETTINGS_MODULE="bench.soak_settings",
        STATIC_ROOT=static_root,
        # Another soak or the test suite may share this Redis database.
        CACHE_KEY_PREFIX=f"soak{os.getpid()}",
        TASKS_BACKEND="immediate",
    )


def psql(config: Config, *statements: str) -> None:
    command = ["psql", f"{config.postgres}/postgres", "-q", "-v", "ON_ERROR_STOP=1"]
    for statement in statements:
        command += ["-c", statement]
    subprocess.run(command, check=True, env={**os.environ, "PGOPTIONS": "--client-min-messages=warning"})


SETUP = r"""
import json
from datetime import timedelta
from allauth.account.models import EmailAddress
from django.utils import timezone
from accounts.services import member_create
from forums.models import Forum, Post, Thread
from forums.permissions import check_forum_post_permission, check_reply_permission
from django.core.exceptions import PermissionDenied

members = []
for n in range(1, CLIENTS + 1):
    member = member_create(
        username=f"soak{n:02d}", email=f"soak{n:02d}@example.org", display_name=f"Soak {n}",
        password=PASSWORD, joined_at=timezone.now() - timedelta(days=30),
    )
    # As if they had confirmed their address: production requires it to log in.
    EmailAddress.objects.create(user=member, email=member.email, verified=True, primary=True)
    members.append(member)

def allowed(check, *args):
    try:
        check(members[0], *args)
    except PermissionDenied:
        return False
    return True

forums = [f.slug for f in Forum.objects.order_by("pk") if allowed(check_forum_post_permission, f)]
threads = [
    [t.pk, t.slug] for t in Thread.objects.select_related("forum").order_by("pk")
    if allowed(check_reply_permission, t)
]
print(json.dumps({
    "members": [m.username for m in members], "forums": forums, "threads": threads,
    "posts": Post.objects.count(),
}))
"""


def prepare(config: Config, env: dict) -> dict:
    psql(config, f"DROP DATABASE IF EXISTS {config.database}", f"CREATE DATABASE {config.database}")
    demo = ["generate_demo_data", "--posts", str(config.posts), "--threads", str(max(config.posts // 25, 1)),
            "--members", "100", "--hot-thread", str(config.posts // 10), "--seed", "1"]
    for command in (["migrate", "--noinput", "-v0"], ["load_seeds"], demo, ["collectstatic", "--noinput", "-v0"]):
        result = subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True)
        if result.returncode:
            raise SystemExit(f"manage.py {command[0]} failed:\n{result.stderr}")
    code = SETUP.replace("CLIENTS", str(config.clients)).replace("PASSWORD", repr(PASSWORD))
    result = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def posts_in_database(env: dict, acknowledged: list[tuple[int, int, str]]) -> dict:
    """The post count, and which acknowledged posts (thread, number, marker) are missing."""
    code = (
        "import json, sys; from forums.models import Post;"
        "wanted = json.loads(sys.stdin.read());"
        "bodies = {(t, n): body for t, n, body in Post.objects.filter(author__username__startswith='soak')"
        ".values_list('thread_id', 'number', 'body')};"
        "missing = [w for w in wanted if not bodies.get((w[0], w[1]), '').endswith(w[2])];"
        "print(json.dumps({'posts': Post.objects.count(), 'missing': missing}))"
    )
    result = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, check=True,
        input=json.dumps(acknowledged), capture_output=True, text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- the clients ----------------------------------------------------------------


@dataclass
class Outcome:
    requests: int = 0
    login_requests: int = 0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    acknowledged: list[tuple[int, int, str]] = field(default_factory=list)
    replies: int = 0
    threads: int = 0


class Member:
    """One client: a member with a cookie jar, reading and posting through the forms."""

    def __init__(self, username: str, port: int, site: "Site", outcome: Outcome, seed: int):
        self.username, self.port, self.site, self.outcome = username, port, site, outcome
        self.cookies: dict[str, str] = {}
        self.rng = random.Random(seed)
        self.sequence = 0

    def request(self, method: str, path: str, form: dict | None = None, *, visitor=False):
        headers = {"Host": "127.0.0.1"}
        if self.cookies and not visitor:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        began = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as error:
            self.outcome.requests += 1
            self.outcome.statuses["connection error"] = self.outcome.statuses.get("connection error", 0) + 1
            self.outcome.failures.append(f"{method} {path}: {error!r}")
            return None, "", ""
        finally:
            connection.close()
        self.outcome.requests += 1
        self.outcome.latencies.append(time.perf_counter() - began)
        status = response.status
        group = f"{status // 100}xx"
        self.outcome.statuses[group] = self.outcome.statuses.get(group, 0) + 1
        if status >= 400:
            self.outcome.failures.append(f"{method} {path} -> {status}")
        if not visitor:
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    if morsel.value:
                        self.cookies[name] = morsel.value
                    else:
                        self.cookies.pop(name, None)
        return status, response.headers.get("Location", ""), text

    def expect(self, ok: bool, what: str) -> bool:
        if not ok:
            self.outcome.failures.append(f"{self.username}: {what}")
        return ok

    def form(self, path: str) -> str | None:
        status, _, html = self.request("GET", path)
        match = CSRF.search(html)
        if self.expect(status == 200 and match is not None, f"GET {path} gave {status} without a form"):
            return match.group(1)
        return None

    def log_in(self) -> bool:
        token = self.form("/accounts/login/")
        if token is None:
            return False
        status, location, _ = self.request(
            "POST", "/accounts/login/", {"csrfmiddlewaretoken": token, "login": self.username, "password": PASSWORD}
        )
        return self.expect(status == 302 and "sessionid" in self.cookies, f"login gave {status} to {location!r}")

    def text(self) -> tuple[str, str]:
        self.sequence += 1
        marker = f"soak-{self.username}-{self.sequence}"
        words = " ".join(self.rng.choice(WORDS) for _ in range(self.rng.randint(8, 60)))
        body = f"{words.capitalize()}.\n\nSee [the notes](https://example.org/{self.sequence}).\n\n{marker}"
        return body, marker

    def reply(self):
        thread_pk, slug = self.site.thread(self.rng)
        token = self.form(f"/t/{thread_pk}/r/0/reply/")
        if token is None:
            return
        body, marker = self.text()
        status, location, _ = self.request(
            "POST", f"/t/{thread_pk}/r/0/reply/", {"csrfmiddlewaretoken": token, "body": body, "post": "1"}
        )
        match = REPLY_LOCATION.match(urlsplit(location).path)
        if self.expect(status == 302 and match and int(match.group(1)) == thread_pk,
                       f"reply to thread {thread_pk} gave {status} to {location!r}"):
            self.outcome.acknowledged.append((thread_pk, int(match.group(2)), marker))
            self.outcome.replies += 1

    def new_thread(self):
        forum = self.rng.choice(self.site.forums)
        token = self.form(f"/f/{forum}/new/")
        if token is None:
            return
        body, marker = self.text()
        title = f"{self.rng.choice(WORDS).title()} {self.rng.choice(WORDS)} ({marker})"
        status, location, _ = self.request(
            "POST", f"/f/{forum}/new/", {"csrfmiddlewaretoken": token, "title": title, "body": body, "post": "1"}
        )
        match = THREAD_LOCATION.match(urlsplit(location).path)
        if self.expect(status == 302 and match is not None, f"new thread in {forum} gave {status} to {location!r}"):
            self.outcome.acknowledged.append((int(match.group(1)), 0, marker))
            self.outcome.threads += 1
            self.site.add_thread(int(match.group(1)), match.group(2))

    def read(self):
        visitor = self.rng.random() < VISITOR_SHARE
        path = self.rng.choice(self.site.pages(self.rng, members_pages=not visitor))
        status, location, _ = self.request("GET", path, visitor=visitor)
        self.expect(status == 200, f"GET {path}{' as a visitor' if visitor else ''} gave {status} {location}")

    def run(self, start: threading.Barrier, clock: dict):
        """Log in, wait until every client has, then read and post until the deadline."""
        try:
            logged_in = self.log_in()
        finally:
            # Logging in is not part of the timed run (statuses still count it).
            self.outcome.login_requests, self.outcome.requests = self.outcome.requests, 0
            self.outcome.latencies.clear()
            start.wait()
        try:
            if not logged_in:
                return
            while time.monotonic() < clock["deadline"]:
                if self.rng.random() < WRITE_SHARE:
                    self.new_thread() if self.rng.random() < THREAD_SHARE else self.reply()
                else:
                    self.read()
        except Exception as error:  # a bug in the client must fail the soak, not vanish
            self.outcome.failures.append(f"{self.username}: client crashed: {error!r}")


class Site:
    """What the clients know of the site: forums, threads (new ones added as they are
    made) and members; shared by every client thread."""

    def __init__(self, prepared: dict):
        self.forums = prepared["forums"]
        self.members = prepared["members"]
        self._threads = [tuple(pair) for pair in prepared["threads"]]
        self._lock = threading.Lock()

    def thread(self, rng) -> tuple[int, str]:
        with self._lock:
            # Recent threads get most replies, as on a real forum.
            if rng.random() < 0.5:
                return rng.choice(self._threads[-10:])
            return rng.choice(self._threads)

    def add_thread(self, pk: int, slug: str):
        with self._lock:
            self._threads.append((pk, slug))

    def pages(self, rng, *, members_pages: bool) -> list[str]:
        """The main pages, threads and forums weighted double."""
        pk, slug = self.thread(rng)
        forum = rng.choice(self.forums)
        pages = [
            "/", "/forums/", f"/f/{forum}/", f"/f/{forum}/", f"/t/{pk}/{slug}/", f"/t/{pk}/{slug}/",
            f"/t/{pk}/{slug}/all/", "/latest/", "/greatest/", f"/search/?q={rng.choice(WORDS)}",
            f"/members/{rng.choice(self.members)}/",
        ]
        if members_pages:
            pages += ["/my/posts/", "/notifications/", "/messages/"]
        return pages


# --- the run ----------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000 if ordered else 0.0


def run_clients(config: Config, prepared: dict, server: subprocess.Popen):
    """Run the clients until the deadline, sampling worker memory meanwhile."""
    site = Site(prepared)
    outcomes = [Outcome() for _ in prepared["members"]]
    clients = [
        Member(username, config.port, site, outcome, seed=n)
        for n, (username, outcome) in enumerate(zip(prepared["members"], outcomes))
    ]
    # The clock starts once everyone has logged in (the password hash is slow on
    # purpose), so that the run and its memory samples are all reading and posting.
    clock = {}

    def start_clock():
        clock["began"] = time.monotonic()
        clock["deadline"] = clock["began"] + config.seconds

    start = threading.Barrier(len(clients) + 1, action=start_clock)
    threads = [threading.Thread(target=client.run, args=(start, clock)) for client in clients]
    for thread in threads:
        thread.start()
    start.wait()
    began = clock["began"]
    samples: list[tuple[float, dict[int, float]]] = []
    next_report = 30
    while any(thread.is_alive() for thread in threads):
        samples.append((time.monotonic() - began, worker_rss(server.pid)))
        if samples[-1][0] >= next_report:
            next_report += 30
            log(f"  {samples[-1][0]:4.0f} s: {sum(o.requests for o in outcomes)} requests, worker RSS "
                + ", ".join(f"{mb:.0f} MB" for mb in samples[-1][1].values()))
        time.sleep(SAMPLE_SECONDS)
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    samples.append((elapsed, worker_rss(server.pid)))
    return outcomes, samples, elapsed


def main() -> int:
    config = Config()
    if not shutil.which("psql"):
        raise SystemExit("make soak needs psql and a PostgreSQL server (SOAK_POSTGRES_URL).")
    static_root = tempfile.mkdtemp(prefix="grassroots-soak-static-")
    error_log = Path(tempfile.mkstemp(prefix="grassroots-soak-", suffix=".log")[1])
    env = site_environment(config, static_root)
    server = None
    try:
        log(f"Preparing {config.database}: seeds, {config.posts:,} posts and {config.clients} members...")
        prepared = prepare(config, env)
        with error_log.open("w") as errors:
            server = subprocess.Popen(
                [PYTHON, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{config.port}",
                 "--workers", "2", "--worker-class", "sync", "--timeout", "30", "--max-requests", "0",
                 "--error-logfile", "-", "--log-level", "warning"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=errors,
            )
        wait_for_port(config.port)
        deadline = time.monotonic() + 60
        while len(worker_rss(server.pid)) < 2:
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"gunicorn did not start its workers; see {error_log}")
            time.sleep(0.2)
        log(f"Soaking for {config.seconds} s with {config.clients} clients on 127.0.0.1:{config.port}...")
        outcomes, samples, elapsed = run_clients(config, prepared, server)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        acknowledged = [item for outcome in outcomes for item in outcome.acknowledged]
        database = posts_in_database(env, acknowledged)
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        shutil.rmtree(static_root, ignore_errors=True)
        psql(config, f"DROP DATABASE IF EXISTS {config.database} WITH (FORCE)")
    return report(config, prepared["posts"], outcomes, samples, elapsed, acknowledged, database, error_log)


def report(config, initial_posts, outcomes, samples, elapsed, acknowledged, database, error_log) -> int:
    """Print the summary, write it as JSON, and say whether the soak passed."""
    # Memory: each worker's growth from the first sample after half the run to the end
    # (the module's docstring says why not earlier).
    pids = set(samples[0][1])
    replaced = any(set(rss) != pids for _, rss in samples)
    settled = next(rss for when, rss in samples if when >= elapsed * 0.5)
    end = samples[-1][1]
    growth = max((end.get(pid, 0) - settled.get(pid, 0) for pid in pids), default=0.0)
    peak = max((mb for _, rss in samples for mb in rss.values()), default=0.0)
    start_rss = max(samples[0][1].values(), default=0.0)

    latencies = [value for outcome in outcomes for value in outcome.latencies]
    statuses: dict[str, int] = {}
    for outcome in outcomes:
        for group, count in outcome.statuses.items():
            statuses[group] = statuses.get(group, 0) + count
    failures = [failure for outcome in outcomes for failure in outcome.failures]
    requests = sum(outcome.requests for outcome in outcomes)
    writes = len(acknowledged)
    expected_posts = initial_posts + writes

    problems = []
    if failures:
        problems.append(f"{len(failures)} failed requests or checks, e.g. {failures[:5]}")
    if database["posts"] != expected_posts:
        problems.append(f"{database['posts']} posts in the database, expected {initial_posts} + {writes}")
    if database["missing"]:
        problems.append(f"{len(database['missing'])} acknowledged posts are missing, e.g. {database['missing'][:5]}")
    if replaced:
        problems.append("a gunicorn worker was replaced during the run (crash or timeout)")
    if growth > config.max_growth_mb:
        problems.append(f"a worker grew by {growth:.1f} MB over the second half of the run")
    if peak > config.max_rss_mb:
        problems.append(f"a worker reached {peak:.0f} MB RSS")
    if writes == 0:
        problems.append("no write was acknowledged")

    summary = {
        "database": "postgresql", "cache": "redis" if config.redis else "local memory",
        "clients": config.clients, "seconds": round(elapsed, 1), "workers": 2,
        "requests": requests, "login_requests": sum(o.login_requests for o in outcomes),
        "requests_per_second": round(requests / elapsed, 1),
        "statuses": statuses, "p50_ms": round(percentile(latencies, 0.5), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "writes": {"acknowledged": writes, "replies": sum(o.replies for o in outcomes),
                   "threads": sum(o.threads for o in outcomes)},
        "posts": {"initial": initial_posts, "final": database["posts"], "missing": len(database["missing"])},
        "worker_rss_mb": {"start": round(start_rss, 1), "end": round(max(end.values(), default=0), 1),
                          "max": round(peak, 1), "growth_second_half": round(growth, 1)},
        "load_average": os.getloadavg(),
        "problems": problems,
    }
    print(f"\nGrassroots soak: {config.clients} clients for {elapsed:.0f} s against 2 sync gunicorn workers "
          f"on PostgreSQL ({summary['cache']} cache)")
    print(f"requests  {requests} ({summary['requests_per_second']} req/s, after {summary['login_requests']} to log in); "
          "by status "
          + ", ".join(f"{group} {count}" for group, count in sorted(statuses.items())))
    print(f"latency   p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms")
    print(f"writes    {writes} acknowledged ({summary['writes']['replies']} replies, "
          f"{summary['writes']['threads']} threads); posts {initial_posts} -> {database['posts']}")
    print(f"memory    worker RSS start {start_rss:.0f} MB, end {summary['worker_rss_mb']['end']:.0f} MB, "
          f"max {peak:.0f} MB, growth over the second half {growth:.1f} MB")
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    out = results / f"soak-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(summary, indent=2))
    print(f"Results written to {out.relative_to(ROOT)}")
    if problems:
        print("\nSOAK FAILED:\n- " + "\n- ".join(problems), file=sys.stderr)
        tail = error_log.read_text().splitlines()[-40:]
        if tail:
            print("Last lines of the gunicorn error log:\n" + "\n".join(tail), file=sys.stderr)
        return 1
    error_log.unlink(missing_ok=True)
    print("Soak passed: no errors, no lost posts, flat worker memory.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
