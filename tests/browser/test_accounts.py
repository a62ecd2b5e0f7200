"""Account flows in a real browser: signup, login, logout, password reset and
two-factor authentication, all through allauth's pages inside the site layout."""

import re
import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.core import mail
from playwright.sync_api import expect

from tests.factories import MemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
CONFIRM_LINK = re.compile(r"https?://\S+/accounts/confirm-email/\S+/")
RESET_LINK = re.compile(r"https?://\S+/accounts/password/reset/key/\S+/")


@pytest.fixture
def console(page):
    """Every message the browser prints to its console, CSP violations included."""
    messages = []
    page.on("console", lambda message: messages.append(message.text))
    return messages


def assert_no_csp_violation(console):
    violations = [text for text in console if "Content Security Policy" in text]
    assert not violations, violations


def account_nav(page):
    return page.get_by_role("navigation", name="Account")


def member_menu(page, name):
    """The disclosure, named after the member, that folds their own links in the header."""
    return account_nav(page).locator("summary", has_text=name)


def field(page, label):
    """The form field labelled `label`: Django's forms add a colon to the label, and
    allauth's own field template surrounds it with whitespace."""
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}:?\s*$"))


def verified_member():
    """A member whose email address allauth knows and trusts."""
    member = MemberFactory()
    EmailAddress.objects.create(user=member, email=member.email, verified=True, primary=True)
    return member


