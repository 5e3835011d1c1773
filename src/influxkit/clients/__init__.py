"""The clients behind a connection: ``http`` for real servers, ``local`` in memory."""
