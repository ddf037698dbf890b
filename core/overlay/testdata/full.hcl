# Every block of the overlay language.
variable "pg_dsn" {
  default   = "postgres://cscs@127.0.0.1:5432/test"
  sensitive = true
}

locals {
  dc_events = [4624, 4625, 4740]
  busy      = 90
}

round {
  concurrency     = 32
  max_handshakes  = 16
  max_uploads     = 8
  connect_timeout = "3s"
  cpu_sample      = "200ms"
  interval        = "5m"
}

storage "sqlite" "local" {
  path = "cscs.db"
}

storage "postgres" "warehouse" {
  dsn = var.pg_dsn
}

notifier "webhook" "chat" {
  url = "http://127.0.0.1:9/hook"
}

plugin "webhook" {
  kind   = "notifier"
  path   = "bin/notifier-webhook"
  sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
}

group "dc" {
  ips     = ["10.0.0.0/24", "10.0.1.5"]
  names   = ["dc-*"]
  os      = ["windows"]
  sources = ["cpu", "memory", "eventlog"]

  module "eventlog" {
    channel   = "Security"
    event_ids = local.dc_events
  }

  alert "memory_and_swap" {
    condition = memory.used_percent > local.busy && swap.used_percent > 50
    for       = 3
    severity  = "critical"
    repeat    = "1h"
  }
}

group "web" {
  names    = ["web-*"]
  interval = "30s"
}

alert "load" {
  condition = load["1"] > 8
}

route {
  severity  = ["critical"]
  groups    = ["dc"]
  notifiers = ["chat", "email"]
}

route {
  hosts     = ["10.9.0.0/16", "lab-*"]
  kinds     = ["eventlog"]
  notifiers = ["chat"]
}
