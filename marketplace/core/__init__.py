"""The foundation every package may import: the federation tree and scope, identity
(principal, guards, sessions), errors, the database, the outbox and jobs, the web kit,
settings, dates, money and personal-data rules.

Nothing here imports a member feature (marketplace/<feature>/), a domain (providers,
catalog, evaluation) or the shell (marketplace/app.py, cli.py, seed); the import
contracts in .importlinter check it. See docs/architecture.md.
"""
