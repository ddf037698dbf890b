# Every round goes to a local SQLite file and to the reporting PostgreSQL;
# critical alerts go to the chat webhook as well as to mail.
#
# The webhook notifier is the example plugin in examples/notifier-webhook:
#   make -C examples/notifier-webhook   (or: go build -o bin/notifier-webhook ./examples/notifier-webhook)
#   cscs plugins install bin/notifier-webhook
# The PostgreSQL password is read from the environment, never written here:
#   CSCS_PG_PASSWORD=… cscs run --overlay examples/overlays/fanout.hcl

variable "pg_host" {
  default = "127.0.0.1"
}

storage "sqlite" "local" {
  path      = "cscs.db"
  retention = "720h"
}

storage "postgres" "reporting" {
  dsn = "postgres://cscs:${env("CSCS_PG_PASSWORD")}@${var.pg_host}:5432/cscs?sslmode=disable"
}

notifier "webhook" "chat" {
  url = "http://127.0.0.1:8099/cscs"
}

route {
  severity  = ["critical"]
  notifiers = ["chat", "email"]
}
