# The memory source: built in, on every platform; nothing to configure.
alert "memory_high" {
  condition = memory.used_percent > 90 && memory.available_bytes < 512 * 1024 * 1024
  for       = 2
  severity  = "warning"
}
