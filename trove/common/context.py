"""Request context carried from the API through RPC to every service."""
from oslo_context import context


class TroveContext(context.RequestContext):
    """oslo.context RequestContext plus trove's pagination fields."""

    def __init__(self, limit=None, marker=None, **kwargs):
        super().__init__(**kwargs)
        self.limit = limit
        self.marker = marker

    @property
    def owner(self):
        """Project a single resource must belong to: None for admins.

        As upstream, an admin addresses any project's instance, backup or
        configuration by id (tempest's clean-up resets and deletes what a
        test's project created); lists stay scoped to the URL's project.
        """
        return None if self.is_admin else self.project_id

    def to_dict(self):
        values = super().to_dict()
        values.update(limit=self.limit, marker=self.marker)
        # Tokens are opaque to every trove service past the API; keeping them
        # off the wire keeps them out of the broker and of guest logs.
        values.pop('auth_token', None)
        return values

    @classmethod
    def from_dict(cls, values, **kwargs):
        kwargs.setdefault('limit', values.get('limit'))
        kwargs.setdefault('marker', values.get('marker'))
        return super().from_dict(values, **kwargs)


def admin_context():
    """A context for work the services do on their own behalf."""
    return TroveContext(is_admin=True, roles=['admin'], overwrite=False)
