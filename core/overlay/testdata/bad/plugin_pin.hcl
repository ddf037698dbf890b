plugin "unpinned" {
  kind = "storage"
  path = "/opt/cscs/unpinned"
}

plugin "both" {
  kind   = "notifier"
  path   = "/opt/cscs/both"
  sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
  dev    = true
}
