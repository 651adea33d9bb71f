"""Configuration groups and the per-version parameter catalogue.

The catalogue (``datastore_configuration_parameters``) says which engine
options a configuration group may set, their type, bounds and whether a
change needs a restart.  Group values are stored JSON-encoded in
``configuration_parameters`` so their type survives the round trip.
"""
import json
import math
import os

from sqlalchemy import func, select, update

from trove.common import exception
from trove.common import template
from trove.db import models
from trove.db.api import new_id
from trove.db.session import reader, writer

RULES_FILE = 'validation-rules.json'
DATA_TYPES = ('integer', 'string', 'boolean', 'float')
MAX_VALUE_LENGTH = 128  # configuration_value column


class ConfigurationNotFound(exception.NotFound):
    message = 'Configuration group %(uuid)s could not be found.'


class ParameterNotFound(exception.NotFound):
    message = 'Configuration parameter %(uuid)s could not be found.'


def rules_path(manager):
    """The shipped validation-rules.json of a manager (or its family), or None."""
    for name in (manager, template.FAMILIES.get(manager)):
        if name:
            path = os.path.join(template.TEMPLATE_DIR, name, RULES_FILE)
            if os.path.isfile(path):
                return path
    return None


def _detach(session, rows):
    for row in rows:
        session.expunge(row)
    return rows


# -- parameter catalogue ------------------------------------------------------

def _rule_fields(rule):
    data_type = rule.get('type') or rule.get('data_type')
    if data_type not in DATA_TYPES:
        raise exception.BadRequest('parameter %r: type must be one of %s'
                                   % (rule.get('name'), ', '.join(DATA_TYPES)))
    return dict(data_type=data_type, restart_required=bool(rule.get('restart_required')),
                min_size=_bound(rule.get('min')), max_size=_bound(rule.get('max')))


def _bound(value):
    return None if value is None else str(value)


def load_parameters(version_id, rules):
    """Upsert the catalogue of a version from a parsed rules document; returns a count."""
    items = rules.get('configuration-parameters', [])
    with writer() as session:
        existing = {row.name: row for row in session.scalars(
            select(models.DatastoreConfigurationParameter).where(
                models.DatastoreConfigurationParameter.datastore_version_id == version_id))}
        for rule in items:
            fields = _rule_fields(rule)
            row = existing.get(rule['name'])
            if row is None:
                row = models.DatastoreConfigurationParameter(
                    id=new_id(), name=rule['name'], datastore_version_id=version_id)
                session.add(row)
            for key, value in fields.items():
                setattr(row, key, value)
            row.deleted, row.deleted_at = False, None
    return len(items)


def load_parameters_file(version_id, path):
    """Load a validation-rules.json file into a version's catalogue."""
    with open(path) as f:
        return load_parameters(version_id, json.load(f))


def list_parameters(version_id):
    """Catalogue rows of a version, ordered by name."""
    with reader() as session:
        return _detach(session, list(session.scalars(
            select(models.DatastoreConfigurationParameter).where(
                models.DatastoreConfigurationParameter.datastore_version_id == version_id,
                models.DatastoreConfigurationParameter.deleted.is_(False))
            .order_by(models.DatastoreConfigurationParameter.name))))


def get_parameter(version_id, name):
    for row in list_parameters(version_id):
        if row.name == name:
            return row
    raise ParameterNotFound(uuid=name)


def parse_bound(text):
    """A stored min/max string as an int or float (None stays None)."""
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return float(text)


# -- validation -----------------------------------------------------------------

def _type_error(key, param, value):
    """Why ``value`` is not of the parameter's type, or None."""
    kind = param.data_type
    if kind == 'integer':
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == 'float':
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool)
              and math.isfinite(value))
    elif kind == 'boolean':
        ok = isinstance(value, bool) or value in (0, 1)
    else:
        ok = isinstance(value, str)
    if ok:
        return None
    return 'The value provided for the configuration parameter %s is not of type %s.' % (
        key, kind)


def _range_error(key, param, value):
    if param.data_type not in ('integer', 'float'):
        return None
    low, high = parse_bound(param.min_size), parse_bound(param.max_size)
    if low is not None and value < low:
        return ('The value for the configuration parameter %s is less than the minimum '
                'allowed: %s' % (key, low))
    if high is not None and value > high:
        return ('The value for the configuration parameter %s is greater than the '
                'maximum allowed: %s' % (key, high))
    return None


def _string_error(key, value):
    if not isinstance(value, str):
        return None
    if len(value) > MAX_VALUE_LENGTH:
        return 'The value for the configuration parameter %s is longer than %d characters.' % (
            key, MAX_VALUE_LENGTH)
    if any(c in value for c in '\r\n[]\x00'):
        return ('The value for the configuration parameter %s contains characters that '
                'are not allowed.' % key)
    return None


