"""The Redis cache backend, failing open when Redis is unreachable.

With IGNORE_EXCEPTIONS, django-redis turns every failed call into a miss (logged),
but a failed `add()` answers None, i.e. "someone else holds this key". allauth's
rate limiter takes a lock with `add()` before counting a login, signup or password
reset, so during a Redis outage it would refuse all of them with 429 after a second
of retrying. Here a failed `add()` answers True instead: the caller goes ahead as if
the cache were empty, which is what every other call already does.
"""

from django_redis.cache import RedisCache as BaseRedisCache
from django_redis.cache import omit_exception


class RedisCache(BaseRedisCache):
    @omit_exception(return_value=True)
    def add(self, *args, **kwargs):
        return self.client.add(*args, **kwargs)
