"""Start, stop and status of an engine whose server is a child process.

The engine's ``app`` makes the directories, spawns the server and keeps the
``child`` (common.child.ChildProcess, which knows the engine's stop signal);
the engine says when the server answers.
"""
from trove.conf import CONF


class ChildServerMixin:
    """Engine start/stop/status around ``self.app`` and its ``child``."""

    app = None

    def _answers(self) -> bool:
        """Whether the server answers well enough for start to be done."""
        raise NotImplementedError

    def _healthy(self) -> bool:
        """Whether the running server serves its clients (for status)."""
        return self._answers()

    def start(self) -> None:
        """Start the server unless it runs, and wait until it answers."""
        self.app.make_dirs()
        self.app.spawn()
        self.app.child.wait_ready(self._answers, CONF.state_change_wait_time,
                                  self.app.log_tail)

    def stop(self) -> None:
        """Send the engine's stop signal and wait for the process to exit."""
        self.app.child.terminate(CONF.state_change_wait_time)

    def status(self) -> str:
        """'healthy', 'running', 'building', 'crashed' or 'shutdown'."""
        state = self.app.child.process_state()
        if state == 'running':
            return 'healthy' if self._healthy() else 'running'
        return {'starting': 'building', 'crashed': 'crashed'}.get(state, 'shutdown')
