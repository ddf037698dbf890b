# The swap source: built in, on every platform; nothing to configure.
alert "swapping" {
  condition = swap.used_percent > 50 && memory.used_percent > 90
  severity  = "critical"
}
