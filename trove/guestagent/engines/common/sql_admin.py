"""The database, user, access and root operations of SQL engines.

MariaDB and PostgreSQL managers hand these to their ``Admin`` (which
validates and runs the SQL) and to their security module (root), so the
Engine methods are the same thin delegation in both.
"""


class SqlAdminMixin:
    """Engine operations answered by ``self.admin`` and ``self.security``.

    ``security`` is the engine's module with ``enable_root(admin, password)``,
    ``disable_root(admin)`` and ``is_root_enabled(admin)``.
    """

    admin = None
    security = None

    # -- databases and users --------------------------------------------
    def create_databases(self, databases: list[dict]) -> None:
        self.admin.create_databases(databases)

    def delete_database(self, name: str) -> None:
        self.admin.delete_database(name)

    def list_databases(self) -> list[dict]:
        return self.admin.list_databases()

    def create_users(self, users: list[dict]) -> None:
        self.admin.create_users(users)

    def delete_user(self, name: str, host: str = '%') -> None:
        self.admin.delete_user(name, host)

    def list_users(self) -> list[dict]:
        return self.admin.list_users()

    def get_user(self, name: str, host: str = '%') -> dict:
        return self.admin.get_user(name, host)

    def update_user(self, name: str, host: str, new_name: str | None = None,
                    new_host: str | None = None, new_password: str | None = None) -> None:
        self.admin.update_user(name, host, new_name=new_name, new_host=new_host,
                               new_password=new_password)

    def change_passwords(self, users: list[dict]) -> None:
        self.admin.change_passwords(users)

    def grant_access(self, name: str, host: str, databases: list[str]) -> None:
        self.admin.grant_access(name, host, databases)

    def revoke_access(self, name: str, host: str, database: str) -> None:
        self.admin.revoke_access(name, host, database)

    def list_access(self, name: str, host: str = '%') -> list[dict]:
        return self.admin.list_access(name, host)

    # -- root ------------------------------------------------------------
    def enable_root(self, password: str | None = None) -> dict:
        return self.security.enable_root(self.admin, password)

    def disable_root(self) -> None:
        self.security.disable_root(self.admin)

    def is_root_enabled(self) -> bool:
        return self.security.is_root_enabled(self.admin)
