"""Environment files, their schema, and the loader that turns them into frozen config objects."""
