group "lan" {
  ips = ["10.0.0.0/33"]
  os  = ["windoze"]
}
