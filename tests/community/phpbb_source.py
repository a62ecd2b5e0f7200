"""phpBB-shaped source databases for the import tests and bench/import_phpbb.py.

The tables and columns are phpBB's own, transcribed from phpbb/phpbb
`phpBB/install/schemas/schema.json` at commit 6145f46bd1ca36f4a03b29ffd05f8c7d143d473d
("[prep-release-3.2.0-RC1] Update schema.json"; 3.2 and 3.3 build the same tables from
their migrations and stopped shipping the generated file in 95520d2f), and their SQL
types come from phpBB's own type maps (`phpBB/phpbb/db/tools/tools.php` for SQLite 3,
`phpBB/phpbb/db/tools/postgres.php` for PostgreSQL, branch 3.2.x). Only the tables and
columns the importer reads are created. `version="3.0"` makes a 3.0/3.1 database instead:
`post_approved`/`topic_approved` for the visibility columns, location and website on the
users table (phpBB 3.0.x `phpBB/install/schemas/sqlite_schema.sql`, commit
0d349a82ca646cc2eebbfaf9a573ab1c8e32b6f6), and BBCode with a uid instead of XML.
"""

import hashlib
import html
import random
import sqlite3
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

# phpBB's type names -> SQL, per engine (the type maps named above).
SQL_TYPES = {
    "sqlite": {
        "ULINT": "INTEGER UNSIGNED", "UINT": "INTEGER UNSIGNED", "USINT": "INTEGER UNSIGNED",
        "BOOL": "INTEGER UNSIGNED", "TIMESTAMP": "INTEGER UNSIGNED", "TINT:": "TINYINT(%d)",
        "INT:": "INT(%d)", "VCHAR": "VARCHAR(255)", "VCHAR:": "VARCHAR(%d)",
        "VCHAR_UNI": "VARCHAR(255)", "VCHAR_UNI:": "VARCHAR(%d)", "VCHAR_CI": "VARCHAR(255)",
        "STEXT_UNI": "TEXT(65535)", "TEXT_UNI": "TEXT(65535)", "MTEXT_UNI": "MEDIUMTEXT(16777215)",
    },
    "postgres": {
        "ULINT": "INT4", "UINT": "INT4", "USINT": "INT2", "BOOL": "INT2", "TIMESTAMP": "INT4",
        "TINT:": "INT2", "INT:": "INT4", "VCHAR": "varchar(255)", "VCHAR:": "varchar(%d)",
        "VCHAR_UNI": "varchar(255)", "VCHAR_UNI:": "varchar(%d)",
        # phpBB makes a case-insensitive domain `varchar_ci`; its case rules are not read here.
        "VCHAR_CI": "varchar(255)",
        "STEXT_UNI": "varchar(255)", "TEXT_UNI": "varchar(4000)", "MTEXT_UNI": "TEXT",
    },
}

