alert "memory" {
  condition = memory.used_prcent > 90
}
