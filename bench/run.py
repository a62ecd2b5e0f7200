"""`make bench`: build (or reuse) a large data set, serve it with gunicorn under
production settings, and measure every main page for a visitor and for a member.

For each page: requests per second and p50/p99 latency at 8 connections (wrk), and
SQL queries and response bytes (one request through Django's test client). Two bare
Django views under the same server, measured in the same run, are the ceilings the
pages are compared with ("x ceil"): for visitors a view that does nothing (no
database, no template), for members one that loads the session and the member like
every logged-in page and does nothing else (bench/urls.py).
Results print as a table and are written as JSON under bench/results/.

More modes, alone or together:
  --no-page-cache  visitors' pages are rendered for every request (the page cache off),
                   which is what a visitor gets on a cache miss, the first request after
                   a write that changed the page.
  --no-view-counts thread views are not counted (forums.view_counts' middleware is left
                   out), to compare visitors' throughput with and without counting.
  --no-template    every page is answered with an empty body instead of its template
                   (bench/urls.py): what the page costs before it renders or sends
                   anything, more than faster rendering could ever gain.
  --writes         a member posts a reply every --write-interval seconds (default 1),
                   through the reply form over HTTP like a browser, to one of the 100
                   most recently active threads, while every page is measured; then
                   visitors read a mix of about 500 pages (lists, forums, threads,
                   profiles) at random. Prints the share of visitors' requests served
                   from the cache (hit %) beside each page and for the mix. Needs a
                   cache every gunicorn worker shares (--redis); the replies stay in
                   the data set (a few hundred per run; --rebuild starts afresh).
"""

import argparse
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
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PORT = 8765
SECRET = "benchmark-only-secret-key-" + "x" * 40


def log(message):
    print(message, file=sys.stderr, flush=True)


def database_url(args) -> str:
    if args.database == "postgres":
        base = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
        return f"{base}/grassroots_bench_{args.posts}"
    return f"sqlite:///{ROOT / 'bench' / 'data' / f'bench-{args.posts}.sqlite3'}"


def environment(args, **extra) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(args),
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_ENV": "production",
        "SECRET_KEY": SECRET,
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "false",
        "DEBUG": "false",
        "LOG_LEVEL": "ERROR",
        "PYTHONPATH": str(ROOT),
    }
    if args.redis:
        env["REDIS_URL"] = args.redis
    else:
        env.pop("REDIS_URL", None)
    # A mode its caller does not name is the site as it runs: the soak names none.
    if not getattr(args, "page_cache", True):
        env["FORUMS_PAGE_CACHE_SECONDS"] = "0"
    env["BENCH_VIEW_COUNTS"] = "on" if getattr(args, "view_counts", True) else "off"
    env["BENCH_TEMPLATES"] = "on" if getattr(args, "templates", True) else "off"
    env.update(extra)
    return env


def manage(args, *command):
    subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, env=environment(args), check=True)


