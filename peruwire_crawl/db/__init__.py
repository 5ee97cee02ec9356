"""The analysts' database: engine (engine.py), schema (schema.py, types.py), migrations
(migrate.py), writing (store.py), reading (queries.py) and dedup's view of it (seen.py)."""
