# The load source: built in, on Linux and macOS; nothing to configure.
group "builders" {
  names = ["build-*"]
  os    = ["linux"]

  alert "builder_load" {
    condition = load["5"] > 4 * 8
    for       = 3
    severity  = "info"
  }
}
