"""Cross-site scripting in a real browser: the corpus of tests/security/xss_payloads.txt
written into every field a member can fill, then the pages that show those fields
loaded in Chromium with a canary installed before any of the page's own script.

A page fails if the canary fired (alert, confirm, prompt, print or window.__xss), if
the Content-Security-Policy reported a violation (it blocks inline script, so a payload
that got past the escaping shows up as a violation rather than running), on a script
error or a dialog, if the page navigated away, or if its DOM holds an event handler, a
script that is not ours, an active element (iframe, object, svg, ...) or a link or form
whose address has a scheme other than http, https or mailto. Each page must also show
as text the plain-text payloads it was given, so an empty page cannot pass.

Lists show every payload at once (pages are made long through settings and the member's
replies-per-page preference). Pages of a single object (a profile, a search, a jury, a
conversation) are loaded for a spread of payloads that try to break out of their context;
tests/security/test_xss_pages.py fetches them for every payload without a browser.
Data comes from the services; test_forms_* writes a few payloads through the real forms.
"""

import re
from urllib.parse import urlencode

import pytest
from django.db import transaction
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import User
from accounts.services import member_update
from conversations.models import Conversation
from conversations.services import conversation_create, message_create
from forums.models import Thread
from moderation.models import Alert, Jury, JurySeat
from moderation.services import alert_rule_create, host_add, jury_vote, thread_lock
from tests.factories import ForumFactory, MemberFactory, ThreadFactory
from tests.security.xss_data import (
    PAYLOADS,
    clip,
    payload_conversations,
    payload_edits,
    payload_juries,
    payload_members,
    payload_replies,
    payload_threads,
)

from .conftest import session_cookie

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABS = 4  # pages loaded side by side
NEEDLE = "xsscanary"

