import pytest
from django.urls import reverse

from accounts.models import CodeBatch, User
from tests.factories import MemberFactory


@pytest.fixture
def staff_client(client, db):
    admin = User.objects.create_superuser("admin", "admin@example.org", "x" * 16)
    client.force_login(admin)
    return client


def test_staff_generate_a_batch_of_codes_in_the_admin(staff_client):
    response = staff_client.post(
        reverse("admin:accounts_codebatch_add"),
        {"label": "Spring drive", "quantity": "12", "months": "6", "expires_at_0": "", "expires_at_1": "",
         "codes-TOTAL_FORMS": "0", "codes-INITIAL_FORMS": "0"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    batch = CodeBatch.objects.get()
    assert batch.codes.count() == 12 and batch.created_by.username == "admin"
    page = staff_client.get(reverse("admin:accounts_codebatch_change", args=[batch.pk]))
    assert batch.codes.first().code in page.content.decode()


def test_staff_grant_star_from_the_member_list(staff_client):
    members = MemberFactory.create_batch(3)
    response = staff_client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "grant_star_12", "_selected_action": [m.pk for m in members[:2]]},
    )
    assert response.status_code == 302
    assert [User.objects.get(pk=m.pk).is_star for m in members] == [True, True, False]
    stars = staff_client.get(reverse("admin:accounts_user_changelist"), {"tier": "star"})
    assert members[0].username in stars.content.decode()
    assert members[2].username not in stars.content.decode()


def test_members_cannot_reach_the_admin(member_client):
    response = member_client.get(reverse("admin:accounts_codebatch_changelist"))
    assert response.status_code == 302
