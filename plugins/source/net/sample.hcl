# The net source: built in, on every platform. Rates per second, one sample
# per interface (label "interface"); no alert type, alert with expressions.
group "web" {
  names = ["web-*"]

  module "net" {
    interfaces = ["eth*", "ens*"]
  }
}

alert "net_errors" {
  condition = net.rx_errors_per_second + net.tx_errors_per_second > 10
  for       = 3
  severity  = "warning"
}

alert "net_saturated" {
  condition = net.tx_bytes_per_second > 100 * 1000 * 1000
  for       = 5
  severity  = "warning"
}
