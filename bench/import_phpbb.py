"""Time `manage.py import_phpbb` on a large generated phpBB board.

Builds (once, kept in bench/data/) a phpBB 3.2 SQLite database from phpBB's schema with
tests/community/phpbb_source.py: --posts posts in topics of --posts-per-topic, by
--members members, a fifth of the replies quoting an earlier post. Then imports it into a
fresh, migrated Grassroots database (SQLite in bench/data/, or PostgreSQL with
--database postgres) and prints the time, posts per second and the projection for
1,000,000 posts. Run it again with --resync to time a second run that finds nothing new.

    .venv/bin/python bench/import_phpbb.py --posts 100000
    .venv/bin/python bench/import_phpbb.py --posts 100000 --database postgres
    .venv/bin/python bench/import_phpbb.py --posts 1000000 --source-only
"""

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.community.phpbb_source import PhpbbSource, generate  # noqa: E402

DATA = ROOT / "bench" / "data"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build_source(args) -> str:
    path = DATA / f"phpbb-{args.posts}.sqlite3"
    url = f"sqlite:///{path}"
    if path.exists() and not args.rebuild:
        log(f"Reusing {path}")
        return url
    path.unlink(missing_ok=True)
    DATA.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    source = PhpbbSource(url).create()
    source.user(1, "Anonymous", user_type=2)
    generate(source, users=args.members, topics=max(1, args.posts // args.posts_per_topic), posts=args.posts,
             progress=lambda n: log(f"  generated {n:,} posts"))
    source.close()
    log(f"Built {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.monotonic() - started:.0f} s")
    return url


def target_url(args) -> str:
    if args.target:
        return args.target
    if args.database == "postgres":
        base = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
        return f"{base}/grassroots_bench_phpbb_{args.posts}"
    return f"sqlite:///{DATA / f'import-{args.posts}.sqlite3'}"


def fresh_target(url: str) -> None:
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        import psycopg

        base, name = url.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
    manage("migrate", "--noinput", "-v0", database=url)


def manage(*args, database: str) -> tuple[float, float]:
    """Run a manage.py command; its wall-clock seconds and the CPU seconds it and its
    worker processes used (on a shared machine the second is the steadier figure)."""
    started, cpu = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], check=True, cwd=ROOT,
                   env={**os.environ, "DATABASE_URL": database})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.monotonic() - started, (after.ru_utime + after.ru_stime) - (cpu.ru_utime + cpu.ru_stime)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--posts-per-topic", type=int, default=25)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--target", help="the Grassroots database URL to import into (made afresh)")
    parser.add_argument("--rebuild", action="store_true", help="generate the phpBB database again")
    parser.add_argument("--resync", action="store_true", help="also time a second run (nothing new)")
    parser.add_argument("--source-only", action="store_true",
                        help="only build the phpBB database (for a later measurement)")
    args = parser.parse_args()

    if args.target:
        args.database = "sqlite" if args.target.startswith("sqlite") else "postgres"
    source = build_source(args)
    if args.source_only:
        return
    target = target_url(args)
    fresh_target(target)
    log(f"Importing {args.posts:,} posts into {target} with {args.workers} workers")
    seconds, cpu = manage("import_phpbb", source, f"--workers={args.workers}", database=target)
    rate, cpu_rate = args.posts / seconds, args.posts / cpu
    print(f"{args.database}: {args.posts:,} posts in {seconds:.0f} s = {rate:,.0f} posts/s "
          f"(1,000,000 posts: about {1_000_000 / rate / 60:.0f} min at this rate); "
          f"{cpu:.0f} CPU seconds = {cpu_rate:,.0f} posts per CPU second "
          f"(1,000,000 posts: {1_000_000 / cpu_rate / 60:.0f} CPU minutes)")
    if args.resync:
        again, again_cpu = manage("import_phpbb", source, f"--workers={args.workers}", "-v0", database=target)
        print(f"second run (nothing new): {again:.0f} s, {again_cpu:.0f} CPU seconds")


if __name__ == "__main__":
    main()
