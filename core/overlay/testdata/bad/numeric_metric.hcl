alert "busy" {
  condition = load.1 > 8
}