def log_in(page, live_server, login, password):
    """Log in through the header link and allauth's login form."""
    page.goto(live_server.url)
    account_nav(page).get_by_role("link", name="Log in").click()
    expect(page.get_by_role("heading", name="Log in", level=1)).to_be_visible()
    field(page, "Login").fill(login)
    field(page, "Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def log_out(page):
    account_nav(page).locator(".account-menu > summary").click()
    account_nav(page).get_by_role("button", name="Log out").click()
    expect(account_nav(page).get_by_role("link", name="Log in")).to_be_visible()


def only_link(pattern, message):
    links = pattern.findall(message.body)
    assert len(links) == 1, message.body
    return links[0]


def current_totp_code(secret):
    """The code an authenticator app shows now.

    Waits out the last seconds of a period first, so that the code is still the
    current one when the server checks it (allauth allows no clock tolerance by default).
    """
    remaining = mfa_settings.TOTP_PERIOD - time.time() % mfa_settings.TOTP_PERIOD
    if remaining < 5:
        time.sleep(remaining + 0.1)
    counters = list(yield_hotp_counters_from_time())
    current = counters[len(counters) // 2]  # the middle one: the others are the tolerance
    return format_hotp_value(hotp_value(secret, current))


def wrong_totp_code(secret):
    """A well-formed code that matches no counter within the tolerance."""
    valid = {format_hotp_value(hotp_value(secret, c)) for c in yield_hotp_counters_from_time()}
    return next(code for code in ("000000", "111111", "222222") if code not in valid)


def test_signup_confirms_email_from_the_emailed_link(live_server, page, console):
    """A visitor signs up from the header, is logged in, and confirms their email."""
    page.goto(live_server.url)
    account_nav(page).get_by_role("link", name="Create a free account").click()
    expect(page.get_by_role("heading", name="Create a free account", level=1)).to_be_visible()
    expect(account_nav(page)).to_be_visible()  # allauth's page sits in the site layout

    field(page, "Username").fill("newcomer")
    field(page, "Email").fill("newcomer@example.org")
    field(page, "Password").fill("a long and unusual passphrase")
    field(page, "Password (again)").fill("a long and unusual passphrase")
    page.get_by_role("button", name="Create account").click()

    member_menu(page, "newcomer").click()
    expect(account_nav(page).get_by_role("link", name="My profile")).to_be_visible()
    expect(account_nav(page).get_by_role("button", name="Log out")).to_be_visible()
    address = EmailAddress.objects.get(email="newcomer@example.org")
    assert address.user.username == "newcomer"
    assert not address.verified

    assert len(mail.outbox) == 1, [message.subject for message in mail.outbox]
    assert mail.outbox[0].to == ["newcomer@example.org"]
    page.goto(only_link(CONFIRM_LINK, mail.outbox[0]))
    expect(page.get_by_role("heading", name="Confirm Email Address")).to_be_visible()
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_text("You have confirmed newcomer@example.org.")).to_be_visible()
    address.refresh_from_db()
    assert address.verified
    assert_no_csp_violation(console)


def test_login_by_username_or_email_and_logout(live_server, page, console):
    """A member logs in with their username, logs out, then logs in with their email."""
    member = verified_member()

    log_in(page, live_server, member.username, PASSWORD)
    expect(member_menu(page, member.public_name)).to_be_visible()
    log_out(page)
    expect(member_menu(page, member.public_name)).to_have_count(0)

    log_in(page, live_server, member.email, PASSWORD)
    expect(member_menu(page, member.public_name)).to_be_visible()
    log_out(page)
    expect(page.get_by_text("You have logged out.")).to_be_visible()
    assert_no_csp_violation(console)


def test_login_refuses_a_wrong_password(live_server, page, console):
    """A wrong password leaves the visitor on the login page, logged out."""
    member = verified_member()

    log_in(page, live_server, member.username, "not my password at all")

    expect(page.get_by_text("The username and/or password you specified are not correct.")).to_be_visible()
    expect(account_nav(page).get_by_role("link", name="Log in")).to_be_visible()
    assert_no_csp_violation(console)


def test_password_reset_sets_a_new_password_from_the_emailed_link(live_server, page, console):
    """A member who forgot their password resets it by email and logs in with the new one."""
    member = verified_member()
    new_password = "a brand new passphrase"

    page.goto(f"{live_server.url}/accounts/password/reset/")
    expect(page.get_by_role("heading", name="Password Reset", level=1)).to_be_visible()
    expect(account_nav(page)).to_be_visible()
    field(page, "Email").fill(member.email)
    page.get_by_role("button", name="Reset My Password").click()
    expect(page.get_by_text("We have sent you an email")).to_be_visible()

    assert len(mail.outbox) == 1, [message.subject for message in mail.outbox]
    assert mail.outbox[0].to == [member.email]
    page.goto(only_link(RESET_LINK, mail.outbox[0]))
    expect(page.get_by_role("heading", name="Change Password", level=1)).to_be_visible()
    field(page, "New Password").fill(new_password)
    field(page, "New Password (again)").fill(new_password)
    page.get_by_role("button", name="Change Password").click()
    expect(page.get_by_text("Your password is now changed.")).to_be_visible()

    log_in(page, live_server, member.username, PASSWORD)
    expect(page.get_by_text("The username and/or password you specified are not correct.")).to_be_visible()
    log_in(page, live_server, member.username, new_password)
    expect(member_menu(page, member.public_name)).to_be_visible()
    assert_no_csp_violation(console)


def test_totp_is_asked_for_at_login_once_activated(live_server, page, console):
    """A member activates an authenticator app; the next login asks for its code,
    refuses a wrong one and accepts the right one."""
    member = verified_member()
    log_in(page, live_server, member.username, PASSWORD)
    expect(member_menu(page, member.public_name)).to_be_visible()

    page.goto(f"{live_server.url}/accounts/2fa/")
    expect(page.get_by_role("heading", name="Two-Factor Authentication", level=1)).to_be_visible()
    expect(page.get_by_text("An authenticator app is not active.")).to_be_visible()
    page.get_by_role("link", name="Activate").click()

    # allauth asks for the password again before a security change, even right after login.
    expect(page.get_by_role("heading", name="Confirm Access", level=1)).to_be_visible()
    field(page, "Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Activate Authenticator App")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile(r"^[A-Z2-7]{32}$"))).to_be_visible()  # the QR code
    secret = field(page, "Authenticator secret").input_value()
    field(page, "Authenticator code").fill(current_totp_code(secret))
    page.get_by_role("button", name="Activate").click()

    # allauth generates recovery codes with the first authenticator and shows them.
    expect(page.get_by_role("heading", name="Recovery Codes")).to_be_visible()
    expect(field(page, "Unused codes")).not_to_be_empty()
    assert set(Authenticator.objects.filter(user=member).values_list("type", flat=True)) == {
        Authenticator.Type.TOTP,
        Authenticator.Type.RECOVERY_CODES,
    }
    log_out(page)

    log_in(page, live_server, member.username, PASSWORD)
    expect(page.get_by_text("Your account is protected by two-factor authentication.")).to_be_visible()
    field(page, "Code").fill(wrong_totp_code(secret))
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Incorrect code.")).to_be_visible()
    expect(account_nav(page).get_by_role("link", name="Log in")).to_be_visible()

    # Activation checks its code without marking it used, so this may be the same code;
    # allauth refuses a code only once it has let someone log in with it.
    field(page, "Code").fill(current_totp_code(secret))
    page.get_by_role("button", name="Log in").click()
    expect(member_menu(page, member.public_name)).to_be_visible()
    assert_no_csp_violation(console)


@pytest.mark.parametrize("width", [1280, 390])
def test_forgot_password_link_is_a_target_of_at_least_24_px(live_server, page, width):
    """WCAG 2.2 target size (2.5.8): the link sits alone under the password field."""
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(f"{live_server.url}/accounts/login/")
    box = page.get_by_role("link", name="Forgot your password?").bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24, box
