group "edge" {
  names    = ["edge-*"]
  interval = "500ms"
}
