"""The workspace on disk and the one owner of each table family: the SQLite schema and
its migrations, documents and passages, pairs, collections, training runs, models,
conversations, evaluations; backup and restore.
"""
