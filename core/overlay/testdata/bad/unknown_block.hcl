grup "web" {
  names = ["web-*"]
}