TABLES = {
    "config": {"config_name": "VCHAR", "config_value": "VCHAR_UNI", "is_dynamic": "BOOL"},
    "users": {
        "user_id": "ULINT", "user_type": "TINT:2", "username": "VCHAR_CI",
        "username_clean": "VCHAR_CI", "user_password": "VCHAR:255", "user_email": "VCHAR_UNI:100",
        "user_regdate": "TIMESTAMP", "user_posts": "UINT", "user_sig": "MTEXT_UNI",
        "user_sig_bbcode_uid": "VCHAR:8",
    },
    "profile_fields_data": {
        "user_id": "ULINT", "pf_phpbb_location": "VCHAR", "pf_phpbb_website": "VCHAR",
    },
    "forums": {
        "forum_id": "UINT", "parent_id": "UINT", "left_id": "UINT", "right_id": "UINT",
        "forum_name": "STEXT_UNI", "forum_desc": "TEXT_UNI", "forum_desc_uid": "VCHAR:8",
        "forum_link": "VCHAR_UNI", "forum_type": "TINT:4",
    },
    "topics": {
        "topic_id": "ULINT", "forum_id": "UINT", "topic_title": "STEXT_UNI",
        "topic_poster": "ULINT", "topic_time": "TIMESTAMP", "topic_views": "UINT",
        "topic_status": "TINT:3", "topic_type": "TINT:3", "topic_first_post_id": "ULINT",
        "topic_moved_id": "ULINT", "poll_title": "STEXT_UNI", "poll_start": "TIMESTAMP",
        "poll_length": "TIMESTAMP", "poll_max_options": "TINT:4", "poll_vote_change": "BOOL",
        "topic_visibility": "TINT:3",
    },
    "posts": {
        "post_id": "ULINT", "topic_id": "ULINT", "forum_id": "UINT", "poster_id": "ULINT",
        "post_time": "TIMESTAMP", "post_username": "VCHAR_UNI:255", "post_subject": "STEXT_UNI",
        "post_text": "MTEXT_UNI", "bbcode_uid": "VCHAR:8", "post_attachment": "BOOL",
        "post_visibility": "TINT:3",
    },
    "banlist": {
        "ban_id": "ULINT", "ban_userid": "ULINT", "ban_ip": "VCHAR:40", "ban_email": "VCHAR_UNI:100",
        "ban_start": "TIMESTAMP", "ban_end": "TIMESTAMP", "ban_exclude": "BOOL",
        "ban_reason": "VCHAR_UNI", "ban_give_reason": "VCHAR_UNI",
    },
    "moderator_cache": {
        "forum_id": "UINT", "user_id": "ULINT", "username": "VCHAR_UNI:255", "group_id": "UINT",
        "group_name": "VCHAR_UNI",
    },
    "privmsgs": {
        "msg_id": "ULINT", "root_level": "UINT", "author_id": "ULINT", "message_time": "TIMESTAMP",
        "message_subject": "STEXT_UNI", "message_text": "MTEXT_UNI", "bbcode_uid": "VCHAR:8",
        "to_address": "TEXT_UNI", "bcc_address": "TEXT_UNI",
    },
    "privmsgs_to": {
        "msg_id": "ULINT", "user_id": "ULINT", "author_id": "ULINT", "pm_deleted": "BOOL",
        "pm_unread": "BOOL", "folder_id": "INT:11",
    },
    "poll_options": {
        "poll_option_id": "TINT:4", "topic_id": "ULINT", "poll_option_text": "TEXT_UNI",
        "poll_option_total": "UINT",
    },
    "poll_votes": {
        "topic_id": "ULINT", "poll_option_id": "TINT:4", "vote_user_id": "ULINT", "vote_user_ip": "VCHAR:40",
    },
}
PRIMARY_KEYS = {
    "config": "config_name", "users": "user_id", "profile_fields_data": "user_id",
    "forums": "forum_id", "topics": "topic_id", "posts": "post_id", "banlist": "ban_id",
    "privmsgs": "msg_id",
}
INDEXES = {"posts": [("tid_post_time", "topic_id, post_time"), ("poster_id", "poster_id")],
           "privmsgs_to": [("msg_id", "msg_id")],
           "poll_options": [("poll_opt_id", "poll_option_id"), ("topic_id", "topic_id")],
           "poll_votes": [("topic_id", "topic_id"), ("vote_user_id", "vote_user_id")]}
# phpBB 3.0/3.1: the same reads under their older names.
TABLES_30 = {
    **TABLES,
    "users": {**TABLES["users"], "user_from": "VCHAR_UNI:100", "user_website": "VCHAR_UNI:200"},
    "topics": {k if k != "topic_visibility" else "topic_approved": v for k, v in TABLES["topics"].items()},
    "posts": {k if k != "post_visibility" else "post_approved": v for k, v in TABLES["posts"].items()},
}
del TABLES_30["profile_fields_data"]

# phpBB's constants for the values written here (includes/constants.php).
USER_NORMAL, USER_INACTIVE, USER_IGNORE, USER_FOUNDER = 0, 1, 2, 3
ANONYMOUS = 1
FORUM_CAT, FORUM_POST, FORUM_LINK = 0, 1, 2
ITEM_UNLOCKED, ITEM_LOCKED, ITEM_MOVED = 0, 1, 2
POST_NORMAL, POST_STICKY, POST_ANNOUNCE, POST_GLOBAL = 0, 1, 2, 3
ITEM_UNAPPROVED, ITEM_APPROVED, ITEM_DELETED = 0, 1, 2


