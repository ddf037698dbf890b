notifier "smtp" "ops" {
  host = "127.0.0.1"
  from = "cscs@example.com"
}

route {
  severity  = ["critical"]
  notifiers = ["opps"]
}
