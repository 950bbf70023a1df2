"""Shared kernel: settings, database, errors, ids, storage, i18n. Small and boring on purpose."""