def _sql_type(engine: str, phpbb_type: str) -> str:
    if ":" in phpbb_type:
        name, size = phpbb_type.split(":")
        return SQL_TYPES[engine][name + ":"].replace("%d", size)
    return SQL_TYPES[engine][phpbb_type]


def _default(phpbb_type: str):
    return "" if "CHAR" in phpbb_type or "TEXT" in phpbb_type else 0


# -- Post text in both of phpBB's stored formats ---------------------------------------------

def formatted(parts, *, version: str = "3.2", uid: str = "") -> str:
    """Post text as phpBB stores it, from parts: plain strings, or tuples ("b", text),
    ("i", text), ("u", text), ("quote", author, post_id, text), ("code", text),
    ("list", [items]), ("url", url, label), ("img", url), ("smiley", code), ("br",)."""
    if version == "3.0":
        return "".join(_bbcode_part(part, uid) for part in parts)
    if all(isinstance(part, str) or part[0] == "br" for part in parts):
        return "<t>" + "".join(_xml_part(part) for part in parts) + "</t>"
    return "<r>" + "".join(_xml_part(part) for part in parts) + "</r>"


def _xml_part(part) -> str:
    if isinstance(part, str):
        return xml_escape(part)
    kind, *args = part
    simple = {"b": "B", "i": "I", "u": "U"}
    if kind in simple:
        tag = simple[kind]
        return f"<{tag}><s>[{kind}]</s>{xml_escape(args[0])}<e>[/{kind}]</e></{tag}>"
    if kind == "quote":
        author, post_id, text = args
        opening = f"[quote={author} post_id={post_id} time=1500000000 user_id=2]"
        return (f"<QUOTE author={quoteattr(author)} post_id=\"{post_id}\" time=\"1500000000\" "
                f"user_id=\"2\"><s>{xml_escape(opening)}</s>{xml_escape(text)}<e>[/quote]</e></QUOTE>")
    if kind == "code":
        return f"<CODE><s>[code]</s>{xml_escape(args[0])}<e>[/code]</e></CODE>"
    if kind == "list":
        items = "".join(f"<LI><s>[*]</s>{xml_escape(item)}</LI>" for item in args[0])
        return f"<LIST><s>[list]</s>{items}<e>[/list]</e></LIST>"
    if kind == "url":
        url, label = args
        return (f"<URL url={quoteattr(url)}><s>[url={xml_escape(url)}]</s>{xml_escape(label)}"
                "<e>[/url]</e></URL>")
    if kind == "img":
        return f"<IMG src={quoteattr(args[0])}><s>[img]</s>{xml_escape(args[0])}<e>[/img]</e></IMG>"
    if kind == "smiley":
        return f"<E>{xml_escape(args[0])}</E>"
    if kind == "br":
        return "<br/>\n"
    raise ValueError(kind)


def _bbcode_part(part, uid: str) -> str:
    escape = lambda text: html.escape(text, quote=True).replace("&#x27;", "'")  # noqa: E731
    if isinstance(part, str):
        return escape(part)
    kind, *args = part
    if kind in ("b", "i", "u", "code"):
        return f"[{kind}:{uid}]{escape(args[0])}[/{kind}:{uid}]"
    if kind == "quote":
        author, _post_id, text = args
        return f"[quote=&quot;{escape(author)}&quot;:{uid}]{escape(text)}[/quote:{uid}]"
    if kind == "list":
        items = "".join(f"[*:{uid}]{escape(item)}[/*:m:{uid}]" for item in args[0])
        return f"[list:{uid}]{items}[/list:u:{uid}]"
    if kind == "url":
        url, label = args
        return f"[url={escape(url)}:{uid}]{escape(label)}[/url:{uid}]"
    if kind == "img":
        return f"[img:{uid}]{escape(args[0])}[/img:{uid}]"
    if kind == "smiley":
        code = escape(args[0])
        return (f'<!-- s{code} --><img src="{{SMILIES_PATH}}/icon_e_smile.gif" alt="{code}" '
                f'title="Smile" /><!-- s{code} -->')
    if kind == "br":
        return "\n"
    raise ValueError(kind)


