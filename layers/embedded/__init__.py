"""The embedded SQLite store and what only it uses: bulk load, file opening, parks, tokens. Imports geo, layers' top level, layers.memory, layers.ingest."""
