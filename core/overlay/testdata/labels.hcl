alert "disk_full" {
  condition = disk.used_percent > 90 && labels.mount != "/boot"
}

alert "lo_errors" {
  condition = labels.interface == "lo" && net.rx_errors_per_second > 1
}