# -- Password hashes as phpBB writes them ------------------------------------------------------

_ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def phpass_hash(password: str, *, salt: str = "abcdefgh", prefix: str = "$H$", rounds_log2: int = 11) -> str:
    """A portable phpass hash ($H$ from phpBB 3.0, $P$ from WordPress and others),
    written independently of accounts.hashers so the test compares two implementations."""
    setting = prefix + _ITOA64[rounds_log2] + salt
    digest = hashlib.md5((salt + password).encode()).digest()
    for _ in range(1 << rounds_log2):
        digest = hashlib.md5(digest + password.encode()).digest()
    encoded, value_bits, bits = [], 0, 0
    for byte in digest:
        value_bits |= byte << bits
        bits += 8
        while bits >= 6:
            encoded.append(_ITOA64[value_bits & 0x3F])
            value_bits >>= 6
            bits -= 6
    if bits:
        encoded.append(_ITOA64[value_bits & 0x3F])
    return setting + "".join(encoded)


def bcrypt_hash(password: str, rounds: int = 4) -> str:
    """phpBB 3.1+'s bcrypt hash, with PHP's $2y$ prefix."""
    import bcrypt

    # PHP's crypt() reads the first 72 bytes.
    return bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(rounds)).decode().replace("$2b$", "$2y$", 1)


# -- The database ------------------------------------------------------------------------------


class PhpbbSource:
    """A phpBB database being written: create() the tables, then add rows."""

    def __init__(self, url: str, *, prefix: str = "phpbb_", version: str = "3.2"):
        self.url, self.prefix, self.version = url, prefix, version
        self.engine = "sqlite" if url.startswith("sqlite") else "postgres"
        if self.engine == "sqlite":
            # sqlite:////abs/path or sqlite:///relative/path, as dj-database-url reads them.
            self.connection = sqlite3.connect(url.removeprefix("sqlite:///"))
            self.placeholder = "?"
        else:
            import psycopg

            self.connection = psycopg.connect(url)
            self.placeholder = "%s"
        self.tables = TABLES_30 if version == "3.0" else TABLES
        self.uid = "1x2y3z4w" if version == "3.0" else ""

    def create(self) -> "PhpbbSource":
        cursor = self.connection.cursor()
        for table, columns in self.tables.items():
            key = PRIMARY_KEYS.get(table)
            definitions = [
                f"{name} {_sql_type(self.engine, phpbb_type)} NOT NULL"
                + (" PRIMARY KEY" if name == key else f" DEFAULT {_default(phpbb_type)!r}".replace('"', "'"))
                for name, phpbb_type in columns.items()
            ]
            cursor.execute(f"CREATE TABLE {self.prefix}{table} ({', '.join(definitions)})")
            for name, columns_sql in INDEXES.get(table, []):
                cursor.execute(f"CREATE INDEX {self.prefix}{table}_{name} ON {self.prefix}{table} ({columns_sql})")
        self.connection.commit()
        self.insert("config", config_name="version", config_value="3.3.14" if self.version != "3.0" else "3.0.14")
        return self

    def insert(self, table: str, **values) -> None:
        self.insert_many(table, [values])

    def insert_many(self, table: str, rows: list[dict]) -> None:
        if not rows:
            return
        columns = self.tables[table]
        names = list(columns)
        statement = (f"INSERT INTO {self.prefix}{table} ({', '.join(names)}) "
                     f"VALUES ({', '.join([self.placeholder] * len(names))})")
        # (psycopg's `with connection` would close it: commit by hand on both drivers.)
        self.connection.cursor().executemany(statement, [
            [row.get(name, _default(columns[name])) for name in names] for row in rows
        ])
        self.connection.commit()

    def close(self) -> None:
        self.connection.close()

    # Rows with phpBB's defaults filled in, in the version's own column names.

    def text(self, parts) -> str:
        return formatted(parts, version=self.version, uid=self.uid)

    def user_row(self, user_id, username, *, location="", website="", **values) -> dict:
        row = {"user_id": user_id, "username": html.escape(username), "username_clean": username.lower(),
               "user_email": f"{username.lower().replace(' ', '.')}@example.org",
               "user_regdate": 1_400_000_000 + user_id * 3600, **values}
        if self.version == "3.0":
            row.update(user_from=location, user_website=website)
        return row

    def user(self, user_id, username, *, location="", website="", **values) -> None:
        self.insert("users", **self.user_row(user_id, username, location=location, website=website, **values))
        if self.version != "3.0" and (location or website):
            self.insert("profile_fields_data", user_id=user_id, pf_phpbb_location=location,
                        pf_phpbb_website=website)

    def visible(self, prefix: str, state: int = ITEM_APPROVED) -> dict:
        if self.version == "3.0":
            return {f"{prefix}_approved": int(state == ITEM_APPROVED)}
        return {f"{prefix}_visibility": state}

    def topic_row(self, topic_id, forum_id, title, *, poster, time, state=ITEM_APPROVED, **values) -> dict:
        return {"topic_id": topic_id, "forum_id": forum_id, "topic_title": html.escape(title),
                "topic_poster": poster, "topic_time": time, **self.visible("topic", state), **values}

    def post_row(self, post_id, topic_id, forum_id, *, poster, time, parts, subject="",
                 state=ITEM_APPROVED, **values) -> dict:
        return {"post_id": post_id, "topic_id": topic_id, "forum_id": forum_id, "poster_id": poster,
                "post_time": time, "post_subject": html.escape(subject), "post_text": self.text(parts),
                "bbcode_uid": self.uid, **self.visible("post", state), **values}


