"""Profile pages in-process, as a member sees them, under production settings.

    DATABASE_URL=sqlite:////tmp/demo.sqlite3 .venv/bin/python bench/profile_page.py hot hot-all forums
    .venv/bin/python bench/profile_page.py /t/12/some-slug/all/ --member demo5 --runs 200 --top 30

Pages are URLs or the names below (the bench's pages, picked the same way from the
data set of `manage.py generate_demo_data`). For each page it prints the CPU time per
request (time.process_time, averaged over --runs requests after a warm-up, the fastest
of --rounds rounds: other processes' time does not count, though on a busy machine
they still slow ours down through shared caches), the
SQL queries and the response bytes; then, with --profile, where the time went: own
time grouped by area (templates, URL reversing, CSRF, translation, dates and numbers,
database, ...) and the top functions from cProfile (or pyinstrument, if installed).

The member is logged in through a real session (loaded from the database on each
request, as in production). --prepare gives them what the bench's member has: a forum
marked read, visited threads, ignored members and recommendations in the hot thread.
"""

import argparse
import cProfile
import io
import itertools
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("DJANGO_ENV", "production")
os.environ.setdefault("SECRET_KEY", "profile-only-secret-key-" + "x" * 40)
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("LOG_LEVEL", "ERROR")

# Inclusive time of these functions says where a request's time goes; they nest (URL
# reversing, translation and formatting mostly happen inside template rendering).
MARKERS = [
    ("whole request (handler)", "django.core.handlers.base.BaseHandler.get_response"),
    ("template rendering (all of it)", "django.template.backends.django.Template.render"),
    ("  URL reversing", "django.urls.base.reverse"),
    ("  CSRF tokens", "django.middleware.csrf.get_token"),
    ("  translation: gettext", "django.utils.translation.trans_real.gettext"),
    ("  translation: ngettext", "django.utils.translation.trans_real.ngettext"),
    ("  dates: |date filter", "django.template.defaultfilters.date"),
    ("  dates: localtime", "django.utils.timezone.template_localtime"),
    ("  numbers: |intcomma", "django.contrib.humanize.templatetags.humanize.intcomma"),
    ("  escaping", "django.utils.html.conditional_escape"),
    ("  {% member_link %}", "accounts.templatetags.members.member_link"),
    ("SQL: compiling (ORM)", "django.db.models.sql.compiler.SQLCompiler.as_sql"),
    ("SQL: executing", "django.db.backends.utils.CursorWrapper.execute"),
    ("ORM: running queries into objects", "django.db.models.query.ModelIterable.__iter__"),
    ("session load", "django.contrib.sessions.backends.db.SessionStore.load"),
    ("user load", "django.contrib.auth.get_user"),
]


def marker_keys():
    """cProfile's (file, line, name) key of each marker function."""
    import importlib

    keys = []
    for label, dotted in MARKERS:
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            try:
                target = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            for attribute in parts[cut:]:
                target = getattr(target, attribute)
            break
        code = getattr(target, "__wrapped__", target).__code__
        keys.append((label, (code.co_filename, code.co_firstlineno, code.co_name)))
    return keys


def setup_django():
    import django
    from django.conf import settings

    django.setup()
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if "Manifest" in settings.STORAGES["staticfiles"]["BACKEND"] and not manifest.exists():
        from django.core.management import call_command

        call_command("collectstatic", "--noinput", verbosity=0)


