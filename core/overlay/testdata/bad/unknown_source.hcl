group "web" {
  names   = ["web-*"]
  sources = ["cpu", "memroy"]
}
