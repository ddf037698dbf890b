# Thresholds and severities per group of hosts: databases run with little
# free memory by design, build machines are busy by design, and a
# machine that also swaps hard is critical everywhere.

round {
  concurrency  = 128
  cpu_sample   = "500ms"
  alert_repeat = "2h"
}

group "databases" {
  names = ["db-*", "pg-*"]

  alert "db_memory" {
    condition = memory.used_percent > 97
    severity  = "warning"
  }
}

group "builders" {
  names = ["build-*", "ci-*"]
  ips   = ["10.30.0.0/16"]

  alert "builder_load" {
    condition = load["5"] > 4 * 8
    for       = 3
    severity  = "info"
  }
}

alert "memory_and_swap" {
  condition = memory.used_percent > 90 && swap.used_percent > 50
  for       = 2
  severity  = "critical"
  repeat    = "30m"
}

route {
  severity  = ["info"]
  groups    = ["builders"]
  notifiers = ["email"]
}
