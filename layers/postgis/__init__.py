"""The PostGIS store and what only it uses: bulk load, mirror, pool, schema and migrations, audit, parks, tokens. Imports geo, layers' top level, layers.memory, layers.ingest."""
