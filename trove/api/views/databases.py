"""Views of the databases of an instance, as upstream renders them (name only)."""


def database_view(db):
    return {'name': db['name']}


def databases_view(dbs):
    return [database_view(db) for db in dbs]
