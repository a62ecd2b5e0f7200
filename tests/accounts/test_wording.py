"""allauth's pages and emails in the site's words: "Log in" and "Create a free account"
as the header says them, checkbox labels without a colon, emails from the community."""

import io
import re
from email.utils import formataddr

import pytest
from django.core import mail
from django.urls import reverse

from config.mail import ConsoleBackend
from forums.services import community_update
from tests.factories import ReplyFactory
from tests.processes import run_python

PASSWORD = "correct horse battery staple"
ALLAUTH_WORDS = re.compile(r"(?i)sign[ -]?(?:in|up|out|ed (?:in|out))\b")


def _allauth_words(page: str) -> list[str]:
    """allauth's own words ("Sign In", "signed out") in what a page shows (not its URLs)."""
    return ALLAUTH_WORDS.findall(re.sub(r"<[^>]+>", " ", page))


def _main(response) -> str:
    page = response.content.decode()
    return page[page.index("<main"):page.index("</main>")]


def _title(response) -> str:
    return re.search(r"<title>(.*?)</title>", response.content.decode(), re.S).group(1)


@pytest.fixture
def community(db):
    return community_update(
        name="Riverside Commons", tagline="Neighbours talking", welcome_title="Welcome",
        join_prompt="Join us", support_prompt="Support us",
    )


@pytest.mark.parametrize("url_name, words", [
    ("account_login", "Log in"),
    ("account_signup", "Create a free account"),
])
def test_allauth_pages_use_the_headers_words(client, db, url_name, words):
    response = client.get(reverse(url_name))
    assert _title(response).startswith(words)
    assert re.search(rf"<h1>\s*{words}\s*</h1>", _main(response))
    assert not _allauth_words(_main(response))


def test_login_and_signup_pages_link_to_each_other_in_the_sites_words(client, db):
    login = _main(client.get(reverse("account_login"), {"next": "/latest/"}))
    assert re.search(r'<a href="/accounts/signup/\?next=%2Flatest%2F">Create a free account</a>', login)
    signup = _main(client.get(reverse("account_signup")))
    assert re.search(r'<a href="/accounts/login/">Log in</a>', signup)


def test_logout_page_says_log_out(member_client):
    response = member_client.get(reverse("account_logout"))
    assert _title(response).startswith("Log out")
    assert not _allauth_words(_main(response))


def test_login_and_logout_messages_use_the_sites_words(client, member):
    logged_in = client.post(
        reverse("account_login"), {"login": member.username, "password": PASSWORD}, follow=True
    )
    assert f"You are logged in as {member.username}." in logged_in.content.decode()
    logged_out = client.post(reverse("account_logout"), follow=True)
    assert "You have logged out." in logged_out.content.decode()
    for response in (logged_in, logged_out):
        assert not _allauth_words(response.content.decode())


def test_emails_about_accounts_use_the_sites_words(client, member, community, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"  # as in production: no enumeration
    client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})
    _sign_up(client, email=member.email)
    unknown, exists = mail.outbox[-2:]
    assert "you can create a free account here:" in unknown.body
    assert "tried to create an account with the email address" in exists.body
    for message in (unknown, exists):
        assert not ALLAUTH_WORDS.findall(re.sub(r"\S+://\S+", " ", message.body)), message.body
        assert "Hello from Riverside Commons!" in message.body


def _checkbox_labels(page: str) -> list[str]:
    boxes = re.findall(r'<input type="checkbox"[^>]* id="([^"]+)"', page)
    assert boxes
    return [re.search(rf'<label for="{box}"[^>]*>(.*?)</label>', page, re.S).group(1).strip()
            for box in boxes]


def test_checkbox_labels_end_without_a_colon(client, member):
    labels = _checkbox_labels(_main(client.get(reverse("account_login"))))
    client.force_login(member)
    labels += _checkbox_labels(_main(client.get(reverse("members:settings"))))
    assert "Remember Me" in labels and "Available to serve on juries" in labels
    assert not [label for label in labels if label.endswith(":")], labels


def test_text_labels_keep_their_colon(member_client):
    assert '<label for="id_display_name">Display name:</label>' in _main(
        member_client.get(reverse("members:settings"))
    )


def _sign_up(client, email="newcomer@example.org"):
    sent = len(mail.outbox)
    response = client.post(reverse("account_signup"), {
        "username": "newcomer", "email": email,
        "password1": PASSWORD, "password2": PASSWORD,
    })
    assert response.status_code == 302
    (message,) = mail.outbox[sent:]
    return message


def test_confirmation_email_names_the_community(client, community, settings):
    settings.DEFAULT_FROM_EMAIL = "noreply@riverside.example"
    message = _sign_up(client)
    assert message.from_email == formataddr(("Riverside Commons", "noreply@riverside.example"))
    assert "Hello from Riverside Commons!" in message.body
    assert "Thank you for using Riverside Commons!" in message.body
    assert "Hello from testserver" not in message.body


def test_a_named_from_address_is_kept(client, community, settings):
    settings.DEFAULT_FROM_EMAIL = "Riverside Mail Desk <desk@riverside.example>"
    assert _sign_up(client).from_email == "Riverside Mail Desk <desk@riverside.example>"


def test_notification_emails_come_from_the_community(
    community, settings, opening_post, other_member, django_capture_on_commit_callbacks
):
    settings.DEFAULT_FROM_EMAIL = "noreply@riverside.example"
    with django_capture_on_commit_callbacks(execute=True):
        ReplyFactory(parent=opening_post, author=other_member)
    (message,) = mail.outbox
    assert message.from_email == formataddr(("Riverside Commons", "noreply@riverside.example"))


def test_development_mailer_prints_the_confirmation_link_on_one_line(client, community):
    message = _sign_up(client)
    link = re.search(r"https?://\S+", message.body).group(0)
    assert len(link) > 76  # longer than a quoted-printable line

    printed = io.StringIO()
    ConsoleBackend(stream=printed).send_messages([message])

    text = printed.getvalue()
    assert link in text.splitlines() or any(line.endswith(link) for line in text.splitlines())
    assert "=\n" not in text and "=3D" not in text
    assert "From: Riverside Commons <noreply@localhost>" in text
    assert "Subject: Please Confirm Your Email Address" in text


def test_development_settings_print_mail_readable():
    """`make run` settings (no EMAIL_HOST): mail goes to the console, links whole."""
    link = "http://127.0.0.1:8000/accounts/confirm-email/" + "MQ:1uQx" * 14 + "/"
    code = (
        "import django; django.setup()\n"
        "from django.core.mail import send_mail\n"
        f"send_mail('Please confirm', 'To confirm, go to {link}', None, ['ann@example.org'])\n"
    )
    result = run_python("-c", code, EMAIL_HOST="")
    assert result.returncode == 0, result.stderr
    assert f"To confirm, go to {link}" in result.stdout.splitlines()
    assert "=\n" not in result.stdout
