"""Background jobs: long work (issuing a session's certificates, large exports) run on RQ
when Redis is configured and a worker listens, and in the request otherwise.

The `jobs` table is the record people see (progress, the reason of a failure, a retry
button); RQ only carries the job id to a worker. See services.py for how a job is started,
run and retried, and kinds.py for what each kind does.
"""
