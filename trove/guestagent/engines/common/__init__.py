"""Parts every engine manager is composed from: the engine child process,
config and secret files, and name validation."""
