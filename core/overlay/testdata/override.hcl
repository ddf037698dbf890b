# Loaded after full.hcl: its round settings win.
round {
  concurrency = 8
}
