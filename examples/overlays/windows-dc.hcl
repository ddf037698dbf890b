# Windows domain controllers: read the Security log for the logon and
# account events that matter on a DC, and alert when they run hot.
#
#   cscs run --config config.xml --overlay examples/overlays/windows-dc.hcl

locals {
  # 4624 logon, 4625 failed logon, 4740 account locked out,
  # 4720 account created, 4728/4732/4756 member added to a security group.
  dc_events = [4624, 4625, 4740, 4720, 4728, 4732, 4756]
}

group "domain_controllers" {
  # Hosts named dc-… in config.xml, or in the servers' subnet.
  names = ["dc-*"]
  ips   = ["10.20.0.0/24"]
  os    = ["windows"]

  sources = ["cpu", "memory", "uptime", "eventlog"]

  module "eventlog" {
    channel      = "Security"
    event_ids    = local.dc_events
    first_window = "6h"
    max          = 1000
  }

  alert "dc_memory" {
    condition = memory.used_percent > 85
    for       = 2
    severity  = "critical"
    repeat    = "1h"
  }

  alert "dc_rebooted" {
    condition = uptime.seconds < 900
    severity  = "warning"
  }
}
