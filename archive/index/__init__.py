"""The index: models, database, schema and migrations, capture rows, writes and reads."""