# Payloads built to break out of a context (</title>, </textarea>, a quote ending an
# attribute), spread over the corpus: what single-object pages are loaded with.
_BREAKS_OUT = re.compile(
    r"</(title|textarea|script|style|noscript|xmp|template|iframe)"
    r"|[\"'`]\s*(on\w+|autofocus|style)\s*=|[\"'`]\s*/?>",
    re.I,
)
_BREAKERS = [payload for payload in PAYLOADS if _BREAKS_OUT.search(payload)]
SAMPLE = list(dict.fromkeys(_BREAKERS[:: max(1, len(_BREAKERS) // 12)][:12]))

CANARY = """
(() => {
  const fired = window.__xss = [];
  for (const name of ["alert", "confirm", "prompt", "print"]) {
    window[name] = function () { fired.push(name + "(" + Array.from(arguments).join(",") + ")"); };
  }
  window.__csp = [];
  document.addEventListener("securitypolicyviolation", (event) => {
    window.__csp.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}: ${event.sample}`);
  }, true);
})();
"""

# Runs once the page has loaded: what fired, and what in the DOM could run script.
INSPECT = """
() => new Promise((resolve) => setTimeout(() => {
  const problems = [];
  const safe = new Set(["http:", "https:", "mailto:"]);
  const urlAttributes = new Set(["href", "src", "action", "formaction", "xlink:href", "data",
                                 "poster", "background", "srcset", "ping", "cite"]);
  const describe = (element) => element.outerHTML.slice(0, 160);
  for (const element of document.querySelectorAll("*")) {
    for (const attribute of element.attributes) {
      const name = attribute.name.toLowerCase();
      if (name.startsWith("on")) problems.push("event handler: " + describe(element));
      else if (name === "style" || name === "srcdoc") problems.push(name + ": " + describe(element));
      else if (urlAttributes.has(name)) {
        let url;
        try { url = new URL(attribute.value, document.baseURI); } catch (error) { continue; }
        if (!safe.has(url.protocol)) problems.push(url.protocol + " address: " + describe(element));
      }
    }
  }
  const own = (address) => {
    try { const url = new URL(address, location.href); return url.origin === location.origin; }
    catch (error) { return false; }
  };
  for (const script of document.scripts) {
    if (!script.src || !own(script.src) || !new URL(script.src).pathname.startsWith("/static/"))
      problems.push("script: " + describe(script));
  }
  const active = "iframe, frame, frameset, object, embed, applet, portal, svg, math, base, " +
                 "meta[http-equiv], template, noscript, video, audio, style, textarea:not([name])";
  for (const element of document.querySelectorAll(active)) problems.push("element: " + describe(element));
  for (const element of document.querySelectorAll("img, link")) {
    const address = element.getAttribute("src") || element.getAttribute("href") || "";
    if (!own(address)) problems.push("resource from elsewhere: " + describe(element));
  }
  if (document.baseURI !== location.href.split("#")[0] && document.baseURI !== location.href)
    problems.push("base address changed to " + document.baseURI);
  resolve({fired: window.__xss, csp: window.__csp, problems: problems,
           text: document.documentElement.textContent});
}, 30))
"""


def normalised(text: str) -> str:
    return " ".join(text.split())


class Browser:
    """A browser context with the canary, logged in as `member` (or a visitor), that
    loads pages a few at a time and collects everything that went wrong."""

    def __init__(self, browser, live_server, member=None):
        self.live_server = live_server
        self.context = browser.new_context()
        self.context.add_init_script(CANARY)
        if member is not None:
            self.context.add_cookies([session_cookie(live_server, member)])
        self.failures: list[str] = []
        self.visited = 0
        self.tabs = [self._tab() for _ in range(TABS)]

    def _tab(self):
        page = self.context.new_page()
        page.events = []
        page.on("console", lambda message: "Content Security Policy" in message.text
                and page.events.append(f"console: {message.text}"))
        page.on("pageerror", lambda error: page.events.append(f"script error: {error}"))

        def dialog(dialog):
            page.events.append(f"dialog: {dialog.type} {dialog.message}")
            dialog.dismiss()

        page.on("dialog", dialog)
        return page

    def visit(self, pages, statuses=(200,)):
        """Load each (path, expected texts) and check it. Texts are what members wrote
        into plain-text fields, which must appear on the page exactly, as text."""
        pages = list(pages)
        for start in range(0, len(pages), TABS):
            batch = list(zip(self.tabs, pages[start : start + TABS]))
            responses = [tab.goto(self.live_server.url + path, wait_until="commit") for tab, (path, _) in batch]
            for (tab, (path, expected)), response in zip(batch, responses):
                tab.wait_for_load_state("load")
                self._check(tab, path, expected, response, statuses)

    def _check(self, tab, path, expected, response, statuses):
        self.visited += 1
        where = f"{path[:120]}"
        if response is None or response.status not in statuses:
            self.failures.append(f"{where}: status {response.status if response else None}")
        result = tab.evaluate(INSPECT)
        for name in ("fired", "csp", "problems"):
            self.failures += [f"{where}: {name}: {item}" for item in result[name]]
        self.failures += [f"{where}: {event}" for event in tab.events]
        tab.events.clear()
        if tab.url.split("#")[0] != self.live_server.url + path:
            self.failures.append(f"{where}: navigated to {tab.url}")
        text = normalised(result["text"])
        missing = [value for value in expected if normalised(value) not in text]
        self.failures += [f"{where}: not shown as text: {value!r}" for value in missing]

    def check_here(self, label, expected=(), tab=None):
        """Check the page the first tab is on now (after submitting a form)."""
        tab = tab or self.tabs[0]
        tab.wait_for_load_state("load")
        self.visited += 1
        result = tab.evaluate(INSPECT)
        for name in ("fired", "csp", "problems"):
            self.failures += [f"{label}: {name}: {item}" for item in result[name]]
        self.failures += [f"{label}: {event}" for event in tab.events]
        tab.events.clear()
        text = normalised(result["text"])
        self.failures += [f"{label}: not shown as text: {value!r}" for value in expected
                          if normalised(value) not in text]

    def assert_clean(self):
        assert self.visited, "no page was checked"
        assert not self.failures, "\n".join(self.failures[:40])

    def close(self):
        self.context.close()


def test_canary_and_csp_listener_catch_an_injection(live_server, browser):
    """The control: a handler slipped into a real page is caught three ways (the CSP
    refuses it, the DOM check sees it, the canary sees a call), so a clean result
    means something."""
    visitor = Browser(browser, live_server)
    try:
        tab = visitor.tabs[0]
        tab.goto(live_server.url + reverse("forums:forum-index"))
        tab.evaluate("""() => {
            document.body.insertAdjacentHTML("beforeend", '<img src="/x.png" onerror="window.__xss.push(1)">');
            alert("from the page");
        }""")
        tab.wait_for_function("window.__csp.length > 0")
        visitor.check_here("injected")
        joined = "\n".join(visitor.failures)
        assert "csp: script-src-attr" in joined or "csp: script-src" in joined, joined
        assert "problems: event handler" in joined, joined
        assert 'fired: alert(from the page)' in joined, joined
    finally:
        visitor.close()


@pytest.fixture
def big_pages(settings, monkeypatch):
    """Every list in one page, so that each page load checks hundreds of payloads."""
    settings.FORUMS_THREADS_PER_PAGE = 1000
    settings.FORUMS_NOTIFICATIONS_PER_PAGE = 2000
    settings.FORUMS_CONVERSATIONS_PER_PAGE = 1000
    settings.FORUMS_MESSAGES_PER_PAGE = 1000
    settings.FORUMS_MODERATION_LOG_PER_PAGE = 2000
    monkeypatch.setattr("forums.search.RESULTS_PER_PAGE", 1000)


def test_threads_replies_names_and_search_run_no_script(live_server, browser, big_pages):
    """Thread titles, reply subjects, post bodies and display names on the forum page,
    Latest, home, the thread, View all, notifications and search results; the search
    box, profiles (hometown, country, slogan) and thread pages for the sample."""
    with transaction.atomic():
        reader = member_update(
            member=MemberFactory(), replies_per_page=200, thread_view="all", email_notifications=False
        )
        authors = payload_members(PAYLOADS)
        forum = ForumFactory(name="Anything goes", slug="anything-goes")
        # The needle in each opening post lets one search find them all. It comes first:
        # PostgreSQL's text search parser skips what looks like an unclosed tag or
        # comment ("<!--"), and would skip a needle after one.
        threads = payload_threads(forum=forum, authors=authors, payloads=PAYLOADS, lead=f"{NEEDLE}\n\n")
        # The reader follows this thread, so each reply is a notification too.
        replies_thread = ThreadFactory(forum=forum, author=reader, title="Replies")
        replies = payload_replies(thread=replies_thread, authors=authors, payloads=PAYLOADS)

    titles = [thread.title for thread in threads]
    names = [author.display_name for author in authors]
    subjects = [reply.subject for reply in replies]
    per_page = reader.replies_per_page
    sample = [PAYLOADS.index(payload) for payload in SAMPLE]
    search = reverse("forums:search")

    visitor, member = Browser(browser, live_server), Browser(browser, live_server, reader)
    try:
        visitor.visit([(forum.get_absolute_url(), titles + names)])
        member.visit([
            (forum.get_absolute_url(), titles + names),
            (reverse("forums:latest"), titles),
            (reverse("forums:home"), titles[-5:]),
            (reverse("forums:forum-index"), []),
            (replies_thread.get_absolute_url(), []),
            *[(f"{replies_thread.get_view_all_url()}?page={page}", subjects[(page - 1) * per_page : page * per_page])
              for page in range(1, -(-len(subjects) // per_page) + 1)],
            (reverse("forums:notification-list"), names + subjects),
            (f"{search}?{urlencode({'q': NEEDLE})}", titles),
        ])
        visitor.visit(
            [(f"{search}?{urlencode({'q': PAYLOADS[n], 'author': clip(PAYLOADS[n], 150)})}", [])
             for n in sample],
            statuses=(200, 400),
        )
        visitor.visit(
            (authors[n].get_absolute_url(), [authors[n].display_name, authors[n].hometown, authors[n].slogan])
            for n in sample
        )
        visitor.visit((threads[n].get_absolute_url(), [threads[n].title]) for n in sample)
        visitor.assert_clean()
        member.assert_clean()
    finally:
        visitor.close()
        member.close()


def test_edit_history_runs_no_script(live_server, browser):
    """Each version's changes on the edit history (made from the plain text): the
    sample's payloads, as the opening post's and a reply's body and the reply's
    subject, deleted in one version and inserted in the next, show as text."""
    with transaction.atomic():
        author = member_update(member=MemberFactory(), email_notifications=False)
        threads = [ThreadFactory(author=author, title=f"Edited {n}") for n in range(len(SAMPLE))]
        openings = payload_edits(posts=[thread.posts.get(number=0) for thread in threads], payloads=SAMPLE)
        replies = payload_edits(
            posts=[payload_replies(thread=thread, authors=[author], payloads=["Plain"])[0] for thread in threads],
            payloads=SAMPLE,
        )
    history = [
        (reverse("forums:post-history", args=[post.thread_id, post.number]),
         [post.body] if post.parent_id is None else [post.body, post.subject])
        for post in openings + replies
    ]
    visitor = Browser(browser, live_server)
    try:
        visitor.visit(history)
        visitor.assert_clean()
    finally:
        visitor.close()


def test_private_messages_run_no_script(live_server, browser, big_pages):
    """Subjects, messages and senders' names on the inbox, Sent and conversation pages."""
    with transaction.atomic():
        reader = member_update(member=MemberFactory(), email_notifications=False)
        # Every display name is on the forum page of the test above; a dozen do here.
        senders = payload_members(SAMPLE)
        conversations = payload_conversations(
            recipient=reader, senders=[senders[n % len(senders)] for n in range(len(PAYLOADS))],
            payloads=PAYLOADS,
        )
        # One long conversation with every payload as a message, from both sides.
        long = conversation_create(sender=reader, recipient=senders[0], subject="All of them", body="Hi")
        for n, payload in enumerate(PAYLOADS):
            message_create(author=(reader, senders[0])[n % 2], conversation=long, body=payload)

    subjects = [conversation.subject for conversation in conversations]
    names = [sender.display_name for sender in senders]
    sample = [PAYLOADS.index(payload) for payload in SAMPLE]
    member, sender = Browser(browser, live_server, reader), Browser(browser, live_server, senders[0])
    try:
        member.visit([
            (reverse("conversations:inbox"), subjects + names),
            (reverse("conversations:sent"), ["All of them"]),
            (long.get_absolute_url(), []),
            *[(conversations[n].get_absolute_url(), [subjects[n]]) for n in sample],
        ])
        sender.visit([(reverse("conversations:sent"), [subjects[0]]), (long.get_absolute_url(), [])])
        member.assert_clean()
        sender.assert_clean()
    finally:
        member.close()
        sender.close()


def test_alerts_juries_and_moderation_run_no_script(live_server, browser, big_pages, settings):
    """Alert and juror comments on the juror's page and the result; a host's lock
    reasons in the moderation log and on the thread; reply subjects in the log and
    in the community's messages about verdicts."""
    settings.FORUMS_JURY_SIZE = 3
    settings.FORUMS_JURY_VOTES_TO_HIDE = 2
    with transaction.atomic():
        poster, alerter, host, *jurors = payload_members(["Poster", "Alerter", "Host", *SAMPLE[:3]])
        member_update(member=host, jury_available=False)
        forum = ForumFactory(name="Moderated", slug="moderated")
        thread = ThreadFactory(forum=forum, author=poster, title="Alerted replies")
        posts = payload_replies(thread=thread, authors=[poster] * len(SAMPLE), payloads=SAMPLE)
        rule = alert_rule_create(slug="no-attacks", name="No personal attacks")
        juries = payload_juries(posts=posts, alerter=alerter, jurors=jurors, rule=rule, payloads=SAMPLE)
        # Juries with a juror's answer each way decide to keep the reply when the third
        # says so: the log lists the reply by its subject, and the community writes to
        # the poster and the alerter with the subject in the message's subject.
        for jury in juries[:4]:
            jury_vote(juror=jurors[2], jury=jury, answer=JurySeat.Answer.CLEAR_KEEP)
        # A host is a member too: their reasons for locking go on the thread and the log.
        staff = User.objects.create_user("staffer", password="x" * 12, is_staff=True, jury_available=False)
        host_add(moderator=staff, forum=forum, member=host)
        locked = ThreadFactory(forum=forum, author=poster, title="Locked again and again")
        reasons = [clip(payload, 200) for payload in PAYLOADS]
        for reason in reasons:
            locked = thread_lock(moderator=host, thread=locked, lock=True, reason=reason)

    open_juries = [jury for jury in juries if Jury.objects.get(pk=jury.pk).is_open]
    decided = [post for post, jury in zip(posts, juries) if jury not in open_juries]
    assert open_juries and len(decided) == 4
    results = [
        (reverse("moderation:jury-result", args=[jury.pk]),
         [jury.alert.comment, *jury.seats.exclude(comment="").values_list("comment", flat=True)])
        for jury in juries
    ]
    visitor = Browser(browser, live_server)
    juror, alerts_by = Browser(browser, live_server, jurors[2]), Browser(browser, live_server, alerter)
    author = Browser(browser, live_server, poster)
    everyone = (visitor, juror, alerts_by, author)
    try:
        visitor.visit([
            (reverse("moderation:log"), reasons + [post.subject for post in decided]),
            (locked.get_absolute_url(), [locked.lock_notice]),
        ])
        juror.visit(
            [(reverse("moderation:jury-detail", args=[jury.pk]), [jury.alert.comment]) for jury in open_juries]
            + [(reverse("forums:notification-list"), [])]
        )
        verdicts = [f"Jury result: {post.subject}"[:150] for post in decided]
        alerts_by.visit(results + [(reverse("conversations:inbox"), verdicts)])
        author.visit(results[:4] + [(reverse("conversations:inbox"), verdicts), (reverse("forums:notification-list"), [])])
        for browser_ in everyone:
            browser_.assert_clean()
    finally:
        for browser_ in everyone:
            browser_.close()


# Through the real forms: a script element, a javascript: link hidden by a tab and an
# entity, a quote that ends an attribute, and textarea and title breakers.
FORM_PAYLOADS = [
    '</textarea><script>alert(1)</script>[x](jav&#x09;ascript:alert(1)) {{7*7}}',
    '"><img src=x onerror=alert(1)></title><svg onload=alert(1)>[x](java\tscript:alert(1))',
]


def test_forms_take_payloads_and_pages_run_no_script(live_server, browser, settings):
    """A member writes payloads through every form: a thread and a reply (with their
    previews), the profile settings, a private message, an alert comment, a juror's
    comment and the search box in the header."""
    settings.FORUMS_JURY_SIZE = 1
    settings.FORUMS_JURY_VOTES_TO_HIDE = 1
    writer = member_update(member=MemberFactory(), email_notifications=False)
    other, juror = MemberFactory(), MemberFactory()
    member_update(member=other, jury_available=False)
    forum = ForumFactory(name="Forms", slug="forms")
    alert_rule_create(slug="no-attacks", name="No personal attacks")
    me, judge = Browser(browser, live_server, writer), Browser(browser, live_server, juror)
    page, url = me.tabs[0], live_server.url
    try:
        for n, payload in enumerate(FORM_PAYLOADS):
            # A new thread, previewed first: the preview and the refilled form.
            page.goto(f"{url}{reverse('forums:thread-create', args=[forum.slug])}")
            page.locator("[name=title]").fill(payload)
            page.locator("[name=body]").fill(payload)
            page.locator("button[name=preview]").click()
            me.check_here(f"thread preview {n}")
            expect(page.locator("[name=body]")).to_have_value(payload)
            page.locator("button[name=post]").click()
            thread = Thread.objects.get(forum=forum, title=" ".join(payload.split()))
            me.check_here(f"new thread {n}", [thread.title])

            # A reply to it, with a subject, previewed first.
            page.goto(f"{url}{reverse('forums:reply-create', args=[thread.pk, 0])}")
            page.locator("[name=subject]").fill(payload)
            page.locator("[name=body]").fill(payload)
            page.locator("button[name=preview]").click()
            me.check_here(f"reply preview {n}")
            page.locator("button[name=post]").click()
            me.check_here(f"reply {n}")
            assert thread.posts.filter(number=1, subject=" ".join(payload.split())).exists()

            # Profile settings, then the profile page.
            page.goto(f"{url}{reverse('members:settings')}")
            for name, length in [("display_name", 60), ("hometown", 80), ("country", 80), ("slogan", 200)]:
                page.locator(f"[name={name}]").fill(clip(payload, length))
            page.get_by_role("button", name="Save settings").click()
            me.check_here(f"settings {n}")
            writer.refresh_from_db()
            assert writer.slogan == clip(payload, 200)
            me.visit([(writer.get_absolute_url(), [writer.display_name, writer.hometown, writer.slogan])])

            # A private message to the other member, previewed first.
            page.goto(f"{url}{reverse('conversations:conversation-create')}?to={other.username}")
            page.locator("[name=subject]").fill(payload)
            page.locator("[name=body]").fill(payload)
            page.locator("button[name=preview]").click()
            me.check_here(f"message preview {n}")
            page.locator("button[name=post]").click()
            me.check_here(f"message {n}")
            assert Conversation.objects.filter(subject=" ".join(payload.split())).exists()

            # An alert on the other member's post, with a comment; the juror answers
            # with a comment; the alerter reads the result.
            target = ThreadFactory(forum=forum, author=other, title=f"Alert me {n}")
            page.goto(f"{url}{reverse('moderation:alert-create', args=[target.pk, 0])}")
            page.get_by_label("No personal attacks").check()
            page.locator("[name=comment]").fill(payload)
            page.get_by_role("button", name="Send alert").click()
            me.check_here(f"alert {n}")
            jury = Jury.objects.get(alert=Alert.objects.get(post__thread=target))
            judge_page = judge.tabs[0]
            judge_page.goto(f"{url}{reverse('moderation:jury-detail', args=[jury.pk])}")
            judge.check_here(f"jury page {n}", [jury.alert.comment])
            judge_page.get_by_label("Clearly does not break it").check()
            judge_page.locator("[name=comment]").fill(payload)
            judge_page.get_by_role("button", name="Submit my answer").click()
            judge.check_here(f"jury answer {n}")
            me.visit([(reverse("moderation:jury-result", args=[jury.pk]), [jury.alert.comment])])

            # The search box in the header.
            page.goto(url)
            page.locator("#site-search-q").fill(payload)
            page.locator("#site-search-q").press("Enter")
            me.check_here(f"search {n}")
            expect(page.locator("#id_q")).to_have_value(clip(payload, 200))
        me.visit([(reverse("conversations:sent"), []), (reverse("forums:latest"), [])])
        me.assert_clean()
        judge.assert_clean()
    finally:
        me.close()
        judge.close()
