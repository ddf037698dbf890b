#!/bin/sh
# An event source: events, a cursor and raw output.
printf '%s\n' '{"events":[{"channel":"auth","record_id":42,"time":"2025-11-25T10:00:00+01:00","level":"warning","provider":"sshd","message":"Failed password for root","fields":{"ip":"10.0.0.9"}}],"cursor":"42","raw":"line 1\nline 2"}'
