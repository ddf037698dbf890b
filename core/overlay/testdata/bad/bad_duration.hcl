round {
  host_timeout = "10 minutes"
}
