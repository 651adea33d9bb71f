"""``GET /{tenant}/limits``: the project's quota limits and its rate limits."""
from trove.api import middleware
from trove.api import ratelimit
from trove.common import policy, quota


def absolute_view(limits):
    """The ``ABSOLUTE`` entry built from ``{resource: limit}``."""
    return {'verb': 'ABSOLUTE', 'max_instances': limits['instances'],
            'max_volumes': limits['volumes'], 'max_backups': limits['backups'],
            'max_ram': limits['ram']}


class LimitsController:
    """``/{tenant}/limits``."""

    def index(self, req, tenant_id):
        context = middleware.get_context(req)
        policy.authorize(context, 'limits:index')
        rates = req.environ.get(ratelimit.LIMITS_KEY)
        if rates is not None:
            rate_views = rates()
        else:
            # No ratelimit filter in this pipeline: show the configured rates.
            rate_views = ratelimit.Limiter(ratelimit.configured_limits()).view(
                context.project_id)
        return {'limits': [absolute_view(quota.get_limits(context.project_id))]
                + rate_views}
