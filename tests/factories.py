"""Test data, created through the same services that members and seeds use."""

from datetime import timedelta

import factory
from django.utils import timezone

from accounts.models import User
from accounts.services import member_create
from forums.models import Forum, Post, Section, Thread
from forums.services import forum_create, reply_create, section_create, thread_create


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"member{n}")
    email = factory.LazyAttribute(lambda member: f"{member.username}@example.org")
    display_name = factory.LazyAttribute(lambda member: member.username.title())
    password = "correct horse battery staple"
    # Established members by default: new members post under flood and link limits.
    joined_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=30))

    @classmethod
    def _create(cls, model_class, **kwargs):
        return member_create(**kwargs)


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Section

    name = factory.Sequence(lambda n: f"Section {n}")
    slug = factory.Sequence(lambda n: f"section-{n}")
    position = factory.Sequence(int)

    @classmethod
    def _create(cls, model_class, **kwargs):
        return section_create(**kwargs)


class ForumFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Forum

    name = factory.Sequence(lambda n: f"Forum {n}")
    slug = factory.Sequence(lambda n: f"forum-{n}")
    kind = Forum.Kind.TOPIC
    section = factory.SubFactory(SectionFactory)
    position = factory.Sequence(int)
    purpose = "Discussion of the topic at hand."

    @classmethod
    def _create(cls, model_class, **kwargs):
        return forum_create(**kwargs)


class ThreadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Thread

    forum = factory.SubFactory(ForumFactory)
    author = factory.SubFactory(MemberFactory)
    title = factory.Sequence(lambda n: f"Thread number {n} about the news")
    body = factory.Faker("paragraph", nb_sentences=4)

    @classmethod
    def _create(cls, model_class, **kwargs):
        return thread_create(**kwargs)


class ReplyFactory(factory.django.DjangoModelFactory):
    """A reply to `parent` (by default the opening post of a new thread)."""

    class Meta:
        model = Post

    author = factory.SubFactory(MemberFactory)
    parent = factory.LazyFunction(lambda: ThreadFactory().posts.get(number=0))
    body = factory.Faker("paragraph", nb_sentences=2)
    subject = ""

    @classmethod
    def _create(cls, model_class, **kwargs):
        return reply_create(**kwargs)
