"""Exceptions shared by every trove service.

Each exception carries the HTTP status the API answers with (``code``) and a
message template filled from keyword arguments.  Exceptions raised inside a
guest or the taskmanager travel back over RPC by class name, so this module
is the one allowed remote-exception module.
"""


class TroveError(Exception):
    """Base class; unmapped errors become 400 as upstream does."""

    message = 'An unknown exception occurred.'
    code = 400

    def __init__(self, message=None, **kwargs):
        self.kwargs = kwargs
        if message is None:
            try:
                message = self.message % kwargs
            except (KeyError, TypeError):
                message = self.message
        self.msg = message
        super().__init__(message)


class BadRequest(TroveError):
    message = 'The server could not comply with the request: %(detail)s'


class InvalidValue(BadRequest):
    message = 'Invalid value: %(detail)s'


class NotFound(TroveError):
    code = 404
    message = 'Resource %(uuid)s cannot be found.'


class InstanceNotFound(NotFound):
    message = 'Instance %(uuid)s could not be found.'


class ComputeInstanceNotFound(NotFound):
    message = 'Compute server %(server_id)s could not be found.'


class FlavorNotFound(NotFound):
    message = 'Flavor %(uuid)s could not be found.'


class VolumeTypeNotFound(NotFound):
    message = 'Volume type %(volume_type)s could not be found.'


class DatastoreNotFound(NotFound):
    message = 'Datastore \'%(datastore)s\' cannot be found.'


class DatastoreVersionNotFound(NotFound):
    message = 'Datastore version \'%(version)s\' cannot be found.'


class DatastoreDefaultVersionNotFound(NotFound):
    message = 'Default version for datastore \'%(datastore)s\' not found.'


class DatastoreVersionInactive(BadRequest):
    message = 'Datastore version \'%(version)s\' is not active.'


class DatabaseNotFound(NotFound):
    message = 'Database %(name)s could not be found.'


class UserNotFound(NotFound):
    message = 'User %(name)s cannot be found on the instance.'


class DatabaseAlreadyExists(BadRequest):
    message = 'A database with the name "%(name)s" already exists.'


class UserAlreadyExists(BadRequest):
    message = 'A user with the name "%(name)s" already exists.'


class RootHistoryNotFound(NotFound):
    message = 'Root user has never been enabled on instance %(instance_id)s.'


class Forbidden(TroveError):
    code = 403
    message = 'User does not have admin privileges.'


class PolicyNotAuthorized(Forbidden):
    message = 'Policy doesn\'t allow %(action)s to be performed.'


class LogAccessForbidden(Forbidden):
    message = 'You must be admin to %(action)s log %(log)s.'


class LogNotFound(NotFound):
    message = 'Log %(log)s does not exist.'


class Conflict(TroveError):
    code = 409
    message = 'Conflict: %(detail)s'


class UnprocessableEntity(TroveError):
    code = 422
    message = 'Unable to process the contained request: %(detail)s'


class InstanceNotAvailable(UnprocessableEntity):
    message = ('Instance %(instance_id)s is not currently available for an '
               'action to be performed (task status was %(task)s).')


class InvalidStateTransition(TroveError):
    code = 500
    message = 'Invalid %(kind)s transition from %(old)s to %(new)s.'


class OverLimit(TroveError):
    code = 413
    message = 'The server rejected the request due to its size or rate.'


class RequestTooLarge(OverLimit):
    message = 'Request body larger than %(limit)d bytes.'


class QuotaExceeded(OverLimit):
    message = 'Quota exceeded for resources: %(overs)s.'


class VolumeSizeTooLarge(BadRequest):
    message = ('Volume size %(size)s GB is larger than the maximum of '
               '%(max_size)s GB.')


class VolumeNotSupported(TroveError):
    code = 501
    message = 'Volume support is not enabled.'


class DatastoreOperationNotSupported(TroveError):
    code = 501
    message = ('The \'%(operation)s\' operation is not supported for the '
               '\'%(datastore)s\' datastore.')


class KeyManagerError(TroveError):
    code = 503
    message = 'Key manager error: %(detail)s'


class ComputeError(TroveError):
    code = 500
    message = 'Compute driver error: %(detail)s'


class GuestError(TroveError):
    message = 'An error occurred communicating with the guest: %(detail)s'


class GuestTimeout(GuestError):
    message = 'Timeout trying to connect to the Guest Agent.'


class EngineError(TroveError):
    """Raised inside a guest when the database engine misbehaves."""

    code = 500
    message = 'Database engine error: %(detail)s'


class ProcessExecutionError(EngineError):
    message = ('Command %(cmd)s exited with %(exit_code)s: %(stderr)s')


class BackupNotFound(NotFound):
    message = 'Backup %(uuid)s could not be found.'


class BackupNotCompleteError(TroveError):
    code = 409
    message = ('Unable to create instance because backup %(backup_id)s is not '
               'completed. Actual state: %(state)s.')


class ReplicaSourceDeleteForbidden(TroveError):
    code = 403
    message = ('The replica source cannot be deleted without detaching the replicas '
               'first: %(replicas)s.')


class BackupTooLarge(TroveError):
    code = 403
    message = ('Backup is too large for given flavor or volume. Backup size: '
               '%(backup_size)s GBs. Available size: %(disk_size)s GBs.')


class BackupDatastoreMismatchError(BadRequest):
    message = ('The datastore from which the backup was taken, %(datastore1)s, '
               'does not match the destination datastore of %(datastore2)s.')


class BackupIntegrityError(EngineError):
    """A backup object read back does not match its recorded checksum."""

    message = 'Backup %(backup_id)s failed verification: %(detail)s'
