"""Long work as jobs that outlive the page: a Job row in the database says what was asked, by whom,
how far it got and what it made; a task queue (Huey) carries the job's id to a worker
(`python -m core worker`), which claims it in the database, runs it and reports progress there.

- `store`: jobs in the database: submit, claim, progress, finish, cancel, list, recover.
- `queue`: the Huey instance (SQLite in the data folder, or Redis for a team: MERCURY_QUEUE_URL) and
  the one task, `run_job`.
- `kinds`: what each kind of job does (sentiment, mailbox_pull, mailbox_push).
"""
