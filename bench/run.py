"""`make bench`: build (or reuse) a large data set, serve it with gunicorn under
production settings, and measure every main page for a visitor and for a member.

For each page: requests per second and p50/p99 latency at 8 connections (wrk), and
SQL queries and response bytes (one request through Django's test client). A bare
Django view under the same server is the ceiling each page is compared with.
Results print as a table and are written as JSON under bench/results/.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

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
from forums.models import Forum, ForumRead, IgnoredMember, Post, Thread, ThreadVisit, TrashedThread, Recommendation

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
for post in Post.objects.filter(thread=hot).order_by("number")[:10]:
    if post.author_id != member.pk:
        Recommendation.objects.get_or_create(member=member, post=post, defaults={"thread_id": hot.pk, "created_at": now})
session = SessionStore()
session["_auth_user_id"] = str(member.pk)
session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
session["_auth_user_hash"] = member.get_session_auth_hash()
session.create()
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
]
measured = []
for name, url in pages:
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
print(json.dumps({"session": session.session_key, "pages": measured, "member": member.username}))
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


def wrk(url, duration, connections, cookie=None) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: sessionid={cookie}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout

    def latency(label):
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", output, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "errors": int(errors.group(1)) if errors else 0,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=int(os.environ.get("BENCH_POSTS", 1_000_000)))
    parser.add_argument("--database", choices=["sqlite", "postgres"], default=os.environ.get("BENCH_DATABASE", "sqlite"))
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", ""), help="e.g. redis://127.0.0.1:6379/5")
    parser.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_SECONDS", 5)))
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk (make bench installs it as root).")

    ensure_data(args)
    manage(args, "collectstatic", "--noinput", "-v0")
    prepared = prepare(args)
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{PORT}",
         "--workers", "2", "--worker-class", "sync", "--access-logfile", "-", "--error-logfile", "-",
         "--log-level", "warning", "--max-requests", "0"],
        cwd=ROOT, env=environment(args, GUNICORN_BIND=f"127.0.0.1:{PORT}"), stdout=subprocess.DEVNULL,
    )
    try:
        wait_for_port(PORT)
        base = f"http://127.0.0.1:{PORT}"
        for _ in range(2):  # warm both workers
            subprocess.run(["wrk", "-t1", "-c2", "-d1s", f"{base}/__ceiling__"], capture_output=True)
        ceiling = wrk(f"{base}/__ceiling__", args.duration, args.connections)
        log(f"ceiling: {ceiling['rps']:.0f} requests/s")
        peak_rss = worker_rss_mb(server.pid)
        rows = []
        for page in prepared["pages"]:
            row = {**page}
            for who in ("visitor", "member"):
                cookie = prepared["session"] if who == "member" else None
                subprocess.run(["wrk", "-t1", "-c2", "-d1s", base + page["url"]] + (["-H", f"Cookie: sessionid={cookie}"] if cookie else []), capture_output=True)
                result = wrk(base + page["url"], args.duration, args.connections, cookie)
                result["ratio"] = result["rps"] / ceiling["rps"]
                row[who] = {**page[who], **result}
                peak_rss = max(peak_rss, worker_rss_mb(server.pid))
                log(f"{page['name']:<22} {who:<7} {result['rps']:8.1f} req/s  p50 {result['p50_ms']:7.1f} ms  p99 {result['p99_ms']:7.1f} ms  {page[who]['queries']:2d} queries")
            rows.append(row)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    header = f"{'page':<22} {'who':<7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'x ceil':>7} {'SQL':>4} {'KB':>6} {'errors':>6}"
    print(f"\nGrassroots benchmark: {args.posts:,} posts on {args.database}, {args.connections} connections, "
          f"{args.duration} s per page, 2 sync gunicorn workers")
    print(f"Bare Django ceiling: {ceiling['rps']:.0f} req/s (p50 {ceiling['p50_ms']:.1f} ms)\n")
    print(header)
    print("-" * len(header))
    for row in rows:
        for who in ("visitor", "member"):
            cell = row[who]
            print(f"{row['name']:<22} {who:<7} {cell['rps']:8.1f} {cell['p50_ms']:8.1f} {cell['p99_ms']:8.1f} "
                  f"{cell['ratio']:7.2f} {cell['queries']:4d} {cell['bytes'] / 1024:6.1f} {cell['errors']:6d}")
    print(f"\nPeak gunicorn worker memory: {peak_rss:.0f} MB RSS")
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    out = results / f"{args.database}-{args.posts}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({
        "posts": args.posts, "database": args.database, "connections": args.connections,
        "duration_s": args.duration, "ceiling": ceiling, "pages": rows, "peak_worker_rss_mb": peak_rss,
    }, indent=2))
    print(f"Results written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