def sample_community(source: PhpbbSource) -> None:
    """A small board with one of everything the importer handles (ids are fixed so tests
    can name them)."""
    t0 = 1_500_000_000
    source.user(ANONYMOUS, "Anonymous", user_type=USER_IGNORE)
    source.user(2, "Admin", user_type=USER_FOUNDER, user_password=bcrypt_hash("founder-pass"))
    source.user(3, "Ann Smith", user_password=bcrypt_hash("ann-secret"), location="Lyon",
                website="https://ann.example.org",
                user_sig=source.text([("b", "Ann"), " says hi"]), user_sig_bbcode_uid=source.uid)
    source.user(4, "bob", user_password=phpass_hash("bob-secret"))
    source.user(5, "carol", user_password=phpass_hash("carol-secret", prefix="$P$", salt="12345678"))
    source.user(6, "Bad Guy", user_password=bcrypt_hash("x"))
    source.user(7, "Google [Bot]", user_type=USER_IGNORE)
    forums = [
        # forum_id, parent, left, right, name, type, description, link
        (1, 0, 1, 8, "General", FORUM_CAT, "", ""),
        (2, 1, 2, 5, "Announcements & News", FORUM_POST, "What is new", ""),
        (3, 2, 3, 4, "Archive", FORUM_POST, "Old news", ""),
        (4, 1, 6, 7, "phpBB.com", FORUM_LINK, "", "https://www.phpbb.com"),
        (5, 0, 9, 12, "Hobbies", FORUM_CAT, "", ""),
        (6, 5, 10, 11, "Gardening", FORUM_POST, "Plants & soil", ""),
        (7, 0, 13, 14, "Lobby", FORUM_POST, "Say hello", ""),
    ]
    source.insert_many("forums", [
        {"forum_id": fid, "parent_id": parent, "left_id": left, "right_id": right,
         "forum_name": html.escape(name), "forum_type": kind, "forum_link": link,
         "forum_desc": source.text([description]) if description else "", "forum_desc_uid": source.uid}
        for fid, parent, left, right, name, kind, description, link in forums
    ])
    topics = [
        source.topic_row(1, 2, "Welcome & rules", poster=2, time=t0, topic_type=POST_ANNOUNCE,
                         topic_views=120, topic_first_post_id=1),
        # A poll closing a week after it started, one choice, votes may be changed.
        source.topic_row(2, 6, "Tomatoes", poster=3, time=t0 + 100, topic_views=7, topic_first_post_id=3,
                         poll_title=source.text(["Best ", ("b", "tomato"), "?"]), poll_start=t0 + 100,
                         poll_length=7 * 86400, poll_max_options=1, poll_vote_change=1),
        # A poll of one option, which Grassroots cannot hold.
        source.topic_row(3, 6, "Locked sticky", poster=4, time=t0 + 200, topic_type=POST_STICKY,
                         topic_status=ITEM_LOCKED, topic_first_post_id=7, poll_title=source.text(["Agreed?"]),
                         poll_start=t0 + 200, poll_max_options=1),
        source.topic_row(4, 3, "Moved away", poster=4, time=t0 + 300, topic_status=ITEM_MOVED,
                         topic_moved_id=2),
        source.topic_row(5, 7, "Waiting for approval", poster=5, time=t0 + 400,
                         state=ITEM_UNAPPROVED, topic_first_post_id=9),
        source.topic_row(6, 7, "Hello from a guest", poster=ANONYMOUS, time=t0 + 500, topic_first_post_id=10),
    ]
    source.insert_many("topics", topics)
    source.insert_many("poll_options", [
        {"poll_option_id": 1, "topic_id": 2, "poll_option_text": source.text([("i", "Roma")]), "poll_option_total": 3},
        {"poll_option_id": 2, "topic_id": 2, "poll_option_text": source.text(["Cherry"]), "poll_option_total": 3},
        {"poll_option_id": 1, "topic_id": 3, "poll_option_text": source.text(["Yes"]), "poll_option_total": 1},
    ])
    source.insert_many("poll_votes", [
        {"topic_id": 2, "poll_option_id": 1, "vote_user_id": 3, "vote_user_ip": "192.0.2.3"},
        {"topic_id": 2, "poll_option_id": 1, "vote_user_id": 4, "vote_user_ip": "192.0.2.4"},
        {"topic_id": 2, "poll_option_id": 2, "vote_user_id": 5, "vote_user_ip": "192.0.2.5"},
        # A guest (phpBB lets guests vote where permissions allow) and a bot, not imported.
        {"topic_id": 2, "poll_option_id": 2, "vote_user_id": ANONYMOUS, "vote_user_ip": "198.51.100.1"},
        {"topic_id": 2, "poll_option_id": 1, "vote_user_id": 7, "vote_user_ip": "198.51.100.2"},
        {"topic_id": 3, "poll_option_id": 1, "vote_user_id": 3, "vote_user_ip": "192.0.2.3"},
    ])
    posts = [
        source.post_row(1, 1, 2, poster=2, time=t0, subject="Welcome & rules", parts=[
            "Welcome to the ", ("b", "board"), "! Read ", ("url", "https://example.org/rules", "the rules"),
            " ", ("smiley", ":)"), ("br",), ("list", ["Be kind", "No spam"])]),
        source.post_row(2, 1, 2, poster=3, time=t0 + 10, subject="Re: Welcome & rules",
                        parts=["Thanks ", ("i", "admin"), ("br",), ("code", "print('hi')")]),
        source.post_row(3, 2, 6, poster=3, time=t0 + 100, subject="Tomatoes",
                        parts=["Mine are ", ("u", "red"), ". ", ("img", "https://img.example.org/t.jpg")]),
        source.post_row(4, 2, 6, poster=4, time=t0 + 110, subject="Re: Tomatoes", parts=["Mine too"]),
        source.post_row(5, 2, 6, poster=5, time=t0 + 120, subject="Re: Tomatoes",
                        parts=[("quote", "bob", 4, "Mine too"), "Really, bob?"]),
        source.post_row(6, 2, 6, poster=6, time=t0 + 130, subject="Re: Tomatoes", parts=["spam"],
                        state=ITEM_DELETED),
        source.post_row(7, 3, 6, poster=4, time=t0 + 200, subject="Locked sticky", parts=["Read me first"]),
        source.post_row(8, 3, 6, poster=3, time=t0 + 210, subject="",
                        parts=[("quote", "bob", 7, "Read me first"), "Done"]),
        source.post_row(9, 5, 7, poster=5, time=t0 + 400, subject="Waiting", parts=["Hi"],
                        state=ITEM_UNAPPROVED),
        source.post_row(10, 6, 7, poster=ANONYMOUS, time=t0 + 500, subject="Hello from a guest",
                        parts=["Hi all"], post_username="Visitor"),
    ]
    source.insert_many("posts", posts)
    source.insert_many("banlist", [
        {"ban_id": 1, "ban_userid": 6, "ban_start": t0, "ban_end": 0, "ban_give_reason": "Spam"},
        {"ban_id": 2, "ban_ip": "10.0.0.1", "ban_start": t0},
        {"ban_id": 3, "ban_userid": 4, "ban_start": t0, "ban_end": t0 + 86400, "ban_reason": "expired"},
    ])
    source.insert_many("moderator_cache", [
        {"forum_id": 6, "user_id": 3, "username": "Ann Smith"},
        {"forum_id": 6, "user_id": 0, "group_id": 4, "group_name": "Global moderators"},
    ])
    source.insert_many("privmsgs", [
        {"msg_id": 1, "root_level": 0, "author_id": 3, "message_time": t0 + 1000,
         "message_subject": "Seeds", "message_text": source.text(["Want some ", ("b", "seeds"), "?"]),
         "bbcode_uid": source.uid, "to_address": "u_4"},
        {"msg_id": 2, "root_level": 1, "author_id": 4, "message_time": t0 + 1100,
         "message_subject": "Re: Seeds", "message_text": source.text(["Yes please"]),
         "bbcode_uid": source.uid, "to_address": "u_3"},
    ])
    source.insert_many("privmsgs_to", [
        {"msg_id": 1, "user_id": 3, "author_id": 3, "folder_id": -2},
        {"msg_id": 1, "user_id": 4, "author_id": 3, "folder_id": 0},
        {"msg_id": 2, "user_id": 4, "author_id": 4, "folder_id": -2},
        {"msg_id": 2, "user_id": 3, "author_id": 4, "folder_id": 0},
    ])


