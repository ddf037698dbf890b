group "web" {
  names = ["web-*"]
}

group "web" {
  names = ["www-*"]
}
