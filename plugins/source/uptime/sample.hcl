# The uptime source: built in, on every platform; nothing to configure.
alert "rebooted" {
  condition = uptime.seconds < 600
  severity  = "info"
}
