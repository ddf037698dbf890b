# The cpu source: built in, on every platform; nothing to configure.
group "builders" {
  names   = ["build-*"]
  sources = ["cpu", "memory", "load"]

  alert "cpu_busy" {
    condition = cpu.percent > 95
    for       = 3
    severity  = "info"
  }
}