def named_pages(member) -> dict[str, str]:
    """The bench's pages, by short name."""
    from django.conf import settings

    from forums.models import Forum, Thread

    big = Forum.objects.order_by("-thread_count").first()
    hot = Thread.objects.order_by("-reply_count").first()
    per_page = settings.FORUMS_THREADS_PER_PAGE
    deep = min(500, max(1, (big.thread_count + per_page - 1) // per_page))
    last_all = max(1, (hot.reply_count + member.replies_per_page - 1) // member.replies_per_page)
    return {
        "ceiling": "/__ceiling__",
        "member-ceiling": "/__member_ceiling__",
        "home": "/",
        "forums": "/forums/",
        "big": big.get_absolute_url(),
        "big-deep": f"{big.get_absolute_url()}?page={deep}",
        "hot": hot.get_absolute_url(),
        "hot-all": hot.get_view_all_url(),
        "hot-all-last": f"{hot.get_view_all_url()}?page={last_all}",
        "latest": "/latest/",
        "profile": member.get_absolute_url(),
        # Pages a sweep of every address found far slower than the rest on these data
        # (README, Benchmarks): the big forum's About, a member's settings (600 time
        # zones) and My posts.
        "about": f"{big.get_absolute_url()}about/",
        "settings": "/settings/",
        "my-posts": "/my/posts/",
    }


def prepare(member):
    """Give the member read markers, visits, ignores and recommendations, like the bench."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import User
    from forums.models import Forum, ForumRead, IgnoredMember, Post, Thread, ThreadVisit
    from forums.services import recommendation_set

    big = Forum.objects.order_by("-thread_count").first()
    hot = Thread.objects.order_by("-reply_count").first()
    now = timezone.now()
    ForumRead.objects.update_or_create(member=member, forum=big, defaults={"marked_at": now - timedelta(days=2)})
    for thread in Thread.objects.filter(forum=big).order_by("-last_activity_at")[:20]:
        ThreadVisit.objects.update_or_create(
            member=member, thread=thread,
            defaults={"visited_at": now - timedelta(days=1), "seen_reply_count": max(thread.reply_count - 3, 0)},
        )
    for other in User.objects.filter(username__startswith="demo").exclude(pk=member.pk).order_by("pk")[10:13]:
        IgnoredMember.objects.get_or_create(member=member, ignored=other)
    for post in Post.objects.filter(thread=hot).exclude(author=member).order_by("number")[:10]:
        recommendation_set(member=member, post=post, recommend=True)  # counts match the rows


def measure(client, url, runs, rounds):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    # Read now: the next request clears the connection's query log.
    query_count = len(queries)
    # The fastest of several rounds: other processes slow a round down (caches, clock
    # speed) even though their own CPU time is not counted, and never speed one up.
    round_ms = []
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(runs):
            client.get(url)
        round_ms.append((time.process_time() - started) * 1000 / runs)
    return {"cpu_ms": min(round_ms), "queries": query_count, "bytes": len(response.content)}


def profile(client, url, runs, top):
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        client.get(url)
    profiler.disable()
    stats = pstats.Stats(profiler)
    print(f"  inclusive time (cProfile, {runs} requests; profiling inflates every figure):")
    total = None
    for label, key in marker_keys():
        calls, _primitive, _own, cumulative, _callers = stats.stats.get(key, (0, 0, 0, 0, {}))
        total = total or cumulative
        share = f"{100 * cumulative / total:5.1f} %" if total else ""
        print(f"    {label:<34} {cumulative * 1000 / runs:7.2f} ms/request {share}  {calls / runs:7.1f} calls/request")
    out = io.StringIO()
    stats.stream = out
    stats.sort_stats("tottime").print_stats(top)
    print("  top functions by own time:")
    print("\n".join("    " + line for line in out.getvalue().splitlines()[6:] if line.strip()))


def pyinstrument_profile(client, url, runs):
    try:
        from pyinstrument import Profiler
    except ImportError:
        raise SystemExit("pyinstrument is not installed: .venv/bin/pip install pyinstrument")
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(runs):
        client.get(url)
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=False))


def count_instructions(client, url, runs):
    """Run `runs` requests where callgrind counts (see instructions())."""
    for _ in range(3):
        client.get(url)

    def requests():
        yield
        for _ in range(runs):
            client.get(url)
            yield

    # callgrind collects only inside itertools.pairwise's C function, which nothing in
    # Django or Grassroots calls: so only these requests are counted.
    for _ in itertools.pairwise(requests()):
        pass


def instructions(page, args) -> float:
    """CPU instructions per request, counted by valgrind's callgrind: unlike time, the
    count does not depend on what else the machine is doing."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        command = [
            "valgrind", "--tool=callgrind", "--toggle-collect=pairwise_next", f"--callgrind-out-file={out}",
            sys.executable, __file__, page, "--count-inside", "--runs", str(args.instructions),
            *(["--cold"] if args.cold else []),
        ]
        if args.member:
            command += ["--member", args.member]
        subprocess.run(command, check=True, capture_output=True)
        summary = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.M)
        return int(summary.group(1)) / args.instructions


def _cold_client_class():
    from django.conf import settings
    from django.core.cache import caches
    from django.test import Client

    from forums.fragments import forget_process_copies

    class ColdClient(Client):
        def get(self, *args, **kwargs):
            caches[settings.FORUMS_FRAGMENT_CACHE].clear()
            forget_process_copies()
            return super().get(*args, **kwargs)

    return ColdClient


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="+", help="URLs or: ceiling member-ceiling home forums big big-deep hot hot-all hot-all-last latest profile about settings my-posts")
    parser.add_argument("--member", default="", help="username (default: the bench's member); 'visitor' for none")
    parser.add_argument("--runs", type=int, default=100, help="requests per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the fastest counts")
    parser.add_argument("--profile", choices=["none", "cprofile", "pyinstrument"], default="none")
    parser.add_argument("--top", type=int, default=25, help="functions to list with --profile cprofile")
    parser.add_argument("--prepare", action="store_true", help="give the member the bench's read state first")
    parser.add_argument("--instructions", type=int, default=0, metavar="N",
                        help="also count CPU instructions per request over N requests under valgrind (slow)")
    parser.add_argument("--cold", action="store_true",
                        help="empty the cache of posts' shared parts before every request, and serve "
                             "visitors without the page cache: the first render after a write")
    parser.add_argument("--no-template", action="store_true",
                        help="answer pages with an empty body instead of their template (as bench/run.py "
                             "--no-template): what they cost before rendering")
    parser.add_argument("--count-inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold:
        os.environ["FORUMS_PAGE_CACHE_SECONDS"] = "0"
    if args.no_template:
        # Read by bench/urls.py; the valgrind run of --instructions inherits it.
        os.environ["BENCH_TEMPLATES"] = "off"
    setup_django()

    from django.test import Client

    from accounts.models import User

    ColdClient = _cold_client_class()

    if args.member and args.member != "visitor":
        member = User.objects.get(username=args.member)
    else:
        member = User.objects.filter(username__startswith="demo").order_by("pk")[5]
    if args.prepare:
        prepare(member)
    names = named_pages(member)
    client = ColdClient() if args.cold else Client()
    who = "visitor"
    if args.member != "visitor":
        client.force_login(member)
        who = f"member {member.username}"
    if args.count_inside:
        count_instructions(client, names.get(args.pages[0], args.pages[0]), args.runs)
        return
    print(f"{who}: CPU time per request (time.process_time), the fastest of {args.rounds} rounds of "
          f"{args.runs} requests")
    for page in args.pages:
        url = names.get(page, page)
        figures = measure(client, url, args.runs, args.rounds)
        counted = f"  {instructions(page, args) / 1e6:7.2f} M instructions" if args.instructions else ""
        print(f"{page:<14} {url:<40} {figures['cpu_ms']:7.2f} ms CPU  {figures['queries']:3d} queries  "
              f"{figures['bytes'] / 1024:7.1f} KB{counted}", flush=True)
        if args.profile == "cprofile":
            profile(client, url, args.runs, args.top)
        elif args.profile == "pyinstrument":
            pyinstrument_profile(client, url, args.runs)


if __name__ == "__main__":
    main()