WORDS = ("garden soil tomato seed rain sun water compost spade fence bee flower leaf root "
         "harvest summer winter frost green weed path stone bench shade pond bird").split()


def generate(source: PhpbbSource, *, users: int, topics: int, posts: int, seed: int = 1,
             first_id: int = 1000, progress=None) -> None:
    """A large board for the benchmark: `posts` posts in `topics` topics by `users` members,
    mixed formatting and quotes of earlier posts, written in batches. Ids start at first_id."""
    rng = random.Random(seed)
    t0 = 1_300_000_000
    hashed = phpass_hash("password")  # one hash: hashing is not what is measured
    source.insert_many("users", [
        source.user_row(first_id + n, f"member{first_id + n}", user_password=hashed)
        for n in range(users)
    ])
    forum_ids = [first_id + n for n in range(1, 21)]
    source.insert("forums", forum_id=first_id, forum_name="Big board", forum_type=FORUM_CAT,
                  left_id=first_id * 10, right_id=first_id * 10 + 100)
    source.insert_many("forums", [
        {"forum_id": fid, "parent_id": first_id, "forum_name": f"Forum {fid}", "forum_type": FORUM_POST,
         "left_id": fid * 10, "right_id": fid * 10 + 1}
        for fid in forum_ids
    ])
    per_topic = max(1, posts // topics)
    post_id = first_id
    # Polls draw from their own generator, so boards built before polls keep their posts.
    poll_rng = random.Random(seed + 1)
    topic_rows, post_rows, poll_option_rows, poll_vote_rows = [], [], [], []
    for n in range(topics):
        topic_id, forum_id = first_id + n, rng.choice(forum_ids)
        count = per_topic if n < topics - 1 else posts - per_topic * (topics - 1)
        time = t0 + n * 600
        title = " ".join(rng.choices(WORDS, k=rng.randint(3, 7))).capitalize()
        poster = first_id + rng.randrange(users)
        topic = source.topic_row(topic_id, forum_id, title, poster=poster, time=time,
                                 topic_views=rng.randrange(1000), topic_first_post_id=post_id)
        if n % POLL_EVERY == 0:
            option_rows, vote_rows = _generated_poll(poll_rng, source, topic, users=users, first_id=first_id)
            poll_option_rows += option_rows
            poll_vote_rows += vote_rows
        topic_rows.append(topic)
        first_in_topic = post_id
        for index in range(count):
            words = " ".join(rng.choices(WORDS, k=rng.randint(8, 40)))
            roll = rng.random()
            if index and roll < 0.2:
                parts = [("quote", "someone", rng.randrange(first_in_topic, post_id), words[:40]), words]
            elif roll < 0.4:
                parts = [words, ("br",), ("b", "bold words"), " and ", ("url", "https://example.org/x", "a link")]
            elif roll < 0.45:
                parts = [words, ("list", ["one", "two", "three"])]
            else:
                parts = [words]
            post_rows.append(source.post_row(
                post_id, topic_id, forum_id, poster=poster if not index else first_id + rng.randrange(users),
                time=time + index * 60, subject=title if not index else "Re: " + title, parts=parts))
            post_id += 1
        if len(post_rows) >= 20_000:
            _insert_generated(source, topic_rows, post_rows, poll_option_rows, poll_vote_rows)
            topic_rows, post_rows, poll_option_rows, poll_vote_rows = [], [], [], []
            if progress:
                progress(post_id - first_id)
    _insert_generated(source, topic_rows, post_rows, poll_option_rows, poll_vote_rows)


# One topic in POLL_EVERY carries a poll: 2 to 6 options, some closing, some multiple
# choice, voted on by members and, now and then, by a guest (phpBB records those by IP).
POLL_EVERY = 40


def _generated_poll(rng, source: PhpbbSource, topic: dict, *, users: int, first_id: int) -> tuple[list[dict], list[dict]]:
    topic_id = topic["topic_id"]
    options = rng.sample(WORDS, rng.randint(2, 6))
    max_options = rng.choice([1, 1, 1, 2, len(options)])
    # phpBB parses the question and the options like post text (message_parser::parse_poll).
    topic.update(poll_title=source.text([f"Which {rng.choice(WORDS)} is best?"]), poll_start=topic["topic_time"],
                 poll_length=rng.choice([0, 0, 7 * 86400]), poll_max_options=max_options,
                 poll_vote_change=rng.choice([0, 1]))
    votes = []
    for voter in rng.sample(range(users), min(users, rng.randint(0, 30))):
        for option in rng.sample(range(1, len(options) + 1), rng.randint(1, max_options)):
            votes.append({"topic_id": topic_id, "poll_option_id": option, "vote_user_id": first_id + voter,
                          "vote_user_ip": "192.0.2.1"})
    if rng.random() < 0.2:
        votes.append({"topic_id": topic_id, "poll_option_id": 1, "vote_user_id": ANONYMOUS,
                      "vote_user_ip": "198.51.100.7"})
    totals = [sum(vote["poll_option_id"] == number for vote in votes) for number in range(1, len(options) + 1)]
    option_rows = [{"poll_option_id": number, "topic_id": topic_id, "poll_option_text": source.text([text]),
                    "poll_option_total": total}
                   for number, (text, total) in enumerate(zip(options, totals, strict=True), start=1)]
    return option_rows, votes


def _insert_generated(source: PhpbbSource, topics, posts, poll_options, poll_votes) -> None:
    source.insert_many("topics", topics)
    source.insert_many("posts", posts)
    source.insert_many("poll_options", poll_options)
    source.insert_many("poll_votes", poll_votes)