def ensure_data(args):
    """Generate the data set once; later runs reuse it (unless --rebuild)."""
    marker = ROOT / "bench" / "data" / f"{args.database}-{args.posts}.ready"
    marker.parent.mkdir(parents=True, exist_ok=True)
    if marker.exists() and not args.rebuild:
        log(f"Reusing the {args.posts:,}-post data set ({args.database}).")
        manage(args, "migrate", "--noinput", "-v0")  # the code may have new indexes
        return
    if args.database == "postgres":
        name = database_url(args).rsplit("/", 1)[1]
        admin = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432") + "/postgres"
        subprocess.run(["psql", admin, "-q", "-c", f"DROP DATABASE IF EXISTS {name}", "-c", f"CREATE DATABASE {name}"], check=True)
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(database_url(args).removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    log(f"Generating {args.posts:,} posts ({args.database}); this takes a few minutes...")
    started = time.monotonic()
    manage(args, "migrate", "--noinput", "-v0")
    manage(
        args, "generate_demo_data", "--posts", str(args.posts), "--threads", str(max(args.posts // 25, 1)),
        "--members", str(max(args.posts // 500, 100)), "--hot-thread", "5000", "--seed", "1",
    )
    if args.database == "postgres":
        # What autovacuum does to a live database, which a server with it turned off (or
        # not yet around to it) has not done: the planner's statistics, and the
        # visibility map that lets a deep page's index-only scan skip the table (a
        # thread page 156 read 31,000 rows from the table without it: 66 ms).
        subprocess.run(["psql", database_url(args), "-q", "-c", "VACUUM ANALYZE"], check=True)
    log(f"Data set ready in {time.monotonic() - started:.0f} s.")
    marker.write_text(str(args.posts))


def prepare(args) -> dict:
    """Pick the pages, give a member read markers, recommendations, ignores and trashed
    threads, and measure queries and bytes of each page in-process."""
    code = r'''
import json, os, random, statistics
import django
django.setup()
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.conf import settings
from django.utils import timezone
from accounts.models import User
from forums.models import Forum, ForumRead, IgnoredMember, Post, Thread, ThreadVisit, TrashedThread

rng = random.Random(7)
big = Forum.objects.order_by("-thread_count").first()
hot = Thread.objects.order_by("-reply_count").first()
counts = sorted(Thread.objects.values_list("reply_count", flat=True))
median_count = counts[len(counts) // 2]
median = Thread.objects.filter(reply_count=median_count).order_by("pk").first()
member = User.objects.filter(username__startswith="demo").order_by("pk")[5]
others = list(User.objects.filter(username__startswith="demo").order_by("pk")[10:13])
now = timezone.now()
ForumRead.objects.update_or_create(member=member, forum=big, defaults={"marked_at": now - timezone.timedelta(days=2)})
for thread in Thread.objects.filter(forum=big).order_by("-last_activity_at")[:20]:
    ThreadVisit.objects.update_or_create(member=member, thread=thread, defaults={"visited_at": now - timezone.timedelta(days=1), "seen_reply_count": max(thread.reply_count - 3, 0)})
for thread in Thread.objects.filter(forum=big).order_by("-last_activity_at")[20:23]:
    TrashedThread.objects.get_or_create(member=member, thread=thread)
for other in others:
    IgnoredMember.objects.get_or_create(member=member, ignored=other)
from forums.services import recommendation_set
for post in Post.objects.filter(thread=hot).order_by("number")[:10]:
    if post.author_id != member.pk:
        # Through the service, so the counts that pages go by match the rows.
        recommendation_set(member=member, post=post, recommend=True)
def login(someone):
    session = SessionStore()
    session["_auth_user_id"] = str(someone.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = someone.get_session_auth_hash()
    session.create()
    return session
session = login(member)
# The --writes mode's poster: established (no new-member flood limits), not the member measured.
writer = (
    User.objects.filter(username__startswith="demo", post_count__gte=settings.FORUMS_NEW_MEMBER_POSTS,
                        date_joined__lt=now - timezone.timedelta(days=2), is_active=True)
    .exclude(pk=member.pk).order_by("pk")[20]
)
recent = list(Thread.objects.filter(is_locked=False).order_by("-last_activity_at").values_list("pk", flat=True)[:100])
# --writes' visitor mix: the lists, every forum, and threads and profiles at random.
threads_sample = list(Thread.objects.order_by("?")[:400])
mix = ["/", "/forums/", "/latest/", "/greatest/"]
mix += [forum.get_absolute_url() for forum in Forum.objects.order_by("pk")]
mix += [thread.get_absolute_url() for thread in threads_sample[:300]]
mix += [thread.get_view_all_url() for thread in threads_sample[300:]]
mix += [someone.get_absolute_url() for someone in User.objects.filter(username__startswith="demo", is_active=True).order_by("?")[:50]]
per_page = settings.FORUMS_THREADS_PER_PAGE
deep = min(500, max(1, (big.thread_count + per_page - 1) // per_page))
last_all = max(1, (hot.reply_count + settings.FORUMS_REPLIES_PER_PAGE - 1) // settings.FORUMS_REPLIES_PER_PAGE)
last_index = max(1, (hot.reply_count + settings.FORUMS_INDEX_PER_PAGE - 1) // settings.FORUMS_INDEX_PER_PAGE)
# A word only the seeded thread holds (generated posts share a small vocabulary).
rare = ["azerbaijani"]
pages = [
    ("front page", "/"),
    ("All Forums", "/forums/"),
    ("big forum p1", big.get_absolute_url()),
    (f"big forum p{deep}", f"{big.get_absolute_url()}?page={deep}"),
    ("median thread", median.get_absolute_url()),
    ("hot thread OP p1", hot.get_absolute_url()),
    (f"hot thread OP p{last_index}", f"{hot.get_absolute_url()}?page={last_index}"),
    ("hot view-all p1", hot.get_view_all_url()),
    (f"hot view-all p{last_all}", f"{hot.get_view_all_url()}?page={last_all}"),
    ("Latest", "/latest/"),
    ("Greatest", "/greatest/"),
    ("search common", "/search/?q=budget"),
    # Issue 17's goal: three words each in half the generated posts (under 200 ms on
    # PostgreSQL at 1,000,000 posts).
    ("search 3 common", "/search/?q=budget+climate+election"),
    ("search rare", "/search/?q=" + "+".join(rare)),
    ("profile", member.get_absolute_url()),
    ("big forum About", f"{big.get_absolute_url()}about/"),
]
measured = []
for name, url in [("ceiling", "/__ceiling__"), ("member ceiling", "/__member_ceiling__")] + pages:
    row = {"name": name, "url": url}
    for who in ("visitor", "member"):
        client = Client()
        if who == "member":
            client.cookies["sessionid"] = session.session_key
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        row[who] = {"status": response.status_code, "queries": len(queries), "bytes": len(response.content)}
    measured.append(row)
ceilings, measured = measured[:2], measured[2:]
ceilings = {"visitor": ceilings[0]["visitor"], "member": ceilings[1]["member"]}
print(json.dumps({"session": session.session_key, "pages": measured, "ceilings": ceilings, "member": member.username,
                  "writer": writer.username, "writer_session": login(writer).session_key,
                  "write_threads": recent, "mix": mix}))
'''
    env = environment(args)
    env["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    result = subprocess.run([PYTHON, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode:
        log(result.stderr)
        raise SystemExit("Preparing the pages failed.")
    return json.loads(result.stdout.strip().splitlines()[-1])


def wait_for_port(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def worker_rss(master_pid: int) -> dict[int, float]:
    """VmRSS in MB of each gunicorn worker (the master's children)."""
    children = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True).stdout.split()
    sizes = {}
    for pid in children:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            continue
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        if match:
            sizes[int(pid)] = int(match.group(1)) / 1024
    return sizes


def worker_rss_mb(master_pid) -> float:
    """The largest worker's VmRSS in MB."""
    return max(worker_rss(master_pid).values(), default=0.0)


# wrk scripts (Lua): count the page cache's answers (config/page_cache.py's
# X-Page-Cache header) across wrk's threads; MIX also picks a random path per request.
COUNT_CACHE = r'''
local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  hits, misses, other = 0, 0, 0
  math.randomseed(id * 7919)
end
function response(status, headers, body)
  local state = headers["X-Page-Cache"]
  if state == "hit" then hits = hits + 1 elseif state == "miss" then misses = misses + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local h, m, o = 0, 0, 0
  for _, thread in ipairs(threads) do
    h, m, o = h + thread:get("hits"), m + thread:get("misses"), o + thread:get("other")
  end
  io.write(string.format("page cache: %d hits %d misses %d other\n", h, m, o))
end
'''
MIX = r'''
function request()
  return wrk.format(nil, paths[math.random(#paths)])
end
'''


def wrk_script(directory: Path, paths=None) -> Path:
    """A wrk script counting cache hits; with `paths`, each request asks for one at random."""
    text = COUNT_CACHE
    if paths:
        text += "paths = {" + ", ".join(json.dumps(path) for path in paths) + "}\n" + MIX
    script = directory / ("mix.lua" if paths else "count.lua")
    script.write_text(text)
    return script


def warm(url, cookie=None) -> None:
    """One second of requests, so that both workers have the page's code and caches warm."""
    command = ["wrk", "-t1", "-c2", "-d1s", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: sessionid={cookie}"]
    subprocess.run(command, capture_output=True)


def wrk(url, duration, connections, cookie=None, script=None) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: sessionid={cookie}"]
    if script:
        command[1:1] = ["-s", str(script)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout

    def latency(label):
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", output, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "errors": int(errors.group(1)) if errors else 0,
    }
    counted = re.search(r"page cache: (\d+) hits (\d+) misses (\d+) other", output)
    if counted:
        hits, misses, other = map(int, counted.groups())
        result.update(hits=hits, misses=misses, uncached=other)
        # Only answers the page cache could have served count (members' pages never are).
        result["hit_rate"] = hits / (hits + misses) if hits + misses else None
    return result


class ReplyWriter(threading.Thread):
    """A member posting a reply every `interval` seconds through the reply form, over
    HTTP like a browser (session cookie, CSRF token, form POST), to random threads."""

    def __init__(self, session: str, threads: list[int], interval: float):
        super().__init__(daemon=True)
        self.cookies = {"sessionid": session}
        self.threads, self.interval = threads, interval
        self.stopping = threading.Event()
        self.posted, self.failed, self.seconds = 0, [], []

    def _request(self, method, path, body=None):
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read().decode(errors="replace")
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name.strip()] = rest.split(";", 1)[0]
            return response.status, content
        finally:
            connection.close()

    def run(self):
        rng = random.Random(11)
        token, due, number = None, time.monotonic(), 0
        while not self.stopping.wait(max(0.0, due - time.monotonic())):
            due += self.interval
            number += 1
            path = f"/t/{rng.choice(self.threads)}/r/0/reply/"
            started = time.monotonic()
            try:
                if token is None:
                    # One form gives a token that stays good for this CSRF cookie.
                    status, page = self._request("GET", path)
                    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
                    if status != 200 or not found:
                        self.failed.append(f"GET {path}: {status}")
                        continue
                    token = found.group(1)
                body = urlencode({
                    "csrfmiddlewaretoken": token, "post": "1",
                    "body": f"Benchmark reply {number}: the budget vote is tomorrow, details below.",
                })
                status, _page = self._request("POST", path, body)
            except OSError as error:
                self.failed.append(f"POST {path}: {error}")
                continue
            if status == 302:
                self.posted += 1
                self.seconds.append(time.monotonic() - started)
            else:
                self.failed.append(f"POST {path}: {status}")

    def stop(self):
        self.stopping.set()
        self.join(timeout=120)


def percent(rate) -> str:
    """A hit rate for the table; "-" where nothing could be served from the cache."""
    return "-" if rate is None else f"{rate:.1%}"


def warm_mix(paths) -> None:
    """One visitor request for each page of the mix, four at a time, so that the mix
    is measured with the cache filled rather than while it fills."""
    from concurrent.futures import ThreadPoolExecutor

    def get(path):
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
        try:
            connection.request("GET", path)
            connection.getresponse().read()
        finally:
            connection.close()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(get, paths))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=int(os.environ.get("BENCH_POSTS", 1_000_000)))
    parser.add_argument("--database", choices=["sqlite", "postgres"], default=os.environ.get("BENCH_DATABASE", "sqlite"))
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", ""), help="e.g. redis://127.0.0.1:6379/5")
    parser.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_SECONDS", 5)))
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument(
        "--no-page-cache", dest="page_cache", action="store_false",
        default=os.environ.get("BENCH_PAGE_CACHE", "on") != "off",
        help="render every visitor's page (BENCH_PAGE_CACHE=off): visitors' cache-miss throughput",
    )
    parser.add_argument(
        "--no-view-counts", dest="view_counts", action="store_false",
        default=os.environ.get("BENCH_VIEW_COUNTS", "on") != "off",
        help="leave thread views uncounted (BENCH_VIEW_COUNTS=off), to see what counting costs",
    )
    parser.add_argument(
        "--no-template", dest="templates", action="store_false",
        default=os.environ.get("BENCH_TEMPLATES", "on") != "off",
        help="answer every page with an empty body instead of its template (BENCH_TEMPLATES=off): "
             "what pages cost before rendering",
    )
    parser.add_argument(
        "--writes", action="store_true", default=os.environ.get("BENCH_WRITES", "") not in ("", "0"),
        help="post a reply every --write-interval seconds while measuring, and measure a visitor "
             "mix of about 500 pages (BENCH_WRITES=1); needs --redis",
    )
    parser.add_argument("--write-interval", type=float, default=float(os.environ.get("BENCH_WRITE_INTERVAL", 1)),
                        help="seconds between two replies with --writes (default 1)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk (make bench installs it as root).")
    if args.writes and not args.templates:
        parser.error("--writes posts through the reply form, which --no-template leaves empty.")
    if args.writes and not args.redis:
        parser.error(
            "--writes needs a cache that both gunicorn workers share (--redis or BENCH_REDIS_URL): "
            "with local memory each worker keeps its own pages and versions, so a reply posted "
            "through one worker would never drop the other's copies."
        )

    ensure_data(args)
    manage(args, "collectstatic", "--noinput", "-v0")
    prepared = prepare(args)
    # Whether the machine was idle when the measuring began (the run itself then loads
    # both cores): figures taken beside other work are not figures.
    load_before = os.getloadavg()
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{PORT}",
         "--workers", "2", "--worker-class", "sync", "--access-logfile", "-", "--error-logfile", "-",
         "--log-level", "warning", "--max-requests", "0"],
        cwd=ROOT, env=environment(args, GUNICORN_BIND=f"127.0.0.1:{PORT}"), stdout=subprocess.DEVNULL,
    )
    writer = mix = None
    scratch = Path(tempfile.mkdtemp(prefix="grassroots-bench-"))
    count_script = wrk_script(scratch) if args.writes else None
    try:
        wait_for_port(PORT)
        base = f"http://127.0.0.1:{PORT}"
        member_cookie = prepared["session"]
        ceiling_urls = {"visitor": ("/__ceiling__", None), "member": ("/__member_ceiling__", member_cookie)}
        for url, cookie in ceiling_urls.values():  # warm both workers
            warm(base + url, cookie)
        ceilings = {}
        for who, (url, cookie) in ceiling_urls.items():
            ceilings[who] = {**prepared["ceilings"][who], **wrk(base + url, args.duration, args.connections, cookie)}
        log(f"ceilings: {ceilings['visitor']['rps']:.0f} requests/s for visitors (a bare view), "
            f"{ceilings['member']['rps']:.0f} for members (a bare view loading the session and the member)")
        peak_rss = worker_rss_mb(server.pid)
        if args.writes:
            writer = ReplyWriter(prepared["writer_session"], prepared["write_threads"], args.write_interval)
            writer.start()
            log(f"{prepared['writer']} posts a reply every {args.write_interval:g} s from now on.")
        rows = []
        for page in prepared["pages"]:
            row = {**page}
            for who in ("visitor", "member"):
                cookie = member_cookie if who == "member" else None
                warm(base + page["url"], cookie)
                result = wrk(base + page["url"], args.duration, args.connections, cookie, script=count_script)
                result["ratio"] = result["rps"] / ceilings[who]["rps"]
                row[who] = {**page[who], **result}
                peak_rss = max(peak_rss, worker_rss_mb(server.pid))
                hits = f"  {percent(result['hit_rate'])} hits" if result.get("hit_rate") is not None else ""
                log(f"{page['name']:<22} {who:<7} {result['rps']:8.1f} req/s  p50 {result['p50_ms']:7.1f} ms  p99 {result['p99_ms']:7.1f} ms  {page[who]['queries']:2d} queries{hits}")
            rows.append(row)
        if args.writes:
            log(f"Visitor mix: warming {len(prepared['mix'])} pages...")
            warm_mix(prepared["mix"])
            mix = wrk(base + "/", args.duration, args.connections, script=wrk_script(scratch, prepared["mix"]))
            mix["ratio"] = mix["rps"] / ceilings["visitor"]["rps"]
            peak_rss = max(peak_rss, worker_rss_mb(server.pid))
            log(f"visitor mix            {mix['rps']:8.1f} req/s  p50 {mix['p50_ms']:7.1f} ms  p99 {mix['p99_ms']:7.1f} ms  {percent(mix['hit_rate'])} hits")
    finally:
        if writer:
            writer.stop()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)

    hit_column = f" {'hit %':>6}" if args.writes else ""
    header = f"{'page':<22} {'who':<7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'x ceil':>7} {'SQL':>4} {'KB':>6} {'errors':>6}{hit_column}"
    modes = "" if args.page_cache else ", page cache off"
    if not args.view_counts:
        modes += ", views not counted"
    if not args.templates:
        modes += ", no templates (empty pages)"
    if args.writes:
        modes += f", a reply every {args.write_interval:g} s"
    print(f"\nGrassroots benchmark: {args.posts:,} posts on {args.database}{' + Redis' if args.redis else ''}, "
          f"{args.connections} connections, {args.duration} s per page, 2 sync gunicorn workers{modes}")
    print(f"Load average before the run (1, 5, 15 min): {' '.join(f'{load:.2f}' for load in load_before)}")
    print("x ceil: a visitor's page against the visitors' ceiling (a bare view), a member's against "
          "the members' ceiling (a bare view that loads the session and the member)\n")
    print(header)
    print("-" * len(header))
    for who in ("visitor", "member"):
        cell = ceilings[who]
        print(f"{'ceiling':<22} {who:<7} {cell['rps']:8.1f} {cell['p50_ms']:8.1f} {cell['p99_ms']:8.1f} "
              f"{1:7.2f} {cell['queries']:4d} {cell['bytes'] / 1024:6.1f} {cell['errors']:6d}")
    print("-" * len(header))
    for row in rows:
        for who in ("visitor", "member"):
            cell = row[who]
            hits = f" {percent(cell.get('hit_rate')):>6}" if args.writes else ""
            print(f"{row['name']:<22} {who:<7} {cell['rps']:8.1f} {cell['p50_ms']:8.1f} {cell['p99_ms']:8.1f} "
                  f"{cell['ratio']:7.2f} {cell['queries']:4d} {cell['bytes'] / 1024:6.1f} {cell['errors']:6d}{hits}")
    writes = None
    if args.writes:
        print(f"{'visitor mix':<22} {'visitor':<7} {mix['rps']:8.1f} {mix['p50_ms']:8.1f} {mix['p99_ms']:8.1f} "
              f"{mix['ratio']:7.2f} {'':>4} {'':>6} {mix['errors']:6d} {percent(mix['hit_rate']):>6}")
        print(f"  (visitor mix: {len(prepared['mix'])} pages at random: the lists, every forum, "
              "300 threads, 100 threads' View all, 50 profiles)")
        mean = sum(writer.seconds) / len(writer.seconds) if writer.seconds else 0
        writes = {"interval_s": args.write_interval, "posted": writer.posted, "failed": writer.failed,
                  "mean_write_ms": mean * 1000, "writer": prepared["writer"]}
        print(f"\nWrites: {writer.posted} replies posted by {prepared['writer']} through the reply form "
              f"(mean {mean * 1000:.0f} ms each), {len(writer.failed)} failed")
        for failure in writer.failed[:5]:
            print(f"  {failure}")
    print(f"\nPeak gunicorn worker memory: {peak_rss:.0f} MB RSS")
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    out = results / f"{args.database}-{args.posts}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({
        "posts": args.posts, "database": args.database, "connections": args.connections,
        "duration_s": args.duration, "ceiling": ceilings["visitor"],
        "member_ceiling": ceilings["member"], "pages": rows, "peak_worker_rss_mb": peak_rss,
        "redis": bool(args.redis), "page_cache": args.page_cache,
        "view_counts": args.view_counts, "templates": args.templates, "writes": writes, "visitor_mix": mix,
        "load_average_before": load_before,
    }, indent=2))
    print(f"Results written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
