alert "memory" {
  condition = memory.used_percent + 1
}