def check_values(catalogue, values):
    """Raise BadRequest naming the first bad key; ``catalogue`` maps name -> row."""
    if not isinstance(values, dict):
        raise exception.BadRequest('Configuration values must be an object.')
    for key in sorted(values):
        param = catalogue.get(key)
        if param is None:
            raise exception.BadRequest(
                'The configuration parameter %s is not supported for this datastore '
                'version.' % key)
        value = values[key]
        error = (_type_error(key, param, value) or _range_error(key, param, value)
                 or _string_error(key, value))
        if error:
            raise exception.BadRequest(error)


def validate_values(version_id, values):
    """Check ``values`` against the catalogue of a datastore version."""
    check_values({p.name: p for p in list_parameters(version_id)}, values)


def restart_required_keys(version_id):
    return {p.name for p in list_parameters(version_id) if p.restart_required}


# -- configuration groups ---------------------------------------------------------

def _values_rows(config_id, values):
    return [models.ConfigurationParameter(configuration_id=config_id, configuration_key=k,
                                          configuration_value=json.dumps(v))
            for k, v in values.items()]


def create_configuration(tenant_id, name, description, version_id, values):
    """Insert a group with its values; returns the row."""
    row = models.Configuration(id=new_id(), name=name, description=description,
                               tenant_id=tenant_id, datastore_version_id=version_id)
    with writer() as session:
        session.add(row)
        session.flush()
        session.add_all(_values_rows(row.id, values))
        session.flush()
        session.expunge(row)
    return row


def get_configuration(config_id, tenant_id=None):
    """A live group (of ``tenant_id`` when given) or ConfigurationNotFound."""
    with reader() as session:
        row = session.get(models.Configuration, config_id)
        if row is None or row.deleted or (tenant_id is not None
                                          and row.tenant_id != tenant_id):
            raise ConfigurationNotFound(uuid=config_id)
        session.expunge(row)
        return row


def list_configurations(tenant_id, limit=None, marker=None):
    """Live groups of a tenant ordered by id; ``marker`` is the previous page's last id."""
    with reader() as session:
        query = select(models.Configuration).where(
            models.Configuration.tenant_id == tenant_id,
            models.Configuration.deleted.is_(False))
        if marker:
            query = query.where(models.Configuration.id > marker)
        query = query.order_by(models.Configuration.id)
        if limit:
            query = query.limit(limit)
        return _detach(session, list(session.scalars(query)))


def get_values(config_id):
    """The values of a group as a dict (decoded from JSON)."""
    with reader() as session:
        rows = session.scalars(select(models.ConfigurationParameter).where(
            models.ConfigurationParameter.configuration_id == config_id,
            models.ConfigurationParameter.deleted.is_(False)))
        return {r.configuration_key: json.loads(r.configuration_value) for r in rows}


def save_group(config_id, values, name=None, description=None):
    """Replace the values of a group (and optionally its name and description)."""
    with writer() as session:
        session.query(models.ConfigurationParameter).filter(
            models.ConfigurationParameter.configuration_id == config_id).delete()
        session.add_all(_values_rows(config_id, values))
        fields = {'updated': models.utcnow()}
        if name is not None:
            fields['name'] = name
        if description is not None:
            fields['description'] = description
        session.execute(update(models.Configuration)
                        .where(models.Configuration.id == config_id).values(**fields))


def delete_configuration(config_id):
    """Soft-delete a group and its values."""
    now = models.utcnow()
    with writer() as session:
        session.execute(update(models.Configuration)
                        .where(models.Configuration.id == config_id)
                        .values(deleted=True, deleted_at=now))
        session.execute(update(models.ConfigurationParameter)
                        .where(models.ConfigurationParameter.configuration_id == config_id)
                        .values(deleted=True, deleted_at=now))


def attached_instances(config_id):
    """Live instances that use a group, ordered by id."""
    with reader() as session:
        return _detach(session, list(session.scalars(
            select(models.Instance).where(models.Instance.configuration_id == config_id,
                                          models.Instance.deleted.is_(False))
            .order_by(models.Instance.id))))


def instance_count(config_id):
    with reader() as session:
        return session.scalar(select(func.count()).select_from(models.Instance).where(
            models.Instance.configuration_id == config_id,
            models.Instance.deleted.is_(False)))


def config_name(config_id):
    """The name of a group for instance views; None when it is gone."""
    with reader() as session:
        row = session.get(models.Configuration, config_id)
        return row.name if row is not None else None
